"""The core's one front door. Adapters hand it an Actor and a command, text, button press or
form; they ask it for the member's home, for autocomplete, and tell it about profile
changes. They never touch the database themselves.

One transaction per command: a handler either commits everything it did or, on a
:class:`UserError`, nothing at all. A command that only reads (``nudges``, ``contacts``...)
runs in a read transaction, which on SQLite doesn't queue behind writers. Nothing here
waits on a platform: what a command wants done on Slack or Discord is written as an
effect row and carried out by the dispatcher after the commit (``core/effects.py``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import replace

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

import core.handlers  # noqa: F401  - registers every handler
from core import calendar as cal
from core import commands as c
from core import dedupe, importing, mail
from core.clock import Clock
from core.context import Actor, Config, Ctx
from core.db import Database
from core.errors import UserError
from core.forms import command_from_form, form_for
from core.handlers import network
from core.home import home_reply
from core.links import KEY_NAME, Links
from core.members import apply_profile, find_member, member_for, profile_changes
from core.models import ContactRow, Member, Meta, Nudge
from core.registry import BUTTONS, FORM_HANDLERS, HANDLERS
from core.render import load_batch, render
from core.telemetry import ERROR, OK, REFUSED, NoTelemetry, Telemetry, log_fields
from core.ui import Button, Reply, Section

__all__ = ["Actor", "Rapport"]

log = logging.getLogger(__name__)

OOPS = "Something went wrong saving that; nothing was changed. Please try again."
# Set while an entry point is observed, so a press that runs a verb counts once.
_OBSERVING: ContextVar[bool] = ContextVar("rapport_observing", default=False)
ORGANIZERS_ONLY = (
    "Only organizers can do that: workspace admins and owners on Slack, members with Manage Server on "
    "Discord, or people listed in RAPPORT_ADMINS."
)
#: Told once, on the member's next reply, after a DM to them failed for good.
DM_FAILED: dict[str, str] = {
    "discord": "A reminder couldn't reach you because your DMs are closed to this server. To get nudges, "
    "turn on Direct Messages in this server's Privacy Settings.",
    "slack": "A reminder couldn't reach you in your DM with Rapport. Open Rapport's Messages tab and make "
    "sure messages from the app are allowed.",
}
DM_FAILED_DEFAULT = "A reminder couldn't reach you by direct message."
MAP_LINK_FOR = dt.timedelta(days=7)  # how long the App Home's map link works

Body = Callable[[Ctx], Awaitable[Reply]]


class Rapport:
    """The core service, wired once in ``bot/app.py`` on the process's one :class:`Database`."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        default_tz: str = "UTC",
        admins: frozenset[str] = frozenset(),
        telemetry: Telemetry | None = None,
        public_url: str | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = Config(default_tz=default_tz, admins=admins, links=Links(base_url=public_url or Links.base_url))
        self._listeners: list[Callable[[], None]] = []
        self.telemetry: Telemetry = telemetry or NoTelemetry()

    @property
    def default_tz(self) -> str:
        return self.config.default_tz

    @property
    def links(self) -> Links:
        """Links to the bot's HTTP listener (shared with the dispatcher)."""
        return self.config.links

    def set_public_url(self, url: str) -> None:
        """Where members reach the HTTP listener (``RAPPORT_PUBLIC_URL``, else where it listens)."""
        self.config.links.base_url = url.rstrip("/")

    async def prepare_links(self) -> None:
        """Loads the key that signs private links (made once, kept in the database)."""
        if self.links.ready:
            return
        for _ in range(2):
            value = await self.recall(KEY_NAME)
            try:
                key = bytes.fromhex(value or "")
            except ValueError:
                key = b""
            if len(key) >= 16:
                self.links.key = key
                return
            # None yet (or a damaged one): make it. Another process may make one at the same
            # moment; theirs stands, and the next round reads it.
            if value is not None:
                log.warning("the signing key for links is damaged; making a new one")
            await self.remember(KEY_NAME, secrets.token_hex(32), replace=value is not None)

    def on_change(self, listener: Callable[[], None]) -> None:
        """``listener`` runs after a command commits (the dispatcher uses it to sweep soon)."""
        self._listeners.append(listener)

    # -- commands, buttons, forms ------------------------------------------------------------

    async def _observed(self, verb: str, actor: Actor, work: Callable[[], Awaitable[Reply]]) -> Reply:
        """Runs an entry point with its verb, platform and workspace on every log line, and
        tells the telemetry how it ended and how long it took (once per entry point)."""
        if _OBSERVING.get():
            return await work()
        token = _OBSERVING.set(True)
        started = time.perf_counter()  # a duration, not a reading of the clock
        try:
            with log_fields(verb=verb, platform=actor.platform, workspace=actor.workspace_id):
                reply = await work()
        finally:
            _OBSERVING.reset(token)
        outcome = (ERROR if reply.text == OOPS else REFUSED) if reply.error else OK
        try:
            self.telemetry.command_finished(verb, actor.platform, outcome, time.perf_counter() - started)
        except Exception:  # an observer must never break a reply
            log.exception("telemetry failed")
        return reply

    async def run_text(self, actor: Actor, text: str, mentions: Mapping[str, str | None] | None = None) -> Reply:
        """Parses and runs one line of the text grammar.

        ``mentions``: the members the platform itself mentioned in ``text`` and the adapter
        checked belong to the actor's community (user id -> display name). A mention-like
        string whose id is not among them is typed text, never a member.
        """
        try:
            command = c.parse(text)
        except UserError as err:
            failed = Reply.fail(err.message, err.field)
            first = (text.split() or ["help"])[0].lower()

            async def refused() -> Reply:
                return failed

            return await self._observed(first if first in c.SPECS else "unknown", actor, refused)
        return await self.execute(actor, command, mentions)

    async def execute(self, actor: Actor, command: c.Command, mentions: Mapping[str, str | None] | None = None) -> Reply:
        """Runs a command in one transaction; a form opens for a bare creating verb."""
        # Names the platform gave with its mentions are stored as members' names: kept clean and short.
        mentions = {uid: c.clean_text(name)[: c.NAME_MAX] if name else name for uid, name in (mentions or {}).items()}
        return await self._observed(command.verb, actor, lambda: self._execute(actor, command, mentions))

    async def _execute(self, actor: Actor, command: c.Command, mentions: Mapping[str, str | None] | None) -> Reply:
        spec = c.SPECS[command.verb]
        if spec.organizers and not self.config.is_organizer(actor):
            return Reply.fail(ORGANIZERS_ONLY)
        if spec.creates and c.is_bare(command):
            form = form_for(command.verb)
            if form is not None:
                return Reply(title=form.title, text=f"Fill in the form, or type it in one line: `{spec.example}`", form=form)
        handler = HANDLERS.get(type(command))
        if handler is None:
            return Reply.fail(f"`{command.verb}` isn't available here yet. Type `/rapport help` for what is.")

        async def body(ctx: Ctx) -> Reply:
            return await handler(ctx, command)

        return await self._run(actor, body, reads=c.reads_only(command), mentions=mentions or {})

    async def press(self, actor: Actor, action_id: str) -> Reply:
        """A button press. Action ids are stable, e.g. ``nudge:done:42``; ``run:<verb>`` runs a
        creating verb with nothing given (its form opens)."""
        return await self._observed("button", actor, lambda: self._press(actor, action_id))

    async def _press(self, actor: Actor, action_id: str) -> Reply:
        try:
            prefix, _, rest = c.check_action_id(action_id).partition(":")
        except UserError as err:
            return Reply.fail(err.message)
        if prefix == "run":
            spec = c.SPECS.get(rest)
            if spec is None or not spec.creates:
                return Reply.fail("That button is no longer in use. Type `/rapport help` for the commands.")
            return await self.execute(actor, spec.cls())
        handler = BUTTONS.get(prefix)
        if handler is None:
            return Reply.fail("That button is no longer in use. Type `/rapport nudges` to see what's open.")
        args = rest.split(":") if rest else []

        async def body(ctx: Ctx) -> Reply:
            return await handler(ctx, args)

        return await self._run(actor, body)

    async def submit(self, actor: Actor, form_id: str, values: Mapping[str, str]) -> Reply:
        """A form submission: ``form:<verb>`` runs the verb with the fields' values."""
        verb = form_id.partition(":")[2].partition(":")[0]
        return await self._observed(verb if verb in c.SPECS else "form", actor, lambda: self._submit(actor, form_id, values))

    async def _submit(self, actor: Actor, form_id: str, values: Mapping[str, str]) -> Reply:
        try:
            kind, _, rest = c.check_action_id(form_id).partition(":")
        except UserError:
            return Reply.fail("That form is no longer in use. Run the command again.")
        values = {k: c.clean_text(str(v)) for k, v in values.items() if v is not None}
        name, _, arg = rest.partition(":")
        form_handler = FORM_HANDLERS.get(name) if kind == "form" else None
        if form_handler is not None:
            clean = {k: str(v).strip() for k, v in values.items() if v is not None and str(v).strip()}
            args = arg.split(":") if arg else []

            async def body(ctx: Ctx) -> Reply:
                return await form_handler(ctx, args, clean)

            return await self._run(actor, body)
        try:
            command = command_from_form(form_id, dict(values))
        except UserError as err:
            return Reply.fail(err.message, err.field)
        return await self.execute(actor, command)

    async def _run(self, actor: Actor, body: Body, *, reads: bool = False, mentions: Mapping[str, str | None] | None = None) -> Reply:
        mentions = mentions or {}
        if reads:
            try:
                reply = await self._read(actor, body, mentions)
            except UserError as err:
                return Reply.fail(err.message, err.field)
            except Exception:
                log.exception("command failed")
                return Reply.fail(OOPS)
            if reply is not None:
                return reply
        return await self._write(actor, body, mentions)

    async def _read(self, actor: Actor, body: Body, mentions: Mapping[str, str | None]) -> Reply | None:
        """Runs a reading command without the write lock; None when it needs the write path
        after all (a new member, a changed profile, a notice to give)."""
        async with self.db.read() as session:
            member = await find_member(session, actor.platform, actor.workspace_id, actor.user_id)
            if member is None or member.dm_failed_notice or profile_changes(member, actor):
                return None
            ctx = Ctx(session, self.config, actor, member, self.clock.now(), mentions, reading=True)
            return await body(ctx)

    async def _write(self, actor: Actor, body: Body, mentions: Mapping[str, str | None]) -> Reply:
        for attempt in range(2):
            try:
                async with self.db.write() as session:
                    now = self.clock.now()
                    member = await member_for(session, actor, now, self.config.default_tz)
                    ctx = Ctx(session, self.config, actor, member, now, mentions)
                    reply = await body(ctx)
                    if member.dm_failed_notice and reply.form is None and member in session:
                        member.dm_failed_notice = False
                        notice = Section(title="I couldn't DM you", text=DM_FAILED.get(actor.platform, DM_FAILED_DEFAULT)
                                         + " `/rapport nudges` shows what's waiting.")
                        reply = replace(reply, sections=(*reply.sections, notice))
                self._notify()
                return replace(reply, changed=True)
            except UserError as err:
                return Reply.fail(err.message, err.field)
            except IntegrityError:
                # Two first commands of a new member raced to create it; the retry finds it.
                if attempt == 0:
                    continue
                log.exception("integrity error running a command")
                break
            except Exception:
                # A bug must not leave the member without an answer; the transaction rolled back.
                log.exception("command failed")
                break
        return Reply.fail(OOPS)

    def _notify(self) -> None:
        for listener in self._listeners:
            try:
                listener()
            except Exception:  # a listener must never break a reply
                log.exception("change listener failed")

    # -- what adapters show and tell ---------------------------------------------------------

    async def home(self, actor: Actor) -> Reply:
        """The member's dashboard (Slack's App Home; a reply elsewhere): goal, upcoming
        nudges, meetings coming up and recent ones. Only reads; creates nobody."""
        await self.prepare_links()
        now = self.clock.now()
        async with self.db.read() as session:
            member = await find_member(session, actor.platform, actor.workspace_id, actor.user_id)
            reply = await home_reply(session, member, now, self.config.default_tz)
            if member is None or not self.links.ready:
                return reply
            has_contacts = await session.scalar(select(ContactRow.id).where(ContactRow.member_id == member.id).limit(1))
        if has_contacts is None:
            return reply
        # A private link, good for a week: the Home is published afresh each time it's opened.
        hour = 3600
        expires = (int((now + MAP_LINK_FOR).timestamp()) // hour + 1) * hour
        button = Button("See your network map", url=self.links.map_url(member.id, expires))
        return replace(reply, buttons=(*reply.buttons, button))

    async def refresh_profile(
        self, platform: str, workspace_ids: Iterable[str], user_id: str, *, display_name: str | None = None, tz: str | None = None
    ) -> int:
        """The platform says a user's name or time zone changed: members Rapport already has
        follow (nobody is created). Returns how many member rows changed."""
        actor_name = (display_name or "")[:100] or None
        changed = 0
        async with self.db.write() as session:
            rows = await session.scalars(
                select(Member).where(
                    Member.platform == platform, Member.workspace_id.in_(list(workspace_ids)), Member.user_id == user_id
                )
            )
            for member in rows:
                changes = profile_changes(member, Actor(platform, member.workspace_id, user_id, actor_name, tz))
                await apply_profile(session, member, changes, self.clock.now(), self.config.default_tz)
                changed += bool(changes)
        return changed

    async def complete_contacts(self, actor: Actor, typed: str, limit: int = 25) -> list[str]:
        """The member's contact names that start with (a word of) ``typed``: autocomplete."""
        key = " ".join(typed.split()).casefold()[:100]
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = (
            select(ContactRow.name)
            .join(Member, Member.id == ContactRow.member_id)
            .where(Member.platform == actor.platform, Member.workspace_id == actor.workspace_id, Member.user_id == actor.user_id)
            .order_by(ContactRow.name_key)
            .limit(limit)
        )
        if key:
            query = query.where(
                or_(ContactRow.name_key.like(f"{escaped}%", escape="\\"), ContactRow.name_key.like(f"% {escaped}%", escape="\\"))
            )
        async with self.db.read() as session:
            return list(await session.scalars(query))

    async def is_member(self, platform: str, workspace_id: str, user_id: str) -> bool:
        """Whether Rapport knows this user in this community."""
        async with self.db.read() as session:
            return await find_member(session, platform, workspace_id, user_id) is not None

    # -- your network: import, map, calendar, drafts by email --------------------------------

    async def import_file(self, actor: Actor, filename: str | None, content: bytes) -> Reply:
        """A contacts file the member shared (Slack: dropped in the DM; Discord: attached to
        ``/rapport import``; the console: ``import path:``). Reads it, and answers with a
        preview and Confirm / Cancel buttons (``import:confirm:<id>``); nothing is added
        before the member confirms. A bad file is a one-line refusal."""
        name = network.clean_filename(filename)
        try:
            people = await asyncio.to_thread(importing.parse_contacts, content, name)
        except UserError as err:
            return Reply.fail(err.message)
        except Exception:
            log.exception("reading an imported file failed")
            return Reply.fail(OOPS)
        source = network.source_of(people, importing.is_vcard(content))

        async def body(ctx: Ctx) -> Reply:
            return await network.preview_import(ctx, name, source, people)

        return await self._run(actor, body)

    async def calendar_feed(self, token: str) -> bytes | None:
        """The .ics feed a calendar subscription fetches; None for a token that opens nothing."""
        async with self.db.read() as session:
            member = await cal.feed_member(session, token)
            if member is None:
                return None
            return await cal.feed(session, member, self.clock.now(), self.config.default_tz, self.links.domain)

    async def map_image(self, member_id: int, expires: int, signature: str) -> bytes | None:
        """The member's current map (PNG) for a signed link (the App Home's); None when the
        link is wrong or has expired."""
        await self.prepare_links()
        if not self.links.verify(signature, "map", member_id, expires) or expires < self.clock.now().timestamp():
            return None
        async with self.db.read() as session:
            member = await session.get(Member, member_id)
            if member is None:
                return None
            name = member.display_name or ""
            contacts = await network.map_contacts(session, member_id)
        return await asyncio.to_thread(network.draw_map, name, contacts)

    async def email_link(self, nudge_id: int, signature: str) -> str | None:
        """The ``mailto:`` URL behind a nudge's "Open in email" link, with the draft as it
        reads now; None when the link is wrong or there is no mail to write."""
        await self.prepare_links()
        if not self.links.verify(signature, "mail", nudge_id):
            return None
        async with self.db.read() as session:
            nudge = await session.get(Nudge, nudge_id)
            member = await session.get(Member, nudge.member_id) if nudge is not None else None
            if nudge is None or member is None:
                return None
            batch = await load_batch(session, [nudge])
            reply = await render(session, nudge, member, batch, self.config.default_tz, self.clock.now())
            contact = batch.contacts.get(nudge.contact_id) if nudge.contact_id else None
            referrer = batch.referrers.get(nudge.contact_id) if nudge.contact_id else None
            return mail.url(reply, nudge, contact, referrer)

    # -- small facts the adapters keep through the core --------------------------------------

    async def recall(self, key: str) -> str | None:
        """A small fact kept in the database (e.g. the hash of the synced Discord commands)."""
        async with self.db.read() as session:
            row = await session.get(Meta, key)
            return row.value if row is not None else None

    async def remember(self, key: str, value: str, *, replace: bool = True) -> None:
        """Keeps ``value`` under ``key``; with ``replace=False``, only if there is none yet."""
        try:
            async with self.db.write() as session:
                row = await session.get(Meta, key)
                if row is None:
                    session.add(Meta(key=key, value=value))
                elif replace:
                    row.value = value
        except IntegrityError:  # another process wrote it at the same moment; theirs stands
            pass

    async def claim_event(self, key: str) -> bool:
        """A platform event or request key: True the first time, in any process (dedupe)."""
        return await dedupe.claim(self.db, key, self.clock.now())

    async def forget_events(self, prefix: str, older_than: dt.timedelta) -> int:
        """Drops recorded keys with ``prefix`` older than ``older_than``."""
        return await dedupe.prune(self.db, prefix, self.clock.now() - older_than)
