"""Delivery: leases, retries, rate limits, downtime catch-up, exactly-once across dispatchers."""

import asyncio
import datetime as dt

import pytest
from sqlalchemy import insert, select, update

from core.dispatch import MAX_ATTEMPTS, Dispatcher
from core.models import Member, Nudge
from core.ports import PermanentError, RateLimited, TransientError
from core.ui import plain_text
from tests.integration.helpers import nudges_of


class Recorder:
    """A deliverer that records messages, and can be told to fail."""

    def __init__(self, fail=None, channel="D1"):
        self.messages = []
        self.fail = fail  # callable(message) -> exception to raise, or None
        self.channel = channel

    async def deliver(self, message):
        if self.fail is not None:
            err = self.fail(message)
            if err is not None:
                raise err
        self.messages.append(message)
        return self.channel

    def texts(self):
        return [plain_text(m.reply) for m in self.messages]


def make_dispatcher(db, clock, deliverer, **kw):
    return Dispatcher(db, clock, {"console": deliverer}, "UTC", **kw)


async def test_due_thank_you_is_delivered_once_with_draft(core, alice, sessionmaker, clock, db):
    await core.run_text(alice, "log Jane Doe when: 2 days ago notes: talked about SEO referrals: Bob Li")
    rec = Recorder()
    d = make_dispatcher(db, clock, rec)
    result = await d.sweep()
    assert result.sent == 1
    (message,) = rec.messages
    assert message.kind == "thank-you" and message.recipient.user_id == "alice"
    assert "what you shared about SEO" in message.reply.draft
    assert "suggesting I talk with Bob Li" in message.reply.draft
    assert [b.action_id for b in message.reply.buttons] == [f"nudge:{a}:{message.nudge_id}" for a in ("done", "snooze", "skip")]
    assert (await d.sweep()).claimed == 0
    # The DM channel is cached for next time.
    async with sessionmaker() as s:
        assert (await s.scalar(select(Member.dm_channel_id).where(Member.user_id == "alice"))) == "D1"


async def test_nothing_early_then_on_time(core, alice, sessionmaker, clock, db):
    await core.run_text(alice, "log Jane when: today 10am")  # thank-you due 19:00
    rec = Recorder()
    d = make_dispatcher(db, clock, rec)
    assert (await d.sweep()).claimed == 0
    clock.set(dt.datetime(2026, 11, 18, 18, 59, tzinfo=dt.UTC))
    assert (await d.sweep()).claimed == 0
    clock.set(dt.datetime(2026, 11, 18, 19, 0, tzinfo=dt.UTC))
    assert (await d.sweep()).sent == 1
    # Done before the last reminder cancels it.
    await core.run_text(alice, f"done {rec.messages[0].nudge_id}")
    clock.set(dt.datetime(2026, 11, 19, 9, 0, tzinfo=dt.UTC))
    assert (await d.sweep()).claimed == 0


async def test_crash_between_claim_and_mark_redelivers_once_after_lease(core, alice, sessionmaker, clock, db):
    await core.run_text(alice, "log Jane when: 2 days ago")
    crashed = make_dispatcher(db, clock, Recorder(), lease=dt.timedelta(seconds=60))
    async with sessionmaker() as s, s.begin():
        rows = await crashed.claim(s, clock.now())  # claimed, then the process died
    assert len(rows) == 1
    rec = Recorder()
    other = make_dispatcher(db, clock, rec, lease=dt.timedelta(seconds=60))
    assert (await other.sweep()).claimed == 0  # the lease still holds
    clock.advance(seconds=61)
    assert (await other.sweep()).sent == 1
    clock.advance(seconds=600)
    assert (await other.sweep()).claimed == 0
    assert len(rec.messages) == 1


async def test_downtime_catch_up(core, alice, sessionmaker, clock, db):
    await core.run_text(alice, "settings quiet: off")
    await core.run_text(alice, "log Jane Doe when: today 10am")
    await core.run_text(alice, "reached-out Ana via: email")
    # The bot is down for five weeks; everything that fell due goes out when it's back.
    clock.advance(days=35)
    rec = Recorder()
    await make_dispatcher(db, clock, rec).sweep()
    kinds = sorted(m.kind for m in rec.messages)
    assert kinds == ["digest", "follow-up", "second-thank-you", "thank-you", "thank-you"]


