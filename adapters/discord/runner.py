"""Start and stop Rapport on Discord: ``start_discord(app)`` is what ``bot/app.py`` calls.

``app`` is taken by what it offers, not by its class (adapters don't import ``bot/``):
``app.settings`` with the ``DISCORD_*`` values (:class:`DiscordSettings`), ``app.core``
(the core's front door) and ``app.add_platform(name, platform)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters import StartupError
from adapters.discord import PLATFORM
from adapters.discord.client import RapportClient, ShardedRapportClient, ready_problem

log = logging.getLogger(__name__)

DRAIN_SECONDS = 5.0  # interactions in flight get this long to finish on stop
CLOSE_SECONDS = 2.0


class DiscordSettings(Protocol):
    """The settings Discord needs (``DISCORD_TOKEN``, ``DISCORD_API_URL``, ``DISCORD_GATEWAY_URL``)."""

    discord_token: str | None
    discord_api_url: str
    discord_gateway_url: str | None
    discord_shard_count: int | None  # RAPPORT_DISCORD_SHARD_COUNT: shards in all processes
    shard_ids: tuple[int, ...] | None  # RAPPORT_DISCORD_SHARD_IDS: this process's (None: all)


def point_at(settings: DiscordSettings) -> None:
    """Aims discord.py at ``DISCORD_API_URL`` / ``DISCORD_GATEWAY_URL`` (a stand-in in tests).

    ``Route.BASE`` covers every REST call, interaction callbacks and webhook follow-ups
    included; a plain ``Client`` connects straight to ``DEFAULT_GATEWAY``. Both are
    process-wide, so this runs before login.
    """
    Route.BASE = settings.discord_api_url.rstrip("/")
    if settings.discord_gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


class DiscordRunner:
    """The running bot. ``stop()`` stops taking work, lets work in flight finish, disconnects."""

    def __init__(self, client: RapportClient, gateway: asyncio.Task) -> None:
        self.client = client
        self.gateway = gateway

    async def ready(self) -> str | None:
        """For ``/readyz``: None when connected to the gateway (every shard of this process)."""
        return ready_problem(self.client)

    async def stop(self) -> None:
        await self.client.interactions.drain(DRAIN_SECONDS)
        await self.client.close()
        if not self.gateway.done():
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self.gateway, CLOSE_SECONDS)


async def start_discord(app: Any) -> DiscordRunner:
    """Logs in (which syncs commands if they changed), registers the platform with ``app``
    for DMs, channel posts and conversations, and connects to the gateway in the background.

    ``app`` has been opened (``app.core`` is set). Raises :class:`adapters.StartupError`
    when no token is set or Discord rejects it.
    """
    settings: DiscordSettings = app.settings
    if not settings.discord_token:
        raise StartupError("DISCORD_TOKEN is not set.")
    point_at(settings)
    client = make_client(app.core, settings)
    try:
        await client.login(settings.discord_token)
    except discord.LoginFailure:
        await client.close()
        raise StartupError("DISCORD_TOKEN was rejected by Discord: copy it again from the Bot page of your application.") from None
    except BaseException:
        await client.close()
        raise
    app.add_platform(PLATFORM, client.platform)
    gateway = asyncio.create_task(client.connect(reconnect=True), name="discord-gateway")
    gateway.add_done_callback(_report)
    log.info("Discord: logged in as %s (application %s)", client.user, client.application_id)
    runner = DiscordRunner(client, gateway)
    web = getattr(app, "web", None)
    if web is not None:
        web.add_check("discord", runner.ready)
    return runner


def make_client(core: Any, settings: DiscordSettings) -> RapportClient:
    """One shard (the default), or this process's share of ``discord_shard_count`` shards."""
    count = getattr(settings, "discord_shard_count", None)
    if not count:
        return RapportClient(core)
    ids = list(getattr(settings, "shard_ids", None) or range(count))
    log.info("Discord: shards %s of %d in this process", ",".join(map(str, ids)), count)
    return ShardedRapportClient(core, syncs_commands=0 in ids, shard_count=count, shard_ids=ids)


def _report(task: asyncio.Task) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("the Discord gateway connection ended: %s", error, exc_info=error)
