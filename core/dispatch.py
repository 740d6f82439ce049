"""The dispatcher: claims due nudges and platform effects under a lease, carries them out,
marks them.

Nudges are rows; a sweep runs every ``RAPPORT_DISPATCH_INTERVAL`` seconds (the scheduler
lives in ``bot/app.py``). Claims are batched: on PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets
several processes sweep one table; on SQLite a writer transaction (``BEGIN IMMEDIATE``)
serialises claims and the conditional ``UPDATE ... WHERE status='pending'`` only touches rows
still claimable. While a batch is worked on, its leases are renewed (``Leases``) and a row
is started only while its lease surely holds, so a batch slower than its lease is not taken
over by another process. A claimed row whose lease runs out (a crash between claim and
mark) is claimed again, so a nudge may be resent once after a crash, never lost.

Effects (``core/effects.py``: an intro request's channel post, its updates, a conversation
for an accepted introduction) go through the same machinery first in every sweep: claimed
under a lease that is kept while they are carried out, their result written back;
transient failures back off, rate limits are waited out, and a permanent failure is told to
the member who asked.

Only claims and marks take the write lock; reading rows and rendering run in read
transactions, and nothing waits on a platform with a transaction open.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import effects as fx
from core import mail, rules
from core import nudges as n
from core.clock import Clock
from core.db import Database, rowcount
from core.links import Links
from core.models import Community, Effect, IntroRequest, Member, Nudge
from core.ports import Deliverer, PermanentError, Platform, RateLimited, TransientError
from core.render import load_batch, render
from core.rules import member_time
from core.telemetry import NoTelemetry, Telemetry
from core.ui import Message, Recipient, Reply
from core.views import MemberInfo, NudgeInfo

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0


MAX_ATTEMPTS = 8
INFO_KINDS = {n.TIME_CHECK, n.DIGEST, n.NOTICE}  # nothing to do after reading: closed once sent


IMMEDIATE = dt.timedelta(minutes=1)
EFFECT_WAIT = dt.timedelta(seconds=2)  # an update waits this long for its first post
# Outcomes are written back while a batch is still being delivered, every RECORD_EVERY
# seconds: a crash then resends at most what was delivered in that last moment (the spec
# allows one resend per nudge), not the whole batch.
RECORD_EVERY = 0.05
RECORD_TRIES = 4  # a batch's last write, tried again over 3.5 s before its nudges are left to their lease
RENDER_SLICE = 25  # nudges rendered between yields to the event loop
DELIVERY_CONCURRENCY = 32  # platform calls in flight at once, across workspaces
TELEMETRY_OUTCOMES = {"sent": "sent", "ratelimited": "rate_limited", "retry": "retry", "failed": "failed"}

Outgoing = tuple[NudgeInfo, MemberInfo, Reply]
#: (nudge, member, outcome, seconds to wait, channel id or error text)
Outcome = tuple[NudgeInfo, MemberInfo, str, float | None, str | None]  # due when planned: the member is at their screen


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min ... capped at one hour."""
    return dt.timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def effect_backoff(attempts: int) -> dt.timedelta:
    """5 s, 10 s, 20 s ... capped at ten minutes: a member is waiting to see their post."""
    return dt.timedelta(seconds=min(600, 5 * 2 ** max(0, attempts - 1)))


