"""The HTTP listener's operator routes: /healthz, /readyz (and its 503 while draining),
/metrics, request ids; and migrations that several processes may run at once."""

from __future__ import annotations

import asyncio
import os
import socket

import aiohttp
import pytest
from sqlalchemy import text

from bot.app import App
from bot.config import load_settings
from bot.web import WebServer
from core.db import current_revision, head_revision, make_engine, upgrade
from tests.conftest import _drop_schema

POSTGRES_URL = os.environ.get("RAPPORT_TEST_POSTGRES_URL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def get(url: str, **headers) -> tuple[int, dict, dict]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
        body = await resp.json(content_type=None) if resp.content_type == "application/json" else {"text": await resp.text()}
        return resp.status, body, dict(resp.headers)


async def test_readyz_reports_each_check_and_turns_503_on_drain():
    web = WebServer("127.0.0.1", 0)
    state = {"db": None}

    async def database():
        return state["db"]

    web.add_check("database", database)
    web.ready_cache = 0  # every ask runs the checks
    await web.start()
    base = f"http://127.0.0.1:{web.port}"
    try:
        status, body, headers = await get(f"{base}/readyz", **{"X-Request-ID": "lb-42"})
        assert status == 200 and body == {"ready": True, "checks": {"database": "ok"}}
        assert headers["X-Request-ID"] == "lb-42"
        state["db"] = "connection refused"
        status, body, _ = await get(f"{base}/readyz")
        assert status == 503 and body["checks"]["database"] == "connection refused"
        state["db"] = None
        web.drain()
        status, body, _ = await get(f"{base}/readyz")
        assert status == 503 and body["checks"] == {"draining": "shutting down"}
        status, body, headers = await get(f"{base}/healthz", **{"X-Request-ID": "not ok; <script>"})
        assert status == 200 and body == {"ok": True}  # alive while draining
        assert headers["X-Request-ID"] != "not ok; <script>"  # an odd id is replaced, not echoed
    finally:
        await web.stop()


async def test_the_app_serves_readyz_and_metrics(tmp_path):
    settings = load_settings(_env_file=None, RAPPORT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
                             RAPPORT_HTTP_HOST="127.0.0.1", RAPPORT_HTTP_PORT=free_port())
    app = App(settings)
    core = await app.open()
    await app.start_web()
    base = f"http://127.0.0.1:{app.web.port}"
    try:
        status, body, _ = await get(f"{base}/readyz")
        assert status == 200 and body["checks"] == {"database": "ok", "migrations": "ok"}
        from core.service import Actor

        await core.run_text(Actor("console", "local", "me"), "goal a product role")
        status, body, _ = await get(f"{base}/metrics")
        assert status == 200
        assert 'rapport_commands_total{outcome="ok",platform="console",verb="goal"} 1.0' in body["text"]
        assert "rapport_nudge_oldest_due_seconds 0.0" in body["text"]
        assert "rapport_ready 1.0" in body["text"]
    finally:
        await app.close()


@pytest.mark.skipif(not POSTGRES_URL, reason="RAPPORT_TEST_POSTGRES_URL is not set")
async def test_processes_starting_together_migrate_once():
    schema = f"t_race_{os.getpid()}"
    admin = make_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    engines = [make_engine(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}}) for _ in range(4)]
    try:
        async with asyncio.timeout(60):  # without the lock they deadlock on the DDL
            await asyncio.gather(*(upgrade(e) for e in engines))
        assert await current_revision(engines[0]) == head_revision()
    finally:
        for e in engines:
            await e.dispose()
        await _drop_schema(schema)


async def test_current_revision_is_none_before_the_first_migration(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        assert await current_revision(engine) is None
        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()
