"""Commands: one frozen dataclass per verb, and the text grammar of SPEC.md.

    /rapport <verb> [<subject>] [key: value]...

A key is a word from the verb's list followed by a colon; its value runs to the next
known key. Keys are case-insensitive. Adapters that have typed options (Discord) or forms
skip the text and call :func:`build` with the subject and a dict of keys.

Each command's docstring is its ``help`` text: the first line is the summary, the rest
the details.
"""

from __future__ import annotations

import difflib
import keyword
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, fields, replace
from typing import ClassVar, Literal

from core.errors import UserError

NAME_MAX = 100
NOTES_MAX = 4000
TEXT_MAX = 300
SHORT_MAX = 200
#: The largest id a row can have: the databases' ``integer`` (PostgreSQL's is 32 bits).
ID_MAX = 2**31 - 1

# Terminal escapes (CSI and OSC sequences, and two-character ones), then what is left of
# the control characters: C0 but tab and newline, DEL, C1, the bidirectional overrides
# (text that reads backwards) and lone surrogates (no database can store them). NUL is
# among them: PostgreSQL refuses it.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-~])?|\x9b[0-?]*[ -/]*[@-~]?")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` without terminal escapes and control characters; tabs and newlines stay."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


STALE_BUTTON = "That button is no longer in use. Type `/rapport nudges` to see what's open."


def check_action_id(action_id: str) -> str:
    """A button's action id (``nudge:done:42``) or a form's id (``form:intro-offer:7``) as
    the platform handed it back: short, plain, printable ASCII. Anything else came from no
    button of ours. The ids in it are read by the handler (``record_id``), so an id out of
    range reads exactly like a missing one."""
    if len(action_id) > 200 or not action_id.isascii() or not action_id.isprintable():
        raise UserError(STALE_BUTTON)
    return action_id


def record_id(text: str) -> int | None:
    """``12`` -> 12: a row id as typed (``done 12``, ``#12``) or carried in a button
    (``nudge:done:12``), or None when it can't name a row: other digits than 0-9, zero, or
    beyond what a database id can be. Hostile input (``99999999999999999999``) is then refused
    like any missing id, never a database error."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= ID_MAX else None


@dataclass(frozen=True)
class Command:
    """Base of every command."""

    verb: ClassVar[str] = ""


@dataclass(frozen=True)
class Help(Command):
    """Lists the verbs with one example each; `help <verb>` explains one."""

    verb: ClassVar[str] = "help"
    topic: str | None = None


@dataclass(frozen=True)
class Goal(Command):
    """Sets or shows your one-line goal.

    A clear goal lets people help you: "entry-level digital marketing roles in Oregon"
    beats "anything, really". It appears on your intro requests.
    """

    verb: ClassVar[str] = "goal"
    text: str | None = None


@dataclass(frozen=True)
class Add(Command):
    """Adds a contact, or updates one you already have.

    `referred-by:` names who pointed you to them; the reply then has a first message that
    opens "I was referred to you by ...". `Jane Doe (Acme)` picks one of two people with
    the same name, or adds a second one.
    """

    verb: ClassVar[str] = "add"
    name: str = ""
    company: str | None = None
    role: str | None = None
    field: str | None = None
    email: str | None = None
    phone: str | None = None
    referred_by: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class Contact(Command):
    """Shows one contact's history: meetings, notes, referrals, nudges."""

    verb: ClassVar[str] = "contact"
    name: str = ""


@dataclass(frozen=True)
class Contacts(Command):
    """Lists your contacts with their status and last touch.

    `status:` filters: new, reached-out, replied, scheduled, met. `company:` lists the
    people you know at a company (imported connections too).
    """

    verb: ClassVar[str] = "contacts"
    status: str | None = None
    company: str | None = None


@dataclass(frozen=True)
class ReachedOut(Command):
    """Logs that you reached out; schedules a follow-up if they don't reply.

    `follow-up:` is when you told them you'd follow up; Rapport reminds you exactly then.
    Without it, five days later, moved to a Tuesday, Wednesday or Thursday. `when:` is when
    you sent it, if not just now (the follow-up counts from then). For someone you were
    referred to, the reply has a first message to send, naming who referred you.
    """

    verb: ClassVar[str] = "reached-out"
    name: str = ""
    via: str | None = None
    when: str | None = None
    follow_up: str | None = None


