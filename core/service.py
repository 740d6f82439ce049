"""The core's front door: adapters hand it an Actor and a command, text, button or form.

One transaction per command: a handler either commits everything it did or, on a
:class:`UserError`, nothing at all.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import commands as c
from core.clock import Clock
from core.db import WriteGate
from core.errors import UserError
from core.models import Community, Member
from core.ports import Platform
from core.rules import MemberTime, parse_clock
from core.telemetry import ERROR, OK, REFUSED, NoTelemetry, Telemetry, log_fields
from core.ui import Reply

log = logging.getLogger(__name__)

OOPS = "Something went wrong saving that; nothing was changed. Please try again."
# Set while an entry point is being observed, so a press that runs a verb counts once.
_OBSERVING: ContextVar[bool] = ContextVar("rapport_observing", default=False)


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the adapter knows them."""

    platform: str
    workspace_id: str
    user_id: str
    display_name: str | None = None
    tz: str | None = None  # the platform's time zone for the user, where it has one
    is_organizer: bool = False


@dataclass
class Ctx:
    """What a handler gets: its session (one transaction), the member, the time."""

    session: AsyncSession
    core: Rapport
    actor: Actor
    member: Member
    now: dt.datetime

    @property
    def tz(self) -> ZoneInfo:
        return member_zone(self.member, self.core.default_tz)

    @property
    def who(self) -> MemberTime:
        return member_time(self.member, self.core.default_tz)

    async def community(self) -> Community:
        return await self.core.community(self.session, self.actor.platform, self.actor.workspace_id, self.now)


def member_zone(member: Member, default_tz: str) -> ZoneInfo:
    for name in (member.tz, member.platform_tz, default_tz):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def member_time(member: Member, default_tz: str) -> MemberTime:
    return MemberTime(
        tz=member_zone(member, default_tz),
        quiet_start=parse_clock(member.quiet_start or "21:00"),
        quiet_end=parse_clock(member.quiet_end or "08:00"),
        stay_in_touch_days=member.stay_in_touch_days or 90,
    )


Handler = Callable[[Ctx, c.Command], Awaitable[Reply]]
HANDLERS: dict[type[c.Command], Handler] = {}


def handles(cls: type[c.Command]):
    """Registers a handler for a command class."""

    def register(fn: Handler) -> Handler:
        HANDLERS[cls] = fn
        return fn

    return register


ButtonHandler = Callable[[Ctx, list[str]], Awaitable[Reply]]
BUTTONS: dict[str, ButtonHandler] = {}


def on_button(prefix: str):
    """Registers a handler for buttons whose action id starts with ``prefix:``."""

    def register(fn: ButtonHandler) -> ButtonHandler:
        BUTTONS[prefix] = fn
        return fn

    return register


FormHandler = Callable[[Ctx, list[str], dict[str, str]], Awaitable[Reply]]
FORM_HANDLERS: dict[str, FormHandler] = {}


def on_form(name: str):
    """Registers a handler for forms ``form:<name>:<args>`` that are not a verb's form."""

    def register(fn: FormHandler) -> FormHandler:
        FORM_HANDLERS[name] = fn
        return fn

    return register


