"""``core.ports.Platform`` on Discord: DMs for nudges, channel posts, private threads (or DMs).

Only the dispatcher calls these, after the command that asked for them has committed.

Errors are translated for the dispatcher: DMs closed (50007), missing access or a vanished
user or channel -> ``PermanentError``; 5xx and connection trouble -> ``TransientError``; a
rate limit longer than the client's ``max_ratelimit_timeout`` -> ``RateLimited`` (shorter
ones discord.py waits out itself).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import discord

from adapters.discord.render import clip, render
from core.ports import PermanentError, RateLimited, TransientError
from core.ui import Message, Reply

log = logging.getLogger(__name__)

THREAD_NAME_MAX = 100
THREAD_ARCHIVE_MINUTES = 10080  # a week: long enough for two people to find a time


@asynccontextmanager
async def translated(what: str) -> AsyncIterator[None]:
    """Turns discord.py's errors into the core's ``DeliveryError`` family."""
    try:
        yield
    except discord.RateLimited as err:
        raise RateLimited(err.retry_after, f"{what}: rate limited") from err
    except (discord.Forbidden, discord.NotFound) as err:
        raise PermanentError(f"{what}: {err.status} {err.code} {err.text}".strip()) from err
    except discord.HTTPException as err:
        if err.status >= 500 or err.status == 429:  # a 429 without Via is Cloudflare's: back off
            raise TransientError(f"{what}: HTTP {err.status}") from err
        raise PermanentError(f"{what}: {err.status} {err.code} {err.text}".strip()) from err
    except (TimeoutError, aiohttp.ClientError, OSError) as err:
        raise TransientError(f"{what}: {type(err).__name__}: {err}") from err


class DiscordPlatform:
    """What the core and the dispatcher may ask of Discord (``core.ports.Platform``)."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    @asynccontextmanager
    async def _calling(self, what: str) -> AsyncIterator[None]:
        """:func:`translated`, and: a sweep still running while the bot stops meets a closed
        client (discord.py raises RuntimeError): its work is handed back for later."""
        closed = TransientError(f"{what}: the Discord client is closed (the bot is stopping)")
        if self.client.is_closed():
            raise closed
        try:
            async with translated(what):
                yield
        except RuntimeError as err:
            if self.client.is_closed():
                raise closed from err
            raise

    async def deliver(self, message: Message) -> str | None:
        """DMs the member (embed + buttons stamped with their server); returns the DM channel id."""
        recipient = message.recipient
        workspace = recipient.workspace_id
        async with self._calling(f"DM to {recipient.user_id}"):
            if recipient.dm_channel_id:
                channel = self.client.get_partial_messageable(int(recipient.dm_channel_id), type=discord.ChannelType.private)
                try:
                    await channel.send(**render(message.reply, workspace).send_kwargs())
                    return recipient.dm_channel_id
                except discord.NotFound:
                    log.info("cached DM channel of %s is gone; opening a new one", recipient.user_id)
            dm = await self.client.create_dm(discord.Object(id=int(recipient.user_id)))
            await dm.send(**render(message.reply, workspace).send_kwargs())
            return str(dm.id)

    async def post_channel(self, workspace_id: str, channel_id: str, reply: Reply) -> str:
        """Posts in a server channel; returns the message id (the reference to update it)."""
        async with self._calling(f"post in {channel_id}"):
            channel = self.client.get_partial_messageable(int(channel_id), guild_id=int(workspace_id))
            sent = await channel.send(**render(reply).send_kwargs())
            return str(sent.id)

    async def update_channel_post(self, workspace_id: str, channel_id: str, message_ref: str, reply: Reply) -> None:
        """Replaces a post made by :meth:`post_channel`."""
        async with self._calling(f"update of {message_ref}"):
            channel = self.client.get_partial_messageable(int(channel_id), guild_id=int(workspace_id))
            await channel.get_partial_message(int(message_ref)).edit(**render(reply).edit_kwargs())

    async def open_conversation(self, workspace_id: str, user_ids: list[str], reply: Reply, channel_id: str | None = None) -> str:
        """A private thread in ``channel_id`` (the intro channel) with the members added and
        ``reply`` as its first message, which pings those members and nobody else.

        Bots can't open group DMs on Discord. So with no intro channel, or one the thread
        can't be made in (deleted, no access, not a text channel), each member gets the
        introduction by DM instead, naming the other: the conversation still happens."""
        if channel_id:
            try:
                return await self._thread(channel_id, user_ids, reply)
            except PermanentError as err:
                log.warning("no private thread in %s (%s); introducing %s by DM instead", channel_id, err, user_ids)
        return await self._introduce_by_dm(workspace_id, user_ids, reply)

    async def _thread(self, channel_id: str, user_ids: list[str], reply: Reply) -> str:
        async with self._calling(f"thread in {channel_id}"):
            channel = self.client.get_channel(int(channel_id)) or await self.client.fetch_channel(int(channel_id))
            if not isinstance(channel, discord.TextChannel):
                raise PermanentError(f"channel {channel_id} can't hold private threads")
            thread = await channel.create_thread(
                name=clip(reply.title or "Introduction", THREAD_NAME_MAX),
                type=discord.ChannelType.private_thread,
                invitable=False,
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
            people = [discord.Object(id=int(u)) for u in user_ids]
            for person in people:
                await thread.add_user(person)
            await thread.send(**{
                **render(reply).send_kwargs(),
                "content": " ".join(f"<@{p.id}>" for p in people),
                "allowed_mentions": discord.AllowedMentions(everyone=False, roles=False, users=people),
            })
            return str(thread.id)

    async def _introduce_by_dm(self, workspace_id: str, user_ids: list[str], reply: Reply) -> str:
        """The introduction in each member's DMs, with the others named (a mention, to click
        through to them). Fails only when it reached nobody; one who can't get DMs still gets
        messaged by the other."""
        sent: list[str] = []
        refused: list[str] = []
        for user_id in user_ids:
            others = " and ".join(f"<@{u}>" for u in user_ids if u != user_id)
            try:
                async with self._calling(f"introduction DM to {user_id}"):
                    dm = await self.client.create_dm(discord.Object(id=int(user_id)))
                    await dm.send(**{
                        **render(reply, workspace_id).send_kwargs(),
                        "content": f"Your introduction to {others}. Send them a message here on Discord to say hello.",
                    })
                    sent.append(str(dm.id))
            except PermanentError as err:
                refused.append(str(err))
        if not sent:
            raise PermanentError("; ".join(refused) or "no one to introduce")
        return "dm:" + ",".join(sent)