@dataclass(frozen=True)
class Replied(Command):
    """The contact answered: cancels the pending follow-ups."""

    verb: ClassVar[str] = "replied"
    name: str = ""


@dataclass(frozen=True)
class Scheduled(Command):
    """An upcoming meeting: you get a prep kit beforehand and a nudge at 18 minutes."""

    verb: ClassVar[str] = "scheduled"
    name: str = ""
    when: str | None = None
    where: str | None = None


@dataclass(frozen=True)
class Log(Command):
    """Logs a meeting that happened, and lines up what comes next.

    `referrals: Bob Li, Ana Ruiz` adds the people they suggested (referred by this
    contact); `referrals: pending` reminds you to check back in three days;
    `thanked: yes` if you already sent your thank-you.
    """

    verb: ClassVar[str] = "log"
    name: str = ""
    when: str | None = None
    company: str | None = None
    role: str | None = None
    notes: str | None = None
    referrals: str | None = None
    opportunities: str | None = None
    thanked: str | None = None


@dataclass(frozen=True)
class Nudges(Command):
    """Lists your pending and recent nudges, each with a short id."""

    verb: ClassVar[str] = "nudges"


@dataclass(frozen=True)
class Done(Command):
    """Marks a nudge done; `done R7` closes your intro request R7."""

    verb: ClassVar[str] = "done"
    id: str = ""


@dataclass(frozen=True)
class Skip(Command):
    """Marks a nudge not needed."""

    verb: ClassVar[str] = "skip"
    id: str = ""


@dataclass(frozen=True)
class Snooze(Command):
    """Moves a nudge later: `for: 3 days` or `until: monday 9am`; one day by default.

    A nudge that isn't due yet moves on from its due time, never earlier. A follow-up stays
    on a Tuesday to Thursday unless you name the time with `until:`; one you promised the
    contact moves only with `until:`.
    """

    verb: ClassVar[str] = "snooze"
    id: str = ""
    for_: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class Prep(Command):
    """Your prep kit: questions, the two asks, the golden rules, and the contact's context."""

    verb: ClassVar[str] = "prep"
    name: str | None = None


@dataclass(frozen=True)
class Intro(Command):
    """Asks the community for an introduction.

    `intro <what you seek>` posts to the intro channel; `intro @member note: ...` asks
    one member directly, and they can accept or say not now. You can ask 5 people a day
    directly, the same person once a month; everyone together asks a person at most their
    `per-month` (twice if they never offered). Offers to help others: 10 a day.
    """

    verb: ClassVar[str] = "intro"
    what: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Offer(Command):
    """Joins the helper directory; `offer off` leaves it.

    `fields:` and `companies:` say where you can help; `per-month:` caps how often you're asked,
    by everyone together, and each member can ask you once a month.
    """

    verb: ClassVar[str] = "offer"
    off: str | None = None
    fields: str | None = None
    companies: str | None = None
    per_month: str | None = None


@dataclass(frozen=True)
class Helpers(Command):
    """Lists helpers, optionally in one field, with their capacity left this month."""

    verb: ClassVar[str] = "helpers"
    field: str | None = None


@dataclass(frozen=True)
class Landed(Command):
    """Tells Rapport where you landed: a final thank-you to everyone who helped."""

    verb: ClassVar[str] = "landed"
    text: str = ""


@dataclass(frozen=True)
class Settings(Command):
    """Shows or changes your settings.

    `tz: Europe/Berlin`, `quiet: 21:00-08:00`, `stay-in-touch: 90` (days),
    `digest: on|off`; `name: Dana Smith` (the name your drafts are signed with) where the
    platform doesn't give one, as in the console.
    """

    verb: ClassVar[str] = "settings"
    name: str | None = None
    tz: str | None = None
    quiet: str | None = None
    stay_in_touch: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class Export(Command):
    """Sends you a file of all your data, as JSON and CSV."""

    verb: ClassVar[str] = "export"


@dataclass(frozen=True)
class ForgetMe(Command):
    """Deletes all your data, after you confirm."""

    verb: ClassVar[str] = "forget-me"
    confirm: str | None = None


