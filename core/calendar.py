"""The member's calendar: the private subscription feed and a meeting's .ics attachment.

A feed's address carries a long random token (256 bits); only its SHA-256 is stored, so
the address can't be read back from the database, and ``calendar reset`` makes a new one
(the old address stops working at once). The files themselves are written by
``core.ics`` (pure); this module reads the rows they are made from.

What the feed holds: every meeting still scheduled, meetings held in the last 90 days (so a
calendar keeps them after they are logged), and the follow-ups the member promised for a
time (``reached-out ... follow-up:``) that are still open, at the time they'll be reminded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import ics
from core import nudges as n
from core.models import CalendarFeed, ContactRow, Meeting, Member, Nudge, Outreach
from core.rules import member_zone
from core.ui import Attachment

TOKEN_BYTES = 32
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
HELD_KEPT = dt.timedelta(days=90)
ICS_TYPE = "text/calendar"


def new_token() -> tuple[str, str]:
    """A fresh feed token and the hash to store."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def feed_member(session: AsyncSession, token: str) -> Member | None:
    """The member whose feed this token opens; None for anything else."""
    if not TOKEN_SHAPE.match(token or ""):
        return None
    feed = await session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == token_hash(token)))
    return await session.get(Member, feed.member_id) if feed is not None else None


async def feed(session: AsyncSession, member: Member, now: dt.datetime, default_tz: str, domain: str) -> bytes:
    """The member's feed as an .ics file, in their time zone."""
    tz = member_zone(member, default_tz)
    prep_at: dict[int, dt.datetime] = {}
    for meeting_id, due in await session.execute(
        select(Nudge.meeting_id, Nudge.due_at).where(
            Nudge.member_id == member.id, Nudge.kind == n.PREP, Nudge.status.in_(n.OPEN)
        )
    ):
        if meeting_id is not None:
            prep_at[meeting_id] = due
    meetings = []
    for meeting, name in await session.execute(
        select(Meeting, ContactRow.name)
        .join(ContactRow, ContactRow.id == Meeting.contact_id)
        .where(
            Meeting.member_id == member.id,
            (Meeting.status == "scheduled") | ((Meeting.status == "held") & (Meeting.at >= now - HELD_KEPT)),
        )
        .order_by(Meeting.at)
    ):
        prep = prep_at.get(meeting.id) if meeting.status == "scheduled" else None
        meetings.append(
            ics.FeedMeeting(
                meeting.id, name, meeting.at, meeting.where,
                prep if prep is not None and prep <= meeting.at else None, meeting.sequence or 0,
            )
        )  # fmt: skip
    follow_ups = [
        ics.FeedFollowUp(outreach.id, name, due, outreach.via)
        for outreach, name, due in await session.execute(
            select(Outreach, ContactRow.name, Nudge.due_at)
            .join(ContactRow, ContactRow.id == Outreach.contact_id)
            .join(Nudge, Nudge.outreach_id == Outreach.id)
            .where(
                Outreach.member_id == member.id,
                Outreach.follow_up_promised.is_(True),
                Outreach.replied_at.is_(None),
                Nudge.kind == n.FOLLOW_UP,
                Nudge.status.in_(n.OPEN),
            )
            .order_by(Nudge.due_at)
        )
    ]
    return ics.feed_ics(member.display_name or "", tz, meetings, follow_ups, now=now, domain=domain)


def meeting_file(
    meeting: Meeting, contact_name: str, tz: ZoneInfo, prep_at: dt.datetime | None, domain: str, now: dt.datetime
) -> Attachment:
    """``meeting.ics`` for a scheduled meeting: the same UID every time, its SEQUENCE grown
    each time it moved, so a calendar updates the event it has."""
    content = ics.meeting_ics(
        meeting.id, contact_name, meeting.at, tz, meeting.where,
        prep_at if prep_at is not None and prep_at <= meeting.at else None,
        meeting.sequence or 0, domain, now=now,
    )  # fmt: skip
    return Attachment("meeting.ics", content, ICS_TYPE)
