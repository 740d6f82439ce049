"""Several dispatchers on one PostgreSQL database, with the real clock and slow delivery:
exactly once while every process lives, at most one resend after a crash, and claims whose
plans don't depend on fresh statistics."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections import Counter

import pytest
from sqlalchemy import event, func, insert, select, text

from core.clock import SystemClock
from core.db import Database
from core.dispatch import Dispatcher
from core.models import Effect, Member, Nudge
from core.service import Actor
from core.ui import plain_text

LEASE = dt.timedelta(seconds=2)
WORKSPACES = 4
NUDGES = 1000


@pytest.fixture
def pg(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("several processes on one database, and PostgreSQL's planner: PostgreSQL only")
    return engine


class SlowSlack:
    """A platform whose every DM takes ``pace`` seconds (Slack paces a workspace at a few a
    second); it notes each delivery as it starts: a cancelled call may have reached Slack."""

    def __init__(self, name: str, log: list[tuple[str, int, float]], pace: float, signal_at: int = 0) -> None:
        self.name = name
        self.log = log
        self.pace = pace
        self.signal_at = signal_at
        self.reached = asyncio.Event()  # set once ``signal_at`` deliveries have started

    async def deliver(self, message):
        self.log.append((self.name, message.nudge_id, time.time()))
        if self.signal_at and len(self.log) >= self.signal_at:
            self.reached.set()
        await asyncio.sleep(self.pace)
        return None


async def seed(engine, n: int = NUDGES) -> list[int]:
    """``n`` due time-checks spread over ``WORKSPACES`` members (one per workspace)."""
    now = SystemClock().now()
    async with engine.begin() as conn:
        members = [
            (await conn.execute(insert(Member).values(
                platform="console", workspace_id=f"W{w}", user_id=f"U{w}", quiet_start="00:00", quiet_end="00:00",
                stay_in_touch_days=90, digest=False, created_at=now, dm_failed_notice=False,
            ).returning(Member.id))).scalar_one()
            for w in range(WORKSPACES)
        ]
        ids = await conn.execute(insert(Nudge).returning(Nudge.id), [
            {"member_id": members[i % WORKSPACES], "kind": "time-check", "due_at": now - dt.timedelta(seconds=60 + i % 50),
             "status": "pending", "attempts": 0, "created_at": now - dt.timedelta(days=1),
             "payload": {"title": "Time check", "text": "x"}}
            for i in range(n)
        ])
        return list(ids.scalars())


async def unfinished(engine) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(Nudge).where(Nudge.status.in_(("pending", "sending"))))


async def keep_sweeping(dispatcher: Dispatcher, engine, within: float = 90.0) -> None:
    """What the scheduler does: a sweep, a short pause, again, until nothing is left."""
    deadline = time.monotonic() + within
    while await unfinished(engine):
        assert time.monotonic() < deadline, "nudges left undelivered"
        await dispatcher.sweep()
        await asyncio.sleep(0.1)


def dispatcher(engine, name: str, log, pace: float) -> Dispatcher:
    # Its own Database, as another process would have; the real clock, so leases run out.
    return Dispatcher(Database(engine), SystemClock(), {"console": SlowSlack(name, log, pace)}, "UTC",
                      lease=LEASE, batch_size=NUDGES, owner=name)


async def test_a_batch_slower_than_its_lease_is_delivered_once(pg):
    """One process claims all 1,000 (a batch of 1,000) and needs ~7.5 s, over three leases, to deliver
    them; the other sweeps every 0.1 s meanwhile and must find nothing to take."""
    ids = await seed(pg)
    log: list[tuple[str, int, float]] = []
    a, b = dispatcher(pg, "a", log, 0.03), dispatcher(pg, "b", log, 0.03)
    started = time.monotonic()
    await asyncio.gather(keep_sweeping(a, pg), keep_sweeping(b, pg))
    assert time.monotonic() - started > 3 * LEASE.total_seconds()  # the batch did outlive its lease
    per_nudge = Counter(nudge_id for _, nudge_id, _ in log)
    assert set(per_nudge) == set(ids)
    twice = [nudge_id for nudge_id, count in per_nudge.items() if count != 1]
    assert not twice, f"{len(twice)} nudges delivered more than once"
    async with pg.connect() as conn:
        rows = (await conn.execute(select(Nudge.status, Nudge.sent_at, Nudge.attempts))).all()
    assert {status for status, _, _ in rows} == {"done"}  # a time-check is closed once sent
    assert all(sent_at is not None for _, sent_at, _ in rows)
    assert {attempts for _, _, attempts in rows} == {1}  # claimed once each


async def test_after_a_crash_the_rest_goes_out_once_from_the_other_after_the_lease(pg):
    """The process that claimed everything dies a second into its batch (its task is
    cancelled: renewals stop, nothing more is written). What it had not delivered goes out
    from the other, once, after its lease; only what it had in flight may go out twice."""
    ids = await seed(pg)
    log: list[tuple[str, int, float]] = []
    platform = SlowSlack("victim", log, 0.025, signal_at=150)
    victim = Dispatcher(Database(pg), SystemClock(), {"console": platform}, "UTC", lease=LEASE, batch_size=NUDGES,
                        owner="victim")
    task = asyncio.ensure_future(victim.sweep())
    await asyncio.wait_for(platform.reached.wait(), 30)  # mid-batch: outcomes written back, DMs in flight
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    died = time.time()
    async with pg.connect() as conn:
        held = dict((await conn.execute(
            select(Nudge.id, Nudge.lease_until).where(Nudge.status == "sending", Nudge.lease_owner == "victim")
        )).all())
    assert held, "the victim should die holding claimed nudges"
    by_victim = {nudge_id for who, nudge_id, _ in log if who == "victim"}
    assert not [x for x in log if x[0] == "victim" and x[2] > died]

    await keep_sweeping(dispatcher(pg, "heir", log, 0.0), pg)
    per_nudge = Counter(nudge_id for _, nudge_id, _ in log)
    assert set(per_nudge) == set(ids) and max(per_nudge.values()) <= 2
    twice = {nudge_id for nudge_id, count in per_nudge.items() if count == 2}
    # A resend only of what the victim was delivering as it died (one DM per workspace in
    # flight, and those of its last moment not yet written back: not the 150 it had started)...
    assert twice <= by_victim and len(twice) < 50
    # ... and nothing the victim had written back as sent went out again.
    assert twice <= set(held)
    # The heir took the victim's claims only once their lease had run out.
    for who, nudge_id, at in log:
        if who == "heir" and nudge_id in held:
            assert at >= held[nudge_id].timestamp(), nudge_id
    async with pg.connect() as conn:
        statuses = set(await conn.scalars(select(Nudge.status)))
    assert statuses == {"done"}


# -- claim plans ---------------------------------------------------------------------------


class Post:
    """A Platform as far as claims care (effects are claimed only for platforms that post)."""

    async def deliver(self, message): ...
    async def post_channel(self, *a): return ""
    async def update_channel_post(self, *a): ...
    async def open_conversation(self, *a): return ""


async def bulk(engine, n: int, due: int, status_of_due: str = "pending") -> None:
    """``n`` nudges and ``n`` effects, ``due`` of each due now (or, as ``sending`` with a lease
    that ran out, claimed by a process that died), in one statement each."""
    now = dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.UTC)
    params = {"now": now, "n": n, "due": due, "status": status_of_due}
    due_at = ("CASE WHEN i <= CAST(:due AS integer) THEN CAST(:now AS timestamptz) - (i || ' seconds')::interval"
              " ELSE CAST(:now AS timestamptz) + (i || ' minutes')::interval END")
    status = "CASE WHEN i <= CAST(:due AS integer) THEN CAST(:status AS varchar) ELSE 'pending' END"
    lease = f"CASE WHEN {status} = 'sending' THEN CAST(:now AS timestamptz) - interval '1 minute' END"
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO nudges (member_id, kind, due_at, status, lease_until, attempts, created_at)"
            f" SELECT (SELECT min(id) FROM members) + i % 300, 'time-check', {due_at}, {status}, {lease}, 0,"
            " CAST(:now AS timestamptz) FROM generate_series(1, CAST(:n AS integer)) AS i"), params)
        await conn.execute(text(
            "INSERT INTO effects (platform, workspace_id, kind, status, due_at, lease_until, attempts, created_at)"
            f" SELECT 'console', 'W', 'intro-post', {status}, {due_at}, {lease}, 0, CAST(:now AS timestamptz)"
            " FROM generate_series(1, CAST(:n AS integer)) AS i"), params)


async def claim_plans(engine, which: str) -> tuple[int, list[dict]]:
    """Runs one claim in a transaction that is rolled back, and each of its statements again
    under ``EXPLAIN (ANALYZE, FORMAT JSON)``: how many rows it claimed, and the plans."""
    now = dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.UTC)
    db = Database(engine)
    d = Dispatcher(db, SystemClock(), {"console": Post()}, "UTC", batch_size=1000, effect_batch_size=1000)
    statements = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith(("UPDATE", "WITH")):
            statements.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with db.sessionmaker() as session:
            await session.begin()
            rows = await (d.claim(session, now) if which == "nudges" else d.claim_effects(session, now))
            await session.rollback()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    plans = []
    async with engine.connect() as conn:
        for statement, parameters in statements:
            result = await conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
            plan = result.scalar_one()
            plans.append((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
        await conn.rollback()
    return len(rows), plans


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def assert_robust(plans: list[dict], table: str, due_index: str) -> None:
    """Rows are found through the due index only, and the locking pick runs once (a plan that
    reruns it per row, or walks every member's nudges, is what took seconds)."""
    for plan in plans:
        everything = list(nodes(plan))
        locks = [x for x in everything if x["Node Type"] == "LockRows"]
        assert locks and all(x["Actual Loops"] == 1 for x in locks), json.dumps(plan)[:3000]
        picked = [x for lock in locks for x in nodes(lock) if x.get("Relation Name") == table or x.get("Index Name")]
        indexes = {x.get("Index Name") for x in picked if x.get("Index Name")}
        assert due_index in indexes, json.dumps(plan)[:3000]
        assert not [x for x in picked if x.get("Relation Name") == table and x["Node Type"] == "Seq Scan"]
        for x in everything:
            # A member is looked up for a row found (by primary key, or in a table small
            # enough to scan), never walked to find the rows.
            if x.get("Relation Name") == "members":
                assert x.get("Index Name") == "pk_members" or x.get("Parent Relationship") == "SubPlan", \
                    f"members reached by {x['Node Type']} {x.get('Index Name')} ({x.get('Parent Relationship')})"


@pytest.mark.parametrize("which", ["nudges", "effects"])
async def test_claims_walk_the_due_index_before_analyze(pg, which):
    """A new database's first sweep: a bulk insert, autovacuum off, no statistics yet."""
    async with pg.begin() as conn:
        for table in ("members", "nudges", "effects"):
            await conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        await conn.execute(text(
            "INSERT INTO members (platform, workspace_id, user_id, quiet_start, quiet_end, stay_in_touch_days, digest,"
            " dm_failed_notice, created_at) SELECT 'console', 'W', 'U' || i, '00:00', '00:00', 90, false, false, now()"
            " FROM generate_series(1, 300) AS i"))
    await bulk(pg, 20000, 700)
    count, plans = await claim_plans(pg, which)
    assert count == 700
    assert_robust(plans, which, f"ix_{which}_due")


@pytest.mark.parametrize("which", ["nudges", "effects"])
async def test_claims_walk_the_due_index_when_statistics_are_stale(pg, which):
    """Statistics taken while nothing was claimed; then a process died holding 700 claims."""
    async with pg.begin() as conn:
        for table in ("members", "nudges", "effects"):
            await conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        await conn.execute(text(
            "INSERT INTO members (platform, workspace_id, user_id, quiet_start, quiet_end, stay_in_touch_days, digest,"
            " dm_failed_notice, created_at) SELECT 'console', 'W', 'U' || i, '00:00', '00:00', 90, false, false, now()"
            " FROM generate_series(1, 300) AS i"))
    await bulk(pg, 20000, 0)
    async with pg.begin() as conn:
        for table in ("members", "nudges", "effects"):
            await conn.execute(text(f"ANALYZE {table}"))
    await bulk(pg, 700, 700, status_of_due="sending")
    count, plans = await claim_plans(pg, which)
    assert count == 700
    assert_robust(plans, which, f"ix_{which}_due")


async def test_claims_left_behind_by_a_failed_batch_are_not_kept_alive_by_the_next(pg):
    """A batch that ended in an error leaves its claims to their lease. The same process's
    next batch renews only its own nudges, so another process sends the leftovers one lease
    later, not only once that (long) batch is over."""
    ids = await seed(pg, 410)
    log: list[tuple[str, int, float]] = []
    a, b = dispatcher(pg, "a", log, 0.03), dispatcher(pg, "b", log, 0.0)
    a.batch_size = 10
    async with a.db.write() as session:
        left = {x.id for x in await a.claim(session, a.clock.now())}  # ... and then that batch failed
    a.batch_size = NUDGES
    batch = asyncio.ensure_future(a.sweep())  # the other 400: ~3 s, a lease and a half
    await asyncio.sleep(0.2)  # a has claimed them
    while not batch.done():
        await b.sweep()
        await asyncio.sleep(0.1)
    finished = time.time()
    await keep_sweeping(b, pg)
    per_nudge = Counter(nudge_id for _, nudge_id, _ in log)
    assert set(per_nudge) == set(ids) and set(per_nudge.values()) == {1}
    assert {nudge_id for who, nudge_id, at in log if who == "b" and at < finished} == left


class SlowChannel(Post):
    """Channel posts that take half a second each (Slack allows about one a second)."""

    def __init__(self, name: str, log: list[tuple[str, str]]) -> None:
        self.name = name
        self.log = log

    async def post_channel(self, workspace_id, channel_id, reply):
        self.log.append((self.name, plain_text(reply)))
        await asyncio.sleep(0.5)
        return f"ts-{len(self.log)}"


async def test_intro_posts_slower_than_their_lease_go_out_once(pg, core):
    """Effects are leased like nudges: twelve posts at half a second each outlast a 2 s lease
    three times over, and the other process, sweeping all along, posts none of them again."""
    assert not (await core.run_text(Actor("console", "local", "org", is_organizer=True), "admin channel #intros")).error
    for i in range(12):
        reply = await core.run_text(Actor("console", "local", f"m{i}", display_name=f"Member {i:02d}"), "intro data roles")
        assert not reply.error, reply.text
    log: list[tuple[str, str]] = []
    ds = [Dispatcher(Database(pg), SystemClock(), {"console": SlowChannel(name, log)}, "UTC", lease=LEASE, owner=name)
          for name in ("a", "b")]

    async def left() -> int:
        async with pg.connect() as conn:
            return await conn.scalar(select(func.count()).select_from(Effect).where(Effect.status.in_(("pending", "sending"))))

    async def sweeping(d: Dispatcher) -> None:
        deadline = time.monotonic() + 30
        while await left() and time.monotonic() < deadline:
            await d.sweep()
            await asyncio.sleep(0.1)

    await asyncio.gather(*(sweeping(d) for d in ds))
    posts = Counter(re.search(r"Member \d\d", text).group(0) for _, text in log)
    assert posts == {f"Member {i:02d}": 1 for i in range(12)}
    async with pg.connect() as conn:
        assert set(await conn.scalars(select(Effect.status))) == {"done"}