class Rapport:
    """The core service, wired once in ``bot/app.py``."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker,
        clock: Clock,
        default_tz: str = "UTC",
        admins: frozenset[str] = frozenset(),
        gate: WriteGate | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        from core import handlers  # noqa: F401  - registers the handlers

        self.sessionmaker = sessionmaker
        self.gate = gate or WriteGate.for_engine(sessionmaker.kw["bind"])
        self.clock = clock
        self.default_tz = default_tz
        self.admins = admins
        self.platforms: dict[str, Platform] = {}
        self._listeners: list[Callable[[], None]] = []
        self.telemetry: Telemetry = telemetry or NoTelemetry()

    def register_platform(self, name: str, platform: Platform) -> None:
        """Makes a platform's channel posts and conversations available to handlers."""
        self.platforms[name] = platform

    def on_change(self, listener: Callable[[], None]) -> None:
        """``listener`` runs after a command commits (the dispatcher uses it to sweep soon)."""
        self._listeners.append(listener)

    # -- entry points -----------------------------------------------------------------

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

    async def run_text(self, actor: Actor, text: str) -> Reply:
        """Parses and runs one line of the text grammar."""
        try:
            command = c.parse(text)
        except UserError as err:
            message, first = err.message, (text.split() or ["help"])[0].lower()
            return await self._observed(first if first in c.SPECS else "unknown", actor, lambda: _fail(message))
        return await self.execute(actor, command)

    async def execute(self, actor: Actor, command: c.Command) -> Reply:
        """Runs a command in one transaction; a form opens for a bare creating verb."""
        return await self._observed(command.verb, actor, lambda: self._execute(actor, command))

    async def _execute(self, actor: Actor, command: c.Command) -> Reply:
        from core.forms import form_for

        spec = c.SPECS[command.verb]
        if spec.creates and c.is_bare(command):
            form = form_for(command.verb)
            if form is not None:
                return Reply(
                    title=form.title,
                    text=f"Fill in the form, or type it in one line: `{spec.example}`",
                    form=form,
                )
        handler = HANDLERS.get(type(command))
        if handler is None:
            return Reply.fail(f"`{command.verb}` isn't available here yet. Type `/rapport help` for what is.")
        return await self._in_transaction(actor, lambda ctx: handler(ctx, command))

    async def press(self, actor: Actor, action_id: str) -> Reply:
        """A button press. Action ids are stable, e.g. ``nudge:done:42``."""
        return await self._observed("button", actor, lambda: self._press(actor, action_id))

    async def _press(self, actor: Actor, action_id: str) -> Reply:
        prefix, _, rest = action_id.partition(":")
        handler = BUTTONS.get(prefix)
        if handler is None:
            return Reply.fail("That button is no longer in use. Type `/rapport nudges` to see what's open.")
        args = rest.split(":") if rest else []
        return await self._in_transaction(actor, lambda ctx: handler(ctx, args))

    async def submit(self, actor: Actor, form_id: str, values: dict[str, str]) -> Reply:
        """A form submission: ``form:<verb>`` runs the verb with the fields' values."""
        verb = form_id.partition(":")[2].partition(":")[0]
        return await self._observed(verb if verb in c.SPECS else "form", actor, lambda: self._submit(actor, form_id, values))

    async def _submit(self, actor: Actor, form_id: str, values: dict[str, str]) -> Reply:
        from core.forms import command_from_form

        kind, _, rest = form_id.partition(":")
        name, _, arg = rest.partition(":")
        handler = FORM_HANDLERS.get(name) if kind == "form" else None
        if handler is not None:
            clean = {k: str(v).strip() for k, v in values.items() if v is not None and str(v).strip()}
            args = arg.split(":") if arg else []
            return await self._in_transaction(actor, lambda ctx: handler(ctx, args, clean))
        try:
            command = command_from_form(form_id, values)
        except UserError as err:
            return Reply.fail(err.message)
        return await self.execute(actor, command)

    async def _in_transaction(self, actor: Actor, body: Callable[[Ctx], Awaitable[Reply]]) -> Reply:
        for attempt in range(2):
            try:
                async with self.gate, self.sessionmaker() as session:
                    async with session.begin():
                        now = self.clock.now()
                        member = await self.member(session, actor, now)
                        ctx = Ctx(session=session, core=self, actor=actor, member=member, now=now)
                        reply = await body(ctx)
                self._notify()
                return reply
            except UserError as err:
                return Reply.fail(err.message)
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

    # -- members and communities -----------------------------------------------------

    async def member(self, session: AsyncSession, actor: Actor, now: dt.datetime) -> Member:
        """Finds or creates the acting member; keeps name and platform time zone fresh."""
        member = await session.scalar(
            select(Member).where(
                Member.platform == actor.platform,
                Member.workspace_id == actor.workspace_id,
                Member.user_id == actor.user_id,
            )
        )
        if member is None:
            member = Member(
                platform=actor.platform,
                workspace_id=actor.workspace_id,
                user_id=actor.user_id,
                display_name=actor.display_name,
                platform_tz=actor.tz,
                quiet_start="21:00",
                quiet_end="08:00",
                stay_in_touch_days=90,
                digest=True,
                created_at=now,
            )
            session.add(member)
            await session.flush()
            from core.nudges import schedule_digest

            await schedule_digest(session, member, now, self.default_tz)
        else:
            if actor.display_name and member.display_name != actor.display_name:
                member.display_name = actor.display_name
            if actor.tz and member.platform_tz != actor.tz:
                member.platform_tz = actor.tz
        return member

    async def community(self, session: AsyncSession, platform: str, workspace_id: str, now: dt.datetime) -> Community:
        row = await session.scalar(
            select(Community).where(Community.platform == platform, Community.workspace_id == workspace_id)
        )
        if row is None:
            row = Community(platform=platform, workspace_id=workspace_id, created_at=now)
            session.add(row)
            await session.flush()
        return row

    def is_organizer(self, actor: Actor) -> bool:
        return actor.is_organizer or actor.user_id in self.admins


async def _fail(message: str) -> Reply:
    return Reply.fail(message)
