"""Nudge actions: list, done, skip, snooze; and the same as buttons."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core import commands as c
from core import nudges as n
from core import rules
from core.commands import record_id
from core.context import Ctx
from core.errors import UserError
from core.handlers.common import touch
from core.handlers.intros import close_by_ref
from core.models import ContactRow, Meeting, Nudge
from core.registry import handles, on_button
from core.timeparse import fmt_when, parse_duration, parse_when
from core.ui import Field, Form, Reply, Section

SNOOZE_EXAMPLE = c.SPECS["snooze"].example
RECENT = dt.timedelta(days=7)


async def _nudge(ctx: Ctx, raw: str, verb: str) -> Nudge:
    text = raw.strip().lstrip("#")
    if not text.isdigit():
        raise UserError(f"A nudge id is a number, like `12`. `/rapport nudges` shows them: `/rapport {verb} 12`")
    number = record_id(text)
    nudge = await ctx.session.get(Nudge, number) if number is not None else None
    if nudge is None or nudge.member_id != ctx.member.id:
        raise UserError(f"You have no nudge #{text}. `/rapport nudges` lists yours.")
    return nudge


async def _describe(ctx: Ctx, nudge: Nudge) -> str:
    name = None
    if nudge.contact_id:
        name = await ctx.session.scalar(select(ContactRow.name).where(ContactRow.id == nudge.contact_id))
    return n.describe(nudge.kind, name, nudge.payload)


@handles(c.Nudges)
async def list_nudges(ctx: Ctx, cmd: c.Nudges) -> Reply:
    """Open nudges by due time, then the last week's closed ones."""
    rows = list(
        await ctx.session.execute(
            select(Nudge, ContactRow.name)
            .outerjoin(ContactRow, ContactRow.id == Nudge.contact_id)
            .where(Nudge.member_id == ctx.member.id, Nudge.status.in_(n.OPEN))
            .order_by(Nudge.due_at)
            .limit(25)
        )
    )
    recent = list(
        await ctx.session.execute(
            select(Nudge, ContactRow.name)
            .outerjoin(ContactRow, ContactRow.id == Nudge.contact_id)
            .where(Nudge.member_id == ctx.member.id, Nudge.status.in_(n.CLOSED), Nudge.closed_at >= ctx.now - RECENT)
            .order_by(Nudge.closed_at.desc())
            .limit(5)
        )
    )
    sections = []
    for nudge, name in rows:
        title = f"#{nudge.id} {n.describe(nudge.kind, name, nudge.payload)}"
        state = "sent, waiting for you" if nudge.status == "sent" else f"due {fmt_when(nudge.due_at, ctx.tz)}"
        sections.append(Section(title=title, text=state, buttons=n.buttons(nudge.id, nudge.kind)))
    for nudge, name in recent:
        title = f"#{nudge.id} {n.describe(nudge.kind, name, nudge.payload)}"
        sections.append(Section(title=title, text=nudge.status))
    if not sections:
        return Reply(title="No nudges", text="Nothing waiting. Log a meeting or an outreach and I'll line up what comes next.")
    return Reply(
        title=f"Your nudges ({len(rows)} open)",
        sections=tuple(sections),
        context=(f"`/rapport done {rows[0][0].id}` when you've done it, `/rapport snooze {rows[0][0].id} for: 2 days` "
                 f"to see it later, `/rapport skip {rows[0][0].id}` if it isn't needed") if rows else "",
    )


async def _finish(ctx: Ctx, nudge: Nudge, status: str) -> Reply:
    if nudge.status in n.CLOSED:
        return Reply(text=f"#{nudge.id} is already {nudge.status}.")
    what = await _describe(ctx, nudge)
    nudge.status = status
    nudge.closed_at = ctx.now
    nudge.lease_until = None
    extra = ""
    if nudge.kind == n.THANK_YOU and nudge.meeting_id:
        # The thank-you and its last reminder are one job: finishing one ends both.
        await n.cancel(ctx.session, ctx.member.id, [n.THANK_YOU], ctx.now, meeting_id=nudge.meeting_id, status=status)
        if status == "done":
            meeting = await ctx.session.get(Meeting, nudge.meeting_id)
            if meeting is not None and meeting.thanked_at is None:
                meeting.thanked_at = ctx.now
            extra = " That's the note that gets you remembered."
    if nudge.kind == n.CHECK_BACK and nudge.contact_id:
        contact = await ctx.session.get(ContactRow, nudge.contact_id)
        if contact is not None:
            contact.referrals_pending = False
    if status == "done" and nudge.contact_id and nudge.kind in {n.THANK_YOU, n.FOLLOW_UP, n.SECOND_THANK_YOU, n.STAY_IN_TOUCH, n.CHECK_BACK, n.LANDED}:
        contact = await ctx.session.get(ContactRow, nudge.contact_id)
        if contact is not None:
            await touch(ctx, contact, ctx.now)
    word = "Done" if status == "done" else "Skipped"
    return Reply(text=f"{word}: #{nudge.id} {what}.{extra}")


@handles(c.Done)
async def done(ctx: Ctx, cmd: c.Done) -> Reply:
    """Marks a nudge done (a done thank-you marks the meeting thanked); `done R7` closes a request."""
    if cmd.id.strip().lstrip("#")[:1] in ("R", "r"):
        return await close_by_ref(ctx, cmd.id)
    return await _finish(ctx, await _nudge(ctx, cmd.id, "done"), "done")


