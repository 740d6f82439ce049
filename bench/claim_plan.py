"""How the dispatcher's claims run on a PostgreSQL table whose statistics are stale.

    python -m bench.claim_plan [--postgres URL] [--nudges 20000] [--due 700] [--members 500]

A fresh schema, autovacuum off for the tables (so nothing analyses them behind our back),
then one bulk insert: ``--nudges`` nudge rows of which ``--due`` are due now, and as many
effect rows with as many due. The planner now knows nothing about them: this is a new
deployment's first sweep, or a table that just grew. For nudges and effects, prints the
claim's time and plan before ``ANALYZE``, after it, and with stale statistics. Each claim runs in a transaction
that is rolled back, so both see the same rows.

Target: the claim takes about as long before ``ANALYZE`` as after (tens of milliseconds
for 700 due rows); the plan walks the ``(status, due_at)`` index either way. A third line
("stale") is after a process died holding as many claims again, which the statistics taken
before don't know about: the claim must not turn quadratic there either. (A claim
written as ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)`` once ran as a
nested loop here: 13 s before ``ANALYZE``, 40 ms after.)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import time
import uuid
from typing import Any

NOW = dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.UTC)
TABLES = ("members", "nudges", "effects")


async def seed(engine: Any, nudges: int, due: int, members: int) -> None:
    """Members on Slack, then ``nudges`` nudges and effects, ``due`` of each due now."""
    from sqlalchemy import text

    async with engine.begin() as conn:
        for table in TABLES:
            await conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        await conn.execute(text(
            "INSERT INTO members (platform, workspace_id, user_id, quiet_start, quiet_end, stay_in_touch_days,"
            " digest, dm_failed_notice, created_at)"
            " SELECT 'slack', 'T1', 'U' || i, '00:00', '00:00', 90, false, false, CAST(:now AS timestamptz)"
            " FROM generate_series(1, CAST(:members AS integer)) AS i"
        ), {"now": NOW, "members": members})
        # Due rows are spread over the last hour; the rest are due over the next months.
        await conn.execute(text(
            "INSERT INTO nudges (member_id, kind, due_at, status, attempts, created_at)"
            " SELECT (SELECT min(id) FROM members) + i % CAST(:members AS integer), 'time-check',"
            "  CASE WHEN i <= CAST(:due AS integer) THEN CAST(:now AS timestamptz) - (i || ' seconds')::interval"
            "       ELSE CAST(:now AS timestamptz) + (i || ' minutes')::interval END,"
            "  'pending', 0, CAST(:now AS timestamptz) - interval '1 day'"
            " FROM generate_series(1, CAST(:n AS integer)) AS i"
        ), {"now": NOW, "due": due, "n": nudges, "members": members})
        await conn.execute(text(
            "INSERT INTO effects (platform, workspace_id, kind, status, due_at, attempts, created_at)"
            " SELECT 'slack', 'T1', 'intro-post', 'pending',"
            "  CASE WHEN i <= CAST(:due AS integer) THEN CAST(:now AS timestamptz) - (i || ' seconds')::interval"
            "       ELSE CAST(:now AS timestamptz) + (i || ' minutes')::interval END,"
            "  0, CAST(:now AS timestamptz) - interval '1 day'"
            " FROM generate_series(1, CAST(:n AS integer)) AS i"
        ), {"now": NOW, "due": due, "n": nudges})


async def measure(engine: Any, claim: str, batch: int) -> tuple[int, float, list[str]]:
    """Runs one claim (``nudges`` or ``effects``) of up to ``batch`` rows, rolled back:
    how many it claimed, in how many seconds, and the plans of the statements it ran."""
    from sqlalchemy import event

    from core.clock import FakeClock
    from core.db import Database
    from core.dispatch import Dispatcher

    class Slack:  # a Platform as far as the claim cares: it serves "slack" for DMs and posts
        async def deliver(self, message: Any) -> None: ...
        async def post_channel(self, *a: Any) -> str: return ""
        async def update_channel_post(self, *a: Any) -> None: ...
        async def open_conversation(self, *a: Any) -> str: return ""

    db = Database(engine)
    dispatcher = Dispatcher(db, FakeClock(NOW), {"slack": Slack()}, batch_size=batch, effect_batch_size=batch)
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("UPDATE", "WITH")):
            statements.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with db.sessionmaker() as session:
            await session.begin()
            started = time.perf_counter()
            if claim == "nudges":
                rows = await dispatcher.claim(session, NOW)
            else:
                rows = await dispatcher.claim_effects(session, NOW)
            took = time.perf_counter() - started
            await session.rollback()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    plans = []
    async with engine.connect() as conn:
        for statement, parameters in statements:
            result = await conn.exec_driver_sql("EXPLAIN " + statement, parameters)
            plans.append("\n".join(row[0] for row in result))
        await conn.rollback()
    return len(rows), took, plans


async def run(url: str, nudges: int, due: int, members: int, show_plans: bool) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from core.db import make_engine, upgrade

    schema = f"bench_claim_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"server_settings": {"search_path": schema}})
    try:
        await upgrade(engine)
        await seed(engine, nudges, due, members)
        print(f"{nudges} nudges and {nudges} effects, {due} of each due, {members} members; autovacuum off")
        for stage in ("before ANALYZE", "after ANALYZE", "stale"):
            if stage == "after ANALYZE":
                async with engine.begin() as conn:
                    for table in TABLES:
                        await conn.execute(text(f"ANALYZE {table}"))
            if stage == "stale":
                # Then a process died holding claims: as many rows again are ``sending`` with a
                # lease that ran out, which the statistics (nothing was sending) don't know.
                async with engine.begin() as conn:
                    for table in ("nudges", "effects"):
                        await conn.execute(text(
                            f"UPDATE {table} SET status = 'sending', lease_until = CAST(:now AS timestamptz) - interval '1 minute'"
                            f" WHERE id IN (SELECT id FROM {table} WHERE due_at > CAST(:now AS timestamptz)"
                            "  ORDER BY due_at LIMIT CAST(:due AS integer))"), {"now": NOW, "due": due})
            for claim in ("nudges", "effects"):
                # Best of three (the first also pays for a new connection's first statements).
                runs = [await measure(engine, claim, batch=1000) for _ in range(3)]
                count, took, plans = min(runs, key=lambda run: run[1])
                print(f"{stage:>14}: claimed {count:5d} {claim:7s} in {took * 1000:8.1f} ms (best of 3)")
                if show_plans:
                    for plan in plans:
                        print("    " + plan.replace("\n", "\n    "))
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("RAPPORT_TEST_POSTGRES_URL"))
    parser.add_argument("--nudges", type=int, default=20000)
    parser.add_argument("--due", type=int, default=700)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--plans", action="store_true", help="print each claim statement's plan")
    args = parser.parse_args()
    if not args.postgres:
        parser.error("needs a PostgreSQL URL: --postgres or RAPPORT_TEST_POSTGRES_URL")
    asyncio.run(run(args.postgres, args.nudges, args.due, args.members, args.plans))


if __name__ == "__main__":
    main()
