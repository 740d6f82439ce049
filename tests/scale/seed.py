"""Due nudges written straight into the database, for the multi-process test and benchmark.

Members are Slack members spread over many workspaces (the Slack platform throttles sends per
workspace, as Slack limits them); each nudge is a thank-you for a meeting held yesterday,
due a minute ago, with a DM channel already known, and no quiet hours in the way.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from core.models import ContactRow, Meeting, Member, Nudge


async def seed_due_nudges(url: str, count: int, *, workspaces: int = 200, per_member: int = 5,
                          now: dt.datetime | None = None, tag: str = "") -> list[int]:
    """Adds ``count`` due thank-you nudges for new members (``tag`` keeps their ids apart
    from an earlier call's); returns the nudges' ids."""
    now = now or dt.datetime.now(dt.UTC)
    members = max(1, count // per_member)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            member_rows = [
                {"platform": "slack", "workspace_id": f"TS{i % workspaces:04d}", "user_id": f"UN{tag}{i:05d}",
                 "display_name": f"Seeker {i}", "quiet_start": "00:00", "quiet_end": "00:00", "stay_in_touch_days": 90,
                 "digest": False, "dm_channel_id": f"DUN{tag}{i:05d}", "dm_failed_notice": False, "created_at": now}
                for i in range(members)
            ]
            member_ids = list((await conn.execute(insert(Member).returning(Member.id), member_rows)).scalars())
            contact_ids = list((await conn.execute(insert(ContactRow).returning(ContactRow.id), [
                {"member_id": member_ids[i % members], "name": f"Contact {i}", "name_key": f"contact {i}",
                 "status": "met", "referrals_pending": False, "created_at": now}
                for i in range(count)
            ])).scalars())
            meeting_ids = list((await conn.execute(insert(Meeting).returning(Meeting.id), [
                {"member_id": member_ids[i % members], "contact_id": contact_ids[i], "at": now - dt.timedelta(days=1),
                 "status": "held", "created_at": now}
                for i in range(count)
            ])).scalars())
            nudge_ids = list((await conn.execute(insert(Nudge).returning(Nudge.id), [
                {"member_id": member_ids[i % members], "kind": "thank-you", "status": "pending", "attempts": 0,
                 "due_at": now - dt.timedelta(minutes=1), "created_at": now - dt.timedelta(days=1),
                 "contact_id": contact_ids[i], "meeting_id": meeting_ids[i]}
                for i in range(count)
            ])).scalars())
        return nudge_ids
    finally:
        await engine.dispose()


async def nudge_states(url: str, ids: list[int]) -> dict[int, str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(Nudge.id, Nudge.status).where(Nudge.id.in_(ids)))
            return {row.id: row.status for row in rows}
    finally:
        await engine.dispose()