@dataclass(frozen=True)
class Import(Command):
    """Imports contacts from LinkedIn's Connections.csv or a vCard (.vcf) file, after a preview.

    Nothing is added twice: people are matched by email, then LinkedIn profile, then name.
    Imported contacts stay quiet (no nudges) until you reach out, but `contacts company:`,
    `helpers` and your `map` show them. On Slack, drop the file into your DM with Rapport;
    on Discord, attach it to `/rapport import`; in the console, `import path: <file>`.
    """

    verb: ClassVar[str] = "import"
    file: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class Map(Command):
    """A picture of your network: who you've met, who referred whom, thank-yous owed."""

    verb: ClassVar[str] = "map"


@dataclass(frozen=True)
class Calendar(Command):
    """A private calendar address with your meetings and promised follow-ups.

    Subscribe to it in Google Calendar, Apple Calendar or Outlook; `calendar reset` gives
    a new address and the old one stops working.
    """

    verb: ClassVar[str] = "calendar"
    reset: str | None = None


@dataclass(frozen=True)
class AdminChannel(Command):
    """Organizers: sets the channel where intro requests are posted."""

    verb: ClassVar[str] = "admin channel"
    channel: str = ""


@dataclass(frozen=True)
class AdminStats(Command):
    """Organizers: aggregate stats for the last 30 days and all time."""

    verb: ClassVar[str] = "admin stats"


@dataclass(frozen=True)
class AdminDashboard(Command):
    """Organizers: a private sign-in link to the community's web dashboard.

    The link works once, for ten minutes. `admin dashboard logout` ends your dashboard
    sessions in this community.
    """

    verb: ClassVar[str] = "admin dashboard"
    logout: str | None = None


KeyKind = Literal[
    "text", "long", "date", "duration", "int", "choice", "contact", "tz", "channel", "member", "word", "file", "path"
]


@dataclass(frozen=True)
class Key:
    """One input of a verb: its subject or one of its keys, declared once.

    Everything that shows or reads a verb derives from these: the text grammar and its
    validation (:func:`build`), forms, Discord's typed options, autocomplete and help.

    - ``name``: as typed in the grammar (``referred-by``) and as the Discord option is named.
    - ``attr``: the command's attribute it fills (``referred_by``); derived when empty.
    - ``kind``: ``text``/``long`` (free text), ``date`` (natural language), ``duration``,
      ``int`` (within ``bounds``), ``choice`` (one of ``choices``), ``contact`` (a contact's
      name, autocompleted), ``tz`` (an IANA zone, autocompleted), ``channel`` (a channel),
      ``member`` (a community member, as a platform mention), ``word`` (a fixed word such as
      ``off``: a boolean option on Discord), ``file`` (a file the member attaches: an
      attachment option on Discord; its bytes never travel in the text grammar), ``path``
      (a file on the console's own computer: read by the console adapter only, and offered
      nowhere else).
    """

    name: str
    kind: KeyKind = "text"
    description: str = ""
    max_length: int = SHORT_MAX
    bounds: tuple[int, int] | None = None
    choices: tuple[str, ...] = ()
    label: str = ""  # a form's question; the description when empty
    placeholder: str = ""
    attr: str = ""

    @property
    def attribute(self) -> str:
        return self.attr or attr_name(self.name)

    @property
    def question(self) -> str:
        return self.label or self.description or self.name


@dataclass(frozen=True)
class VerbSpec:
    """What a verb is: its subject, its keys, an example, its help group, whether it only
    reads, whether it opens a form when given nothing, and who may use it."""

    cls: type[Command]
    subject: Key | None
    subject_required: bool
    keys: tuple[Key, ...]
    example: str
    group: str
    creates: bool = False  # opens a form when given no arguments
    reads: bool = False  # only reads: runs without taking the write lock
    organizers: bool = False  # organizers only
    alternative: Key | None = None  # another way to give the subject (intro's `member`)
    form_title: str = ""
    form_submit: str = "Save"
    form_keys: tuple[str, ...] = ()  # the keys a form asks for (all, when empty)

    @property
    def verb(self) -> str:
        return self.cls.verb

    @property
    def subject_words(self) -> tuple[str, ...]:
        return self.subject.choices if self.subject is not None and self.subject.kind == "word" else ()

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)

    def key(self, name: str) -> Key | None:
        """The key (or the subject) with this grammar name or attribute."""
        candidates: list[Key] = ([self.subject] if self.subject else []) + list(self.keys)
        for k in candidates:
            if name in (k.name, k.attribute):
                return k
        return None

    @property
    def usage(self) -> str:
        parts = [f"/rapport {self.verb}"]
        if self.subject:
            label = "|".join(self.subject_words) if self.subject_words else self.subject.attribute
            parts.append(f"<{label}>" if self.subject_required else f"[{label}]")
        parts.extend(f"[{k.name}: ...]" for k in self.keys)
        return " ".join(parts)

    @property
    def summary(self) -> str:
        return (self.cls.__doc__ or "").strip().splitlines()[0]

    @property
    def details(self) -> str:
        lines = (self.cls.__doc__ or "").strip().splitlines()[1:]
        return " ".join(line.strip() for line in lines if line.strip())


