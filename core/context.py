"""What a handler works with: who acts (``Actor``), the platform's verified mentions, and the
command's context (``Ctx``: one transaction, the member, the time)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from core.actor import Actor
from core.links import Links
from core.members import community
from core.models import Community, Member
from core.rules import MemberTime, member_time, member_zone

__all__ = ["Actor", "Config", "Ctx"]


@dataclass(frozen=True)
class Config:
    """The core's settings that handlers read."""

    default_tz: str = "UTC"
    #: Extra organizers, each with its community: ``slack:T123:U456``, ``discord:<guild>:<user>``,
    #: ``console:local:<name>``. An id alone counts nowhere (start-up refuses one: an id is
    #: not an organizer in every community that happens to have it).
    admins: frozenset[str] = frozenset()
    #: The bot's HTTP listener as members reach it (calendar and map links, calendar UIDs).
    #: One mutable object shared with the dispatcher: the wiring sets its URL once it listens.
    links: Links = field(default_factory=Links)

    def is_organizer(self, actor: Actor) -> bool:
        if actor.is_organizer:
            return True
        scoped = f"{actor.platform}:{actor.workspace_id}:{actor.user_id}"
        return scoped in self.admins


@dataclass
class Ctx:
    """What a handler gets: its session (one transaction), the member, the time, and the
    mentions in the command that the platform produced and the adapter verified belong to
    this community (user id -> display name). Nothing else in the text names a member."""

    session: AsyncSession
    config: Config
    actor: Actor
    member: Member
    now: dt.datetime
    mentions: Mapping[str, str | None] = field(default_factory=dict)
    reading: bool = False  # a read-only transaction: the handler must not write

    @property
    def tz(self) -> ZoneInfo:
        return member_zone(self.member, self.config.default_tz)

    @property
    def who(self) -> MemberTime:
        return member_time(self.member, self.config.default_tz)

    @property
    def default_tz(self) -> str:
        return self.config.default_tz

    async def community(self) -> Community:
        return await community(self.session, self.actor.platform, self.actor.workspace_id, self.now)
