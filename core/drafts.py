"""The drafts and the coach's copy, grounded in the seeds (000, 001, 002, 003).

Drafts are plain text a member copies, edits and sends. Warm, short, specific: they use
the member's notes and name the referrer, and they never ask for a job.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import ContactRow, Meeting, Member
from core.ui import Reply, Section
from core.views import ContactInfo, MeetingInfo, MemberInfo

QUESTIONS = (
    "How did you get started in your role and in this field?",
    "What do you like best, and least, about the work?",
    "What does it take to do well here? Which skills matter most?",
    "From what you've heard of me, what are my strengths, and where should I grow?",
    "Which books, articles or professional groups would you recommend?",
)
TWO_ASKS = (
    "Have you heard of any current or upcoming opportunities that match my goals and skills?",
    "Can you recommend two or three other people I could talk with about the field?",
)
GOLDEN_RULES = (
    "Never ask for a job. You're there to learn and to be remembered.",
    "Ask for twenty minutes and keep to it; offer to stop when time is up.",
    "Be ten to fifteen minutes early, with a notebook and pen.",
    "Take notes, and thank them within 24 hours, that night.",
)


def first_name(name: str) -> str:
    return name.split()[0] if name.split() else name


def sign(member: MemberInfo) -> str:
    return member.display_name or "[your name]"


_LEAD_INS = re.compile(
    r"^(?:we\s+)?(?:talked|spoke|chatted|discussed|covered|went over)(?:\s+(?:about|through|over))?\s+"
    r"|^about\s+",
    re.IGNORECASE,
)


def topic_of(notes: str | None, limit: int = 90) -> str | None:
    """The gist of a meeting's notes for a draft: "talked about SEO" -> "SEO"."""
    if not notes:
        return None
    first = re.split(r"(?<=[.!?])\s|\n", notes.strip(), maxsplit=1)[0].strip().rstrip(".!?")
    first = _LEAD_INS.sub("", first).strip()
    if not first:
        return None
    if len(first) > limit:
        first = first[:limit].rsplit(" ", 1)[0] + "…"
    return first


def after_meeting_tip(thanked: bool, thank_now: bool) -> str:
    if thanked:
        return "Jot down anything else you remember while it's fresh."
    if thank_now:
        return "Send your thank-you today, while it still counts: I've put a draft in your DMs."
    return "Write your notes now while it's fresh; send your thank-you tonight (I'll remind you with a draft)."


async def referrer_name(session: AsyncSession, contact: ContactInfo) -> str | None:
    """Who referred this contact: another contact, or a community member."""
    if contact.referred_by_contact_id:
        referrer = await session.get(ContactRow, contact.referred_by_contact_id)
        if referrer is not None:
            return referrer.name
    if contact.referred_by_member_id:
        member = await session.get(Member, contact.referred_by_member_id)
        if member is not None:
            return member.display_name or "a community member"
    return None


async def referral_chain(session: AsyncSession, contact: ContactInfo, limit: int = 10) -> list[str]:
    """Names from the contact back to the first referrer: ["Bob Li", "Jane Doe", "Ana (member)"]."""
    chain = [contact.name]
    seen = {contact.id}
    current = contact
    for _ in range(limit):
        if current.referred_by_contact_id and current.referred_by_contact_id not in seen:
            nxt = await session.get(ContactRow, current.referred_by_contact_id)
            if nxt is None:
                break
            chain.append(nxt.name)
            seen.add(nxt.id)
            current = nxt
            continue
        if current.referred_by_member_id:
            m = await session.get(Member, current.referred_by_member_id)
            if m is not None:
                chain.append(f"{m.display_name or 'a member'} (community)")
        break
    return chain


def prep_kit(member: MemberInfo, contact: ContactInfo | None, referrer: str | None, history: Sequence[MeetingInfo], tz: ZoneInfo) -> Reply:
    """Questions, the two asks, the golden rules, and what you know of the contact."""
    sections = [
        Section(title="Questions to bring", text="\n".join(f"• {q}" for q in QUESTIONS)),
        Section(title="The two asks, before you leave", text="\n".join(f"• {q}" for q in TWO_ASKS)),
        Section(title="Golden rules", text="\n".join(f"• {r}" for r in GOLDEN_RULES)),
    ]
    fields: list[tuple[str, str]] = []
    if member.goal:
        fields.append(("Your goal", member.goal))
    else:
        fields.append(("Your goal", "not set: people can only help with a clear goal. `/rapport goal ...`"))
    title = "Your prep kit"
    if contact is not None:
        title = f"Your prep kit for {contact.name}"
        who = ", ".join(x for x in (contact.role, contact.company) if x)
        if who:
            fields.append(("They are", who))
        if referrer:
            fields.append(("Referred by", f"{referrer}: mention them in your first minute"))
        for meeting in history[-3:]:
            when = meeting.at.astimezone(tz).strftime("%d %b %Y")
            fields.append((f"Met {when}", topic_of(meeting.notes, 200) or "no notes"))
    return Reply(
        title=title,
        fields=tuple(fields),
        sections=tuple(sections),
        context="Open with your goal in one line, then let them talk. Twenty minutes goes quickly.",
    )