START, MEET, NUDGES, COMMUNITY, YOU, ORGANIZERS = (
    "Start",
    "Reach out and meet",
    "Nudges",
    "Community",
    "You",
    "Organizers",
)
#: Help's groups, in the order help shows them.
GROUPS = (START, MEET, NUDGES, COMMUNITY, YOU, ORGANIZERS)

_NAME = Key("name", "contact", "The contact's name", NAME_MAX, label="Name", placeholder="Jane Doe")
_NUDGE_ID = Key("id", "text", "The nudge's number (see /rapport nudges)", 20)
_WHEN = Key("when", "date", "When, e.g. yesterday 3pm (your time zone)", 60, label="When?", placeholder="yesterday 3pm")
_COMPANY = Key("company", description="Their company", label="Company", placeholder="Acme")
_ROLE = Key("role", description="Their role", label="Their role", placeholder="Head of Marketing")
STATUSES = ("new", "reached-out", "replied", "scheduled", "met")

SPECS: dict[str, VerbSpec] = {
    s.verb: s
    for s in [
        VerbSpec(
            Help,
            Key("verb", "text", "A command to explain, e.g. log", 40, attr="topic"),
            False,
            (),
            "/rapport help log",
            YOU,
            reads=True,
        ),
        VerbSpec(
            Goal,
            Key("text", "long", "Your goal in one line; leave empty to see it", TEXT_MAX),
            False,
            (),
            "/rapport goal product marketing at a B2B SaaS company",
            START,
        ),
        VerbSpec(
            Add,
            replace(_NAME, kind="text", description="The new contact's name"),
            True,
            (
                _COMPANY,
                _ROLE,
                Key("field", description="Their field, e.g. product marketing", label="Field", placeholder="product marketing"),
                Key("email", description="Their email", label="Email"),
                Key("phone", description="Their phone number", label="Phone"),
                Key("referred-by", "contact", "Who pointed you to them", NAME_MAX, label="Referred by", placeholder="Bob Li"),
                Key("notes", "long", "Notes about them", NOTES_MAX, label="Notes"),
            ),
            "/rapport add Jane Doe company: Acme role: PM referred-by: Bob Li",
            START,
            creates=True,
            form_title="Add a contact",
            form_submit="Add",
            form_keys=("company", "role", "field", "email", "referred-by", "notes"),
        ),
        VerbSpec(Contact, _NAME, True, (), "/rapport contact Jane Doe", START, reads=True),
        VerbSpec(
            Contacts,
            None,
            False,
            (
                Key("status", "choice", "Only contacts with this status", choices=STATUSES),
                Key("company", description="Only the people you know at this company", max_length=SHORT_MAX),
            ),
            "/rapport contacts status: met",
            START,
            reads=True,
        ),
        VerbSpec(
            ReachedOut,
            replace(_NAME, label="Whom did you contact?"),
            True,
            (
                Key("via", description="How you reached out: email, LinkedIn, phone…", label="How?", placeholder="email, LinkedIn, phone"),
                replace(_WHEN, description="When you sent it, if not just now, e.g. 3 days ago", label="When did you send it?",
                        placeholder="3 days ago"),
                Key(
                    "follow-up",
                    "date",
                    "When you said you'd follow up, e.g. next Tuesday 10am",
                    60,
                    label="When did you say you'd follow up?",
                    placeholder="next Tuesday 10am",
                ),
            ),
            "/rapport reached-out Jane Doe via: email follow-up: next Tuesday 10am",
            MEET,
            creates=True,
            form_title="Log an outreach",
            form_submit="Log it",
        ),
        VerbSpec(Replied, _NAME, True, (), "/rapport replied Jane Doe", MEET),
        VerbSpec(
            Scheduled,
            replace(_NAME, label="With whom?"),
            True,
            (
                replace(_WHEN, description="When you'll meet, e.g. Thursday 12:30", placeholder="Thursday 12:30"),
                Key("where", description="Where you'll meet", label="Where?", placeholder="Blue Bottle, Market St"),
            ),
            "/rapport scheduled Jane Doe when: Thursday 12:30 where: Blue Bottle",
            MEET,
            creates=True,
            form_title="Schedule a meeting",
            form_submit="Schedule",
        ),
        VerbSpec(
            Log,
            replace(_NAME, label="Who did you meet?"),
            True,
            (
                _WHEN,
                _COMPANY,
                _ROLE,
                Key("notes", "long", "Notes: what you learned, what they suggested", NOTES_MAX),
                Key(
                    "referrals",
                    "text",
                    "People they suggested (comma-separated), or pending",
                    1000,
                    label="People they suggested (comma-separated, or 'pending')",
                ),
                Key("opportunities", "long", "Opportunities they mentioned", 1000),
                Key("thanked", "choice", "Already sent your thank-you?", choices=("yes", "no")),
            ),
            "/rapport log Jane Doe when: yesterday 3pm notes: talked about SEO referrals: Bob Li",
            MEET,
            creates=True,
            form_title="Log a meeting",
            form_submit="Log it",
            form_keys=("when", "notes", "referrals", "company", "role", "opportunities", "thanked"),
        ),
        VerbSpec(Nudges, None, False, (), "/rapport nudges", NUDGES, reads=True),
        VerbSpec(Done, _NUDGE_ID, True, (), "/rapport done 12", NUDGES),
        VerbSpec(Skip, _NUDGE_ID, True, (), "/rapport skip 12", NUDGES),
        VerbSpec(
            Snooze,
            _NUDGE_ID,
            True,
            (
                Key("for", "duration", "For how long, e.g. 2 days", 40, label="For how long?", placeholder="1 day, 3 hours, 1 week"),
                Key("until", "date", "Until when, e.g. Monday 9am", 60, label="…or until when?", placeholder="Monday 9am"),
            ),
            "/rapport snooze 12 for: 2 days",
            NUDGES,
            form_title="Snooze this nudge",
            form_submit="Snooze",
        ),
        VerbSpec(
            Prep,
            Key("name", "contact", "The contact you're meeting (optional)", NAME_MAX),
            False,
            (),
            "/rapport prep Jane Doe",
            MEET,
            reads=True,
        ),
        VerbSpec(
            Intro,
            Key(
                "what",
                "text",
                "Whom you'd like to meet, posted to the intro channel",
                TEXT_MAX,
                label="Whom would you like to meet?",
                placeholder="product marketing at a B2B SaaS company",
            ),
            True,
            (Key("note", "long", "A note for whoever can help", 1000, label="A note for helpers"),),
            "/rapport intro product marketing at a B2B SaaS company",
            COMMUNITY,
            creates=True,
            alternative=Key("member", "member", "Ask one member directly instead"),
            form_title="Ask for an introduction",
            form_submit="Ask",
        ),
        VerbSpec(
            Offer,
            Key("off", "word", "Leave the helper directory", 3, choices=("off",)),
            False,
            (
                Key("fields", description="Fields where you can help, comma-separated", max_length=300),
                Key("companies", description="Companies you know from the inside, comma-separated", max_length=300),
                Key("per-month", "int", "At most this many asks a month", 4, bounds=(1, 20)),
            ),
            "/rapport offer fields: marketing, design companies: Acme per-month: 2",
            COMMUNITY,
        ),
        VerbSpec(
            Helpers,
            Key("field", description="Only helpers in this field"),
            False,
            (),
            "/rapport helpers marketing",
            COMMUNITY,
            reads=True,
        ),
        VerbSpec(
            Landed,
            Key("text", "text", "Where you landed, e.g. Product Marketing Manager at Acme", TEXT_MAX),
            True,
            (),
            "/rapport landed Product Marketing Manager at Acme",
            COMMUNITY,
        ),
        VerbSpec(
            Settings,
            None,
            False,
            (
                Key("name", "text", "Your name, where the platform gives none (the console)", NAME_MAX, label="Your name",
                    placeholder="Dana Smith"),
                Key("tz", "tz", "Your time zone, e.g. Europe/Berlin", 64, label="Time zone", placeholder="America/New_York"),
                Key(
                    "quiet",
                    description="Quiet hours, e.g. 21:00-08:00, or off",
                    max_length=20,
                    label="Quiet hours",
                    placeholder="21:00-08:00, or off",
                ),
                Key(
                    "stay-in-touch",
                    "int",
                    "Stay in touch every … days (7-365)",
                    4,
                    bounds=(7, 365),
                    label="Stay in touch every ... days",
                    placeholder="90",
                ),
                Key("digest", "choice", "Weekly digest on Mondays", choices=("on", "off"), label="Weekly digest"),
            ),
            "/rapport settings tz: America/New_York quiet: 21:00-08:00 digest: off",
            YOU,
            form_title="Your settings",
            form_keys=("tz", "quiet", "stay-in-touch", "digest"),
        ),
        VerbSpec(Export, None, False, (), "/rapport export", YOU, reads=True),
        VerbSpec(
            ForgetMe,
            Key("confirm", "word", "Yes, delete all my data now", 7, choices=("confirm",)),
            False,
            (),
            "/rapport forget-me",
            YOU,
        ),
        VerbSpec(
            Import,
            Key("file", "file", "LinkedIn's Connections.csv or a vCard (.vcf) file", NAME_MAX),
            False,
            (Key("path", "path", "The file on this computer (console only)", 1000),),
            "/rapport import",
            START,
        ),
        VerbSpec(Map, None, False, (), "/rapport map", START, reads=True),
        VerbSpec(
            Calendar,
            Key("reset", "word", "A new address; the old one stops working", 5, choices=("reset",)),
            False,
            (),
            "/rapport calendar",
            MEET,
        ),
        VerbSpec(
            AdminChannel,
            Key("channel", "channel", "The channel for intro requests", 100),
            True,
            (),
            "/rapport admin channel #intros",
            ORGANIZERS,
            organizers=True,
        ),
        VerbSpec(AdminStats, None, False, (), "/rapport admin stats", ORGANIZERS, reads=True, organizers=True),
        VerbSpec(
            AdminDashboard,
            Key("logout", "word", "End your dashboard sessions", 6, choices=("logout",)),
            False,
            (),
            "/rapport admin dashboard",
            ORGANIZERS,
            organizers=True,
        ),
    ]
}