class Leases:
    """The leases on one claimed batch (of nudges or of effects), kept while it is worked on.

    A keeper renews them every third of a lease, from claim to the last mark, so a batch that
    takes longer than one lease (thousands of nudges at Slack's pace) is not claimed again by
    another process while this one lives. A process that dies stops renewing: its claims
    lapse after one lease. Before each platform call the dispatcher asks ``holds``: a row is
    started only while its lease surely holds for another third of a lease.
    """

    def __init__(self, dispatcher: Dispatcher, model: type[Nudge] | type[Effect], ids: set[int], claimed_at: float) -> None:
        self.dispatcher = dispatcher
        self.model = model
        self.ids = ids  # the batch's rows whose lease this process holds
        self.until = claimed_at + dispatcher.lease.total_seconds()  # event-loop time they surely hold until

    def holds(self, row_id: int) -> bool:
        """Whether this process may start carrying out ``row_id``: its lease is ours and has
        at least a third of its length left (the keeper renews it every third). A row that
        fails the test is dropped from the batch: it is never started by this batch."""
        margin = self.dispatcher.lease.total_seconds() / 3
        if row_id in self.ids and asyncio.get_running_loop().time() + margin < self.until:
            return True
        self.ids.discard(row_id)
        return False

    @asynccontextmanager
    async def kept(self) -> AsyncIterator[None]:
        finished = asyncio.Event()
        keeper = asyncio.ensure_future(self._keep(finished))
        try:
            yield
        finally:
            finished.set()
            await keeper  # never cancelled mid-write: it ends once it has seen ``finished``

    async def _keep(self, finished: asyncio.Event) -> None:
        every = self.dispatcher.lease.total_seconds() / 3
        while not finished.is_set():
            try:
                await asyncio.wait_for(finished.wait(), every)
            except TimeoutError:
                pass
            if finished.is_set():
                return
            try:
                await self.renew()
            except Exception:
                log.exception("renewing leases failed")

    async def renew(self) -> None:
        """Extends the lease of the batch's rows still ``sending`` under this owner. What
        comes back is what this process still holds: a row another process claimed after our
        lease lapsed (a stall longer than a lease) is no longer ours to carry out.

        Only this batch's: claims an earlier batch left behind (it ended in an error) must
        lapse, so that they go out from whoever claims them next, one lease later."""
        d, model = self.dispatcher, self.model
        started = asyncio.get_running_loop().time()
        still: set[int] = set()
        async with d.db.write() as session:
            for chunk in _chunks(sorted(self.ids), 1000):
                rows = await session.execute(
                    update(model)
                    .where(model.id.in_(chunk), model.status == "sending", model.lease_owner == d.owner)
                    .values(lease_until=d.clock.now() + d.lease)
                    .returning(model.id)
                    .execution_options(synchronize_session=False)
                )
                still.update(rows.scalars())
        self.ids &= still  # finished meanwhile: gone from both
        self.until = started + d.lease.total_seconds()


