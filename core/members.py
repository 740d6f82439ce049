"""Members and communities: finding them, creating them, keeping their profile fresh."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import nudges as n
from core.actor import Actor
from core.commands import clean_text
from core.models import Community, Member
from core.rules import member_zone


def _shown(name: str | None) -> str:
    """A name the platform gave, as kept: no control characters, at most 100 characters."""
    return clean_text(name or "")[:100]


async def find_member(session: AsyncSession, platform: str, workspace_id: str, user_id: str) -> Member | None:
    return await session.scalar(
        select(Member).where(Member.platform == platform, Member.workspace_id == workspace_id, Member.user_id == user_id)
    )


def profile_changes(member: Member, actor: Actor) -> dict[str, str]:
    """What the platform says now that the member row doesn't (name, time zone)."""
    changes: dict[str, str] = {}
    shown, fallback = _shown(actor.display_name), _shown(actor.fallback_name)
    if shown and member.display_name != shown:
        changes["display_name"] = shown
    elif not shown and not member.display_name and fallback:
        changes["display_name"] = fallback
    if actor.tz and member.platform_tz != actor.tz:
        changes["platform_tz"] = actor.tz[:64]
    return changes


async def member_for(session: AsyncSession, actor: Actor, now: dt.datetime, default_tz: str) -> Member:
    """Finds or creates the acting member; keeps name and platform time zone fresh."""
    member = await find_member(session, actor.platform, actor.workspace_id, actor.user_id)
    if member is None:
        member = Member(
            platform=actor.platform,
            workspace_id=actor.workspace_id,
            user_id=actor.user_id,
            display_name=_shown(actor.display_name) or _shown(actor.fallback_name) or None,
            platform_tz=actor.tz,
            quiet_start="21:00",
            quiet_end="08:00",
            stay_in_touch_days=90,
            digest=True,
            dm_failed_notice=False,
            created_at=now,
        )
        session.add(member)
        await session.flush()
        await n.schedule_digest(session, member, now, default_tz)
        return member
    await apply_profile(session, member, profile_changes(member, actor), now, default_tz)
    return member


async def apply_profile(session: AsyncSession, member: Member, changes: dict[str, str], now: dt.datetime, default_tz: str) -> None:
    """Applies what the platform says changed; pending nudges follow a new time zone."""
    if not changes:
        return
    before = member_zone(member, default_tz)
    for attr, value in changes.items():
        setattr(member, attr, value)
    await n.rezone(session, member.id, before, member_zone(member, default_tz), now)


async def community(session: AsyncSession, platform: str, workspace_id: str, now: dt.datetime) -> Community:
    """The community row, created the first time it is needed."""
    row = await session.scalar(
        select(Community).where(Community.platform == platform, Community.workspace_id == workspace_id)
    )
    if row is None:
        row = Community(platform=platform, workspace_id=workspace_id, created_at=now)
        session.add(row)
        await session.flush()
    return row