def attr_name(key: str) -> str:
    """Grammar key to dataclass attribute: ``referred-by`` -> ``referred_by``, ``for`` -> ``for_``."""
    name = key.replace("-", "_")
    return name + "_" if keyword.iskeyword(name) else name


def spec_for(verb: str) -> VerbSpec:
    try:
        return SPECS[verb]
    except KeyError:
        raise UserError(_unknown_verb_message(verb)) from None


def _unknown_verb_message(verb: str) -> str:
    close = difflib.get_close_matches(verb, list(SPECS), n=1, cutoff=0.6)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    shown = " ".join(clean_text(verb).split())[:30]
    return f"I don't know the command `{shown}`.{hint} Type `/rapport help` for the list."


YES = frozenset({"yes", "y", "true", "on", "1", "done", "sent"})
NO = frozenset({"no", "n", "false", "off", "0", "not yet"})


def check_value(spec: VerbSpec, key: Key, value: str) -> str:
    """One value, checked against its key: length, number bounds, choices.

    Returns the value as the handler wants it (a choice lower-cased, yes/no synonyms
    folded, a number as digits). Raises :class:`UserError` naming the key.
    """
    label = "subject" if key is spec.subject else key.name
    value = clean_text(value).strip()
    if not value:
        raise UserError(f"`{key.name}:` needs a value. Try: `{spec.example}`", field=label)
    if len(value) > key.max_length:
        raise UserError(
            f"That {key.name} is {len(value):,} characters; the limit is {key.max_length:,}. Shorten it and try again.",
            field=label,
        )
    if key.kind == "int" and key.bounds is not None:
        low, high = key.bounds
        digits = re.sub(r"\s*(days?|times?|a month|per month)\s*$", "", value.strip().lower())
        if not (digits.isascii() and digits.isdigit()) or not low <= int(digits) <= high:
            raise UserError(f"`{key.name}:` is a whole number from {low} to {high}. Try: `{spec.example}`", field=label)
        return str(int(digits))
    if key.kind == "choice":
        word = " ".join(value.lower().split())
        if key.choices == ("yes", "no"):
            word = "yes" if word in YES else "no" if word in NO else word
        if word not in key.choices:
            if len(key.choices) == 2:
                raise UserError(f"`{key.name}:` takes {key.choices[0]} or {key.choices[1]}. Try: `{spec.example}`", field=label)
            raise UserError(f"`{key.name}:` is one of {', '.join(key.choices)}. Try: `{spec.example}`", field=label)
        return word
    _check_ids(spec, key, value, label)
    return value


