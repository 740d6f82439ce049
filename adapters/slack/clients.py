"""Web API clients: one shared HTTP session, Slack's retry handlers, a client per workspace.

Retries: connection resets are retried once, and a 429 is waited out by Slack's
``AsyncRateLimitErrorRetryHandler`` when its ``Retry-After`` is short. A longer wait is not
slept inside a call (a DM sweep or a 3-second interaction window would stall on it): the
429 surfaces, and the platform turns it into ``RateLimited(retry_after)`` for the
dispatcher, which reschedules the nudge.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import PLATFORM
from core.ports import PermanentError
from core.telemetry import NoTelemetry, Telemetry

log = logging.getLogger(__name__)

SHORT_WAIT = 5.0  # seconds of Retry-After worth waiting inside one call


def retry_after(headers) -> float | None:
    """The Retry-After header in seconds, if present and readable."""
    if not headers:
        return None
    for key in headers:
        if key.lower() == "retry-after":
            value = headers[key]
            if isinstance(value, list):
                value = value[0] if value else None
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


class ShortRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Slack's 429 retry handler, for waits up to ``max_wait`` seconds only. Every 429 and
    every retry is told to ``telemetry`` (``rapport_platform_rate_limited_total`` ...)."""

    def __init__(self, max_retry_count: int = 2, max_wait: float = SHORT_WAIT, telemetry: Telemetry | None = None) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.telemetry = telemetry or NoTelemetry()

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        if response is None or response.status_code != 429:
            return False
        self.telemetry.rate_limited(PLATFORM)
        wait = retry_after(response.headers)
        retrying = wait is None or wait <= self.max_wait
        if retrying:
            self.telemetry.retried(PLATFORM)
        return retrying


class CountedConnectionErrorRetryHandler(AsyncConnectionErrorRetryHandler):
    """Slack's retry of a reset connection, counted as a retry."""

    def __init__(self, max_retry_count: int = 1, telemetry: Telemetry | None = None) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.telemetry = telemetry or NoTelemetry()

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        retrying = await super()._can_retry_async(state=state, request=request, response=response, error=error)
        if retrying:
            self.telemetry.retried(PLATFORM)
        return retrying


def retry_handlers(telemetry: Telemetry | None = None) -> list[AsyncRetryHandler]:
    return [CountedConnectionErrorRetryHandler(telemetry=telemetry), ShortRateLimitRetryHandler(telemetry=telemetry)]


def make_client(session: aiohttp.ClientSession, base_url: str, token: str | None = None,
                telemetry: Telemetry | None = None) -> AsyncWebClient:
    """A Web API client on the shared session (one connection pool for the process)."""
    return AsyncWebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        session=session,
        timeout=15,
        retry_handlers=retry_handlers(telemetry),
    )


class BotLookup(Protocol):
    async def bot_token(self, team_id: str) -> str | None: ...


class Clients:
    """Gives the client for a workspace: the one bot token, or the workspace's installation."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        bot_token: str | None = None,
        lookup: BotLookup | None = None,
        ttl: float = 300.0,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.session = session
        self.base_url = base_url
        self.telemetry = telemetry
        self.default = make_client(session, base_url, bot_token, telemetry) if bot_token else None
        self.lookup = lookup
        self.ttl = ttl
        self._by_team: dict[str, tuple[float, AsyncWebClient]] = {}

    async def for_team(self, team_id: str) -> AsyncWebClient:
        """The client for ``team_id``; PermanentError when Rapport isn't installed there."""
        if self.default is not None:
            return self.default
        hit = self._by_team.get(team_id)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        token = await self.lookup.bot_token(team_id) if self.lookup else None
        if not token:
            raise PermanentError(f"Rapport is not installed in workspace {team_id}")
        client = make_client(self.session, self.base_url, token, self.telemetry)
        self._by_team[team_id] = (time.monotonic(), client)
        return client

    def forget(self, team_id: str) -> None:
        """Drops a cached token (the workspace uninstalled the app, or the token was revoked)."""
        self._by_team.pop(team_id, None)
