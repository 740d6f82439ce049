"""Nudge delivery throughput, memory and start-up, beside the approach we rejected.

    python -m bench.dispatch [--postgres URL] [--pending 100000] [--due 10000]

Scenario: 100,000 pending nudges of which 10,000 are due, a deliverer that returns at once.
Prints, for SQLite and (with --postgres or RAPPORT_TEST_POSTGRES_URL) PostgreSQL:
delivered per second, peak memory, memory with 100,000 pending vs none, and start-up time.
Beside it: one APScheduler job per nudge in its SQLAlchemy job store (start-up time, memory,
delivery rate for the same numbers).

Targets: >= 5,000 nudges/s on SQLite and PostgreSQL; memory with 100,000 pending within
30 MB of memory with none; start-up with 100,000 pending under 2 s.
Each measurement runs in a fresh process, so memory figures don't bleed into each other.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid

NOW = dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.UTC)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- child scenarios ------------------------------------------------------------------------


async def _engine(url: str, schema: str | None):
    from core.db import make_engine

    if schema:
        return make_engine(url, connect_args={"server_settings": {"search_path": schema}})
    return make_engine(url)


async def seed(url: str, schema: str | None, pending: int, due: int) -> None:
    """Members, contacts and meetings, and ``pending`` thank-you nudges, ``due`` of them due now."""
    from sqlalchemy import insert, text

    from core.db import upgrade
    from core.models import ContactRow, Meeting, Member, Nudge

    engine = await _engine(url, schema)
    await upgrade(engine)
    members = 1000
    async with engine.begin() as conn:
        await conn.execute(insert(Member), [
            {"id": i + 1, "platform": "bench", "workspace_id": f"W{i % 10}", "user_id": f"U{i}", "display_name": f"Member {i}",
             "quiet_start": "00:00", "quiet_end": "00:00", "stay_in_touch_days": 90, "digest": False,
             "dm_failed_notice": False, "created_at": NOW}
            for i in range(members)
        ])
        contacts = min(pending, 20000)
        if not contacts:
            await engine.dispose()
            return
        await conn.execute(insert(ContactRow), [
            {"id": i + 1, "member_id": i % members + 1, "name": f"Contact {i}", "name_key": f"contact {i}", "status": "met",
             "referrals_pending": False, "created_at": NOW}
            for i in range(contacts)
        ])
        await conn.execute(insert(Meeting), [
            {"id": i + 1, "member_id": i % members + 1, "contact_id": i + 1, "at": NOW - dt.timedelta(days=1),
             "status": "held", "notes": "talked about SEO and the first ninety days", "created_at": NOW}
            for i in range(contacts)
        ])
        rows = []
        for i in range(pending):
            c = i % contacts
            rows.append({
                "member_id": c % members + 1, "kind": "thank-you", "status": "pending", "attempts": 0,
                "due_at": NOW - dt.timedelta(minutes=1) if i < due else NOW + dt.timedelta(days=1 + i % 300),
                "contact_id": c + 1, "meeting_id": c + 1, "created_at": NOW - dt.timedelta(days=1),
            })
            if len(rows) == 10000:
                await conn.execute(insert(Nudge), rows)
                rows = []
        if rows:
            await conn.execute(insert(Nudge), rows)
    # A live database has planner statistics (autovacuum keeps them); a bulk-seeded one
    # doesn't yet.
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    await engine.dispose()


async def startup_and_sweep(url: str, schema: str | None) -> dict:
    """What the bot does at start: connect, migrate, build the dispatcher, sweep what is due."""
    from core.clock import FakeClock
    from core.db import Database, upgrade
    from core.dispatch import Dispatcher

    base_rss = rss_mb()

    class Instant:
        count = 0

        async def deliver(self, message):
            Instant.count += 1
            return None

    t0 = time.perf_counter()
    engine = await _engine(url, schema)
    await upgrade(engine)
    dispatcher = Dispatcher(Database(engine), FakeClock(NOW), {"bench": Instant()}, "UTC", batch_size=1000)
    startup = time.perf_counter() - t0
    idle_rss = rss_mb()
    t1 = time.perf_counter()
    result = await dispatcher.sweep()
    elapsed = time.perf_counter() - t1
    await engine.dispose()
    return {
        "startup_s": startup, "sent": result.sent, "delivered": Instant.count, "sweep_s": elapsed,
        "per_s": result.sent / elapsed if elapsed else 0.0, "rss_after_start_mb": idle_rss,
        "rss_before_mb": base_rss, "peak_mb": peak_mb(),
    }


def apscheduler_jobs(db_path: str, jobs: int, due: int) -> dict:
    """The rejected design: one APScheduler job per nudge in SQLAlchemyJobStore."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    url = f"sqlite:///{db_path}"
    delivered = 0

    store = SQLAlchemyJobStore(url=url)
    seeder = BackgroundScheduler(jobstores={"default": store}, timezone=dt.UTC)
    seeder.start(paused=True)
    now = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    for i in range(jobs):
        when = now + dt.timedelta(seconds=2) if i < due else now + dt.timedelta(days=1 + i % 300)
        seeder.add_job(_noop, "date", run_date=when, id=f"n{i}", misfire_grace_time=None)
    seed_s = time.perf_counter() - t0
    seeder.shutdown(wait=False)

    base_rss = rss_mb()
    t0 = time.perf_counter()
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=url)}, timezone=dt.UTC,
                                    executors={"default": {"type": "threadpool", "max_workers": 20}})

    def count(event):
        nonlocal delivered
        delivered += 1

    from apscheduler.events import EVENT_JOB_EXECUTED

    scheduler.add_listener(count, EVENT_JOB_EXECUTED)
    scheduler.start()
    startup = time.perf_counter() - t0
    rss_started = rss_mb()
    start_wait = now + dt.timedelta(seconds=2)
    while dt.datetime.now(dt.UTC) < start_wait:
        time.sleep(0.01)
    t1 = time.perf_counter()
    deadline = t1 + 60
    while delivered < due and time.perf_counter() < deadline:
        time.sleep(0.01)
    elapsed = time.perf_counter() - t1
    scheduler.shutdown(wait=False)
    return {"seed_s": seed_s, "startup_s": startup, "delivered": delivered, "deliver_s": elapsed,
            "per_s": delivered / elapsed if elapsed else 0.0, "rss_before_mb": base_rss,
            "rss_after_start_mb": rss_started, "peak_mb": peak_mb()}