async def test_transient_errors_retry_with_backoff_then_fail(core, alice, sessionmaker, clock, db):
    await core.run_text(alice, "settings quiet: off")
    await core.run_text(alice, "log Jane when: 2 days ago")
    rec = Recorder(fail=lambda m: TransientError("503"))
    d = make_dispatcher(db, clock, rec)
    result = await d.sweep()
    assert result.retried == 1
    (nudge,) = [x for x in await nudges_of(sessionmaker, "alice") if x.kind == "thank-you"]
    assert nudge.due_at == clock.now() + dt.timedelta(seconds=30) and nudge.last_error == "503"
    clock.advance(seconds=29)
    assert (await d.sweep()).claimed == 0
    for _ in range(MAX_ATTEMPTS):
        clock.advance(hours=2)
        await d.sweep()
    (failed,) = await nudges_of(sessionmaker, "alice", status=("failed",))
    assert failed.attempts == MAX_ATTEMPTS
    # Recovering later delivers nothing more: failed is final.
    rec.fail = None
    clock.advance(days=1)
    await d.sweep()
    assert not [m for m in rec.messages if m.kind == "thank-you"]


async def test_permanent_error_marks_failed_and_flags_member(core, alice, sessionmaker, clock, db):
    await core.run_text(alice, "log Jane when: 2 days ago")
    rec = Recorder(fail=lambda m: PermanentError("cannot_dm_user"))
    result = await make_dispatcher(db, clock, rec).sweep()
    assert result.failed == 1
    (failed,) = await nudges_of(sessionmaker, "alice", status=("failed",))
    assert failed.last_error == "cannot_dm_user" and failed.attempts == 1
    async with sessionmaker() as s:
        assert await s.scalar(select(Member.dm_failed_notice).where(Member.user_id == "alice"))


async def test_rate_limit_wait_is_respected_for_the_workspace(core, alice, bob, sessionmaker, clock, db):
    await core.run_text(alice, "log Jane when: 2 days ago")
    await core.run_text(bob, "log Zed when: 2 days ago")
    calls = []

    def limited(message):
        calls.append(message.recipient.user_id)
        return RateLimited(12.0) if len(calls) == 1 else None

    rec = Recorder(fail=limited)
    d = make_dispatcher(db, clock, rec)
    result = await d.sweep()
    # The first call was told to wait; the rest of that workspace's batch waits too.
    assert calls == [calls[0]] and result.sent == 0 and result.retried == 2
    clock.advance(seconds=11)
    assert (await d.sweep()).claimed == 0
    clock.advance(seconds=2)
    assert (await d.sweep()).sent == 2
    pending = await nudges_of(sessionmaker, "alice", status=("sent",))
    assert pending[0].attempts == 1  # a rate-limit wait is not a failed attempt


async def test_quiet_hours_at_delivery_time(core, alice, sessionmaker, clock, db):
    """A member whose quiet hours changed since: the sweep holds the DM until morning."""
    await core.run_text(alice, "log Jane when: today 10am")  # thank-you 19:00 UTC
    await core.run_text(alice, "settings quiet: 18:00-07:00")
    clock.set(dt.datetime(2026, 11, 18, 19, 0, tzinfo=dt.UTC))
    rec = Recorder()
    d = make_dispatcher(db, clock, rec)
    assert (await d.sweep()).deferred == 1 and not rec.messages
    clock.set(dt.datetime(2026, 11, 19, 7, 0, tzinfo=dt.UTC))
    assert (await d.sweep()).sent == 1