@handles(c.Skip)
async def skip(ctx: Ctx, cmd: c.Skip) -> Reply:
    """Marks a nudge not needed."""
    return await _finish(ctx, await _nudge(ctx, cmd.id, "skip"), "skipped")


@handles(c.Snooze)
async def snooze(ctx: Ctx, cmd: c.Snooze) -> Reply:
    """Moves a nudge later, never earlier: `for:` a length of time (counted from its due
    time while that is ahead, else from now; one day by default) or `until:` a date. A
    follow-up stays on Tuesday to Thursday unless the member names the time; one the member
    promised the contact moves only with `until:`."""
    nudge = await _nudge(ctx, cmd.id, "snooze")
    if cmd.for_ and cmd.until:
        raise UserError(f"Give `for:` or `until:`, not both. Try: `{SNOOZE_EXAMPLE}`")
    if nudge.status in n.CLOSED:
        return Reply(text=f"#{nudge.id} is already {nudge.status}; nothing to snooze.")
    what = await _describe(ctx, nudge)
    if nudge.kind == n.TIME_CHECK:
        raise UserError(f"#{nudge.id} belongs to your meeting's start, so it can't move. `/rapport skip {nudge.id}` if you don't want it.")
    waiting = nudge.status == "pending" and nudge.due_at > ctx.now
    why = ""
    if cmd.until:
        due = parse_when(cmd.until, ctx.now, ctx.tz, "future", SNOOZE_EXAMPLE, field="until", day_time=rules.MORNING)
        if due <= ctx.now:
            raise UserError(f"{fmt_when(due, ctx.tz)} has already passed. Try: `/rapport snooze {nudge.id} until: tomorrow 9am`", field="until")
        if waiting and due <= nudge.due_at:
            raise UserError(
                f"#{nudge.id} is due {fmt_when(nudge.due_at, ctx.tz)} already; a snooze only moves it later. "
                f"Try: `/rapport snooze {nudge.id} until: {_later_example(nudge, ctx)}`",
                field="until",
            )
        due = rules.deliverable_at(nudge.kind, due, ctx.who)  # a snooze is for later: respect quiet hours
    else:
        if waiting and nudge.kind == n.FOLLOW_UP and (nudge.payload or {}).get("promised"):
            raise UserError(
                f"You told them you'd follow up {fmt_when(nudge.due_at, ctx.tz)}, so I'm keeping that time. "
                f"To change it, say when: `/rapport snooze {nudge.id} until: {_later_example(nudge, ctx)}`"
            )
        by = parse_duration(cmd.for_, SNOOZE_EXAMPLE, field="for") if cmd.for_ else dt.timedelta(days=1)
        due = rules.deliverable_at(nudge.kind, rules.snoozed(nudge.due_at if waiting else ctx.now, ctx.now, ctx.who, by), ctx.who)
        if nudge.kind == n.FOLLOW_UP:
            good = rules.on_good_day(due, ctx.who)
            if good != due:
                why = " Follow-ups land on a Tuesday to Thursday, when people are easiest to reach."
            due = good
    was = nudge.due_at
    nudge.due_at = due
    nudge.status = "pending"
    nudge.attempts = 0
    nudge.lease_until = None
    nudge.lease_owner = None
    nudge.last_error = None
    moved = f" (it was due {fmt_when(was, ctx.tz)})" if waiting else ""
    return Reply(text=f"Snoozed #{nudge.id} {what} until {fmt_when(nudge.due_at, ctx.tz)}{moved}.{why}")


def _later_example(nudge: Nudge, ctx: Ctx) -> str:
    day = rules.local(nudge.due_at, ctx.tz) + dt.timedelta(days=1)
    return f"{day:%Y-%m-%d %H:%M}"


def snooze_form(nudge_id: int) -> Form:
    return Form(
        f"form:snooze:{nudge_id}",
        "Snooze this nudge",
        (
            Field("for", "For how long?", placeholder="1 day, 3 hours, 1 week", max_length=40),
            Field("until", "…or until when?", kind="date", placeholder="Monday 9am", max_length=60),
        ),
        "Snooze",
    )


@on_button("nudge")
async def nudge_button(ctx: Ctx, args: list[str]) -> Reply:
    """``nudge:done:<id>``, ``nudge:skip:<id>``, ``nudge:snooze:<id>`` (opens a form)."""
    if len(args) != 2 or args[0] not in {"done", "skip", "snooze"}:
        raise UserError("That button is no longer in use. `/rapport nudges` shows what's open.")
    action, raw_id = args
    nudge = await _nudge(ctx, raw_id, action)
    if action == "done":
        return await _finish(ctx, nudge, "done")
    if action == "skip":
        return await _finish(ctx, nudge, "skipped")
    if nudge.status in n.CLOSED:
        return Reply(text=f"#{nudge.id} is already {nudge.status}; nothing to snooze.")
    return Reply(
        title=f"Snooze #{nudge.id}",
        text=f"Or type `/rapport snooze {nudge.id} for: 2 days`",
        form=snooze_form(nudge.id),
    )
