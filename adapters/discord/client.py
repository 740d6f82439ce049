"""The discord.py client: intents, the command tree, generic buttons and modals, command sync.

Built inside ``start_discord`` (never at import time); async start-up lives in
``setup_hook``, which discord.py runs during ``login``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
from discord import app_commands

from adapters.discord.commands import build_root, payload_hash
from adapters.discord.interactions import SORRY, Interactions
from adapters.discord.platform import DiscordPlatform
from adapters.discord.render import BUTTON_TEMPLATE, FORM_PATTERN, modal_values, render
from core.service import Rapport
from core.ui import Reply

log = logging.getLogger(__name__)

# Longer waits come back to the dispatcher as RateLimited (30 s is discord.py's minimum).
MAX_RATELIMIT_WAIT = 30.0


def intents() -> discord.Intents:
    """Only ``guilds`` (GUILD_CREATE, channels, threads): no privileged intents, and none of
    the message or presence traffic a bot in many servers would otherwise receive.
    Interactions arrive whatever the intents."""
    return discord.Intents(guilds=True)


class ActionButton(discord.ui.DynamicItem[discord.ui.Button], template=BUTTON_TEMPLATE):
    """Every button the core makes, matched by custom id, so presses work after a restart
    and a new button in the core needs no change here."""

    def __init__(self, action_id: str, workspace_id: str | None, button: discord.ui.Button) -> None:
        super().__init__(button)
        self.action_id = action_id
        self.workspace_id = workspace_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /) -> ActionButton:
        button = discord.ui.Button(
            label=getattr(item, "label", None),
            style=getattr(item, "style", discord.ButtonStyle.secondary),
            custom_id=item.custom_id,  # type: ignore[attr-defined]
        )
        return cls(match["action"], match["workspace"], button)

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.interactions.on_press(interaction, self.action_id, self.workspace_id)  # type: ignore[attr-defined]


class RapportClient(discord.Client):
    """The bot: one ``/rapport`` command tree, generic buttons and forms; ``platform`` is what
    the dispatcher uses for DMs, channel posts and threads. Everything else goes through
    ``core``, the core's front door."""

    def __init__(self, core: Rapport, *, syncs_commands: bool = True, **sharding: Any) -> None:
        super().__init__(
            **sharding,
            intents=intents(),
            # Nothing the bot sends pings anyone unless a send says so explicitly.
            allowed_mentions=discord.AllowedMentions.none(),
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
            # The bot never reads messages or member lists (at most one member, to check a
            # typed mention): keep no caches of them.
            max_messages=None,
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
        )
        self.core = core
        self.platform = DiscordPlatform(self)
        self.interactions = Interactions(core)
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(build_root(self.interactions))
        self.tree.on_error = self._on_tree_error
        self.synced: bool | None = None  # whether the last start-up pushed the commands
        # With shards split across processes, only the process holding shard 0 pushes the
        # (global) command definitions: once per deployment, not once per process.
        self.syncs_commands = syncs_commands

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ActionButton)
        self.synced = await self.sync_commands() if self.syncs_commands else False

    async def sync_commands(self) -> bool:
        """Pushes the command definitions, only if they changed since the last push (the
        hash is kept through the core, ``discord.commands.<application id>``), to stay clear
        of Discord's rate limits on them. Returns whether it pushed."""
        key = f"discord.commands.{self.application_id}"
        digest = payload_hash(self.tree)
        if await self.core.recall(key) == digest:
            log.info("Discord commands unchanged; not syncing")
            return False
        try:
            await self.tree.sync()
        except (discord.HTTPException, discord.RateLimited):
            log.exception("syncing Discord commands failed; the previous definitions stay until the next start")
            return False
        await self.core.remember(key, digest)
        log.info("Discord commands synced")
        return True

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        # Modal submissions are routed by custom id, not through discord.py's modal store,
        # so a form opened before a restart still lands.
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data = interaction.data or {}
        match = FORM_PATTERN.fullmatch(str(data.get("custom_id", "")))
        if match is None:
            return
        values = modal_values(data.get("components", []))  # type: ignore[arg-type]
        await self.interactions.on_submit(interaction, match["form"], match["workspace"], values)

    async def _on_tree_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        log.error("command failed: %s", error, exc_info=error)
        if interaction.response.is_done():
            return
        message = SORRY
        if isinstance(error, app_commands.TransformerError):
            message = f"I couldn't read `{error.value}` there. Check the option and try again."
        try:
            await interaction.response.send_message(ephemeral=True, **render(Reply.fail(message)).send_kwargs())
        except discord.HTTPException:
            pass


class ShardedRapportClient(RapportClient, discord.AutoShardedClient):
    """The bot with its share of the shards: ``shard_count`` in all, ``shard_ids`` here
    (``RAPPORT_DISCORD_SHARD_COUNT`` / ``RAPPORT_DISCORD_SHARD_IDS``). Each process gets the
    gateway events of its shards' servers only, so per-server work happens once."""


def ready_problem(client: discord.Client) -> str | None:
    """None when the gateway connection (every shard of this process) is up, else why not."""
    if client.is_closed():
        return "disconnected"
    if not client.is_ready():
        return "connecting"
    if isinstance(client, discord.AutoShardedClient):
        down = [shard_id for shard_id, shard in client.shards.items() if shard.is_closed()]
        if down:
            return f"shard {down[0]} disconnected"
    return None
