"""The real app, started in-process on a free 127.0.0.1 port, against the Slack stand-in.

``slack`` is a running single-workspace app on SQLite (and again on PostgreSQL when
RAPPORT_TEST_POSTGRES_URL is set); ``start_slack_app(**options)`` starts variants (OAuth,
Socket Mode). The app's clock is a FakeClock on a Wednesday 15:00 UTC (10:00 in New York,
the stand-in users' time zone), so no nudge waits for quiet hours.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import socket
import time
import uuid
from dataclasses import dataclass

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.slack.runner import SlackRunner, start_slack
from bot.app import App
from bot.config import load_settings
from core.clock import FakeClock
from tests.adapters.slack.slackreq import SlackSender
from tests.adapters.slack.standin import SlackStandIn

POSTGRES_URL = os.environ.get("RAPPORT_TEST_POSTGRES_URL")
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-standin-T1"
SECRET_KEY = "test-secret-key-for-stored-tokens"
T1, T2 = "T1", "T2"


async def eventually(check, within: float = 5.0, interval: float = 0.02):
    """Polls ``await check()`` until it returns something truthy; fails after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {within}s: {check.__qualname__}")
        await asyncio.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SlackHarness:
    """A running app, the stand-in it talks to, and a way to send it Slack's requests."""

    app: App
    runner: SlackRunner
    standin: SlackStandIn
    send: SlackSender
    clock: FakeClock
    base: str  # http://127.0.0.1:<port>
    http: aiohttp.ClientSession


async def install(slack: SlackHarness, team: str) -> None:
    """Runs the OAuth install flow for ``team`` the way a browser would."""
    async with slack.http.get(f"{slack.base}/slack/install", allow_redirects=False) as resp:
        assert resp.status in (200, 302), resp.status
        page = await resp.text() + resp.headers.get("Location", "")
        cookie = resp.headers["Set-Cookie"].split(";", 1)[0]
    state = re.search(r"state=([\w-]+)", page).group(1)
    code = f"code-{uuid.uuid4().hex[:6]}"
    slack.standin.oauth_codes[code] = team
    async with slack.http.get(f"{slack.base}/slack/oauth_redirect", params={"code": code, "state": state},
                              headers={"Cookie": cookie}, allow_redirects=False) as resp:
        assert resp.status == 200, await resp.text()


async def _pg_database() -> tuple[str, str]:
    name = f"rapport_slack_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return name, make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(name: str) -> None:
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request):
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("RAPPORT_TEST_POSTGRES_URL is not set")
    return request.param


@pytest.fixture
async def standin():
    server = SlackStandIn()
    await server.start()
    server.add_team(T1, TOKEN)
    server.add_user("U1", T1, name="Ann Seeker")
    server.add_user("U2", T1, name="Ben Helper")
    server.add_user("UADMIN", T1, name="Olga Organizer", is_admin=True)
    yield server
    await server.stop()


@pytest.fixture
async def start_slack_app(standin, backend, tmp_path):
    """Starts an app; options: ``oauth``, ``socket_mode``, ``signing_secret``, ``interval``,
    ``database_url`` (another app's, to restart on it), ``secret_key``, ``secret_key_old``,
    ``admins`` (RAPPORT_ADMINS)."""
    started: list[SlackHarness] = []
    databases: list[str] = []

    async def start(*, oauth: bool = False, socket_mode: bool = False, interval: float = 0.2,
                    signing_secret: bool = True, database_url: str | None = None,
                    secret_key: str = SECRET_KEY, secret_key_old: str | None = None,
                    admins: str = "") -> SlackHarness:
        if database_url:
            url = database_url
        elif backend == "postgres":
            name, url = await _pg_database()
            databases.append(name)
        else:
            url = f"sqlite+aiosqlite:///{tmp_path / f'rapport-{len(started)}.db'}"
        port = free_port()
        settings = load_settings(
            _env_file=None,
            RAPPORT_DATABASE_URL=url,
            RAPPORT_DISPATCH_INTERVAL=interval,
            RAPPORT_HTTP_HOST="127.0.0.1",
            RAPPORT_HTTP_PORT=port,
            RAPPORT_ADMINS=admins,
            RAPPORT_DEFAULT_TZ="UTC",
            RAPPORT_SECRET_KEY=secret_key,
            RAPPORT_SECRET_KEY_OLD=secret_key_old,
            SLACK_BOT_TOKEN=None if oauth else TOKEN,
            SLACK_SIGNING_SECRET=SECRET if signing_secret else None,
            SLACK_APP_TOKEN="xapp-standin" if socket_mode else None,
            SLACK_CLIENT_ID="111.222" if oauth else None,
            SLACK_CLIENT_SECRET="client-secret" if oauth else None,
            SLACK_API_URL=standin.api_url,
            DISCORD_TOKEN=None,
        )
        clock = FakeClock(dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.UTC))
        app = App(settings, clock)
        await app.open()
        runner = await start_slack(app)
        await app.start_web()
        app.start_dispatch()
        http = aiohttp.ClientSession()
        base = f"http://127.0.0.1:{app.web.port}"
        harness = SlackHarness(app, runner, standin, SlackSender(f"{base}/slack/events", SECRET, standin, http),
                               clock, base, http)
        started.append(harness)
        return harness

    yield start
    for harness in reversed(started):
        await harness.http.close()
        await harness.runner.stop()
        await harness.app.close()
    for name in databases:
        await _drop_pg_database(name)


@pytest.fixture
async def slack(start_slack_app) -> SlackHarness:
    return await start_slack_app()