def _check_ids(spec: VerbSpec, key: Key, value: str, label: str) -> None:
    """A row id (``done 12``, ``done R7``) is written in the digits 0-9. One past what a
    database can hold is left to the handler, which reads it (``record_id``) as missing."""
    if key.name == "id":
        raw = value.lstrip("#").strip()
        number = raw[1:] if raw[:1] in ("R", "r") else raw  # `done R7`: an intro request
        if number.isdigit() and not number.isascii():
            raise UserError(f"An id is written in the digits 0-9, like `12`. `/rapport nudges` shows them: "
                            f"`{spec.example}`", field=label)


def build(verb: str, subject: str | None = None, options: dict[str, str] | None = None) -> Command:
    """Builds a command from a verb, its subject and its keys, checked against the verb's spec.

    ``options`` uses grammar keys (``referred-by``) or attribute names (``referred_by``).
    Raises :class:`UserError` with a one-line message that shows the right form, naming
    the field it is about where there is one.
    """
    spec = spec_for(verb)
    values: dict[str, str] = {}
    subject = clean_text(subject or "").strip() or None
    if spec.creates and subject is None and not options:
        return spec.cls()  # bare: the caller opens the verb's form
    if subject is not None:
        if spec.subject is None:
            raise UserError(
                f"`{verb}` takes no {'name' if spec.keys else 'arguments'} before its keys. Try: `{spec.example}`"
            )
        if spec.subject_words and subject.lower() not in spec.subject_words:
            raise UserError(f"`{verb}` accepts only `{'|'.join(spec.subject_words)}` here. Try: `{spec.example}`")
        values[spec.subject.attribute] = check_value(spec, spec.subject, subject.lower() if spec.subject_words else subject)
    elif spec.subject_required and spec.subject is not None:
        raise UserError(f"`{verb}` needs a {spec.subject.attribute}. Try: `{spec.example}`", field="subject")
    for name, value in (options or {}).items():
        wanted = attr_name(name.strip().lower().rstrip(":"))
        key = next((k for k in spec.keys if k.attribute == wanted), None)
        if key is None:
            raise UserError(unknown_key_message(spec, name.strip().rstrip(":")))
        value = clean_text(value or "").strip()
        if not value:
            raise UserError(f"`{key.name}:` needs a value. Try: `{spec.example}`", field=key.name)
        values[key.attribute] = check_value(spec, key, value)
    return spec.cls(**values)


