"""Who a Slack user is: display name, time zone, organizer, workspaces. users.info, cached
in memory.

Entries live ``ttl`` seconds and are replaced as soon as a ``user_change`` event says the
user changed (time zone, name, admin rights). Concurrent misses for one user share one
users.info call. A failed lookup never blocks a command: the caller gets ``None`` and the
core keeps what it stored last time (``Member.platform_tz``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

SLACKBOT = "USLACKBOT"  # Slack's own bot: users.info says is_bot false


@dataclass(frozen=True)
class Profile:
    """What Rapport needs from users.info."""

    user_id: str
    name: str | None
    tz: str | None
    is_organizer: bool  # a workspace admin or owner
    is_bot: bool = False
    deleted: bool = False
    #: The workspaces the user belongs to: ``team_id``, and on Enterprise Grid every
    #: workspace in ``enterprise_user.teams``.
    teams: frozenset[str] = frozenset()

    def member_of(self, team_id: str) -> bool:
        """A person in workspace ``team_id`` whom Rapport may reach: not deleted, not a bot."""
        return team_id in self.teams and not self.deleted and not self.is_bot and self.user_id != SLACKBOT


def profile_from_user(user: dict) -> Profile:
    """A users.info ``user`` object (or a ``user_change`` event's) as a Profile."""
    prof = user.get("profile") or {}
    name = (
        prof.get("display_name")
        or prof.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or None
    )
    teams = {user.get("team_id") or "", *((user.get("enterprise_user") or {}).get("teams") or [])}
    return Profile(
        user_id=user.get("id", ""),
        name=name[:100] if name else None,
        tz=user.get("tz") or None,
        is_organizer=bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
        is_bot=bool(user.get("is_bot")),
        deleted=bool(user.get("deleted")),
        teams=frozenset(t for t in teams if isinstance(t, str) and t),
    )


class Directory:
    """users.info with a TTL cache, keyed by (team, user)."""

    def __init__(self, ttl: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, Profile]] = {}
        self._inflight: dict[tuple[str, str], asyncio.Future] = {}

    def cached(self, team_id: str, user_id: str) -> Profile | None:
        hit = self._cache.get((team_id, user_id))
        if hit and self._clock() - hit[0] < self.ttl:
            return hit[1]
        return None

    def put(self, team_id: str, profile: Profile) -> None:
        self._cache[(team_id, profile.user_id)] = (self._clock(), profile)

    def forget(self, team_id: str, user_id: str) -> None:
        self._cache.pop((team_id, user_id), None)

    async def get(
        self,
        team_id: str,
        user_id: str,
        client: AsyncWebClient | Callable[[], Awaitable[AsyncWebClient]],
        *,
        within: float | None = None,
    ) -> Profile | None:
        """The user's profile, from the cache or users.info; None if Slack can't say."""
        hit = self.cached(team_id, user_id)
        if hit is not None:
            return hit
        key = (team_id, user_id)
        future = self._inflight.get(key)
        if future is None:
            future = asyncio.ensure_future(self._fetch(team_id, user_id, client))
            self._inflight[key] = future
            future.add_done_callback(lambda _f: self._inflight.pop(key, None))
        try:
            # shield: a caller that gives up doesn't cancel the lookup others wait for.
            return await asyncio.wait_for(asyncio.shield(future), within)
        except TimeoutError:
            log.warning("users.info for %s/%s is slow; going on without it", team_id, user_id)
            return None

    async def _fetch(self, team_id, user_id, client) -> Profile | None:
        try:
            if not isinstance(client, AsyncWebClient):
                client = await client()
            response = await client.users_info(user=user_id)
        except Exception as err:  # a lookup failure must never break a command
            log.warning("users.info for %s/%s failed: %s", team_id, user_id, err)
            return None
        profile = profile_from_user(response.get("user") or {"id": user_id})
        self.put(team_id, profile)
        return profile
