"""What a nudge says when it is sent: one line of why, a draft where one fits, and actions.

Rendering happens at delivery time, so a draft reflects what the member has done since the
nudge was created (the one-month note lists what happened in the month).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import drafts
from core import nudges as n
from core.models import ContactRow, IntroRequest, Meeting, Nudge, Outreach
from core.rules import member_zone
from core.timeparse import fmt_when
from core.ui import Button, Reply, Section
from core.views import ContactInfo, MeetingInfo, MemberInfo, NudgeInfo


@dataclass
class Batch:
    """Rows a batch of nudges points at, loaded with a few queries for the whole batch."""

    contacts: dict[int, ContactInfo] = field(default_factory=dict)
    meetings: dict[int, MeetingInfo] = field(default_factory=dict)
    referred: dict[int, list[str]] = field(default_factory=dict)  # contact id -> names they referred
    referrers: dict[int, str] = field(default_factory=dict)  # contact id -> who referred them


async def load_batch(session: AsyncSession, nudges: Sequence[NudgeInfo]) -> Batch:
    """Loads, as plain rows, the contacts and meetings the nudges point at."""
    batch = Batch()
    contact_ids = {x.contact_id for x in nudges if x.contact_id}
    meeting_ids = {x.meeting_id for x in nudges if x.meeting_id}
    if contact_ids:
        for row in await session.execute(select(*ContactRow.__table__.c).where(ContactRow.id.in_(contact_ids))):
            batch.contacts[row.id] = cast(ContactInfo, row)
        needs_referred = {x.contact_id for x in nudges if x.kind == n.THANK_YOU and x.contact_id}
        if needs_referred:
            for ref_by, name in await session.execute(
                select(ContactRow.referred_by_contact_id, ContactRow.name)
                .where(ContactRow.referred_by_contact_id.in_(needs_referred))
                .order_by(ContactRow.id)
            ):
                if ref_by is not None:
                    batch.referred.setdefault(ref_by, []).append(name)
        for contact in list(batch.contacts.values()):
            if contact.referred_by_contact_id or contact.referred_by_member_id:
                referrer = await drafts.referrer_name(session, contact)
                if referrer:
                    batch.referrers[contact.id] = referrer
    if meeting_ids:
        for row in await session.execute(select(*Meeting.__table__.c).where(Meeting.id.in_(meeting_ids))):
            batch.meetings[row.id] = cast(MeetingInfo, row)
    return batch


WHY = {
    n.THANK_YOU: "Thank them within 24 hours, that night: it reinforces the impression you made (000, 003).",
    n.UPDATE_REFERRER: "Tell the person who referred you that you met: they'll be glad, and they'll refer again (000).",
    n.CHECK_BACK: "They were thinking about whom to suggest. Checking back in a few days is expected (003).",
    n.SECOND_THANK_YOU: "About a month on, a second, longer thank-you saying what you did since (002).",
    n.FOLLOW_UP: "Follow up exactly when you said you would; no answer yet usually just means busy (003).",
    n.PREP: "Prepare: your questions, your two asks, be ten to fifteen minutes early with a notebook (003).",
    n.TIME_CHECK: "Twenty minutes are nearly up. Let them know; if they invite you to stay, great (003).",
    n.STAY_IN_TOUCH: "Checking in occasionally is smart, and expected (000).",
    n.LANDED: "Tell everyone who helped where you landed: they'll feel pride in your success (000).",
    n.INTRO_STALE: "A week without an offer usually means the ask is too broad.",
}


async def render(session: AsyncSession, nudge: NudgeInfo, member: MemberInfo, batch: Batch, default_tz: str, now: dt.datetime) -> Reply:
    """The message for one nudge."""
    tz = member_zone(member, default_tz)
    contact = batch.contacts.get(nudge.contact_id) if nudge.contact_id else None
    meeting = batch.meetings.get(nudge.meeting_id) if nudge.meeting_id else None
    payload = nudge.payload or {}
    buttons = n.buttons(nudge.id)
    why = WHY.get(nudge.kind, "")
    name = contact.name if contact else "them"

    if nudge.kind == n.NOTICE:
        return Reply(
            title=payload.get("title", "News from your community"),
            text=payload.get("text", ""),
            draft=payload.get("draft", ""),
            buttons=tuple(drafts_buttons(payload)),
        )
    if nudge.kind == n.DIGEST:
        return await _digest(session, member, tz, now)
    if nudge.kind == n.THANK_YOU and contact is not None:
        title = f"Last call: thank {name}" if payload.get("last") else f"Time to thank {name}"
        if payload.get("last"):
            why = "It's been almost a day. A short note now still counts; tomorrow it's late (000 tip 4)."
        draft = drafts.thank_you_draft(member, contact, meeting, batch.referred.get(contact.id, []), tz, now)
        return Reply(title=title, text=why, draft=draft, buttons=buttons, context=_ctx(nudge))
    if nudge.kind == n.UPDATE_REFERRER and contact is not None:
        referrer = batch.referrers.get(contact.id, "your referrer")
        draft = drafts.update_referrer_draft(member, referrer, contact, meeting, tz, now)
        return Reply(title=f"Tell {referrer} you met {name}", text=why, draft=draft, buttons=buttons, context=_ctx(nudge))
    if nudge.kind == n.CHECK_BACK and contact is not None:
        draft = drafts.check_back_draft(member, contact, meeting, tz)
        return Reply(title=f"Check back with {name} about referrals", text=why, draft=draft, buttons=buttons, context=_ctx(nudge))
    if nudge.kind == n.SECOND_THANK_YOU and contact is not None:
        since = await month_since(session, member.id, contact, meeting.at if meeting else nudge.created_at)
        draft = drafts.second_thank_you_draft(member, contact, meeting, since)
        return Reply(title=f"A month since you met {name}: a second thank-you", text=why, draft=draft, buttons=buttons, context=_ctx(nudge))
    if nudge.kind == n.FOLLOW_UP and contact is not None:
        outreach = await session.get(Outreach, nudge.outreach_id) if nudge.outreach_id else None
        draft = drafts.follow_up_draft(member, contact, outreach.at if outreach else None, batch.referrers.get(contact.id), tz)
        return Reply(title=f"Follow up with {name}", text=why, draft=draft, buttons=buttons, context=_ctx(nudge))
    if nudge.kind == n.PREP and contact is not None:
        kit = drafts.prep_kit(member, contact, batch.referrers.get(contact.id), await drafts.held_meetings(session, contact.id), tz)
        when = f"You meet {name} {fmt_when(meeting.at, tz)}" + (f" at {meeting.where}" if meeting and meeting.where else "") if meeting else ""
        return Reply(title=f"Prepare for {name}", text=(when + ". " if when else "") + why, fields=kit.fields,
                     sections=kit.sections, buttons=buttons, context=_ctx(nudge))
    if nudge.kind == n.TIME_CHECK:
        return Reply(title=f"Twenty minutes with {name} are nearly up", text=why + " Before you go: the two asks.",
                     sections=(Section(title="The two asks", text="\n".join(f"• {q}" for q in drafts.TWO_ASKS)),),
                     buttons=buttons, context=_ctx(nudge))
    if nudge.kind == n.STAY_IN_TOUCH and contact is not None:
        held = await drafts.held_meetings(session, contact.id)
        draft = drafts.stay_in_touch_draft(member, contact, held[-1] if held else None)
        return Reply(title=f"Stay in touch with {name}", text=why, draft=draft, buttons=buttons, context=_ctx(nudge))
    if nudge.kind == n.LANDED and contact is not None:
        chain = await drafts.referral_chain(session, contact)
        draft = drafts.landed_draft(member, contact, member.landed_text or "[your new role]", chain)
        return Reply(title=f"Tell {name} where you landed", text=why, draft=draft, buttons=buttons, context=_ctx(nudge))
    if nudge.kind == n.INTRO_STALE and nudge.intro_request_id:
        request = await session.get(IntroRequest, nudge.intro_request_id)
        ask = request.what if request else "your request"
        return Reply(
            title="No offers yet on your intro request",
            text=f"“{ask}” has been up a week. {why} Try naming a company, a role or a city, "
            "or ask one person directly with `/rapport intro @member`.",
            buttons=buttons,
            context=_ctx(nudge),
        )
    # A nudge whose contact was deleted, or a kind this version doesn't know: still say something.
    return Reply(title=n.KIND_LABELS.get(nudge.kind, "A reminder"), text=why, buttons=buttons, context=_ctx(nudge))


def drafts_buttons(payload: dict[str, Any]) -> Iterator[Button]:
    for b in payload.get("buttons", []):
        yield Button(b["label"], b["action_id"], b.get("style", "default"), b.get("command", ""))


def _ctx(nudge: NudgeInfo) -> str:
    return f"Nudge #{nudge.id}"


async def month_since(session: AsyncSession, member_id: int, contact: ContactInfo, since: dt.datetime) -> drafts.MonthSince:
    """What the member did after meeting ``contact``, for the one-month note."""
    result = drafts.MonthSince()
    advised = await session.execute(
        select(ContactRow.name)
        .join(Meeting, Meeting.contact_id == ContactRow.id)
        .where(
            ContactRow.referred_by_contact_id == contact.id,
            Meeting.status == "held",
            Meeting.at > since,
        )
        .group_by(ContactRow.id, ContactRow.name)
    )
    result.met_on_advice = [row[0] for row in advised]
    result.other_meetings = max(
        0,
        (await session.scalar(
            select(func.count(Meeting.id)).where(
                Meeting.member_id == member_id, Meeting.status == "held", Meeting.at > since, Meeting.contact_id != contact.id
            )
        ) or 0) - len(result.met_on_advice),
    )
    result.new_contacts = await session.scalar(
        select(func.count(ContactRow.id)).where(ContactRow.member_id == member_id, ContactRow.created_at > since)
    ) or 0
    result.outreach = await session.scalar(
        select(func.count(func.distinct(Outreach.contact_id))).where(Outreach.member_id == member_id, Outreach.at > since)
    ) or 0
    return result


async def _digest(session: AsyncSession, member: MemberInfo, tz: ZoneInfo, now: dt.datetime) -> Reply:
    week = dt.timedelta(days=7)
    upcoming = list(
        await session.execute(
            select(Nudge, ContactRow.name)
            .outerjoin(ContactRow, ContactRow.id == Nudge.contact_id)
            .where(Nudge.member_id == member.id, Nudge.status.in_(n.OPEN), Nudge.kind != n.DIGEST, Nudge.due_at < now + week)
            .order_by(Nudge.due_at)
            .limit(15)
        )
    )
    waiting = list(
        await session.execute(
            select(Outreach, ContactRow.name)
            .join(ContactRow, ContactRow.id == Outreach.contact_id)
            .where(Outreach.member_id == member.id, Outreach.replied_at.is_(None))
            .order_by(Outreach.at)
            .limit(15)
        )
    )
    met = list(
        await session.execute(
            select(Meeting, ContactRow.name)
            .join(ContactRow, ContactRow.id == Meeting.contact_id)
            .where(Meeting.member_id == member.id, Meeting.status == "held", Meeting.at >= now - week)
            .order_by(Meeting.at)
        )
    )
    sections = []

    def line(kind: str, name: str | None, due: dt.datetime) -> str:
        return f"• {n.KIND_LABELS.get(kind, kind)}" + (f": {name}" if name else "") + f" ({fmt_when(due, tz)})"

    if upcoming:
        sections.append(Section(title="This week's nudges", text="\n".join(line(x.kind, nm, x.due_at) for x, nm in upcoming)))
    if waiting:
        sections.append(Section(title="Waiting for a reply", text="\n".join(f"• {nm} (since {fmt_when(o.at, tz)})" for o, nm in waiting)))
    if met:
        sections.append(Section(title="Last week's meetings", text="\n".join(f"• {nm} ({fmt_when(m.at, tz)})" for m, nm in met)))
    text = (
        "Here's your week." if sections else
        "A quiet week ahead. One new conversation is enough to get things moving: who could you ask for twenty minutes?"
    )
    if member.goal:
        text += f" Your goal: {member.goal}."
    return Reply(title="Your weekly Rapport digest", text=text, sections=tuple(sections),
                 context="Turn this off with `/rapport settings digest: off`.")