async def test_digest_is_weekly_and_lists_the_week(core, alice, sessionmaker, clock, db):
    await core.run_text(alice, "settings quiet: off")
    await core.run_text(alice, "log Jane Doe when: today 10am thanked: yes")
    await core.run_text(alice, "reached-out Ana Ruiz via: email")
    clock.set(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC))
    rec = Recorder()
    d = make_dispatcher(db, clock, rec)
    await d.sweep()
    digest = [m for m in rec.messages if m.kind == "digest"][0]
    text = plain_text(digest.reply)
    assert "Waiting for a reply" in text and "Ana Ruiz" in text
    assert "Last week's meetings" in text and "Jane Doe" in text
    assert "This week's nudges" in text and "Follow up: Ana Ruiz" in text
    (next_digest,) = [x for x in await nudges_of(sessionmaker, "alice") if x.kind == "digest"]
    assert next_digest.due_at == dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    await core.run_text(alice, "settings digest: off")
    assert not [x for x in await nudges_of(sessionmaker, "alice") if x.kind == "digest"]


async def test_one_month_note_lists_what_happened_since(core, alice, sessionmaker, clock, db):
    await core.run_text(alice, "settings quiet: off")
    await core.run_text(alice, "log Jane Doe when: today 9am thanked: yes notes: talked about SEO referrals: Bob Li, Ana Ruiz")
    clock.advance(days=5)
    await core.run_text(alice, "log Bob Li when: today 9am thanked: yes")
    await core.run_text(alice, "reached-out Cy Oh")
    clock.advance(days=26)
    rec = Recorder()
    await make_dispatcher(db, clock, rec).sweep()
    note = [m for m in rec.messages if m.kind == "second-thank-you" and "Jane" in m.reply.title][0]
    assert "You helped me think about SEO. [say what you did with it" in note.reply.draft
    assert "I talked with Bob Li, as you suggested" in note.reply.draft
    # Bob was referred by Jane: the morning after meeting him, tell Jane.
    update = [m for m in rec.messages if m.kind == "update-referrer"][0]
    assert update.reply.title == "Tell Jane Doe you met Bob Li"
    assert "thanks to your introduction" in update.reply.draft


async def test_stay_in_touch_restarts_at_every_touch(core, alice, sessionmaker, clock):
    await core.run_text(alice, "log Jane when: today 9am thanked: yes")
    (first,) = [x for x in await nudges_of(sessionmaker, "alice") if x.kind == "stay-in-touch"]
    assert first.due_at == dt.datetime(2027, 2, 16, 9, 0, tzinfo=dt.UTC)
    clock.advance(days=20)
    await core.run_text(alice, "reached-out Jane via: coffee invite")
    (second,) = [x for x in await nudges_of(sessionmaker, "alice") if x.kind == "stay-in-touch"]
    assert second.due_at == clock.now() + dt.timedelta(days=90)


async def test_scheduled_then_logged_cancels_prep_and_time_check(core, alice, sessionmaker, clock):
    await core.run_text(alice, "scheduled Jane when: tomorrow 12:00")
    assert {x.kind for x in await nudges_of(sessionmaker, "alice")} >= {"prep", "time-check"}
    clock.advance(days=1, hours=-2)
    await core.run_text(alice, "log Jane when: today 10am thanked: yes")
    kinds = {x.kind for x in await nudges_of(sessionmaker, "alice")}
    assert "prep" not in kinds and "time-check" not in kinds


async def test_every_kind_renders_something_useful(core, alice, sessionmaker, clock, db):
    await core.run_text(alice, "settings quiet: off")
    await core.run_text(alice, "goal product marketing roles")
    await core.run_text(alice, "add Bob Li referred-by: Jane Doe")
    await core.run_text(alice, "log Bob Li when: today 9am referrals: pending")
    await core.run_text(alice, "scheduled Ana when: in 3 days at 10am")
    await core.run_text(alice, "reached-out Cy Oh")
    clock.advance(days=200)
    rec = Recorder()
    await make_dispatcher(db, clock, rec).sweep()
    by_kind = {m.kind: m.reply for m in rec.messages}
    assert set(by_kind) >= {"thank-you", "update-referrer", "check-back", "second-thank-you", "prep",
                            "time-check", "follow-up", "stay-in-touch", "digest"}
    assert "Has anyone come to mind?" in by_kind["check-back"].draft
    assert "following up on my note" in by_kind["follow-up"].draft
    assert "Questions to bring" in plain_text(by_kind["prep"])
    assert "twenty minutes" in plain_text(by_kind["time-check"]).lower()
    assert "It's been a while" in by_kind["stay-in-touch"].draft
    for kind, reply in by_kind.items():
        assert reply.title, kind


