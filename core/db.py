"""Engine, sessions and migrations.

SQLite runs in WAL mode with foreign keys on; PostgreSQL goes through asyncpg. Migrations
are found through the package, so the bot runs from any working directory.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

TXN_OPTION = "rapport_txn"
# pg_advisory_xact_lock key that serialises migrations between processes starting together
# (any constant of our own; "rapport" in ASCII).
MIGRATION_LOCK = 0x72617070_6F7274
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


# asyncpg names the value it couldn't encode: "invalid input for query argument $1: 'text' (...)".
_VALUE_IN_ERROR = re.compile(r"(invalid input for query argument [^:\n]*: ).*")


def scrub_error(exc: BaseException | None) -> None:
    """Takes the data out of a database error and the errors it was raised from, in place, so
    a logged traceback names the statement and the constraint but no value: PostgreSQL's
    ``DETAIL`` (``Failing row contains (...)``, ``Key (name)=(...)``) and asyncpg's copy of a
    value it couldn't send."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if getattr(exc, "detail", None):
            try:
                exc.detail = None  # type: ignore[attr-defined]
            except AttributeError:
                pass
        if exc.args and isinstance(exc.args[0], str):
            hidden = _VALUE_IN_ERROR.sub(r"\1[value hidden]", exc.args[0])
            if hidden != exc.args[0]:
                exc.args = (hidden, *exc.args[1:])
        exc = exc.__cause__ or exc.__context__


def _scrub_errors(context: ExceptionContext) -> None:
    scrub_error(context.original_exception)
    scrub_error(context.sqlalchemy_exception)


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Creates the async engine; on SQLite turns on WAL, foreign keys and a busy timeout.

    SQL errors never carry member data into a log: not their parameters (``hide_parameters``)
    and not the values the database quotes back (:func:`scrub_error`), so an error logged
    about a statement doesn't put a member's notes or a stored token into the log."""
    kwargs.setdefault("hide_parameters", True)
    engine = _make_engine(url, **kwargs)
    event.listen(engine.sync_engine, "handle_error", _scrub_errors)
    return engine


def _make_engine(url: str, **kwargs: Any) -> AsyncEngine:
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
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:  # runs per connection
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        # Let SQLAlchemy (not pysqlite) decide when transactions begin, so BEGIN is real.
        @event.listens_for(engine.sync_engine, "connect")
        def _no_pysqlite_autobegin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Connection) -> None:
            # Writers take the write lock up front (no upgrade deadlocks); readers begin a
            # deferred transaction, which in WAL mode never waits for a writer.
            reading = conn.get_execution_options().get(TXN_OPTION) == "read"
            conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

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

    async def __aexit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.release()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class Database:
    """The one way the core (and whatever the wiring hands it to) opens transactions.

    - ``write()``: a transaction that may write. On SQLite it first takes the process's
      write gate (one writer at a time, queued on an asyncio lock) and begins IMMEDIATE;
      on PostgreSQL it is a plain transaction.
    - ``read()``: a transaction that only reads. No gate; on SQLite a deferred ``BEGIN``,
      which in WAL mode reads a consistent snapshot without waiting for writers. Writing
      in it is a bug: it raises ``RuntimeError`` at the end (and rolls back).

    Both commit when the block ends normally and roll back on an exception.
    """

    def __init__(self, engine: AsyncEngine, gate: WriteGate | None = None) -> None:
        self.engine = engine
        self.gate = gate or WriteGate.for_engine(engine)
        self.sessionmaker = make_sessionmaker(engine)
        self._readmaker = async_sessionmaker(
            engine.execution_options(**{TXN_OPTION: "read"}), expire_on_commit=False, sync_session_class=_ReadOnlySession
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        async with self.gate, self.sessionmaker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._readmaker() as session, session.begin():
            yield session
            if session.new or session.dirty or session.deleted:
                raise RuntimeError("a read-only transaction tried to write")


class _ReadOnlySession(Session):
    """The session of ``Database.read()``: flushing a change is a bug, caught at once."""

    def flush(self, objects: Sequence[Any] | None = None) -> None:
        if self.new or self.dirty or self.deleted:
            raise RuntimeError("a read-only transaction tried to write")
        super().flush(objects)


def rowcount(result: object) -> int:
    """How many rows an UPDATE or DELETE touched (``CursorResult.rowcount``, which
    SQLAlchemy's typing of ``AsyncSession.execute`` doesn't show)."""
    return int(getattr(result, "rowcount", 0) or 0)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Applies the Alembic migrations up to ``revision`` on ``engine``.

    Safe when several processes start together on one PostgreSQL database: the upgrade
    runs in one transaction holding a transaction-level advisory lock, so the others wait
    for it and then find nothing left to do. (On SQLite the upgrade's transaction is a
    writer's, which SQLite serialises by itself.)"""

    def _run(sync_conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        await conn.run_sync(_run)


def head_revision() -> str | None:
    """The newest migration the code knows (Alembic's head)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The migration the database is at (None before the first). Read straight from
    ``alembic_version`` (readiness checks ask often; Alembic's context would log each time)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    async with engine.connect() as conn:
        try:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        except DBAPIError:  # no table yet
            return None
    return rows[0] if len(rows) == 1 else (",".join(sorted(rows)) or None)
