"""The drafts and the coach's copy, grounded in the career advice Rapport is built on
(docs/guide.md names the articles).

Drafts are plain text a member copies, edits and sends: one paragraph a line, no line
breaks inside a sentence. Warm, short, specific: they name the referrer, take at most one
short, complete point from the member's notes (never the raw notes, never cut mid-word),
leave a marked blank in square brackets where the member's own words belong, and never
ask for a job.
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
    """The gist of a meeting's notes, for the member's own eyes (the prep kit):
    "talked about SEO" -> "SEO". Drafts use :func:`point_of`."""
    if not notes:
        return None
    first = re.split(r"(?<=[.!?])\s|\n", notes.strip(), maxsplit=1)[0].strip().rstrip(".!?")
    first = _LEAD_INS.sub("", first).strip()
    if not first:
        return None
    if len(first) > limit:
        first = first[:limit].rsplit(" ", 1)[0] + "…"
    return first


def after_meeting_tip(thanked: bool, thank_now: bool, noted: bool = False) -> str:
    """What to do next, said once the meeting is logged."""
    notes = "Jot down anything else you remember while it's fresh" if noted else "Write your notes now, while it's fresh"
    if thanked:
        return notes + "."
    if thank_now:
        return "Send your thank-you today, while it still counts: I've put a draft in your DMs."
    return notes + "; send your thank-you tonight (I'll remind you with a draft)."


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
            fields.append(("Referred by", f"{referrer} (mention them in your first minute)"))
        for meeting in history[-3:]:
            when = meeting.at.astimezone(tz).strftime("%d %b %Y")
            fields.append((f"Met {when}", topic_of(meeting.notes, 200) or "no notes"))
    return Reply(
        title=title,
        fields=tuple(fields),
        sections=tuple(sections),
        context="Open with your goal in one line, then let them talk. Twenty minutes goes quickly.",
    )


# --- what a draft takes from the notes -------------------------------------------------

# The first clause ends at a sentence's end, a semicolon, a new line, a bullet or a dash.
_CLAUSE_END = re.compile(r"(?<=[.!?])\s+|[;\n•|]|\s[-–—]+\s|\s*\(")
_BULLET = re.compile(r"^\s*(?:[-*•·]+|\d+[.)])\s*")
_TOPIC_LEAD = re.compile(
    r"^(?:we\s+)?(?:talked|spoke|chatted|discussed|covered|went over)(?:\s+(?:about|through|over))?\s+|^about\s+|^re:?\s+",
    re.IGNORECASE,
)
_SAID = r"(?:said|says|thinks|thought|mentioned|told me|explained|pointed out|believes)"
_SUGGESTED = r"(?:suggested|suggests|recommended|recommends|advised|advises)"
POINT_MAX = 90


@dataclass(frozen=True)
class Point:
    """One short, complete point from a meeting's notes, and how to frame it: a ``topic``
    ("SEO", from "talked about SEO"), ``advice`` ("learn Figma basics") or something
    they ``said`` ("Initech PMMs own pricing pages")."""

    text: str
    kind: str  # "topic", "advice" or "said"


def point_of(notes: str | None, contact_name: str = "") -> Point | None:
    """The first clause of the notes that is fit to quote to the person (one of the first
    three): None when there is none. A question, small talk ("great chat") or a clause too
    long to use whole is passed over: a draft never cuts the member's words mid-sentence."""
    if not notes:
        return None
    for clause in _CLAUSE_END.split(notes.strip(), maxsplit=3)[:3]:
        point = _point(clause, contact_name)
        if point is not None:
            return point
    return None


def _point(clause: str, contact_name: str) -> Point | None:
    clause = _BULLET.sub("", clause).strip().strip("\"“”'").strip()
    if not clause or clause.endswith("?"):
        return None
    clause = clause.rstrip(".!:,").strip()
    if not clause:
        return None
    kind = "said"
    who = "|".join(re.escape(w) for w in {first_name(contact_name), "he", "she", "they", "you"} if w)
    if m := _TOPIC_LEAD.match(clause):
        clause, kind = clause[m.end():], "topic"
    elif m := re.match(rf"^(?:{who})\s+{_SUGGESTED}(?:\s+that)?(?:\s+(?:i|me\s+to|to))?\s+", clause, re.IGNORECASE):
        clause, kind = clause[m.end():], "advice"
    elif m := re.match(rf"^(?:{who})\s+{_SAID}(?:\s+that)?\s+", clause, re.IGNORECASE):
        clause = clause[m.end():]
    elif clause.split()[0].lower() in _ADVICE_VERBS:
        kind = "advice"
    clause = clause.strip()
    words = clause.split()
    if not words or len(clause) > POINT_MAX or words[0].lower().strip(",!") in _SMALL_TALK:
        return None
    if kind == "said" and len(words) < 3 and any(ch.isupper() or ch.isdigit() for ch in clause):
        kind = "topic"  # "SEO", "Figma and SQL": what they talked about
    if len(words) < {"topic": 1, "advice": 2, "said": 3}[kind]:
        return None
    if kind != "topic" and clause[:1].isupper() and clause[1:2].islower() and words[0].lower() in _COMMON_STARTS:
        clause = clause[0].lower() + clause[1:]
    return Point(clause, kind)


