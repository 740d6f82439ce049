"""Shared fixtures: real databases (SQLite always, PostgreSQL when RAPPORT_TEST_POSTGRES_URL
is set), a test clock, and the core service wired on them."""

from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest
from hypothesis import settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from core.clock import FakeClock
from core.db import Database, make_engine, upgrade
from core.service import Actor, Rapport

# Property tests: `make test` (and so CI) runs the same examples every time, so a red run can
# be reproduced and a green one means the same thing twice. To hunt for new failures, run with
# HYPOTHESIS_PROFILE=explore (fresh random examples each run; add RAPPORT_GRAMMAR_EXAMPLES=3000
# for the whole-grammar test), and keep what it finds as a test of its own.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

POSTGRES_URL = os.environ.get("RAPPORT_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]


async def _postgres_engine(schema: str):
    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    return make_engine(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})


async def _drop_schema(schema: str) -> None:
    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await admin.dispose()


@pytest.fixture(params=BACKENDS)
async def engine(request, tmp_path):
    """A migrated, empty database: a temp SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'rapport.db'}")
        await upgrade(eng)
        yield eng
        await eng.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip("RAPPORT_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    eng = await _postgres_engine(schema)
    try:
        await upgrade(eng)
        yield eng
    finally:
        await eng.dispose()
        await _drop_schema(schema)


@pytest.fixture
async def sqlite_engine(tmp_path):
    eng = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'rapport.db'}")
    await upgrade(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def clock():
    # A Wednesday afternoon in UTC.
    return FakeClock(dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.UTC))


@pytest.fixture
def db(engine):
    """The test's one Database (and so its one write gate), as the wiring makes it."""
    return Database(engine)


@pytest.fixture
def sessionmaker(db):
    return db.sessionmaker


@pytest.fixture
def core(db, clock):
    return Rapport(db, clock, default_tz="UTC", admins=frozenset({"console:local:ORG1"}))


@pytest.fixture
def alice():
    return Actor(platform="console", workspace_id="local", user_id="alice", display_name="Alice Example")


@pytest.fixture
def bob():
    return Actor(platform="console", workspace_id="local", user_id="bob", display_name="Bob Builder")