class Dispatcher:
    """Claims due nudges and delivers them through the platform's Deliverer."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        deliverers: Mapping[str, Deliverer],
        default_tz: str = "UTC",
        *,
        lease: dt.timedelta = dt.timedelta(seconds=120),
        batch_size: int = 1000,
        effect_batch_size: int = 50,
        delivery_timeout: float = 30.0,
        owner: str | None = None,
        telemetry: Telemetry | None = None,
        links: Links | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.deliverers = deliverers
        self.default_tz = default_tz
        self.lease = lease
        self.batch_size = batch_size
        self.effect_batch_size = effect_batch_size
        self.delivery_timeout = delivery_timeout
        self.owner = owner or uuid.uuid4().hex[:16]
        self.telemetry: Telemetry = telemetry or NoTelemetry()
        self.links = links  # for the "Open in email" link on drafts (core.mail)
        self._lock = asyncio.Lock()
        self._stopping = False
        self._leases = Leases(self, Nudge, set(), 0.0)  # the batch of nudges being delivered

    def stop(self) -> None:
        """Shutdown: deliveries under way finish; claimed nudges not yet started are handed
        back at once (pending again), so another process sends them without waiting for
        their lease; no new batch is claimed."""
        self._stopping = True

    async def sweep(self, max_batches: int = 1000) -> SweepResult:
        """Carries out the effects due now, then delivers the nudges due now, batch by batch."""
        total = SweepResult()
        started = time.perf_counter()  # a duration for telemetry, not a reading of the clock
        async with self._lock:
            for _ in range(max_batches):
                if self._stopping:
                    break
                result = await self._effects_batch()
                _add(total, result)
                if result.claimed < self.effect_batch_size:
                    break
            for _ in range(max_batches):
                if self._stopping:
                    break
                result = await self._one_batch()
                _add(total, result)
                if result.claimed < self.batch_size:
                    break
        self.telemetry.sweep_finished(time.perf_counter() - started, total.claimed)
        return total

    # -- claim ------------------------------------------------------------------------

    async def claim(self, session: AsyncSession, now: dt.datetime) -> list[NudgeInfo]:
        """Claims up to ``batch_size`` due nudges for the platforms this process serves.

        Returns the claimed rows (all columns, as plain rows), already marked ``sending``.
        """
        platforms = list(self.deliverers)
        if not platforms:
            return []
        # The member's platform is looked up row by row (a correlated scalar subquery, which
        # PostgreSQL never turns into a join): the only way to the rows is then the due index.
        platform = select(Member.platform).where(Member.id == Nudge.member_id).correlate(Nudge).scalar_subquery()
        claimed: list[NudgeInfo] = []
        # Two index-friendly passes rather than one OR: expired leases first (rare), then
        # pending rows in due order straight off ix_nudges_due (status, due_at). Each pass is
        # one UPDATE over a locked subquery, so no id list travels to the client and back.
        for condition in (
            and_(Nudge.status == "sending", Nudge.lease_until < now),
            and_(Nudge.status == "pending", Nudge.due_at <= now),
        ):
            room = self.batch_size - len(claimed)
            if room <= 0:
                break
            candidates = (
                select(Nudge.id)
                .where(condition, platform.in_(platforms))
                .order_by(Nudge.status, Nudge.due_at)
                .limit(room)
            )
            if self.db.dialect == "postgresql":
                # The rows are picked and locked once, in a CTE (PostgreSQL never inlines one
                # that locks), then updated by primary key. Plans must not depend on fresh
                # statistics (a new database's first sweep, a table that just grew): written
                # as ``id IN (locking subquery)``, or with the members joined in, the planner
                # chose nested loops that took seconds for a few hundred due rows
                # (``bench/claim_plan.py`` shows the plans before and after ANALYZE).
                picked = candidates.with_for_update(skip_locked=True, of=Nudge).cte("picked")
                claim = update(Nudge).where(Nudge.id == picked.c.id)
            else:
                claim = update(Nudge).where(Nudge.id.in_(candidates.scalar_subquery()), condition)
            rows = await session.execute(
                claim
                .values(
                    status="sending",
                    lease_until=now + self.lease,
                    lease_owner=self.owner,
                    attempts=Nudge.attempts + 1,
                )
                .returning(*Nudge.__table__.c)
                .execution_options(synchronize_session=False)
            )
            claimed.extend(cast(NudgeInfo, row) for row in rows)
        return claimed

    async def _one_batch(self) -> SweepResult:
        result = SweepResult()
        claimed_at = asyncio.get_running_loop().time()  # before the claim: a conservative deadline
        now = self.clock.now()
        async with self.db.write() as session:
            nudges = await self.claim(session, now)
        result.claimed = len(nudges)
        if not nudges:
            return result
        self._leases = Leases(self, Nudge, {x.id for x in nudges}, claimed_at)
        async with self._leases.kept():
            return await self._render_and_deliver(nudges, now, result)

    async def _render_and_deliver(self, nudges: list[NudgeInfo], now: dt.datetime, result: SweepResult) -> SweepResult:
        # Plain rows, not ORM objects: a sweep reads thousands and changes none of them here.
        async with self.db.read() as session:
            member_ids = {x.member_id for x in nudges}
            members = {
                m.id: cast(MemberInfo, m) for m in await session.execute(select(*Member.__table__.c).where(Member.id.in_(member_ids)))
            }
            batch = await load_batch(session, nudges)
            outgoing: list[Outgoing] = []
            deferred: list[tuple[int, dt.datetime]] = []
            times: dict[int, rules.MemberTime] = {}
            for i, nudge in enumerate(nudges):
                if i % RENDER_SLICE == RENDER_SLICE - 1:
                    # Rendering a thousand nudges is seconds of CPU on a busy machine: let
                    # commands, health checks and the lease keeper in between.
                    await asyncio.sleep(0)
                member = members[nudge.member_id]
                planned_now = nudge.due_at <= nudge.created_at + IMMEDIATE
                if not planned_now and nudge.kind not in rules.NOT_DEFERRED:
                    who = times.get(member.id) or times.setdefault(member.id, member_time(member, self.default_tz))
                    later = rules.defer_quiet(now, who)
                    if later > now:
                        deferred.append((nudge.id, later))  # quiet hours began since it was planned
                        continue
                try:
                    reply = await render(session, nudge, member, batch, self.default_tz, now)
                    contact = batch.contacts.get(nudge.contact_id) if nudge.contact_id else None
                    reply = mail.with_button(reply, nudge, contact, self.links)
                except Exception:
                    log.exception("rendering nudge %s failed", nudge.id)
                    reply = Reply(title=n.describe(nudge.kind, None, nudge.payload), buttons=n.buttons(nudge.id, nudge.kind))
                outgoing.append((nudge, member, reply))
        result.deferred = len(deferred)
        if deferred:
            by_id = {x.id: x for x in nudges}
            for nudge_id, _later in deferred:
                self.telemetry.nudge_finished(by_id[nudge_id].kind, members[by_id[nudge_id].member_id].platform, "deferred")

        outcomes: list[Outcome] = []
        delivered = asyncio.Event()
        recorder = asyncio.ensure_future(self._record_as_they_come(outcomes, delivered, result))
        try:
            await self._deliver_all(outgoing, outcomes)
        finally:
            delivered.set()
            await recorder  # never cancelled mid-write: it ends once it has seen ``delivered``
        await self._retrying(lambda: self._record(outcomes, deferred, result), len(outcomes))
        return result

    async def _record_as_they_come(self, outcomes: list[Outcome], delivered: asyncio.Event, result: SweepResult) -> None:
        """Writes outcomes back every RECORD_EVERY seconds while the batch is delivered."""
        while not delivered.is_set():
            try:
                await asyncio.wait_for(delivered.wait(), RECORD_EVERY)
            except TimeoutError:
                pass
            if delivered.is_set() or not outcomes:
                continue
            ready = outcomes[:]
            del outcomes[: len(ready)]
            try:
                await self._record(ready, [], result)
            except Exception:
                # Written again at the next tick (or at the end of the batch): dropped, they
                # would lapse and go out a second time from whoever claimed them next.
                log.exception("recording %d delivery outcomes failed; trying again", len(ready))
                outcomes[:0] = ready

    # -- effects -------------------------------------------------------------------------

    async def claim_effects(self, session: AsyncSession, now: dt.datetime) -> list[Any]:
        """Claims up to ``effect_batch_size`` due effects for the platforms this process serves."""
        platforms = [name for name, p in self.deliverers.items() if isinstance(p, Platform)]
        if not platforms:
            return []
        claimed: list[Any] = []
        for condition in (
            and_(Effect.status == "sending", Effect.lease_until < now),
            and_(Effect.status == "pending", Effect.due_at <= now),
        ):
            room = self.effect_batch_size - len(claimed)
            if room <= 0:
                break
            candidates = (
                select(Effect.id)
                .where(condition, Effect.platform.in_(platforms))
                .order_by(Effect.status, Effect.due_at, Effect.id)
                .limit(room)
            )
            if self.db.dialect == "postgresql":
                # As for nudges: picked and locked once in a CTE, then updated by primary key.
                picked = candidates.with_for_update(skip_locked=True, of=Effect).cte("picked")
                claim = update(Effect).where(Effect.id == picked.c.id)
            else:
                claim = update(Effect).where(Effect.id.in_(candidates.scalar_subquery()), condition)
            rows = await session.execute(
                claim
                .values(status="sending", lease_until=now + self.lease, lease_owner=self.owner, attempts=Effect.attempts + 1)
                .returning(Effect.id, Effect.platform, Effect.workspace_id, Effect.kind, Effect.attempts, Effect.intro_request_id)
                .execution_options(synchronize_session=False)
            )
            claimed.extend(rows)
        return sorted(claimed, key=lambda row: row.id)

    async def _effects_batch(self) -> SweepResult:
        result = SweepResult()
        claimed_at = asyncio.get_running_loop().time()  # before the claim: a conservative deadline
        now = self.clock.now()
        async with self.db.write() as session:
            rows = await self.claim_effects(session, now)
        result.claimed = len(rows)
        if not rows:
            return result
        # Under a kept lease like nudges: fifty posts at Slack's pace can outlast a lease.
        leases = Leases(self, Effect, {row.id for row in rows}, claimed_at)
        async with leases.kept():
            return await self._carry_out_effects(rows, leases, now, result)

    async def _carry_out_effects(self, rows: list[Any], leases: Leases, now: dt.datetime, result: SweepResult) -> SweepResult:
        # Several syncs of one request's post in a batch come to one: the latest state.
        latest: dict[int, int] = {}
        for row in rows:
            if row.kind == fx.INTRO_POST and row.intro_request_id is not None:
                latest[row.intro_request_id] = row.id
        calls: list[tuple[Any, fx.Call]] = []
        async with self.db.read() as session:
            for row in rows:
                if row.kind == fx.INTRO_POST and latest.get(row.intro_request_id) != row.id:
                    calls.append((row, fx.Call("nothing", why="superseded by a later update")))
                    continue
                effect = await session.get(Effect, row.id)
                if effect is None:
                    continue
                try:
                    calls.append((row, await fx.render(session, effect, now)))
                except Exception:
                    log.exception("rendering effect %s failed", row.id)
                    calls.append((row, fx.Call("nothing", why="could not be rendered")))

        groups: dict[str, list[tuple[Any, fx.Call]]] = defaultdict(list)
        for row, call in calls:
            groups[f"{row.platform}:{row.workspace_id}"].append((row, call))
        outcomes: list[tuple[Any, str, float | None, str | None]] = []

        async def run(items: list[tuple[Any, fx.Call]]) -> None:
            wait_until: float | None = None
            for row, call in items:
                if call.action in ("nothing", "wait"):
                    outcomes.append((row, call.action, None, call.why))
                    continue
                if wait_until is not None:
                    outcomes.append((row, "ratelimited", wait_until, None))
                    continue
                if not leases.holds(row.id):
                    outcomes.append((row, "lapsed", None, None))  # not ours to start: handed back
                    continue
                platform = self.deliverers.get(row.platform)
                try:
                    if not isinstance(platform, Platform):
                        raise PermanentError(f"{row.platform} can't post in channels")
                    async with asyncio.timeout(self.delivery_timeout):
                        outcomes.append((row, "done", None, await self._carry_out(platform, row, call)))
                except RateLimited as err:
                    wait_until = max(1.0, err.retry_after)
                    outcomes.append((row, "ratelimited", wait_until, None))
                except PermanentError as err:
                    outcomes.append((row, "failed", None, str(err) or "refused"))
                except (TransientError, TimeoutError, OSError) as err:
                    outcomes.append((row, "retry", None, str(err) or type(err).__name__))
                except Exception as err:  # unknown: treated as transient, and logged
                    log.exception("carrying out effect %s failed", row.id)
                    outcomes.append((row, "retry", None, f"{type(err).__name__}: {err}"))

        await asyncio.gather(*(run(items) for items in groups.values()))
        await self._retrying(lambda: self._record_effects(outcomes, result), len(outcomes))
        return result

    @staticmethod
    async def _retrying(write: Callable[[], Awaitable[None]], count: int) -> None:
        """A batch's last write of outcomes, tried again for a few seconds (the keeper still
        renews the leases meanwhile) before its rows are left to their lease: dropped, they
        would be carried out a second time by whoever claimed them next."""
        for attempt in range(RECORD_TRIES):
            try:
                await write()
                return
            except Exception:
                if attempt == RECORD_TRIES - 1:
                    raise
                log.exception("recording %d outcomes failed; trying again", count)
                await asyncio.sleep(0.5 * 2**attempt)

    @staticmethod
    async def _carry_out(platform: Platform, row: Any, call: fx.Call) -> str | None:
        assert call.reply is not None
        if call.action == "post":
            assert call.channel_id is not None
            return await platform.post_channel(row.workspace_id, call.channel_id, call.reply)
        if call.action == "update":
            assert call.channel_id is not None and call.message_ref is not None
            await platform.update_channel_post(row.workspace_id, call.channel_id, call.message_ref, call.reply)
            return call.message_ref
        return await platform.open_conversation(row.workspace_id, list(call.user_ids), call.reply, call.channel_id)

    async def _record_effects(self, outcomes: list[tuple[Any, str, float | None, str | None]], total: SweepResult) -> None:
        now = self.clock.now()
        result = SweepResult()  # added to ``total`` once written
        async with self.db.write() as session:
            mine = and_(Effect.status == "sending", Effect.lease_owner == self.owner)
            for row, outcome, wait, info in outcomes:
                this = update(Effect).where(Effect.id == row.id, mine)
                if outcome in ("done", "nothing"):
                    done = await session.execute(
                        this.values(status="done", done_at=now, lease_until=None, result=(info or "")[:100] if outcome == "done" else None,
                                    last_error=None if outcome == "done" else (info or "")[:300])
                    )
                    if outcome == "done" and rowcount(done):
                        result.sent += 1
                        await fx.record(session, row.id, info)
                elif outcome == "wait":
                    await session.execute(this.values(status="pending", due_at=now + EFFECT_WAIT, lease_until=None,
                                                      attempts=Effect.attempts - 1))
                elif outcome == "lapsed":
                    await session.execute(this.values(status="pending", lease_until=None, attempts=Effect.attempts - 1))
                elif outcome == "ratelimited":
                    result.retried += 1
                    await session.execute(this.values(status="pending", due_at=now + dt.timedelta(seconds=wait or 1.0),
                                                      lease_until=None, attempts=Effect.attempts - 1, last_error="rate limited"))
                elif outcome == "retry" and row.attempts < MAX_ATTEMPTS:
                    result.retried += 1
                    await session.execute(this.values(status="pending", due_at=now + effect_backoff(row.attempts), lease_until=None,
                                                      last_error=(info or "")[:300]))
                else:
                    result.failed += 1
                    failed = await session.execute(this.values(status="failed", done_at=now, lease_until=None,
                                                               last_error=(info or "gave up")[:300]))
                    if rowcount(failed):
                        await self._tell_failure(session, row.id, now)
        _add(total, result)

    async def _tell_failure(self, session: AsyncSession, effect_id: int, now: dt.datetime) -> None:
        """An effect failed for good: the member who asked (and, for a conversation, the
        helper who accepted) hears what happened and what to do instead."""
        effect = await session.get(Effect, effect_id)
        if effect is None or effect.member_id is None:
            return
        request = await session.get(IntroRequest, effect.intro_request_id) if effect.intro_request_id else None
        community = await session.get(Community, request.community_id) if request is not None else None
        label = f"#{community.intro_channel_name}" if community and community.intro_channel_name else "the intro channel"
        title, text = fx.failure_notice(effect, request, label)
        people = [effect.member_id]
        helper = (effect.payload or {}).get("helper_member_id")
        if effect.kind == fx.INTRO_CONVERSATION and isinstance(helper, int):
            people.append(helper)
        for member_id in people:
            member = await session.get(Member, member_id)
            if member is not None:
                await n.schedule(session, member, n.NOTICE, now, now, self.default_tz,
                                 intro_request_id=request.id if request else None,
                                 payload={"title": title, "text": text, "draft": "", "buttons": []})

    # -- deliver ------------------------------------------------------------------------

    async def _deliver_all(self, outgoing: list[Outgoing], outcomes: list[Outcome]) -> list[Outcome]:
        """Delivers per workspace in sequence (platform throttles are per workspace);
        workspaces in parallel. Appends each outcome to ``outcomes`` as it happens."""
        groups: dict[tuple[str, str], list[Outgoing]] = defaultdict(list)
        for item in outgoing:
            groups[(item[1].platform, item[1].workspace_id)].append(item)
        gate = asyncio.Semaphore(DELIVERY_CONCURRENCY)

        async def run(items: list[Outgoing]) -> None:
            wait_until: float | None = None
            for nudge, member, reply in items:
                if self._stopping:
                    outcomes.append((nudge, member, "released", None, None))
                    continue
                if wait_until is not None:
                    outcomes.append((nudge, member, "ratelimited", wait_until, None))
                    continue
                message = Message(
                    recipient=Recipient(member.platform, member.workspace_id, member.user_id, member.dm_channel_id),
                    reply=reply,
                    nudge_id=nudge.id,
                    kind=nudge.kind,
                )
                deliverer = self.deliverers[member.platform]
                try:
                    async with gate:
                        if not self._leases.holds(nudge.id):
                            # The lease lapsed or may soon (renewals failed, or this process
                            # stalled for a third of a lease): not ours to start. Handed back.
                            outcomes.append((nudge, member, "lapsed", None, None))
                            continue
                        async with asyncio.timeout(self.delivery_timeout):
                            channel = await deliverer.deliver(message)
                    outcomes.append((nudge, member, "sent", None, channel))
                except RateLimited as err:
                    wait_until = max(1.0, err.retry_after)
                    outcomes.append((nudge, member, "ratelimited", wait_until, None))
                    self.telemetry.rate_limited(member.platform)
                except PermanentError as err:
                    outcomes.append((nudge, member, "failed", None, str(err)))
                except (TransientError, TimeoutError, OSError) as err:
                    outcomes.append((nudge, member, "retry", None, str(err) or type(err).__name__))
                except Exception as err:  # an unknown error is treated as transient, and logged
                    log.exception("delivering nudge %s failed", nudge.id)
                    outcomes.append((nudge, member, "retry", None, f"{type(err).__name__}: {err}"))

        await asyncio.gather(*(run(items) for items in groups.values()))
        return outcomes

    async def _record(self, outcomes: list[Outcome], deferred: list[tuple[int, dt.datetime]], total: SweepResult) -> None:
        """Writes outcomes back in one transaction; counts and telemetry only once it has
        committed (a failed write is tried again with the same outcomes)."""
        now = self.clock.now()
        sent_open: list[int] = []
        sent_closed: list[int] = []
        channels: dict[int, str] = {}
        digests: list[MemberInfo] = []
        result = SweepResult()
        finished: list[tuple[str, str, str]] = []
        async with self.db.write() as session:
            mine = and_(Nudge.status == "sending", Nudge.lease_owner == self.owner)
            for nudge, member, outcome, wait, info in outcomes:
                if outcome not in ("released", "lapsed"):
                    label = TELEMETRY_OUTCOMES[outcome]
                    if outcome == "retry" and nudge.attempts >= MAX_ATTEMPTS:
                        label = "failed"
                    finished.append((nudge.kind, member.platform, label))
                if outcome in ("released", "lapsed"):
                    # Not started: pending again at once if still ours (a lapsed one that
                    # another process has claimed since is not ours: nothing is written).
                    await session.execute(
                        update(Nudge).where(Nudge.id == nudge.id, mine).values(
                            status="pending", lease_until=None, attempts=Nudge.attempts - 1,
                        )
                    )
                elif outcome == "sent":
                    (sent_closed if nudge.kind in INFO_KINDS else sent_open).append(nudge.id)
                    if info and info != member.dm_channel_id:
                        channels[member.id] = info
                    if nudge.kind == n.DIGEST:
                        digests.append(member)
                elif outcome == "ratelimited":
                    result.retried += 1
                    await session.execute(
                        update(Nudge).where(Nudge.id == nudge.id, mine).values(
                            status="pending", due_at=now + dt.timedelta(seconds=wait or 1.0), lease_until=None,
                            attempts=Nudge.attempts - 1, last_error="rate limited",
                        )
                    )
                elif outcome == "retry" and nudge.attempts < MAX_ATTEMPTS:
                    result.retried += 1
                    await session.execute(
                        update(Nudge).where(Nudge.id == nudge.id, mine).values(
                            status="pending", due_at=now + backoff(nudge.attempts), lease_until=None,
                            last_error=(info or "")[:300],
                        )
                    )
                else:
                    result.failed += 1
                    await session.execute(
                        update(Nudge).where(Nudge.id == nudge.id, mine).values(
                            status="failed", closed_at=now, lease_until=None, last_error=(info or "gave up")[:300],
                        )
                    )
                    if outcome == "failed":
                        await session.execute(update(Member).where(Member.id == member.id).values(dm_failed_notice=True))
            for ids, status in ((sent_open, "sent"), (sent_closed, "done")):
                for chunk in _chunks(ids, 1000):
                    done = await session.execute(
                        update(Nudge).where(Nudge.id.in_(chunk), mine).values(
                            status=status, sent_at=now, lease_until=None,
                            closed_at=now if status == "done" else None,
                        ).execution_options(synchronize_session=False)
                    )
                    result.sent += rowcount(done)
            for member_id, channel in channels.items():
                await session.execute(update(Member).where(Member.id == member_id).values(dm_channel_id=channel))
            for nudge_id, later in deferred:
                await session.execute(
                    update(Nudge).where(Nudge.id == nudge_id, mine).values(
                        status="pending", due_at=later, lease_until=None, attempts=Nudge.attempts - 1,
                    )
                )
            for member in digests:
                fresh = await session.get(Member, member.id)
                if fresh is not None:
                    await n.schedule_digest(session, fresh, now + dt.timedelta(minutes=1), self.default_tz)
        _add(total, result)
        for kind, platform, label in finished:
            self.telemetry.nudge_finished(kind, platform, label)
            if label in ("rate_limited", "retry"):
                self.telemetry.retried(platform)


def _add(total: SweepResult, result: SweepResult) -> None:
    for name in vars(total):
        setattr(total, name, getattr(total, name) + getattr(result, name))


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