_LEADING = re.compile(r"^\s*/?rapport\b", re.IGNORECASE)


def split_verb(text: str) -> tuple[str, str]:
    """Splits ``/rapport log Jane ...`` into ``("log", "Jane ...")``; the prefix is optional."""
    text = _LEADING.sub("", text.strip(), count=1).strip()
    if not text:
        return "help", ""
    head, rest = _first_word(text)
    verb = head.lower()
    if verb == "admin":
        sub, rest = _first_word(rest)
        if not sub:
            choices = " or ".join(f"`{v.split()[1]}`" for v in SPECS if v.startswith("admin "))
            raise UserError(f"`admin` needs {choices}. Try: `/rapport admin stats`")
        verb = f"admin {sub.lower()}"
    return verb, rest.strip()


def _first_word(text: str) -> tuple[str, str]:
    parts = text.split(None, 1)
    return (parts[0] if parts else ""), (parts[1] if len(parts) > 1 else "")


def split_keys(rest: str, keys: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """Splits the text after the verb into the subject and ``{key: value}``."""
    if not keys:
        return rest.strip(), {}
    alternatives = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
    pattern = re.compile(rf"(?:^|(?<=\s))({alternatives}):", re.IGNORECASE)
    matches = list(pattern.finditer(rest))
    subject = rest[: matches[0].start()] if matches else rest
    options: dict[str, str] = {}
    for i, match in enumerate(matches):
        key = match.group(1).lower()
        end = matches[i + 1].start() if i + 1 < len(matches) else len(rest)
        if key in options:
            raise UserError(f"`{key}:` is given twice; give it once.")
        options[key] = rest[match.end() : end].strip()
    return subject.strip(), options


def parse(text: str) -> Command:
    """Parses one line of the text grammar into a command, or raises :class:`UserError`."""
    verb, rest = split_verb(clean_text(text))
    spec = spec_for(verb)
    subject, options = split_keys(rest, spec.key_names)
    refuse_unknown_keys(spec, subject, options)
    return build(verb, subject or None, options)


# A word and a colon, then a space or the end: in key position, it reads as a key. Colons
# inside words, numbers and links (`3:1`, `21:00`, `https://x.y`) are text.
_KEYLIKE = re.compile(r"(?:^|(?<=\s))([^\W\d_][\w-]{0,29}):(?=\s|$)")


def refuse_unknown_keys(spec: VerbSpec, subject: str, options: dict[str, str]) -> None:
    """Refuses a ``word:`` that reads as a key the verb doesn't have (``log Jane wehn: monday``),
    naming it, with a did-you-mean where one of the verb's keys is close.

    Where a name, a number, a date or a short value goes, every such word is judged (but the
    first word of a short text, as in ``where: Zoom: https://...``). Free text (notes, a goal,
    what you seek) may hold ``Agenda: ...``: there, only a word close to one of the verb's
    keys not given yet is."""
    given = set(options)
    places: list[tuple[Key | None, str]] = [(spec.subject, subject)]
    places += [(spec.key(name), value) for name, value in options.items()]
    for key, text in places:
        free = key is not None and (key.kind == "long" or (key is spec.subject and key.kind == "text"
                                                            and key.max_length >= TEXT_MAX))
        lead = key is not None and key is not spec.subject and key.kind == "text"
        for match in _KEYLIKE.finditer(text):
            word = match.group(1)
            close = _close_key(spec, word, given)
            if close is None and (free or (lead and match.start() == 0)):  # `where: Zoom: https://...`
                continue
            raise UserError(unknown_key_message(spec, word, close))


def _close_key(spec: VerbSpec, word: str, given: Collection[str] = ()) -> str | None:
    typed = unicodedata.normalize("NFKC", word).lower().replace("_", "-")
    names = [k for k in spec.key_names if k not in given]
    if typed in names:
        return typed
    close = difflib.get_close_matches(typed, names, n=1, cutoff=0.7)
    return close[0] if close else None


def unknown_key_message(spec: VerbSpec, word: str, close: str | None = None) -> str:
    """One line: ``verb`` has no key ``word:``; the close one, or its keys, and the right form."""
    shown = " ".join(clean_text(word).split())[:30]
    close = close or _close_key(spec, word)
    if not spec.keys:
        return f"`{spec.verb}` takes no keys, so `{shown}:` can't go here. Try: `{spec.example}`"
    if close:
        return f"`{spec.verb}` has no key `{shown}:`. Did you mean `{close}:`? Try: `{spec.example}`"
    keys = ", ".join(f"{k}:" for k in spec.key_names)
    return f"`{spec.verb}` has no key `{shown}:` (its keys: {keys}). Try: `{spec.example}`"


def is_bare(command: Command) -> bool:
    """True when a command was given no arguments at all (a form should open)."""
    return all(getattr(command, f.name) in (None, "") for f in fields(command))


def reads_only(command: Command) -> bool:
    """Whether running ``command`` only reads: its verb only reads, or it only shows
    (``goal`` and ``settings`` with nothing to change)."""
    if SPECS[command.verb].reads:
        return True
    return isinstance(command, Goal | Settings) and is_bare(command)
