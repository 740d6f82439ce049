"""What every Discord interaction goes through: acknowledge, translate, dispatch, render.

Discord gives an interaction three seconds for its first response, and a modal can only
be that first response. So each piece of work is started, and if it hasn't finished after
``defer_after`` seconds the interaction is deferred (ephemerally) and answered by editing
the deferred reply. Fast work, including the core's form for a bare creating verb (which
needs no database), is answered directly, which is what lets it open a modal.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any
from zoneinfo import available_timezones

import discord
from discord import app_commands

from adapters.discord import PLATFORM
from adapters.discord import render as r
from adapters.discord.commands import Completion, arguments, options_for
from core import commands as c
from core.errors import UserError
from core.importing import check_size
from core.service import Actor, Rapport
from core.ui import Reply

log = logging.getLogger(__name__)

CHOICES_MAX = 25  # Discord's cap on autocomplete choices
MENTIONS_CHECKED = 5  # typed mentions looked up with Discord per command, at most
LOOKUP_SECONDS = 5.0
DOWNLOAD_SECONDS = 30.0
#: A user mention as Discord writes it in text.
USER_MENTION = re.compile(r"<@!?([0-9]{15,21})>")
SORRY = "Something went wrong on my side; nothing was changed. Please try again."
IN_DMS = Reply.fail(
    "Rapport keeps your contacts per server, so use `/rapport` in the server where you're a member. "
    "The buttons on my DMs work here as usual."
)
NO_SERVER = Reply.fail("I can't tell which server this belongs to. Use `/rapport nudges` in your server instead.")
RESTARTING = Reply.fail("Rapport is restarting. Try again in a few seconds.")


class Interactions:
    """The adapter's handlers for commands, button presses, modal submissions, autocomplete."""

    def __init__(self, core: Rapport, *, defer_after: float = 1.5) -> None:
        self.core = core
        self.defer_after = defer_after
        self.accepting = True
        self._inflight: set[asyncio.Task] = set()
        self._zones: list[str] | None = None

    # -- entry points ---------------------------------------------------------------------

    async def on_command(self, interaction: discord.Interaction, verb: str, values: dict[str, Any]) -> None:
        """A `/rapport <verb>` with its typed options."""
        actor = self.actor(interaction)
        if actor is None:
            await self._answer(interaction, _ready(IN_DMS))
            return
        await self._answer(interaction, self._run_command(interaction, actor, verb, values), forms=True)

    async def on_press(self, interaction: discord.Interaction, action_id: str, workspace_id: str | None) -> None:
        """A button: ``action_id`` is the core's; ``workspace_id`` is stamped on DM buttons."""
        actor = self.actor(interaction, workspace_id)
        if actor is None:
            await self._answer(interaction, _ready(NO_SERVER))
            return
        pressed = str((interaction.data or {}).get("custom_id", ""))
        work = self._stamped(interaction, actor, lambda: self.core.press(actor, action_id))
        await self._answer(interaction, work, forms=True, stamp=_stamp(interaction, actor), pressed=pressed)

    async def on_submit(self, interaction: discord.Interaction, form_id: str, workspace_id: str | None, values: dict[str, str]) -> None:
        """A modal submission: ``values`` by field key.

        A modal can't be reopened from its own submission, nor can Discord mark a field: an
        error (``Reply.error_field`` set or not) comes back as an ephemeral one-line reply,
        which names the field in its words.
        """
        actor = self.actor(interaction, workspace_id)
        if actor is None:
            await self._answer(interaction, _ready(NO_SERVER))
            return
        work = self._stamped(interaction, actor, lambda: self.core.submit(actor, form_id, values))
        await self._answer(interaction, work, stamp=_stamp(interaction, actor))

    async def _stamped(self, interaction: discord.Interaction, actor: Actor, work: Callable[[], Awaitable[Reply]]) -> Reply:
        """Runs ``work``; in a DM, only for a member of the server the button or form is
        stamped with. The stamp is an id in a custom id and proves nothing by itself: Rapport
        DMs only members, so a press from someone it doesn't know in that server is refused
        (without saying whether the server uses Rapport), and no member row is made there."""
        if interaction.guild_id is None and not await self.core.is_member(PLATFORM, actor.workspace_id, actor.user_id):
            return NO_SERVER
        return await work()

    async def complete(self, interaction: discord.Interaction, what: Completion, current: str) -> list[app_commands.Choice[str]]:
        """Autocomplete: the member's contact names, IANA time zones, or verbs (for help)."""
        try:
            if what == "verb":
                names = [v for v in c.SPECS if current.strip().lower() in v]
            elif what == "tz":
                names = self._zones_matching(current)
            else:
                actor = self.actor(interaction)
                names = await self.core.complete_contacts(actor, current, CHOICES_MAX) if actor else []
        except Exception:  # autocomplete is a nicety; never let it surface an error
            log.exception("autocomplete failed")
            names = []
        return [app_commands.Choice(name=r.clip(n, 100), value=n[:100]) for n in names[:CHOICES_MAX]]

    # -- translate ------------------------------------------------------------------------

    def actor(self, interaction: discord.Interaction, workspace_id: str | None = None) -> Actor | None:
        """Who acts, in which server: the interaction's guild, else a DM button's stamp.

        Manage Server makes an organizer; the core does the refusing for everyone else.
        """
        user_id = str(interaction.user.id)
        if interaction.guild_id:
            organizer = bool(interaction.permissions.manage_guild)
            return Actor(PLATFORM, str(interaction.guild_id), user_id, display_name=interaction.user.display_name,
                         is_organizer=organizer)
        if workspace_id:
            # In a DM Discord knows only the global name; keep the server nickname we have.
            return Actor(PLATFORM, workspace_id, user_id)
        return None

    async def _run_command(self, interaction: discord.Interaction, actor: Actor, verb: str, values: dict[str, Any]) -> Reply:
        attachment = next(
            (values.get(o.param) for o in options_for(verb) if o.kind == "attachment" and values.get(o.param) is not None), None
        )
        if attachment is not None:
            reply = await self.import_attachment(actor, attachment)
        else:
            try:
                command = c.build(verb, *arguments(verb, values))
            except UserError as err:
                return Reply.fail(err.message, err.field)
            refusal = _not_members(verb, values)
            if refusal is not None:
                return refusal
            mentions = await self.mentions(interaction, verb, values)
            reply = await self.core.execute(actor, command, mentions)
        if reply.files and not reply.error:
            reply = await self.files_to_dm(interaction, actor, reply)
        return reply

    async def import_attachment(self, actor: Actor, attachment: discord.Attachment) -> Reply:
        """``/rapport import file:``: the attachment, size-checked before it is downloaded
        (from Discord's CDN, with no token), goes to the core's ``import_file``."""
        try:
            check_size(int(attachment.size or 0))
            async with asyncio.timeout(DOWNLOAD_SECONDS):
                data = await attachment.read()
            check_size(len(data))
        except UserError as err:
            return Reply.fail(err.message)
        except (discord.HTTPException, TimeoutError, OSError):
            log.warning("could not download an attachment", exc_info=True)
            return Reply.fail("I couldn't download that file from Discord just now. Attach it again in a minute.")
        return await self.core.import_file(actor, attachment.filename, data)

    async def files_to_dm(self, interaction: discord.Interaction, actor: Actor, reply: Reply) -> Reply:
        """A command's files (the map, meeting.ics, an export) go to the member's DM, where
        they stay; the ephemeral answer says so. If the DM is closed, they come with it."""
        message = Reply(title=reply.title, text=reply.text, files=reply.files)
        try:
            dm = await interaction.user.create_dm()
            await dm.send(**r.render(message, actor.workspace_id).send_kwargs())
        except discord.HTTPException:
            log.info("could not DM files to %s; attaching them to the reply", actor.user_id)
            return reply
        note = "The file is in your DMs with Rapport." if len(reply.files) == 1 else "The files are in your DMs with Rapport."
        return replace(reply, files=(), context=f"{reply.context} {note}".strip())

    async def mentions(self, interaction: discord.Interaction, verb: str, values: Mapping[str, Any]) -> dict[str, str | None]:
        """The members this command mentions, as the core wants them: user id -> display name.

        Only what Discord vouches for counts. A user option counts when Discord resolved it
        as a member of this server (:func:`_not_members` has refused anything else). A
        mention typed into a string option (``referred-by: <@123>``) counts when Discord put
        it among the interaction's resolved members, or when this server confirms the user
        is a member (``GET /guilds/{guild}/members/{user}``); otherwise it stays text, and
        the core refuses it where a member was meant. Bots never count.
        """
        found: dict[str, str | None] = {}
        typed: list[str] = []
        for option in options_for(verb):
            value = values.get(option.param)
            if option.kind == "user" and isinstance(value, discord.Member):
                found[str(value.id)] = value.display_name
            elif isinstance(value, str):
                typed.extend(u for u in USER_MENTION.findall(value) if u not in typed)
        resolved = (interaction.data or {}).get("resolved") or {}
        members: Mapping[str, Any] = resolved.get("members") or {}
        users: Mapping[str, Any] = resolved.get("users") or {}
        for user_id in [u for u in typed if u not in found][:MENTIONS_CHECKED]:
            if user_id in members:
                data = {**members[user_id], "user": users.get(user_id) or members[user_id].get("user") or {}}
            else:
                data = await self._fetch_member(interaction, user_id)
            if data is not None and not (data.get("user") or {}).get("bot"):
                found[user_id] = _member_name(data)
        return found

    async def _fetch_member(self, interaction: discord.Interaction, user_id: str) -> dict | None:
        """The server's member record for ``user_id``, or None when they aren't a member (or
        Discord couldn't say just now: then the mention is text, and the member can retry)."""
        if interaction.guild_id is None:
            return None
        try:
            async with asyncio.timeout(LOOKUP_SECONDS):
                return dict(await interaction.client.http.get_member(interaction.guild_id, int(user_id)))
        except (discord.NotFound, discord.Forbidden):
            return None
        except Exception:
            log.warning("could not check a mention with Discord", exc_info=True)
            return None

    def _zones_matching(self, current: str) -> list[str]:
        if self._zones is None:
            self._zones = sorted(z for z in available_timezones() if "/" in z or z == "UTC")
        text = current.strip().casefold().replace(" ", "_")
        if not text:
            return self._zones[:CHOICES_MAX]
        starts = [z for z in self._zones if z.casefold().startswith(text) or z.casefold().split("/")[-1].startswith(text)]
        within = [z for z in self._zones if text in z.casefold() and z not in starts]
        return (starts + within)[:CHOICES_MAX]

    # -- acknowledge and render -------------------------------------------------------------

    async def _answer(
        self,
        interaction: discord.Interaction,
        work: Awaitable[Reply],
        *,
        forms: bool = False,
        stamp: str | None = None,
        pressed: str | None = None,
    ) -> None:
        """Runs ``work`` and answers ephemerally; defers if it is slow; opens a form as a modal.

        ``forms``: the interaction may be answered with a modal (not a modal submission).
        ``stamp``: the server id to put on buttons and forms when answering in a DM.
        ``pressed``: the custom id of the pressed button. On a message only this member
        sees (their DM, an ephemeral reply) a one-line outcome replaces that button's row;
        anywhere else (a channel post) the outcome comes as an ephemeral message.
        """
        if not self.accepting:
            if asyncio.iscoroutine(work):
                work.close()  # never started: the bot is stopping
            work = _ready(RESTARTING)
        # Stopping waits for this whole answer (work and reply), not just the work.
        me = asyncio.current_task()
        if me is not None:
            self._inflight.add(me)
        try:
            await self._respond(interaction, asyncio.ensure_future(work), forms=forms, stamp=stamp, pressed=pressed)
        finally:
            self._inflight.discard(me)

    async def _respond(
        self,
        interaction: discord.Interaction,
        task: asyncio.Future,
        *,
        forms: bool,
        stamp: str | None,
        pressed: str | None,
    ) -> None:
        updatable = pressed is not None and _private(interaction)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.defer_after)
            if not done:
                if updatable:
                    await interaction.response.defer()  # a deferred update: no "thinking" message
                else:
                    await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.HTTPException:
            log.warning("could not defer interaction %s; finishing the work anyway", interaction.id, exc_info=True)
        deferred_update = updatable and interaction.response.is_done()
        try:
            reply = await task
        except Exception:
            log.exception("interaction %s failed", interaction.id)
            reply = Reply.fail(SORRY)
        try:
            if reply.form is not None and forms and not interaction.response.is_done():
                await interaction.response.send_modal(r.modal(reply.form, stamp))
                return
            if reply.form is not None:
                # Too late for a modal (deferred, or answering a modal): say how to type it.
                reply = replace(reply, form=None, context=reply.context or "Run the command again to open the form.")
            if updatable and r.is_simple(reply) and interaction.message is not None:
                edit = r.answered(interaction.message, pressed or "", r.outcome(reply))
                if interaction.response.is_done():
                    await interaction.edit_original_response(**edit)
                else:
                    await interaction.response.edit_message(**edit)
                return
            rendered = r.render(reply, stamp)
            if deferred_update:
                await interaction.followup.send(ephemeral=True, **rendered.send_kwargs())
            elif interaction.response.is_done():
                await interaction.edit_original_response(**rendered.edit_kwargs())
            else:
                await interaction.response.send_message(ephemeral=True, **rendered.send_kwargs())
        except discord.HTTPException:
            log.warning("could not answer interaction %s", interaction.id, exc_info=True)

    async def drain(self, seconds: float) -> None:
        """Stops taking new work and waits up to ``seconds`` for work in flight."""
        self.accepting = False
        pending = [t for t in self._inflight if not t.done() and t is not asyncio.current_task()]
        if pending:
            await asyncio.wait(pending, timeout=seconds)


