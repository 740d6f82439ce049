"""The dispatcher: claims due nudges under a lease, hands them to a Deliverer, marks them sent.

Nudges are rows; a sweep runs every ``RAPPORT_DISPATCH_INTERVAL`` seconds (the scheduler
lives in ``bot/app.py``). Claims are batched: on PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets
several processes sweep one table; on SQLite a writer transaction (``BEGIN IMMEDIATE``)
serialises claims and the conditional ``UPDATE ... WHERE status='pending'`` only touches rows
still claimable. A claimed row whose lease runs out (a crash between claim and mark) is
claimed again, so a nudge may be resent once after a crash, never lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import nudges as n
from core import rules
from core.clock import Clock
from core.db import WriteGate
from core.models import Member, Nudge
from core.ports import Deliverer, PermanentError, RateLimited, TransientError
from core.render import load_batch, render
from core.service import member_time
from core.telemetry import NoTelemetry, Telemetry
from core.ui import Message, Recipient, Reply

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


IMMEDIATE = dt.timedelta(minutes=1)  # due when planned: the member is at their screen
# Outcomes are written back while a batch is still being delivered, every RECORD_EVERY
# seconds: a crash then resends at most what was delivered in that last moment (the spec
# allows one resend per nudge), not the whole batch.
RECORD_EVERY = 0.05
RENDER_SLICE = 25  # nudges rendered between yields to the event loop
DELIVERY_CONCURRENCY = 32  # platform calls in flight at once, across workspaces
TELEMETRY_OUTCOMES = {"sent": "sent", "ratelimited": "rate_limited", "retry": "retry", "failed": "failed"}


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min ... capped at one hour."""
    return dt.timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


