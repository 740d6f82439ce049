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
from dataclasses import dataclass, fields
from typing import ClassVar

from core.errors import UserError

NAME_MAX = 100
NOTES_MAX = 4000
TEXT_MAX = 300
SHORT_MAX = 200


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
    """Adds a contact.

    `referred-by:` names who pointed you to them, so your pitch can say
    "I was referred to you by ...".
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

    `status:` filters: new, reached-out, replied, scheduled, met.
    """

    verb: ClassVar[str] = "contacts"
    status: str | None = None


@dataclass(frozen=True)
class ReachedOut(Command):
    """Logs that you reached out; schedules a follow-up if they don't reply.

    `follow-up:` is when you told them you'd follow up; Rapport reminds you exactly then.
    Without it, five days later, moved to a Tuesday, Wednesday or Thursday.
    """

    verb: ClassVar[str] = "reached-out"
    name: str = ""
    via: str | None = None
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
    """Moves a nudge later: `for: 3 days` or `until: monday 9am` (default: one day)."""

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
    one member directly, and they can accept or say not now.
    """

    verb: ClassVar[str] = "intro"
    what: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Offer(Command):
    """Joins the helper directory (`offer off` leaves it).

    `fields:` and `companies:` say where you can help; `per-month:` caps how often you're asked.
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
    `digest: on|off`.
    """

    verb: ClassVar[str] = "settings"
    tz: str | None = None
    quiet: str | None = None
    stay_in_touch: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class Export(Command):
    """Sends you a file of all your data (JSON and CSV)."""

    verb: ClassVar[str] = "export"


@dataclass(frozen=True)
class ForgetMe(Command):
    """Deletes all your data, after you confirm."""

    verb: ClassVar[str] = "forget-me"
    confirm: str | None = None


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
class VerbSpec:
    """How a verb is written: its subject, its keys and an example."""

    cls: type[Command]
    subject: str | None  # name of the subject attribute, or None
    subject_required: bool
    keys: tuple[str, ...]  # grammar keys, as typed ("referred-by")
    example: str
    creates: bool = False  # opens a form when given no arguments
    subject_words: tuple[str, ...] = ()  # a fixed word, if the subject is one (offer off)

    @property
    def verb(self) -> str:
        return self.cls.verb

    @property
    def usage(self) -> str:
        parts = [f"/rapport {self.verb}"]
        if self.subject:
            label = "|".join(self.subject_words) if self.subject_words else self.subject
            parts.append(f"<{label}>" if self.subject_required else f"[{label}]")
        parts.extend(f"[{k}: ...]" for k in self.keys)
        return " ".join(parts)

    @property
    def summary(self) -> str:
        return (self.cls.__doc__ or "").strip().splitlines()[0]

    @property
    def details(self) -> str:
        lines = (self.cls.__doc__ or "").strip().splitlines()[1:]
        return " ".join(line.strip() for line in lines if line.strip())


SPECS: dict[str, VerbSpec] = {
    s.verb: s
    for s in [
        VerbSpec(Help, "topic", False, (), "/rapport help log"),
        VerbSpec(Goal, "text", False, (), "/rapport goal product marketing at a B2B SaaS company"),
        VerbSpec(
            Add,
            "name",
            True,
            ("company", "role", "field", "email", "phone", "referred-by", "notes"),
            "/rapport add Jane Doe company: Acme role: PM referred-by: Bob Li",
            creates=True,
        ),
        VerbSpec(Contact, "name", True, (), "/rapport contact Jane Doe"),
        VerbSpec(Contacts, None, False, ("status",), "/rapport contacts status: met"),
        VerbSpec(
            ReachedOut,
            "name",
            True,
            ("via", "follow-up"),
            "/rapport reached-out Jane Doe via: email follow-up: next Tuesday 10am",
            creates=True,
        ),
        VerbSpec(Replied, "name", True, (), "/rapport replied Jane Doe"),
        VerbSpec(
            Scheduled,
            "name",
            True,
            ("when", "where"),
            "/rapport scheduled Jane Doe when: Thursday 12:30 where: Blue Bottle",
            creates=True,
        ),
        VerbSpec(
            Log,
            "name",
            True,
            ("when", "company", "role", "notes", "referrals", "opportunities", "thanked"),
            "/rapport log Jane Doe when: yesterday 3pm notes: talked about SEO referrals: Bob Li",
            creates=True,
        ),
        VerbSpec(Nudges, None, False, (), "/rapport nudges"),
        VerbSpec(Done, "id", True, (), "/rapport done 12"),
        VerbSpec(Skip, "id", True, (), "/rapport skip 12"),
        VerbSpec(Snooze, "id", True, ("for", "until"), "/rapport snooze 12 for: 2 days"),
        VerbSpec(Prep, "name", False, (), "/rapport prep Jane Doe"),
        VerbSpec(
            Intro,
            "what",
            True,
            ("note",),
            "/rapport intro product marketing at a B2B SaaS company",
            creates=True,
        ),
        VerbSpec(
            Offer,
            "off",
            False,
            ("fields", "companies", "per-month"),
            "/rapport offer fields: marketing, design companies: Acme per-month: 2",
            subject_words=("off",),
        ),
        VerbSpec(Helpers, "field", False, (), "/rapport helpers marketing"),
        VerbSpec(Landed, "text", True, (), "/rapport landed Product Marketing Manager at Acme"),
        VerbSpec(
            Settings,
            None,
            False,
            ("tz", "quiet", "stay-in-touch", "digest"),
            "/rapport settings tz: America/New_York quiet: 21:00-08:00 digest: off",
        ),
        VerbSpec(Export, None, False, (), "/rapport export"),
        VerbSpec(ForgetMe, "confirm", False, (), "/rapport forget-me", subject_words=("confirm",)),
        VerbSpec(AdminChannel, "channel", True, (), "/rapport admin channel #intros"),
        VerbSpec(AdminStats, None, False, (), "/rapport admin stats"),
    ]
}

# Lengths per attribute; anything not listed is a short text.
MAX_LENGTHS: dict[str, int] = {
    "name": NAME_MAX,
    "referred_by": NAME_MAX,
    "notes": NOTES_MAX,
    "note": 1000,
    "referrals": 1000,
    "opportunities": 1000,
    "text": TEXT_MAX,
    "what": TEXT_MAX,
    "topic": 40,
    "id": 20,
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
    shown = " ".join(verb.split())[:30]
    return f"I don't know the command `{shown}`.{hint} Type `/rapport help` for the list."


def build(verb: str, subject: str | None = None, options: dict[str, str] | None = None) -> Command:
    """Builds a command from a verb, its subject and its keys; validates sizes.

    ``options`` uses grammar keys (``referred-by``) or attribute names (``referred_by``).
    Raises :class:`UserError` with a one-line message that shows the right form.
    """
    spec = spec_for(verb)
    values: dict[str, str] = {}
    subject = (subject or "").strip() or None
    if spec.creates and subject is None and not options:
        return spec.cls()  # bare: the caller opens the verb's form
    if subject is not None:
        if spec.subject is None:
            raise UserError(
                f"`{verb}` takes no {'name' if spec.keys else 'arguments'} before its keys. "
                f"Try: `{spec.example}`"
            )
        if spec.subject_words and subject.lower() not in spec.subject_words:
            raise UserError(f"`{verb}` accepts only `{'|'.join(spec.subject_words)}` here. Try: `{spec.example}`")
        values[spec.subject] = subject.lower() if spec.subject_words else subject
    elif spec.subject_required:
        raise UserError(f"`{verb}` needs a {spec.subject}. Try: `{spec.example}`")
    allowed = {attr_name(k): k for k in spec.keys}
    for key, value in (options or {}).items():
        attr = attr_name(key.strip().lower().rstrip(":"))
        if attr not in allowed:
            keys = ", ".join(f"{k}:" for k in spec.keys) or "none"
            raise UserError(f"`{verb}` has no key `{key}:` (its keys: {keys}). Try: `{spec.example}`")
        value = (value or "").strip()
        if not value:
            raise UserError(f"`{allowed[attr]}:` needs a value. Try: `{spec.example}`")
        values[attr] = value
    for attr, value in values.items():
        limit = MAX_LENGTHS.get(attr, SHORT_MAX)
        if len(value) > limit:
            label = allowed.get(attr, attr)
            raise UserError(
                f"That {label} is {len(value):,} characters; the limit is {limit:,}. Shorten it and try again."
            )
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
            raise UserError("`admin` needs `channel` or `stats`. Try: `/rapport admin stats`")
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
    verb, rest = split_verb(text)
    spec = spec_for(verb)
    subject, options = split_keys(rest, spec.keys)
    return build(verb, subject or None, options)


def is_bare(command: Command) -> bool:
    """True when a command was given no arguments at all (a form should open)."""
    return all(getattr(command, f.name) in (None, "") for f in fields(command))