def _not_members(verb: str, values: Mapping[str, Any]) -> Reply | None:
    """A one-line refusal when a user option names someone who isn't a member of this
    server (Discord resolves any user, but a member only for this server) or a bot."""
    for option in options_for(verb):
        value = values.get(option.param)
        if option.kind != "user" or value is None:
            continue
        name = r.clip(getattr(value, "display_name", None) or "That user", 80)
        if not isinstance(value, discord.Member):
            return Reply.fail(f"{name} isn't a member of this server, so I can't reach them here. "
                              "Pick someone from this server's member list.")
        if value.bot:
            return Reply.fail(f"{name} is a bot. Pick a person from this server's member list.")
    return None


def _member_name(data: Mapping[str, Any]) -> str | None:
    """A server member's display name from Discord's member record: nickname, else the
    global name, else the username."""
    user = data.get("user") or {}
    return data.get("nick") or user.get("global_name") or user.get("username") or None


def _private(interaction: discord.Interaction) -> bool:
    """Whether the message a button sits on is seen by this member alone."""
    message = interaction.message
    return message is not None and (interaction.guild_id is None or message.flags.ephemeral)


def _stamp(interaction: discord.Interaction, actor: Actor) -> str | None:
    return None if interaction.guild_id else actor.workspace_id


async def _ready(reply: Reply) -> Reply:
    return reply