def _noop() -> None:
    return None


# --- the driver -------------------------------------------------------------------------------


def child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.dispatch", "--child", *args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"bench child failed: {args}\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_backend(name: str, url: str, pending: int, due: int, postgres: bool) -> None:
    schema = None
    if postgres:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        _pg(url, f'CREATE SCHEMA "{schema}"')
    try:
        empty_schema = None
        if postgres:
            empty_schema = f"bench_{uuid.uuid4().hex[:8]}"
            _pg(url, f'CREATE SCHEMA "{empty_schema}"')
            child(["seed", url, empty_schema, "0", "0"])
            empty = child(["sweep", url, empty_schema])
            _pg(url, f'DROP SCHEMA "{empty_schema}" CASCADE')
        else:
            empty_url = url.replace(".db", "-empty.db")
            child(["seed", empty_url, "", "0", "0"])
            empty = child(["sweep", empty_url, ""])
        t0 = time.perf_counter()
        child(["seed", url, schema or "", str(pending), str(due)])
        seeded = time.perf_counter() - t0
        full = child(["sweep", url, schema or ""])
    finally:
        if postgres and schema:
            _pg(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(f"\n[{name}] {pending:,} pending, {due:,} due (seeded in {seeded:.1f} s)")
    print(f"  delivered: {full['sent']:,} in {full['sweep_s']:.2f} s = {full['per_s']:,.0f} nudges/s (target >= 5,000)")
    print(f"  start-up with {pending:,} pending: {full['startup_s']:.3f} s (target < 2 s; empty: {empty['startup_s']:.3f} s)")
    delta = full["rss_after_start_mb"] - empty["rss_after_start_mb"]
    print(f"  memory after start-up: {full['rss_after_start_mb']:.1f} MB with {pending:,} pending vs "
          f"{empty['rss_after_start_mb']:.1f} MB with none (delta {delta:+.1f} MB, target within 30 MB)")
    print(f"  peak memory during the sweep: {full['peak_mb']:.1f} MB (empty database: {empty['peak_mb']:.1f} MB)")


def _pg(url: str, sql: str) -> None:
    async def go():
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text(sql))
        await engine.dispose()

    asyncio.run(go())


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, *rest = sys.argv[2:]
        if kind == "seed":
            url, schema, pending, due = rest
            asyncio.run(seed(url, schema or None, int(pending), int(due)))
            print(json.dumps({}))
        elif kind == "sweep":
            url, schema = rest
            print(json.dumps(asyncio.run(startup_and_sweep(url, schema or None))))
        elif kind == "apscheduler":
            path, jobs, due = rest
            print(json.dumps(apscheduler_jobs(path, int(jobs), int(due))))
        return
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--postgres", default=os.environ.get("RAPPORT_TEST_POSTGRES_URL"))
    parser.add_argument("--skip-apscheduler", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_backend("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.db", args.pending, args.due, postgres=False)
        if args.postgres:
            run_backend("PostgreSQL", args.postgres, args.pending, args.due, postgres=True)
        else:
            print("\n[PostgreSQL] skipped: pass --postgres URL or set RAPPORT_TEST_POSTGRES_URL")
        if not args.skip_apscheduler:
            r = child(["apscheduler", f"{tmp}/jobs.db", str(args.pending), str(args.due)])
            print(f"\n[rejected: one APScheduler job per nudge, SQLAlchemyJobStore on SQLite] {args.pending:,} jobs, {args.due:,} due")
            print(f"  adding the jobs: {r['seed_s']:.1f} s")
            print(f"  start-up: {r['startup_s']:.3f} s; memory after start-up {r['rss_after_start_mb']:.1f} MB "
                  f"(from {r['rss_before_mb']:.1f} MB), peak {r['peak_mb']:.1f} MB")
            print(f"  delivered: {r['delivered']:,} in {r['deliver_s']:.2f} s = {r['per_s']:,.0f} jobs/s; "
                  "its job store can't be shared by two processes")


if __name__ == "__main__":
    main()
