"""Storage: migrations, SQLite pragmas, and the hot-path indexes."""

from sqlalchemy import inspect, text

from core.db import upgrade


async def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_engine):
    async with sqlite_engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_migrations_are_idempotent_and_build_the_indexes(engine):
    await upgrade(engine)  # a second upgrade is a no-op

    def indexes(sync_conn):
        insp = inspect(sync_conn)
        return {t: {i["name"] for i in insp.get_indexes(t)} for t in ("nudges", "contacts")}

    async with engine.connect() as conn:
        found = await conn.run_sync(indexes)
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    assert "ix_nudges_due" in found["nudges"]  # due nudges
    assert "ix_contacts_member_name" in found["contacts"]  # a member's contacts by name
    assert version is not None


async def test_forget_me_cascades_through_foreign_keys(core, alice, sessionmaker):
    from tests.integration.helpers import row_counts

    await core.run_text(alice, "log Jane when: yesterday referrals: Bob Li")
    await core.run_text(alice, "reached-out Ana")
    await core.press(alice, "forget:confirm")
    counts = await row_counts(sessionmaker)
    for table in ("members", "contacts", "meetings", "outreach", "nudges"):
        assert counts[table] == 0, table
