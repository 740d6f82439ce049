"""Creating, cancelling and describing nudges (the rows; delivery is core.dispatch)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

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


def buttons(nudge_id: int) -> tuple[Button, ...]:
    """Done / Snooze / Skip, with ids that still work after a restart."""
    return (
        Button("Done", f"nudge:done:{nudge_id}", "primary", f"done {nudge_id}"),
        Button("Snooze", f"nudge:snooze:{nudge_id}", command=f"snooze {nudge_id} for: 1 day"),
        Button("Skip", f"nudge:skip:{nudge_id}", command=f"skip {nudge_id}"),
    )