# Notes that open like this are about the meeting, not something to quote back.
_SMALL_TALK = {
    "met", "great", "good", "nice", "lovely", "awesome", "fun", "coffee", "lunch", "zoom", "meeting", "chat",
    "very", "really", "super", "she", "he", "they", "ran", "running", "late", "thanks", "thank",
}


# Advice as people write it down: "learn Figma basics", "read Obviously Awesome".
_ADVICE_VERBS = {
    "learn", "read", "try", "talk", "reach", "join", "take", "look", "apply", "ask", "build", "get", "go", "start",
    "use", "follow", "check", "write", "find", "attend", "practice", "practise", "focus", "keep", "watch", "listen",
    "contact", "email", "call", "update", "rewrite", "add", "drop", "volunteer", "sign", "consider", "research",
}
# First words that are lower-case mid-sentence (a name or an acronym keeps its capital).
_COMMON_STARTS = _ADVICE_VERBS | {
    "the", "a", "an", "most", "many", "every", "pricing", "product", "marketing", "data", "design", "sales",
    "hiring", "networking", "portfolio", "portfolios", "resumes", "there", "it", "this", "that", "their", "our",
}

THEIR_WORDS = "[add a sentence of your own: what struck you most, or what you'll do with it]"


def goal_sentence(goal: str | None) -> str:
    """The member's goal as a sentence of a first message; a marked blank without one."""
    goal = " ".join((goal or "").split()).rstrip(".!")
    if not goal:
        return "[one line on what you're looking for, e.g. entry-level digital marketing roles in Oregon]."
    first = goal.split()[0].lower()
    if first in {"i", "i'm", "i’m", "im"}:
        return goal[0].upper() + goal[1:] + "."
    if first in _GOAL_VERBS:
        return f"I'd like to {goal[0].lower() + goal[1:]}."
    if first in {"a", "an", "my"}:
        return f"I'm looking for {goal[0].lower() + goal[1:]}."
    return f"I'm exploring {goal}."


_GOAL_VERBS = {
    "become", "get", "find", "land", "move", "switch", "break", "transition", "work", "join", "start", "pivot",
    "learn", "grow", "make", "change", "return", "explore", "lead", "build", "go", "be",
}


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


def _letter(greeting: str, paragraphs: Sequence[str], closing: str, member: MemberInfo) -> str:
    """A message: the greeting, one paragraph a line with a blank line between, the closing."""
    body = [p for p in paragraphs if p]
    return "\n\n".join([greeting, *body, f"{closing}\n{sign(member)}"])


def thank_you_draft(member: MemberInfo, contact: ContactInfo, meeting: MeetingInfo | None, referrals: list[str], tz: ZoneInfo, now: dt.datetime) -> str:
    """That night's thank-you: short, one point from the notes, a blank for the member's words."""
    point = point_of(meeting.notes if meeting else None, contact.name)
    first = f"Thank you for taking the time to talk with me {when_we_met(meeting, tz, now)}."
    if point is None:
        takeaway = THEIR_WORDS
    elif point.kind == "topic":
        takeaway = f"I especially appreciated what you shared about {point.text}. {THEIR_WORDS}"
    elif point.kind == "advice":
        takeaway = f"I'm taking your advice to heart: {point.text}. {THEIR_WORDS}"
    else:
        takeaway = f"One thing I'm taking away: {point.text}. {THEIR_WORDS}"
    more = ""
    if referrals:
        more = f"Thank you too for suggesting I talk with {_join(referrals)}; I'll reach out this week."
    elif contact.referrals_pending:
        more = "If anyone comes to mind whom I could talk with, I'd be grateful; I'll check back in a few days."
    return _letter(f"Hi {first_name(contact.name)},", [f"{first} {takeaway}", more, "I'll let you know how things go."],
                   "Best,", member)


