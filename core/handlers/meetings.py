"""Meetings: log one that happened, schedule one that's coming, prepare for it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from core import commands as c
from core import drafts, rules
from core import nudges as n
from core.calendar import meeting_file
from core.context import Ctx
from core.errors import UserError
from core.handlers.common import (
    advance_status,
    find_contact,
    new_contact,
    split_names,
    touch,
    yes_no,
)
from core.handlers.common import matches as name_matches
from core.models import ContactRow, Meeting, Nudge, Outreach
from core.registry import handles
from core.timeparse import fmt_when, names_time_of_day, parse_when
from core.ui import Reply

LOG_EXAMPLE = c.SPECS["log"].example
SCHEDULED_EXAMPLE = c.SPECS["scheduled"].example
FUTURE_SLACK = dt.timedelta(minutes=5)


@handles(c.Log)
async def log_meeting(ctx: Ctx, cmd: c.Log) -> Reply:
    """Logs a held meeting and lines up thank-you, referrer update, check-back, one-month note."""
    at = ctx.now
    when_note = ""
    if cmd.when:
        at = parse_when(cmd.when, ctx.now, ctx.tz, "past", LOG_EXAMPLE, field="when", day_time=rules.DAYTIME)
        if at > ctx.now + FUTURE_SLACK:
            when = cmd.when if names_time_of_day(cmd.when) else f"{cmd.when} 12:30"
            raise UserError(
                f"{fmt_when(at, ctx.tz)} is still to come. For an upcoming meeting use "
                f"`/rapport scheduled {cmd.name} when: {when}`",
                field="when",
            )
        if not names_time_of_day(cmd.when):
            when_note = " (no time given: I've put it at midday; add one like `yesterday 3pm`)" if at < ctx.now else " (no time given: I've used now)"
    thanked = yes_no(cmd.thanked, "thanked", LOG_EXAMPLE) if cmd.thanked else False
    pending_referrals = bool(cmd.referrals and cmd.referrals.strip().lower() == "pending")
    referral_names = [] if pending_referrals or not cmd.referrals else split_names(cmd.referrals)
    for name in referral_names:
        if len(name) > c.NAME_MAX:
            raise UserError(f"A referral name is over {c.NAME_MAX} characters. Separate names with commas: `{LOG_EXAMPLE}`")

    contact, created = await find_contact(ctx, cmd.name, "log", create=True)
    if cmd.company:
        contact.company = cmd.company
    if cmd.role:
        contact.role = cmd.role

    meeting = await _scheduled_meeting(ctx, contact, at, given=bool(cmd.when))
    if meeting is not None:
        # The meeting that was on the calendar: it happened. One meeting, one set of nudges.
        if not cmd.when and meeting.at <= ctx.now:
            at = meeting.at
            when_note = " (as scheduled)"
        meeting.status = "held"
        meeting.at = at
        await n.cancel(ctx.session, ctx.member.id, [n.PREP, n.TIME_CHECK], ctx.now, meeting_id=meeting.id)
    else:
        meeting = Meeting(member_id=ctx.member.id, contact_id=contact.id, at=at, status="held", created_at=ctx.now)
        ctx.session.add(meeting)
    meeting.notes = cmd.notes
    meeting.opportunities = cmd.opportunities
    meeting.thanked_at = ctx.now if thanked else None
    await ctx.session.flush()

    advance_status(contact, "met")
    # Meeting them answers any outreach still waiting.
    await n.cancel(ctx.session, ctx.member.id, [n.FOLLOW_UP], ctx.now, contact_id=contact.id)
    for outreach in await ctx.session.scalars(
        select(Outreach).where(Outreach.contact_id == contact.id, Outreach.replied_at.is_(None))
    ):
        outreach.replied_at = at
    await touch(ctx, contact, at)

    upcoming: list[tuple[str, dt.datetime, str]] = []
    tz_default = ctx.default_tz

    async def plan(kind: str, due: dt.datetime, payload: dict[str, Any] | None = None) -> None:
        nudge = await n.schedule(
            ctx.session, ctx.member, kind, due, ctx.now, tz_default,
            contact_id=contact.id, meeting_id=meeting.id, payload=payload,
        )
        named = kind == n.UPDATE_REFERRER or bool((payload or {}).get("last"))
        upcoming.append((kind, nudge.due_at, n.describe(kind, contact.name, payload) if named else n.KIND_LABELS[kind]))

    if not thanked:
        due, last = rules.thank_you(at, ctx.now, ctx.who)
        await plan(n.THANK_YOU, due)
        if last is not None:
            await plan(n.THANK_YOU, last, payload={"last": True})
    referrer = await drafts.referrer_name(ctx.session, contact)
    if referrer:
        await plan(n.UPDATE_REFERRER, rules.update_referrer(at, ctx.now, ctx.who), payload={"referrer": referrer})
    if pending_referrals:
        contact.referrals_pending = True
        await plan(n.CHECK_BACK, rules.check_back(at, ctx.now))
    await plan(n.SECOND_THANK_YOU, rules.second_thank_you(at, ctx.now))

    referred: list[str] = []
    for name in referral_names:
        referred.append(await _add_referral(ctx, contact, name))
    if referral_names:
        contact.referrals_pending = False
        await n.cancel(ctx.session, ctx.member.id, [n.CHECK_BACK], ctx.now, contact_id=contact.id)

    fields: list[tuple[str, str]] = [("When", fmt_when(at, ctx.tz) + when_note)]
    if contact.company:
        fields.append(("Company", contact.company))
    if referred:
        fields.append(("Referrals", "; ".join(referred)))
    if pending_referrals:
        fields.append(("Referrals", "pending: I'll remind you to check back in three days"))
    if thanked:
        fields.append(("Thank-you", "already sent. Nicely done."))
    for _, due, label in sorted(upcoming, key=lambda item: item[1]):
        fields.append((label, fmt_when(due, ctx.tz)))
    title = f"Logged your meeting with {contact.name}" + (" (new contact)" if created else "")
    thank_now = any(kind == n.THANK_YOU and due <= ctx.now for kind, due, _ in upcoming)
    tip = drafts.after_meeting_tip(thanked, thank_now, noted=bool(cmd.notes))
    return Reply(title=title, fields=tuple(fields), context=tip)


async def _scheduled_meeting(ctx: Ctx, contact: ContactRow, at: dt.datetime, *, given: bool) -> Meeting | None:
    """The scheduled meeting a log is about: the one nearest the time given (within three
    days), or, with no time given, the latest one that has started (within two weeks)."""
    rows = list(await ctx.session.scalars(
        select(Meeting).where(Meeting.contact_id == contact.id, Meeting.status == "scheduled").order_by(Meeting.at)
    ))
    if given:
        near = [m for m in rows if abs(m.at - at) <= dt.timedelta(days=3)]
        return min(near, key=lambda m: abs(m.at - at)) if near else None
    started = [m for m in rows if ctx.now - dt.timedelta(days=14) <= m.at <= ctx.now + FUTURE_SLACK]
    if started:
        return started[-1]
    soon = [m for m in rows if m.at - ctx.now <= dt.timedelta(hours=36)]  # met earlier than planned
    return soon[0] if soon else None


async def _add_referral(ctx: Ctx, referrer: ContactRow, name: str) -> str:
    """A person the contact suggested: a new contact referred by them, or an existing one updated."""
    found = await name_matches(ctx, name)
    if len(found) == 1:
        existing = found[0]
        if existing.id == referrer.id:
            return f"{existing.name} (that's who you met)"
        if existing.referred_by_contact_id is None and existing.referred_by_member_id is None:
            existing.referred_by_contact_id = referrer.id
            return f"{existing.name} (already a contact; now referred by {referrer.name})"
        return f"{existing.name} (already a contact)"
    contact = new_contact(ctx, name)
    contact.referred_by_contact_id = referrer.id
    ctx.session.add(contact)
    await ctx.session.flush()
    return f"{contact.name} (new contact, referred by {referrer.name})"


@handles(c.Scheduled)
async def schedule_meeting(ctx: Ctx, cmd: c.Scheduled) -> Reply:
    """An upcoming meeting: a prep nudge before it, a twenty-minute check during it, and
    ``meeting.ics`` to add it to a calendar.

    One meeting is scheduled per contact at a time: scheduling a contact who has a meeting
    still scheduled (not yet logged) moves that meeting, with its nudges, and the .ics
    keeps its UID with a higher SEQUENCE, so calendars move the event they have.
    """
    if not cmd.when:
        raise UserError(f"When is it? Add `when:`. Try: `{SCHEDULED_EXAMPLE}`", field="when")
    start = parse_when(cmd.when, ctx.now, ctx.tz, "future", SCHEDULED_EXAMPLE, field="when")
    if start <= ctx.now:
        raise UserError(
            f"{fmt_when(start, ctx.tz)} has already passed. If you met, log it: "
            f"`/rapport log {cmd.name} when: {cmd.when}`",
            field="when",
        )
    if not names_time_of_day(cmd.when):
        day = start.astimezone(ctx.tz)
        raise UserError(
            f"What time on {day:%a} {day.day} {day:%b}? I need it for your prep kit and the twenty-minute check: "
            f"`/rapport scheduled {cmd.name} when: {cmd.when} 12:30`",
            field="when",
        )
    contact, created = await find_contact(ctx, cmd.name, "scheduled", create=True)
    meeting = None if created else await ctx.session.scalar(
        select(Meeting)
        .where(Meeting.contact_id == contact.id, Meeting.status == "scheduled")
        .order_by(Meeting.at.desc())
        .limit(1)
    )
    moved_from: dt.datetime | None = None
    unchanged = False
    if meeting is None:
        meeting = Meeting(
            member_id=ctx.member.id, contact_id=contact.id, at=start, status="scheduled",
            where=cmd.where, created_at=ctx.now, sequence=0,
        )
        ctx.session.add(meeting)
        await ctx.session.flush()
    else:
        unchanged = meeting.at == start and (not cmd.where or cmd.where == meeting.where)
        if not unchanged:
            moved_from = meeting.at if meeting.at != start else None
            meeting.at = start
            if cmd.where:
                meeting.where = cmd.where
            meeting.sequence = (meeting.sequence or 0) + 1
            await n.cancel(ctx.session, ctx.member.id, [n.PREP, n.TIME_CHECK], ctx.now, meeting_id=meeting.id)
    advance_status(contact, "scheduled")
    await n.cancel(ctx.session, ctx.member.id, [n.FOLLOW_UP], ctx.now, contact_id=contact.id)
    await touch(ctx, contact, ctx.now)
    fields = [("When", fmt_when(start, ctx.tz))]
    if moved_from is not None:
        fields.append(("Was", fmt_when(moved_from, ctx.tz)))
    if meeting.where:
        fields.append(("Where", meeting.where))
    prep_at: dt.datetime | None = None
    if unchanged:
        prep_at = await ctx.session.scalar(
            select(Nudge.due_at).where(Nudge.meeting_id == meeting.id, Nudge.kind == n.PREP, Nudge.status.in_(n.OPEN))
        )
    else:
        prep_due = rules.prep(start, ctx.now, ctx.who)
        if prep_due is not None:
            nudge = await n.schedule(ctx.session, ctx.member, n.PREP, prep_due, ctx.now, ctx.default_tz,
                                     contact_id=contact.id, meeting_id=meeting.id)
            prep_at = nudge.due_at
            fields.append(("Prep kit", fmt_when(nudge.due_at, ctx.tz)))
        check_due = rules.time_check(start, ctx.now)
        if check_due is not None:
            nudge = await n.schedule(ctx.session, ctx.member, n.TIME_CHECK, check_due, ctx.now, ctx.default_tz,
                                     contact_id=contact.id, meeting_id=meeting.id)
            fields.append(("Twenty-minute check", fmt_when(nudge.due_at, ctx.tz)))
    ics_file = meeting_file(meeting, contact.name, ctx.tz, prep_at, ctx.config.links.domain, ctx.now)
    if unchanged:
        title = f"Your meeting with {contact.name} is already on the calendar then"
    elif moved_from is not None or meeting.sequence:
        title = f"Moved your meeting with {contact.name}"
    else:
        title = f"Meeting with {contact.name} is on the calendar" + (" (new contact)" if created else "")
    return Reply(
        title=title,
        fields=tuple(fields),
        files=(ics_file,),
        context="Ask for twenty minutes and keep to it. Be there ten minutes early, notebook in hand. "
        "Open meeting.ics to put it in your calendar; if it moves, schedule it again and the event moves too.",
    )


@handles(c.Prep)
async def prep(ctx: Ctx, cmd: c.Prep) -> Reply:
    """The prep kit, with the contact's context when one is named."""
    contact = None
    history: list[Meeting] = []
    referrer = None
    if cmd.name:
        contact, _ = await find_contact(ctx, cmd.name, "prep")
        history = list(
            await ctx.session.scalars(
                select(Meeting).where(Meeting.contact_id == contact.id, Meeting.status == "held").order_by(Meeting.at)
            )
        )
        referrer = await drafts.referrer_name(ctx.session, contact)
    return drafts.prep_kit(ctx.member, contact, referrer, history, ctx.tz)