class Dispatcher:
    """Claims due nudges and delivers them through the platform's Deliverer."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        clock: Clock,
        deliverers: dict[str, Deliverer],
        default_tz: str = "UTC",
        *,
        lease: dt.timedelta = dt.timedelta(seconds=120),
        batch_size: int = 1000,
        delivery_timeout: float = 30.0,
        owner: str | None = None,
        gate: WriteGate | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.deliverers = deliverers
        self.default_tz = default_tz
        self.lease = lease
        self.batch_size = batch_size
        self.delivery_timeout = delivery_timeout
        self.owner = owner or uuid.uuid4().hex[:16]
        self.gate = gate or WriteGate.for_engine(sessionmaker.kw["bind"])
        self.telemetry: Telemetry = telemetry or NoTelemetry()
        self._lock = asyncio.Lock()
        self._stopping = False
        self._held: set[int] = set()  # the claimed batch's nudges whose lease this process holds
        self._held_until = 0.0  # event-loop time until which those leases surely hold

    def stop(self) -> None:
        """Shutdown: deliveries under way finish; claimed nudges not yet started are handed
        back at once (pending again), so another process sends them without waiting for
        their lease; no new batch is claimed."""
        self._stopping = True

    async def sweep(self, max_batches: int = 1000) -> SweepResult:
        """Delivers everything due now, batch by batch."""
        total = SweepResult()
        started = time.perf_counter()  # a duration for telemetry, not a reading of the clock
        async with self._lock:
            for _ in range(max_batches):
                if self._stopping:
                    break
                result = await self._one_batch()
                for name in vars(total):
                    setattr(total, name, getattr(total, name) + getattr(result, name))
                if result.claimed < self.batch_size:
                    break
        self.telemetry.sweep_finished(time.perf_counter() - started, total.claimed)
        return total

    # -- claim ------------------------------------------------------------------------

    def _claimable(self, now: dt.datetime):
        return or_(
            and_(Nudge.status == "pending", Nudge.due_at <= now),
            and_(Nudge.status == "sending", Nudge.lease_until < now),
        )

    async def claim(self, session: AsyncSession, now: dt.datetime) -> list:
        """Claims up to ``batch_size`` due nudges for the platforms this process serves.

        Returns the claimed rows (all columns, as plain rows), already marked ``sending``.
        """
        platforms = list(self.deliverers)
        if not platforms:
            return []
        members = select(Member.id).where(Member.platform.in_(platforms))
        claimed: list = []
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
                .where(condition, Nudge.member_id.in_(members))
                .order_by(Nudge.status, Nudge.due_at)
                .limit(room)
            )
            if session.bind.dialect.name == "postgresql":
                # The rows are picked and locked once, in a CTE (PostgreSQL never inlines one
                # that locks), then updated by primary key. Written as ``id IN (subquery)``,
                # the planner may rerun the locking subquery for every row when statistics
                # are stale (a table that just grew): 2,000 fresh due nudges took over a minute.
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
            claimed.extend(rows)
        return claimed

    async def _one_batch(self) -> SweepResult:
        result = SweepResult()
        claimed_at = asyncio.get_running_loop().time()  # before the claim: a conservative deadline
        now = self.clock.now()
        async with self.gate, self.sessionmaker() as session, session.begin():
            nudges = await self.claim(session, now)
        result.claimed = len(nudges)
        if not nudges:
            return result
        self._held = {x.id for x in nudges}
        self._held_until = claimed_at + self.lease.total_seconds()
        finished = asyncio.Event()
        keeper = asyncio.ensure_future(self._keep_leases(finished))
        try:
            return await self._render_and_deliver(nudges, now, result)
        finally:
            finished.set()
            await keeper  # never cancelled mid-write: it ends once it has seen ``finished``

    async def _render_and_deliver(self, nudges: list, now: dt.datetime, result: SweepResult) -> SweepResult:
        # Plain rows, not ORM objects: a sweep reads thousands and changes none of them here.
        # Through the gate too: on SQLite every transaction begins IMMEDIATE (a writer), so
        # reading here outside it would make commands wait in SQLite's busy handler.
        async with self.gate, self.sessionmaker() as session:
            member_ids = {x.member_id for x in nudges}
            members = {m.id: m for m in await session.execute(select(*Member.__table__.c).where(Member.id.in_(member_ids)))}
            batch = await load_batch(session, nudges)
            outgoing: list[tuple] = []
            deferred: list[tuple[int, dt.datetime]] = []
            kinds = {x.id: x.kind for x in nudges}
            platforms = {x.id: members[x.member_id].platform for x in nudges}
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
                except Exception:
                    log.exception("rendering nudge %s failed", nudge.id)
                    reply = Reply(title=n.KIND_LABELS.get(nudge.kind, "A reminder"), buttons=n.buttons(nudge.id))
                outgoing.append((nudge, member, reply))
        result.deferred = len(deferred)
        for nudge_id, _later in deferred:
            self.telemetry.nudge_finished(kinds.get(nudge_id, "?"), platforms.get(nudge_id, "?"), "deferred")

        outcomes: list[tuple] = []
        delivered = asyncio.Event()
        recorder = asyncio.ensure_future(self._record_as_they_come(outcomes, delivered, result))
        try:
            await self._deliver_all(outgoing, outcomes)
        finally:
            delivered.set()
            await recorder  # never cancelled mid-write: it ends once it has seen ``delivered``
        await self._record(outcomes, deferred, result)
        return result

    async def _record_as_they_come(self, outcomes: list[tuple], delivered: asyncio.Event, result: SweepResult) -> None:
        """Writes outcomes back every RECORD_EVERY seconds while the batch is delivered."""
        while not delivered.is_set():
            try:
                await asyncio.wait_for(delivered.wait(), RECORD_EVERY)
            except TimeoutError:
                pass
            if delivered.is_set():
                continue
            if not outcomes:
                continue
            ready = outcomes[:]
            del outcomes[: len(ready)]
            try:
                await self._record(ready, [], result)
            except Exception:
                # Left to their lease: another sweep (this process's or another's) claims them again.
                log.exception("recording %d delivery outcomes failed", len(ready))

    # -- deliver ------------------------------------------------------------------------

    async def _keep_leases(self, finished: asyncio.Event) -> None:
        """Renews the lease on this batch's unfinished nudges every third of a lease, from
        claim to the last mark, so a batch that takes longer than one lease (rendering and
        delivering thousands) is not claimed again by another process while this one lives.
        A process that dies stops renewing: its claims lapse after one lease."""
        every = self.lease.total_seconds() / 3
        while not finished.is_set():
            try:
                await asyncio.wait_for(finished.wait(), every)
            except TimeoutError:
                pass
            if finished.is_set():
                return
            try:
                await self._renew_leases()
            except Exception:
                log.exception("renewing leases failed")

    async def _renew_leases(self) -> None:
        """Extends the lease of this batch's nudges still ``sending`` under this owner. What
        comes back is what this process still holds: a nudge another process claimed after
        our lease lapsed (a stall longer than a lease) is no longer ours to deliver."""
        started = asyncio.get_running_loop().time()
        async with self.gate, self.sessionmaker() as session, session.begin():
            rows = await session.execute(
                update(Nudge)
                .where(Nudge.status == "sending", Nudge.lease_owner == self.owner)
                .values(lease_until=self.clock.now() + self.lease)
                .returning(Nudge.id)
                .execution_options(synchronize_session=False)
            )
            self._held = set(rows.scalars()) & self._held
        self._held_until = started + self.lease.total_seconds()

    def _holds(self, nudge_id: int) -> bool:
        """Whether this process may start delivering ``nudge_id``: its lease is ours and has
        at least a third of its length left (the keeper renews it every third)."""
        margin = self.lease.total_seconds() / 3
        return nudge_id in self._held and asyncio.get_running_loop().time() + margin < self._held_until

    async def _deliver_all(self, outgoing, outcomes: list[tuple]) -> list[tuple]:
        """Delivers per workspace in sequence (platform throttles are per workspace);
        workspaces in parallel. Appends each outcome to ``outcomes`` as it happens."""
        groups: dict[tuple[str, str], list] = defaultdict(list)
        for item in outgoing:
            groups[(item[1].platform, item[1].workspace_id)].append(item)

        gate = asyncio.Semaphore(DELIVERY_CONCURRENCY)

        async def run(items):
            wait_until: float | None = None
            for nudge, member, reply in items:
                if self._stopping:
                    outcomes.append((nudge, member, "released", None, None))
                    continue
                if not self._holds(nudge.id):
                    # The lease lapsed (this process stalled for longer than a third of a
                    # lease): leave the nudge to whoever claims it next, us included.
                    outcomes.append((nudge, member, "lapsed", None, None))
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
                    async with gate, asyncio.timeout(self.delivery_timeout):
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

    async def _record(self, outcomes, deferred, result: SweepResult) -> None:
        now = self.clock.now()
        sent_open: list[int] = []
        sent_closed: list[int] = []
        channels: dict[int, str] = {}
        digests: list[Member] = []
        async with self.gate, self.sessionmaker() as session:
            async with session.begin():
                mine = and_(Nudge.status == "sending", Nudge.lease_owner == self.owner)
                for nudge, member, outcome, wait, info in outcomes:
                    if outcome == "lapsed":
                        continue  # not ours any more, or claimable again: nothing to write
                    if outcome != "released":
                        label = TELEMETRY_OUTCOMES[outcome]
                        if outcome == "retry" and nudge.attempts >= MAX_ATTEMPTS:
                            label = "failed"
                        self.telemetry.nudge_finished(nudge.kind, member.platform, label)
                        if label in ("rate_limited", "retry"):
                            self.telemetry.retried(member.platform)
                    if outcome == "released":
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
                                status="pending", due_at=now + dt.timedelta(seconds=wait), lease_until=None,
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
                        result.sent += done.rowcount or 0
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


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]