# --- drafts for nudges ------------------------------------------------------------------


def when_we_met(meeting: MeetingInfo | None, tz: ZoneInfo, now: dt.datetime) -> str:
    """``today``, ``yesterday``, ``on Monday``, ``on 3 November``: as the member would say it."""
    if meeting is None:
        return "recently"
    day = meeting.at.astimezone(tz).date()
    days = (now.astimezone(tz).date() - day).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"on {day:%A}"
    return f"on {day.day} {day:%B}"


def thank_you_draft(member: MemberInfo, contact: ContactInfo, meeting: MeetingInfo | None, referrals: list[str], tz: ZoneInfo, now: dt.datetime) -> str:
    topic = topic_of(meeting.notes if meeting else None)
    lines = [f"Hi {first_name(contact.name)},", ""]
    body = f"Thank you for taking the time to talk with me {when_we_met(meeting, tz, now)}."
    if topic:
        body += f" I came away with a page of notes, especially on {topic}."
    else:
        body += " I came away with a page of notes and a clearer picture of the field."
    lines.append(body)
    if referrals:
        names = _join(referrals)
        lines.append(f"Thank you too for suggesting I talk with {names}; I'll reach out this week.")
    elif contact.referrals_pending:
        lines.append("If anyone comes to mind I could talk with, I'd be grateful; I'll check back in a few days.")
    lines += ["I'll let you know how things go.", "", "Best,", sign(member)]
    return "\n".join(lines)


def update_referrer_draft(member: MemberInfo, referrer: str, contact: ContactInfo, meeting: MeetingInfo | None, tz: ZoneInfo, now: dt.datetime) -> str:
    topic = topic_of(meeting.notes if meeting else None)
    learned = f" We talked about {topic}, and it was exactly what I needed." if topic else " It was a really useful conversation."
    return "\n".join([
        f"Hi {first_name(referrer)},",
        "",
        f"I met {contact.name} {when_we_met(meeting, tz, now)}, thanks to your introduction.{learned}",
        "Thank you for pointing me their way. I'll keep you posted on where it leads.",
        "",
        "Best,",
        sign(member),
    ])


def check_back_draft(member: MemberInfo, contact: ContactInfo, meeting: MeetingInfo | None, tz: ZoneInfo) -> str:
    when = meeting.at.astimezone(tz).strftime("%A") if meeting else "the other day"
    goal = f" about {member.goal}" if member.goal else ""
    return "\n".join([
        f"Hi {first_name(contact.name)},",
        "",
        f"Thanks again for our conversation on {when}. You mentioned you might think of someone "
        f"I could talk with{goal}. Has anyone come to mind? A name and how best to reach them would be wonderful.",
        "",
        "Best,",
        sign(member),
    ])


@dataclass
class MonthSince:
    """What a member did since a meeting, for the one-month note (002)."""

    met_on_advice: list[str] = field(default_factory=list)  # referred by this contact, since met
    other_meetings: int = 0
    new_contacts: int = 0
    outreach: int = 0


def second_thank_you_draft(member: MemberInfo, contact: ContactInfo, meeting: MeetingInfo | None, since: MonthSince) -> str:
    topic = topic_of(meeting.notes if meeting else None)
    lines = [f"Hi {first_name(contact.name)},", ""]
    opener = "It's been about a month since we talked"
    opener += f" about {topic}" if topic else ""
    lines.append(opener + ", and I wanted to thank you again and tell you what I've done since.")
    lines.append("")
    did: list[str] = []
    if since.met_on_advice:
        did.append(f"I talked with {_join(since.met_on_advice)}, as you suggested. Thank you for the introduction.")
    if since.other_meetings:
        did.append(f"I've had {_count(since.other_meetings, 'more conversation')} with people in the field.")
    if since.new_contacts:
        did.append(f"I've added {_count(since.new_contacts, 'new contact')} to my list.")
    if since.outreach:
        did.append(f"I've reached out to {_count(since.outreach, 'person', 'people')}.")
    if not did:
        did.append("[what you did since: people you met, an event you went to, a book you read]")
    lines += [f"• {d}" for d in did]
    lines += [
        "",
        "Your advice shaped all of it. If anything has come up on your side, or someone else comes to mind, "
        "I'd love to hear it.",
        "",
        "With thanks,",
        sign(member),
    ]
    return "\n".join(lines)


