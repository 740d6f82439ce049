"""Bootstrap: the one place that wires everything (engine, core, dispatcher, adapters).

Nothing connects or reads the environment at import time; ``App.start()`` does the async
start-up, ``App.stop()`` the orderly shutdown.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import time
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.web import DashboardRoutes
from adapters.web.links import member_link_routes
from bot.config import ConfigError, Settings
from bot.metrics import Metrics
from bot.web import WebServer
from core.clock import Clock, SystemClock
from core.dashboard import Dashboard
from core.db import Database, current_revision, head_revision, make_engine, upgrade
from core.dispatch import Dispatcher
from core.ports import Deliverer, Platform
from core.service import Rapport
from core.telemetry import LOG_FIELDS

log = logging.getLogger(__name__)

SWEEP_JOB = "rapport-dispatch"
KICK_GAP = 0.25  # seconds between sweeps that commands trigger
SHUTDOWN_BUDGET = 9.5  # seconds from SIGTERM to exit (SPEC: within 10 s)


class App:
    """The running program: core service, dispatcher on a schedule, and the adapters."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.engine = None
        self.db: Database | None = None
        self.dashboard: Dashboard | None = None
        self.core: Rapport | None = None
        self.dispatcher: Dispatcher | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.deliverers: dict[str, Deliverer] = {}
        self._kick_pending = False
        self._sweeping = False
        self._running = 0  # sweeps in progress (the scheduler's and sweep_now's)
        self._last_start = float("-inf")
        self._closing = False
        self._idle = asyncio.Event()
        self._idle.set()
        self.web = WebServer(settings.http_host, settings.http_port, settings.public_url)
        self.metrics = Metrics()
        self.web.add_routes(self.metrics.routes())
        self.metrics.read_readiness_with(self._ready)
        self._head: str | None = None
        self.health_engine = None

    async def open(self) -> Rapport:
        """Connects, migrates, builds the core. Adapters are added before ``start_dispatch``.

        A database that is missing, locked or out of reach is a one-line :class:`ConfigError`."""
        self.engine = await open_database(self.settings.database_url)
        self._head = head_revision()
        # Health checks get a connection of their own: under load the commands' pool may be
        # all in use, and a busy process is not an unready one.
        self.health_engine = (make_engine(self.settings.database_url, pool_size=1, max_overflow=1)
                              if self.engine.dialect.name == "postgresql" else self.engine)
        self.web.add_check("database", self._check_database)
        self.web.add_check("migrations", self._check_migrations)
        self.metrics.read_oldest_due_with(self.oldest_due_age)
        # The process's one Database, and so its one write gate: commands, sweeps and the
        # adapters' own records (through the core) take turns on SQLite.
        self.db = Database(self.engine)
        self.core = Rapport(
            self.db, self.clock, self.settings.default_tz, self.settings.admin_ids,
            telemetry=self.metrics, public_url=self.web.public_url,
        )
        # The organizers' dashboard on the HTTP listener (its routes go in before it starts).
        self.dashboard = Dashboard(self.db, self.clock, self.settings.secret_key)
        secure = (self.settings.public_url or "").lower().startswith("https://")
        self.web.add_routes(DashboardRoutes(self.dashboard, secure=secure).routes())
        self.core.on_change(self.kick)
        await self.core.prepare_links()
        # Members' private links (calendar feed, map picture, "Open in email") on the listener.
        self.web.add_routes(member_link_routes(self.core))
        # dateparser loads its language data on first use (a second or two): do it now, in
        # a thread, rather than in the first member's command.
        self._warm = asyncio.ensure_future(asyncio.to_thread(_warm_dates))
        return self.core

    # -- health and metrics --------------------------------------------------------------

    async def _check_database(self) -> str | None:
        assert self.health_engine is not None
        async with self.health_engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
        return None

    async def _check_migrations(self) -> str | None:
        assert self.health_engine is not None
        current = await current_revision(self.health_engine)
        return None if current == self._head else f"database at {current}, code at {self._head}"

    async def _ready(self) -> bool:
        ready, _ = await self.web.readiness()
        return ready

    async def oldest_due_age(self) -> float:
        """Seconds since the oldest nudge that is due and not yet sent fell due (0 when none)."""
        from sqlalchemy import func, select

        from core.models import Nudge

        assert self.db is not None
        now = self.clock.now()
        async with self.db.read() as session:
            oldest = None
            for status in ("pending", "sending"):  # each an index range on (status, due_at)
                due = await session.scalar(
                    select(func.min(Nudge.due_at)).where(Nudge.status == status, Nudge.due_at <= now)
                )
                if due is not None and (oldest is None or due < oldest):
                    oldest = due
        return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0

    def add_deliverer(self, platform: str, deliverer: Deliverer) -> None:
        """Nudges of members on ``platform`` go through ``deliverer``."""
        self.deliverers[platform] = deliverer

    def add_platform(self, name: str, platform: Platform) -> None:
        """A full platform: DMs, channel posts and conversations, all through the dispatcher."""
        self.add_deliverer(name, platform)

    def slack_stores(self):
        """Slack OAuth's installation and state stores on this process's database (its
        write gate, its read transactions): ``adapters.slack`` asks for them when
        ``SLACK_CLIENT_ID`` is set, since adapters don't touch the database themselves."""
        from bot.slack_store import slack_stores

        assert self.db is not None, "call open() first"
        assert self.settings.slack_client_id, "Slack OAuth is not configured"
        return slack_stores(self.db, self.settings.slack_client_id, self.settings.secret_keys)

    def start_dispatch(self) -> None:
        """Runs a sweep now (nudges that fell due while the bot was down) and every interval."""
        assert self.db is not None, "call open() first"
        self.dispatcher = Dispatcher(
            self.db, self.clock, self.deliverers, self.settings.default_tz,
            lease=dt.timedelta(seconds=self.settings.dispatch_lease), telemetry=self.metrics,
            links=self.core.links if self.core else None,
        )
        self.scheduler = AsyncIOScheduler(timezone=dt.UTC)
        self.scheduler.add_job(
            self._sweep,
            "interval",
            seconds=self.settings.dispatch_interval,
            id=SWEEP_JOB,
            next_run_time=dt.datetime.now(dt.UTC),
            # Runs missed while busy or down are not dropped (APScheduler's default grace is 1 s)
            # but collapsed into one.
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
        )
        self.scheduler.start()

    async def _sweep(self) -> None:
        assert self.dispatcher is not None
        # A kicked sweep's task copies the context of the command that kicked it: its log
        # lines are not that command's.
        LOG_FIELDS.set({})
        self._running += 1
        self._sweeping = True
        self._idle.clear()
        try:
            while True:
                self._kick_pending = False
                self._last_start = time.monotonic()
                try:
                    result = await self.dispatcher.sweep()
                    if result.claimed:
                        log.info("dispatch: %s", result)
                except Exception:
                    log.exception("dispatch sweep failed; the next sweep will try again")
                    break
                if not self._kick_pending or self._closing:
                    break
                # A command committed mid-sweep: go again, but no more often than KICK_GAP,
                # so a burst of commands doesn't turn into back-to-back sweeps.
                await asyncio.sleep(max(0.0, self._last_start + KICK_GAP - time.monotonic()))
        finally:
            self._running -= 1
            if self._running == 0:
                self._sweeping = False
                self._idle.set()

    def kick(self) -> None:
        """A command committed: sweep soon rather than at the next interval, so news from
        other members (offers, accepted intros) and nudges due now arrive at once.
        Kicks are debounced: at most one kicked sweep every KICK_GAP seconds."""
        if self.scheduler is None or not self.scheduler.running or self._closing:
            return
        if self._sweeping:
            self._kick_pending = True
            return
        job = self.scheduler.get_job(SWEEP_JOB)
        if job is not None:
            delay = max(0.0, self._last_start + KICK_GAP - time.monotonic())
            job.modify(next_run_time=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay))

    async def start_web(self, *, required: bool = True) -> bool:
        """Starts the HTTP listener with the routes added so far. ``required=False`` (the
        console) carries on without it when the port is taken, saying so once."""
        try:
            await self.web.start()
            if self.core is not None:
                self.core.set_public_url(self.web.public_url)  # the real port, also for port 0
        except OSError as err:
            if required:
                raise ConfigError(
                    f"RAPPORT_HTTP_PORT: can't listen on {self.settings.http_host}:{self.settings.http_port} ({err.strerror or err})."
                ) from None
            log.warning("no HTTP listener (%s:%s: %s); links to the web won't work in this session",
                        self.settings.http_host, self.settings.http_port, err.strerror or err)
            return False
        if self.core is not None:
            self.core.set_public_url(self.web.public_url)  # the real port, when it was 0
        return True

    async def sweep_now(self) -> None:
        """One sweep now, after any sweep already running (the console's last look)."""
        if self.dispatcher is None:
            return
        await self._idle.wait()
        await self._sweep()

    def begin_shutdown(self) -> None:
        """The first step of stopping: ``/readyz`` turns 503 and no new sweep starts (one
        under way finishes). Commands still arriving are answered until the listener closes."""
        self._closing = True
        self.web.drain()
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.pause()  # shutdown() would cancel a running sweep mid-mark

    async def close(self, grace: float = 8.0) -> None:
        """Stops sweeping, lets a sweep in flight finish its marks (``grace`` seconds at most),
        then disconnects."""
        self.begin_shutdown()
        await self.web.stop()
        if self.scheduler is not None and self.scheduler.running:
            if self._sweeping:
                try:
                    async with asyncio.timeout(grace):
                        await self._idle.wait()
                except TimeoutError:
                    log.warning("a sweep was still running at shutdown; its nudges go out after their lease")
            self.scheduler.shutdown(wait=False)
        if self.health_engine is not None and self.health_engine is not self.engine:
            await self.health_engine.dispose()
        if self.engine is not None:
            await self.engine.dispose()