@pytest.mark.parametrize("dispatchers", [2])
async def test_two_dispatchers_race_over_1000_due_nudges(engine, sessionmaker, clock, dispatchers):
    """Each nudge is delivered exactly once, whichever process claims it."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the race runs on PostgreSQL (SQLite serialises writers anyway); see test_two_dispatchers_sqlite")
    await _race(engine, clock, dispatchers)


async def test_two_dispatchers_sqlite(sqlite_engine, clock):
    await _race(sqlite_engine, clock, 2, n=300)


async def _race(engine, clock, dispatchers, n=1000):
    """Each dispatcher has its own Database (its own gate), as separate processes would."""
    from core.db import Database

    sessionmaker = Database(engine).sessionmaker
    now = clock.now()
    async with sessionmaker() as s, s.begin():
        member_id = (await s.execute(insert(Member).values(
            platform="console", workspace_id="local", user_id="racer", quiet_start="00:00", quiet_end="00:00",
            stay_in_touch_days=90, digest=False, created_at=now, dm_failed_notice=False,
        ).returning(Member.id))).scalar_one()
        await s.execute(insert(Nudge), [
            {"member_id": member_id, "kind": "time-check", "due_at": now - dt.timedelta(seconds=i % 50),
             "status": "pending", "attempts": 0, "created_at": now - dt.timedelta(days=1)}
            for i in range(n)
        ])
    delivered: list[int] = []

    class Slowish:
        async def deliver(self, message):
            delivered.append(message.nudge_id)
            await asyncio.sleep(0)
            return None

    ds = [Dispatcher(Database(engine), clock, {"console": Slowish()}, "UTC", batch_size=50) for _ in range(dispatchers)]
    await asyncio.gather(*(d.sweep() for d in ds))
    assert len(delivered) == n and len(set(delivered)) == n
    async with sessionmaker() as s:
        statuses = set(await s.scalars(select(Nudge.status)))
    assert statuses == {"done"}  # time-checks close once sent
    async with sessionmaker() as s, s.begin():
        await s.execute(update(Nudge).values(status="pending"))


async def test_a_failed_write_of_outcomes_is_tried_again_not_resent(engine, db, clock):
    """Writing outcomes back fails once mid-batch (and once at its end): they are written at
    the next try, and nothing is delivered a second time after the lease."""
    now = clock.now()
    async with db.write() as s:
        member_id = (await s.execute(insert(Member).values(
            platform="console", workspace_id="local", user_id="w", quiet_start="00:00", quiet_end="00:00",
            stay_in_touch_days=90, digest=False, created_at=now, dm_failed_notice=False,
        ).returning(Member.id))).scalar_one()
        await s.execute(insert(Nudge), [
            {"member_id": member_id, "kind": "time-check", "due_at": now - dt.timedelta(minutes=5), "status": "pending",
             "attempts": 0, "created_at": now - dt.timedelta(days=1)} for _ in range(30)
        ])
    delivered = []

    class Slowish:
        async def deliver(self, message):
            delivered.append(message.nudge_id)
            await asyncio.sleep(0.01)  # 0.3 s in all: outcomes are written back as they come

    d = make_dispatcher(db, clock, Slowish(), lease=dt.timedelta(seconds=60))
    record, calls = d._record, []

    async def flaky(outcomes, deferred, result):
        calls.append(len(outcomes))
        if len(calls) in (1, 3):
            raise ConnectionResetError("the database went away for a moment")
        await record(outcomes, deferred, result)

    d._record = flaky
    assert (await d.sweep()).sent == 30
    assert len(calls) >= 4  # the failures happened, and were followed by writes that worked
    clock.advance(seconds=61)
    assert (await d.sweep()).claimed == 0
    assert sorted(delivered) == sorted(set(delivered)) and len(delivered) == 30
    async with db.read() as s:
        assert set(await s.scalars(select(Nudge.status))) == {"done"}