def update_referrer_draft(member: MemberInfo, referrer: str, contact: ContactInfo, meeting: MeetingInfo | None, tz: ZoneInfo, now: dt.datetime) -> str:
    """To the person who referred you: you met the person they recommended."""
    point = point_of(meeting.notes if meeting else None, contact.name)
    if point is not None and point.kind == "topic":
        learned = f" We talked about {point.text}, and it was just what I needed."
    elif point is not None:
        learned = f" One thing I'm taking away: {point.text}."
    else:
        learned = " It was a really useful conversation."
    return _letter(
        f"Hi {first_name(referrer)},",
        [f"I met {contact.name} {when_we_met(meeting, tz, now)}, thanks to your introduction.{learned}",
         "Thank you for pointing me their way. I'll keep you posted on where it leads."],
        "Best,", member,
    )


def check_back_draft(member: MemberInfo, contact: ContactInfo, meeting: MeetingInfo | None, tz: ZoneInfo,
                     now: dt.datetime | None = None) -> str:
    """A few days on, to someone who was thinking about whom to suggest."""
    when = when_we_met(meeting, tz, now) if meeting and now else "the other day"
    goal = f" about {member.goal.rstrip('.')}" if member.goal else ""
    return _letter(
        f"Hi {first_name(contact.name)},",
        [f"Thanks again for our conversation {when}. You mentioned you might think of someone I could talk with{goal}. "
         "Has anyone come to mind? A name and how best to reach them would be wonderful."],
        "Best,", member,
    )


@dataclass
class MonthSince:
    """What a member did since a meeting, for the one-month note."""

    met_on_advice: list[str] = field(default_factory=list)  # referred by this contact, met since
    reached_on_advice: list[str] = field(default_factory=list)  # referred by this contact, written to, not met yet
    other_meetings: int = 0
    new_contacts: int = 0
    outreach: int = 0


def second_thank_you_draft(member: MemberInfo, contact: ContactInfo, meeting: MeetingInfo | None, since: MonthSince) -> str:
    """About a month on: a longer thank-you saying what the member did with the advice."""
    point = point_of(meeting.notes if meeting else None, contact.name)
    did_blank = "[say what you did with it: a course you started, a book you read, an event you went to]"
    if point is None:
        advice = "[say what you did with their advice: a course you started, a book you read, an event you went to]"
    elif point.kind == "topic":
        advice = f"You helped me think about {point.text}. {did_blank}"
    elif point.kind == "advice":
        advice = f"You suggested I {point.text}. {did_blank}" if point.text.split()[0].lower() in _ADVICE_VERBS else \
            f"Your advice stayed with me: {point.text}. {did_blank}"
    else:
        advice = f"One thing you said stayed with me: {point.text}. {did_blank}"
    people = []
    if since.met_on_advice:
        people.append(f"I talked with {_join(since.met_on_advice)}, as you suggested; thank you for pointing me to them.")
    if since.reached_on_advice:
        people.append(f"I've written to {_join(since.reached_on_advice)}, as you suggested.")
    if since.other_meetings:
        people.append(f"Since then I've talked with {_count(since.other_meetings, 'more person', 'more people')} in the field.")
    return _letter(
        f"Hi {first_name(contact.name)},",
        [
            "It's been about a month since we talked, and I wanted to thank you again and tell you what I've done with your advice.",
            advice,
            " ".join(people),
            "If anything has come up on your side, or someone else comes to mind, I'd love to hear it.",
        ],
        "With thanks,", member,
    )


def follow_up_draft(member: MemberInfo, contact: ContactInfo, sent_on: dt.datetime | None, referrer: str | None, tz: ZoneInfo,
                    promised: bool = False) -> str:
    """The follow-up to a first message that got no answer."""
    when = f"{sent_on.astimezone(tz):%A} {sent_on.astimezone(tz).day} {sent_on.astimezone(tz):%B}" if sent_on else "last week"
    said = ", as I said I would" if promised else ""
    ref = f" {referrer} suggested I get in touch." if referrer else ""
    return _letter(
        f"Hi {first_name(contact.name)},",
        [f"I'm following up on my note from {when}{said}.{ref} {goal_sentence(member.goal)} I'd be grateful for twenty "
         "minutes of your advice, at a time that suits you: before or after work, or over lunch. I'm not asking about "
         "jobs, only hoping to learn from your experience."],
        "Best,", member,
    )


