"""Outreach: you reached out; they replied."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core import commands as c
from core import drafts, rules
from core import nudges as n
from core.context import Ctx
from core.errors import UserError
from core.handlers.common import advance_status, find_contact, touch
from core.models import Outreach
from core.registry import handles
from core.timeparse import fmt_when, names_time_of_day, parse_when
from core.ui import Reply

EXAMPLE = c.SPECS["reached-out"].example


@handles(c.ReachedOut)
async def reached_out(ctx: Ctx, cmd: c.ReachedOut) -> Reply:
    """Logs an outreach (``when:`` backdates it) and schedules the follow-up: exactly when
    promised, else five days on, on a Tuesday to Thursday. The first outreach to someone
    you were referred to comes with a first message naming the referrer."""
    at = ctx.now
    if cmd.when:
        at = parse_when(cmd.when, ctx.now, ctx.tz, "past", EXAMPLE, field="when", day_time=rules.DAYTIME)
        if at > ctx.now + dt.timedelta(minutes=5):
            raise UserError(f"{fmt_when(at, ctx.tz)} is still to come. `when:` is when you sent it; the follow-up you "
                            f"promised goes in `follow-up:`. Try: `{EXAMPLE}`", field="when")
    promised = None
    if cmd.follow_up:
        promised = parse_when(cmd.follow_up, ctx.now, ctx.tz, "future", EXAMPLE, field="follow-up", day_time=rules.MORNING)
        if promised <= ctx.now:
            raise UserError(f"{fmt_when(promised, ctx.tz)} has already passed; pick a time to come. Try: `{EXAMPLE}`", field="follow-up")
    contact, created = await find_contact(ctx, cmd.name, "reached-out", create=True)
    first = await ctx.session.scalar(select(Outreach.id).where(Outreach.contact_id == contact.id).limit(1)) is None
    outreach = Outreach(member_id=ctx.member.id, contact_id=contact.id, at=at, via=cmd.via,
                        follow_up_promised=promised is not None)
    ctx.session.add(outreach)
    await ctx.session.flush()
    # A newer outreach replaces the follow-ups of older ones to the same person.
    await n.cancel(ctx.session, ctx.member.id, [n.FOLLOW_UP], ctx.now, contact_id=contact.id)
    due = rules.follow_up(at, ctx.now, ctx.who, promised)
    nudge = await n.schedule(ctx.session, ctx.member, n.FOLLOW_UP, due, ctx.now, ctx.default_tz,
                             contact_id=contact.id, outreach_id=outreach.id,
                             payload={"promised": True} if promised else None)
    outreach.follow_up_at = nudge.due_at
    advance_status(contact, "reached-out")
    await touch(ctx, contact, at)
    fields = []
    if cmd.when:
        fields.append(("Sent", fmt_when(at, ctx.tz) + ("" if names_time_of_day(cmd.when) else " (no time given: midday)")))
    if cmd.via:
        fields.append(("Via", cmd.via))
    if promised:
        why = "as you promised them"
    elif nudge.due_at <= ctx.now + dt.timedelta(minutes=1):
        why = "five days have passed since you wrote: follow up today"
    else:
        why = "five days on, on a Tuesday to Thursday, when people are easiest to reach"
    fields.append(("Follow-up", f"{fmt_when(nudge.due_at, ctx.tz)} ({why})"))
    referrer = await drafts.referrer_name(ctx.session, contact)
    title = f"Noted: you reached out to {contact.name}" + (" (new contact)" if created else "")
    context = "No answer yet is normal: people travel and messages get buried. Tell me `replied` when they do."
    if first and referrer and not cmd.when:  # logged as it is sent: the first message may still be to write
        return Reply(
            title=title,
            fields=tuple(fields),
            text=f"If you haven't written yet, here's a first message. It names {referrer} in its first line: "
            "people make time for someone a friend sent.",
            draft=drafts.pitch_draft(ctx.member, contact.name, referrer),
            context=context,
        )
    return Reply(title=title, fields=tuple(fields), context=context)


@handles(c.Replied)
async def replied(ctx: Ctx, cmd: c.Replied) -> Reply:
    """The contact answered: pending follow-ups are cancelled."""
    contact, _ = await find_contact(ctx, cmd.name, "replied")
    waiting = list(
        await ctx.session.scalars(
            select(Outreach).where(Outreach.contact_id == contact.id, Outreach.replied_at.is_(None))
        )
    )
    for outreach in waiting:
        outreach.replied_at = ctx.now
    cancelled = await n.cancel(ctx.session, ctx.member.id, [n.FOLLOW_UP], ctx.now, contact_id=contact.id)
    advance_status(contact, "replied")
    await touch(ctx, contact, ctx.now)
    note = f"I cancelled {cancelled} follow-up reminder{'s' if cancelled != 1 else ''}." if cancelled else "No follow-ups were pending."
    return Reply(
        title=f"{contact.name} replied. Good news!",
        text=note,
        context=f"Next: set a time. `/rapport scheduled {contact.name} when: ...` and I'll send a prep kit the day before.",
    )
