"""Engine, sessions and migrations.

SQLite runs in WAL mode with foreign keys on; PostgreSQL goes through asyncpg. Migrations
are found through the package, so the bot runs from any working directory.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str, **kwargs) -> AsyncEngine:
    """Creates the async engine; on SQLite turns on WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
        # Every session ends its transaction itself; skipping the pool's ROLLBACK saves a trip
        # to the aiosqlite thread on every checkin.
        kwargs.setdefault("pool_reset_on_return", None)
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no branch - runs per connection
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        # Let SQLAlchemy (not pysqlite) decide when transactions begin, so BEGIN is real.
        @event.listens_for(engine.sync_engine, "connect")
        def _no_pysqlite_autobegin(dbapi_conn, _record):
            dbapi_conn.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


class WriteGate:
    """Lets one writer at a time into the database when the database wants that (SQLite).

    SQLite has one writer; several asyncio tasks in BEGIN IMMEDIATE would otherwise queue in
    SQLite's busy handler, which sleeps up to 100 ms between tries. Queuing on an asyncio
    lock instead hands the database over the moment it is free. PostgreSQL needs no gate.
    Commands and the dispatcher share one gate per engine (``bot/app.py`` wires it).
    """

    def __init__(self, serialize: bool) -> None:
        self._lock = asyncio.Lock() if serialize else None

    @classmethod
    def for_engine(cls, engine: AsyncEngine) -> WriteGate:
        return cls(engine.dialect.name == "sqlite")

    async def __aenter__(self) -> None:
        if self._lock is not None:
            await self._lock.acquire()

    async def __aexit__(self, *exc) -> None:
        if self._lock is not None:
            self._lock.release()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def alembic_config(url: str | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Applies the Alembic migrations up to ``revision`` on ``engine``."""
    from alembic import command

    def _run(sync_conn):
        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_run)