def pitch_draft(member: MemberInfo, contact_name: str, referrer: str | None, what: str | None = None) -> str:
    """The first message to someone new: it names who referred you in the first line, says
    what you're working toward, and asks for twenty minutes of advice, not a job."""
    if referrer:
        opener = f"I was referred to you by {referrer}, who thought you'd be a good person to talk with."
    else:
        opener = "I'm reaching out because I'd value your perspective."
    return _letter(
        f"Hello {first_name(contact_name)},",
        [
            f"{opener} {goal_sentence(member.goal or what)} I'd be grateful for twenty minutes of your advice: how you "
            "got where you are, and what you'd look at in my place.",
            "I'm not asking about jobs, only hoping to learn from your experience. Would a short coffee or call in the "
            "next week or two suit you? Before or after work is fine, or over lunch.",
        ],
        "Thank you,", member,
    )


def glad_to_chat_draft(member: MemberInfo, helper: str, what: str | None) -> str:
    """To a community member who offered to chat about the seeker's request."""
    topic = f" about {what}" if what else ""
    return _letter(
        f"Hi {first_name(helper)},",
        [f"Thank you so much for offering to chat{topic}. I'd be grateful for twenty minutes of your advice, whenever "
         "suits you this week or next: before or after work is fine. I'm not asking about jobs, only hoping to learn "
         "how you got where you are."],
        "Thank you,", member,
    )


def introduction_starter(seeker: MemberInfo, helper: MemberInfo, what: str | None, note: str | None) -> Reply:
    """The first message of a conversation opened by an accepted double opt-in."""
    s, h = member_name(seeker), member_name(helper)
    lines = [f"{s}, meet {h}. {h}, thank you for accepting."]
    goal = seeker.goal or what
    if goal:
        lines.append(f"{s} is working toward: {goal.rstrip('.')}.")
    if note:
        lines.append(f"{s}'s note: “{note}”")
    lines.append(f"{s}: suggest two or three times for twenty minutes, and come with your questions. "
                 "It's a conversation, not a job interview.")
    return Reply(title="An introduction", text="\n".join(lines))


def member_name(member: MemberInfo) -> str:
    """A member as others see them; the platform's id where they have no name."""
    return member.display_name or member.user_id


def stay_in_touch_draft(member: MemberInfo, contact: ContactInfo, last: MeetingInfo | None) -> str:
    """A check-in, months on."""
    point = point_of(last.notes if last else None, contact.name)
    if point is not None and point.kind == "topic":
        memory = f" I still think about what you said about {point.text}."
    elif point is not None:
        memory = f" I still think about something you told me: {point.text}."
    else:
        memory = ""
    return _letter(
        f"Hi {first_name(contact.name)},",
        [f"It's been a while since we talked, and I wanted to say hello.{memory} A quick update from me: "
         "[a line or two on your search].",
         "I hope things are going well on your side. Is there anything I can help with?"],
        "Best,", member,
    )


def landed_draft(member: MemberInfo, contact: ContactInfo, landed_text: str, chain: list[str], met: bool = True,
                 introduced: Sequence[str] = ()) -> str:
    """The final thank-you: where the member landed, what the person did to help (a
    conversation, an introduction), and how to reach the member now."""
    if met:
        helped = "Our conversation was part of how I got here"
        if introduced:
            helped += f", and so was your introduction to {_join(list(introduced))}"
        elif len(chain) > 1:
            helped += f", and so was {chain[1].removesuffix(' (community)')}'s introduction"
    elif introduced:
        helped = f"You introduced me to {_join(list(introduced))}, and that was part of how I got here"
    else:
        helped = "You were part of how I got here"
    return _letter(
        f"Hi {first_name(contact.name)},",
        [
            f"I've landed a new role, and I wanted you to hear it from me: {landed_text.rstrip('.')}.",
            f"{helped}. [add a line on what helped most: a piece of advice, an introduction]",
            "Here's how to reach me from now on: [your new email or LinkedIn]. If I can ever return the favour, just ask.",
        ],
        "With thanks,", member,
    )


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _count(n: int, singular: str, plural: str | None = None) -> str:
    number = _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)
    return f"{number} {singular if n == 1 else (plural or singular + 's')}"


async def held_meetings(session: AsyncSession, contact_id: int) -> list[Meeting]:
    return list(
        await session.scalars(
            select(Meeting).where(Meeting.contact_id == contact_id, Meeting.status == "held").order_by(Meeting.at)
        )
    )