def follow_up_draft(member: MemberInfo, contact: ContactInfo, sent_on: dt.datetime | None, referrer: str | None, tz: ZoneInfo) -> str:
    when = sent_on.astimezone(tz).strftime("%A %d %B").replace(" 0", " ") if sent_on else "last week"
    ref = f" {referrer} suggested I get in touch." if referrer else ""
    return "\n".join([
        f"Hi {first_name(contact.name)},",
        "",
        f"I'm following up on my note from {when}, as promised.{ref} I'd be grateful for twenty minutes "
        "of your advice, at a time that suits you: before or after work, or over lunch. I'm not asking about jobs,",
        "just hoping to learn from your experience.",
        "",
        "Best,",
        sign(member),
    ])


def pitch_draft(member: MemberInfo, contact_name: str, referrer: str | None, what: str | None = None) -> str:
    """The first message to someone new, naming the referrer (001, 003)."""
    topic = what or member.goal
    lines = [f"Hello {first_name(contact_name)},", ""]
    if referrer:
        lines.append(f"I was referred to you by {referrer}, who said you might be a great person to talk with"
                     + (f" about {topic}." if topic else "."))
    else:
        lines.append("I'm reaching out because I'd value your perspective" + (f" on {topic}." if topic else "."))
    lines += [
        "I'm not asking about jobs: I'd be grateful for twenty minutes of your advice on how you got where you are.",
        "Would a short coffee or call next week work? Before or after work is fine.",
        "",
        "Thank you,",
        sign(member),
    ]
    return "\n".join(lines)


def glad_to_chat_draft(member: MemberInfo, helper: str, what: str | None) -> str:
    """To a community member who offered to chat about the seeker's request."""
    topic = f" about {what}" if what else ""
    return "\n".join([
        f"Hi {first_name(helper)},",
        "",
        f"Thank you so much for offering to chat{topic}. I'd be grateful for twenty minutes of your advice,",
        "whenever suits you this week or next: before or after work is fine. I'm not asking about jobs,",
        "just hoping to learn how you got where you are.",
        "",
        "Thank you,",
        sign(member),
    ])


def introduction_starter(seeker: MemberInfo, helper: MemberInfo, what: str | None, note: str | None) -> Reply:
    """The first message of a conversation opened by an accepted double opt-in."""
    s, h = seeker.display_name or "A member", helper.display_name or "a member"
    lines = [f"{s}, meet {h}. {h}, thank you for accepting."]
    goal = seeker.goal or what
    if goal:
        lines.append(f"{s} is working toward: {goal}.")
    if note:
        lines.append(f"Their note: “{note}”")
    lines.append(f"{s}: suggest two or three times for twenty minutes, and come with your questions. "
                 "It's a conversation, not a job interview.")
    return Reply(title="An introduction", text="\n".join(lines))


def stay_in_touch_draft(member: MemberInfo, contact: ContactInfo, last: MeetingInfo | None) -> str:
    topic = topic_of(last.notes if last else None)
    memory = f" I still think about what you said about {topic}." if topic else ""
    return "\n".join([
        f"Hi {first_name(contact.name)},",
        "",
        f"It's been a while since we talked, and I wanted to say hello.{memory} A quick update from me: "
        "[one or two lines on your search].",
        "I hope things are going well on your side. Anything I can help with?",
        "",
        "Best,",
        sign(member),
    ])


def landed_draft(member: MemberInfo, contact: ContactInfo, landed_text: str, chain: list[str]) -> str:
    via = ""
    if len(chain) > 1:
        via = f" It all started with the introduction through {chain[1].removesuffix(' (community)')}."
    return "\n".join([
        f"Hi {first_name(contact.name)},",
        "",
        f"I wanted you to hear it from me: I've landed. I'm starting as {landed_text}.{via}",
        "Our conversation was part of how I got here, and I'm grateful for the time you gave me.",
        "Here's how to reach me from now on: [new email / LinkedIn]. If I can ever return the favour, just ask.",
        "",
        "With thanks,",
        sign(member),
    ])


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


async def held_meetings(session: AsyncSession, contact_id: int) -> list[Meeting]:
    return list(
        await session.scalars(
            select(Meeting).where(Meeting.contact_id == contact_id, Meeting.status == "held").order_by(Meeting.at)
        )
    )
