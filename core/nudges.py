"""Creating, cancelling and describing nudges (the rows; delivery is core.dispatch)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import rules
from core.db import rowcount
from core.models import Member, Nudge
from core.ui import Button

THANK_YOU = "thank-you"
UPDATE_REFERRER = "update-referrer"
CHECK_BACK = "check-back"
SECOND_THANK_YOU = "second-thank-you"
FOLLOW_UP = "follow-up"
PREP = "prep"
TIME_CHECK = "time-check"
STAY_IN_TOUCH = "stay-in-touch"
INTRO_STALE = "intro-stale"
LANDED = "landed"
DIGEST = "digest"
NOTICE = "notice"  # news of something another member did (an offer, an accepted intro)

KIND_LABELS = {
    THANK_YOU: "Thank-you note",
    UPDATE_REFERRER: "Update your referrer",
    CHECK_BACK: "Check back about referrals",
    SECOND_THANK_YOU: "One-month thank-you",
    FOLLOW_UP: "Follow up",
    PREP: "Prepare",
    TIME_CHECK: "Twenty-minute check",
    STAY_IN_TOUCH: "Stay in touch",
    INTRO_STALE: "Intro request check-in",
    LANDED: "Tell them where you landed",
    DIGEST: "Weekly digest",
    NOTICE: "News",
}

# Kinds whose time is not a time of day the member chose: the twenty-minute check is tied to
# the meeting's start, news is due the moment it happens.
FIXED_INSTANT = {TIME_CHECK, NOTICE}

OPEN = ("pending", "sending", "sent")
CLOSED = ("done", "skipped", "cancelled", "failed")


async def schedule(
    session: AsyncSession,
    member: Member,
    kind: str,
    due: dt.datetime,
    now: dt.datetime,
    default_tz: str,
    *,
    contact_id: int | None = None,
    meeting_id: int | None = None,
    outreach_id: int | None = None,
    intro_request_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Nudge:
    """Adds a nudge row, due when the rule says, moved out of the member's quiet hours."""
    nudge = Nudge(
        member_id=member.id,
        kind=kind,
        due_at=rules.deliverable_at(kind, due, rules.member_time(member, default_tz), now),
        status="pending",
        attempts=0,
        contact_id=contact_id,
        meeting_id=meeting_id,
        outreach_id=outreach_id,
        intro_request_id=intro_request_id,
        payload=payload,
        created_at=now,
    )
    session.add(nudge)
    await session.flush()
    return nudge


async def cancel(
    session: AsyncSession,
    member_id: int,
    kinds: Iterable[str],
    now: dt.datetime,
    *,
    contact_id: int | None = None,
    meeting_id: int | None = None,
    outreach_id: int | None = None,
    intro_request_id: int | None = None,
    status: str = "cancelled",
) -> int:
    """Closes the member's open nudges of these kinds (doing the thing cancels the nudge)."""
    stmt = (
        update(Nudge)
        .where(Nudge.member_id == member_id, Nudge.kind.in_(list(kinds)), Nudge.status.in_(OPEN))
        .values(status=status, closed_at=now, lease_until=None)
    )
    for column, value in (
        (Nudge.contact_id, contact_id),
        (Nudge.meeting_id, meeting_id),
        (Nudge.outreach_id, outreach_id),
        (Nudge.intro_request_id, intro_request_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    result = await session.execute(stmt.execution_options(synchronize_session=False))
    return rowcount(result)


async def schedule_digest(session: AsyncSession, member: Member, now: dt.datetime, default_tz: str) -> Nudge | None:
    """Keeps exactly one pending weekly digest for a member who has it on."""
    if not member.digest:
        return None
    existing = await session.scalar(
        select(Nudge.id).where(Nudge.member_id == member.id, Nudge.kind == DIGEST, Nudge.status == "pending")
    )
    if existing is not None:
        return None
    due = rules.next_digest(now, rules.member_time(member, default_tz))
    return await schedule(session, member, DIGEST, due, now, default_tz)


def describe(kind: str, contact: str | None = None, payload: Mapping[str, Any] | None = None) -> str:
    """A nudge as lists name it: ``Thank-you note: Jane Doe``, ``Last call to thank Jane Doe``,
    ``Tell Bob Li you met Jane Doe``."""
    payload = payload or {}
    if kind == THANK_YOU and payload.get("last"):
        return f"Last call to thank {contact}" if contact else "Last call for a thank-you note"
    if kind == UPDATE_REFERRER and contact:
        referrer = payload.get("referrer")
        return f"Tell {referrer} you met {contact}" if referrer else f"Tell your referrer you met {contact}"
    label = KIND_LABELS.get(kind, kind)
    return f"{label}: {contact}" if contact else label


def buttons(nudge_id: int, kind: str = "") -> tuple[Button, ...]:
    """Done / Snooze / Skip, with ids that still work after a restart. The twenty-minute
    check can only be skipped: it belongs to the meeting's start, and later is no use."""
    skip = Button("Skip", f"nudge:skip:{nudge_id}", command=f"skip {nudge_id}")
    if kind == TIME_CHECK:
        return (skip,)
    return (
        Button("Done", f"nudge:done:{nudge_id}", "primary", f"done {nudge_id}"),
        Button("Snooze", f"nudge:snooze:{nudge_id}", command=f"snooze {nudge_id} for: 1 day"),
        skip,
    )


async def rezone(session: AsyncSession, member_id: int, old: ZoneInfo, new: ZoneInfo, now: dt.datetime) -> int:
    """The member's time zone changed: every pending nudge keeps its local time (a digest
    due Monday 09:00 stays Monday 09:00 in the new zone). The twenty-minute check and news
    keep their instant. Returns how many moved."""
    if old.key == new.key:
        return 0
    moved = 0
    rows = await session.scalars(
        select(Nudge).where(Nudge.member_id == member_id, Nudge.status == "pending", Nudge.due_at > now)
    )
    for nudge in rows:
        if nudge.kind in FIXED_INSTANT:
            continue
        wall = nudge.due_at.astimezone(old)
        due = rules.not_before(rules.at_local(wall.date(), wall.time().replace(tzinfo=None), new), now)
        if due != nudge.due_at:
            nudge.due_at = due
            moved += 1
    return moved
