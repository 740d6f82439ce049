"""Browser tests of the organizers' dashboard: Debian's Chromium driven by Playwright.

The real aiohttp routes run on 127.0.0.1 (a free port) in a thread with its own event loop,
over a fresh SQLite database seeded with known data and a FakeClock; the tests drive
Chromium with Playwright's sync API. Chromium is Debian's ``/usr/bin/chromium``: when it is
missing, the set-up installs it with ``apt-get install -y chromium`` (as root, as here and
in CI). Playwright's own browser download is not used.

Screenshots go to ``$RAPPORT_SCREENSHOT_DIR`` when set, else to a temporary directory whose
path is printed at the end of the run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.web import DashboardRoutes
from bot.web import WebServer
from core.clock import FakeClock
from core.dashboard import Dashboard, Organizer
from core.db import Database, make_engine, upgrade
from tests import statsdata as sd

CHROMIUM = os.environ.get("RAPPORT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NOW = dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.UTC)
ORG_A = Organizer(sd.A[0], sd.A[1], sd.ORGANIZER_A)
ORG_B = Organizer(sd.B[0], sd.B[1], sd.ORGANIZER_B)


def _install_chromium() -> str | None:
    """Debian's chromium, installed with apt-get when missing; None (and why) if impossible."""
    if Path(CHROMIUM).exists():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"{CHROMIUM} is missing and can't be installed here (needs root and apt-get): run `apt-get install -y chromium`."
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for step in (None, ["apt-get", "update", "-qq"]):
        if step:
            subprocess.run(step, env=env, capture_output=True, timeout=600)
        done = subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], env=env, capture_output=True, text=True, timeout=900)
        if done.returncode == 0 and Path(CHROMIUM).exists():
            return None
    return f"`apt-get install -y chromium` failed: {done.stderr.strip()[-500:]}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. (Module scope: Playwright's sync API keeps an event loop
    running in this thread while it is open, which the async tests of other modules can't
    share.)"""
    problem = _install_chromium()
    if problem:
        pytest.fail(f"The dashboard's browser tests need Chromium. {problem}", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("The browser tests need Playwright: pip install -e '.[dev]'", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def shots_dir() -> Iterator[Path]:
    configured = os.environ.get("RAPPORT_SCREENSHOT_DIR")
    path = Path(configured) if configured else Path(tempfile.mkdtemp(prefix="rapport-shots-"))
    path.mkdir(parents=True, exist_ok=True)
    yield path
    print(f"\nDashboard screenshots: {path}")


@dataclass
class Stack:
    """The dashboard running in a thread: its base URL, clock, and a way to run core calls."""

    base_url: str
    clock: FakeClock
    dashboard: Dashboard
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def link(self, organizer: Organizer = ORG_A) -> str:
        """A fresh sign-in link, as the chat verb would hand it out."""
        return self.base_url + self.run(self.dashboard.create_link(organizer)).path


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="dashboard-server", daemon=True)
    thread.start()
    clock = FakeClock(NOW)

    async def start() -> tuple[WebServer, Dashboard, Any]:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'rapport.db'}")
        await upgrade(engine)
        db = Database(engine)
        async with db.write() as session:
            await sd.seed(session, NOW)
        dashboard = Dashboard(db, clock)
        server = WebServer("127.0.0.1", 0)
        server.add_routes(DashboardRoutes(dashboard).routes())
        await server.start()
        return server, dashboard, engine

    server, dashboard, engine = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=60)
    try:
        yield Stack(f"http://127.0.0.1:{server.port}", clock, dashboard, loop)
    finally:

        async def stop() -> None:
            await server.stop()
            await engine.dispose()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    yield ctx
    ctx.close()