#: How long start-up waits for a SQLite file another program is writing to.
LOCK_WAIT = 5.0


async def open_database(database_url: str) -> AsyncEngine:
    """An engine on the configured database, migrated to the code's head.

    Whatever stops that (no such folder or database, a file another program holds locked,
    a server that doesn't answer) is a :class:`ConfigError` saying what is wrong and how to
    put it right, in one line."""
    url = make_url(database_url)
    try:
        engine = make_engine(database_url)
    except OSError as err:  # the SQLite file's folder can't be made
        raise ConfigError(_database_problem(url, err)) from None
    try:
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            await asyncio.to_thread(_wait_for_sqlite_lock, url.database)
        await upgrade(engine)
    except Exception as err:
        await engine.dispose()
        raise ConfigError(_database_problem(url, err)) from None
    return engine


def _wait_for_sqlite_lock(path: str) -> None:
    """Raises ``sqlite3.OperationalError`` (database is locked) when another program keeps
    the file in a write for more than LOCK_WAIT seconds (the engine itself would wait 30)."""
    conn = sqlite3.connect(Path(path).expanduser(), timeout=LOCK_WAIT, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def _causes(err: BaseException) -> list[BaseException]:
    """``err`` and what it wraps (SQLAlchemy's ``orig``, ``__cause__``, ``__context__``)."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [err]
    while todo:
        e = todo.pop()
        if e is None or any(e is f for f in found):
            continue
        found.append(e)
        orig = getattr(e, "orig", None)
        todo += [e.__cause__, e.__context__, orig if isinstance(orig, BaseException) else None]
    return found


def _database_problem(url: URL, err: BaseException) -> str:
    """One line for the operator: what is wrong with the database, and how to put it right."""
    causes = _causes(err)
    names = {type(e).__name__ for e in causes}
    text = " ".join(str(e) for e in causes).lower()
    head = "RAPPORT_DATABASE_URL:"
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "").expanduser().resolve()
        if "locked" in text or "busy" in text:
            return (f"{head} the database file {path} is locked: another program is in the middle of writing to it "
                    "(another Rapport, or a sqlite3 shell?). Close that program, or point RAPPORT_DATABASE_URL at another file.")
        reason = next((e.strerror for e in causes if isinstance(e, OSError) and e.strerror), None) or _first_line(err)
        return (f"{head} can't open the database file {path} ({reason}). Point RAPPORT_DATABASE_URL at a file in a "
                "folder you can write to, e.g. sqlite+aiosqlite:///rapport.db")
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    if "InvalidCatalogNameError" in names or ("database" in text and "does not exist" in text):
        return (f"{head} the PostgreSQL server on {where} has no database \"{url.database}\". Create it "
                f"(createdb {url.database}) or fix the database name in RAPPORT_DATABASE_URL.")
    if names & {"InvalidPasswordError", "InvalidAuthorizationSpecificationError"} or "authentication" in text:
        return (f"{head} the PostgreSQL server on {where} refused user \"{url.username}\" ({_first_line(err)}). "
                "Check the user and password in RAPPORT_DATABASE_URL.")
    refused = next((e for e in causes if isinstance(e, OSError | TimeoutError)), None)
    if refused is not None:
        reason = ("connection refused" if isinstance(refused, ConnectionRefusedError)
                  else refused.strerror if isinstance(refused, OSError) and refused.strerror else "no answer")
        return (f"{head} can't reach PostgreSQL on {where} ({reason}). Start the server, or fix the host and port "
                "in RAPPORT_DATABASE_URL.")
    return f"{head} can't use the database on {where} ({_first_line(err)}). Check RAPPORT_DATABASE_URL."


def _first_line(err: BaseException) -> str:
    """The gist of an error, without SQLAlchemy's statement and links (and never a password)."""
    inner = getattr(err, "orig", None) or err
    line = (str(inner).strip().splitlines() or [type(inner).__name__])[0]
    return line[:200]


def data_location(database_url: str) -> str:
    """Where the data is, said for a person: a SQLite file's full path, else the server."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return str(Path(url.database or "rapport.db").resolve()) if url.database not in (None, "", ":memory:") else "memory only"
    return f"the {url.get_backend_name()} database {url.database or ''} on {url.host or 'localhost'}".replace("  ", " ")


def _warm_dates() -> None:
    from zoneinfo import ZoneInfo

    from core.timeparse import parse_when

    try:
        parse_when("next Tuesday 10am", dt.datetime.now(dt.UTC), ZoneInfo("UTC"), "future", "")
    except Exception:  # a warm-up must never stop start-up
        log.debug("date parser warm-up failed", exc_info=True)


async def run_console(settings: Settings, inp=None, out=None) -> None:
    """The console on the configured database, with DMs printed inline."""
    from adapters.console.adapter import PLATFORM, ConsoleAdapter

    app = App(settings)
    core = await app.open()
    console = ConsoleAdapter(core, out)
    app.add_platform(PLATFORM, console)
    await app.start_web(required=False)
    app.start_dispatch()
    try:
        await console.print(f"Rapport console. Your data is kept in {data_location(settings.database_url)} "
                            "(RAPPORT_DATABASE_URL moves it); drafts are signed with your name (`settings name: ...`).")
        await console.run(inp)
        # One last sweep, so what fell due during the session is shown before we go.
        await app.sweep_now()
    finally:
        await app.close()


async def run(settings: Settings) -> None:
    """Starts every configured platform in one process; the console when none is."""
    if not (settings.slack_enabled or settings.discord_enabled):
        await run_console(settings)
        return
    import signal

    app = App(settings)
    await app.open()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # pragma: no cover - not on this platform
            pass
    runners = []
    serving = False
    try:
        if settings.slack_enabled:
            from adapters.slack.runner import start_slack

            runners.append(await start_slack(app))
        if settings.discord_enabled:
            from adapters.discord.runner import start_discord

            runners.append(await start_discord(app))
        await app.start_web()
        app.start_dispatch()
        serving = True
        log.info("Rapport is running (%s)", ", ".join(app.deliverers))
        await stop.wait()
    finally:
        # SIGTERM: /readyz turns 503 at once; the load balancer's health checks see it
        # within RAPPORT_DRAIN_SECONDS while requests still get answers; then the listener
        # closes, work in flight finishes, and the process exits, all within 10 s.
        deadline = time.monotonic() + SHUTDOWN_BUDGET

        def left(cap: float) -> float:
            return max(0.1, min(cap, deadline - time.monotonic()))

        log.info("stopping: /readyz answers 503 now; finishing what is in flight")
        app.begin_shutdown()
        if serving:
            await asyncio.sleep(left(settings.drain_seconds))
        await app.web.stop()
        for runner in reversed(runners):
            try:
                await asyncio.wait_for(runner.stop(), timeout=left(8))
            except Exception:
                log.exception("adapter stop failed")
        await app.close(grace=left(8))
        log.info("stopped")
