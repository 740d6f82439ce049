"""The `/rapport` slash command, generated from ``core.commands.SPECS``.

Each verb is a subcommand (``admin`` a subcommand group); its subject and each grammar key
are typed options named as in SPEC.md (``name``, ``when``, ``referred-by`` ...). Options
are translated back into ``core.commands.build(verb, subject, options)``, so the grammar,
its validation and its error messages stay in the core.

:func:`options_for` is pure (tested without Discord); :func:`build_root` turns it into
discord.py commands whose callbacks hand everything to an :class:`Interactions` object.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import discord
from discord import app_commands

from core import commands as c
from core.errors import UserError

OptionKind = Literal["text", "bool", "int", "user", "channel"]
Completion = Literal["contact", "tz", "verb"]

ROOT_DESCRIPTION = "Rapport: your informational-interview coach"
ADMIN_DESCRIPTION = "Organizers (Manage Server): the intro channel and stats"

# The subject's option name where it differs from the command's attribute (SPEC.md).
SUBJECT_OPTION = {"topic": "verb"}

SUBJECT_DESCRIPTIONS = {
    ("help", "topic"): "A command to explain, e.g. log",
    ("goal", "text"): "Your goal in one line; leave empty to see it",
    ("prep", "name"): "The contact you're meeting (optional)",
    ("done", "id"): "The nudge's number (see /rapport nudges)",
    ("skip", "id"): "The nudge's number (see /rapport nudges)",
    ("snooze", "id"): "The nudge's number (see /rapport nudges)",
    ("intro", "what"): "Whom you'd like to meet, posted to the intro channel",
    ("offer", "off"): "Leave the helper directory",
    ("helpers", "field"): "Only helpers in this field",
    ("landed", "text"): "Where you landed, e.g. Product Marketing Manager at Acme",
    ("forget-me", "confirm"): "Yes, delete all my data now",
    ("admin channel", "channel"): "The channel for intro requests",
}
KEY_DESCRIPTIONS = {
    "company": "Their company",
    "role": "Their role",
    "field": "Their field, e.g. product marketing",
    "email": "Their email",
    "phone": "Their phone number",
    "referred-by": "Who pointed you to them",
    "notes": "Notes: what you learned, what they suggested",
    "status": "Only contacts with this status",
    "via": "How you reached out: email, LinkedIn, phone…",
    "follow-up": "When you said you'd follow up, e.g. next Tuesday 10am",
    "when": "When, e.g. yesterday 3pm (your time zone)",
    "where": "Where you'll meet",
    "referrals": "People they suggested (comma-separated), or pending",
    "opportunities": "Opportunities they mentioned",
    "thanked": "Already sent your thank-you?",
    "for": "For how long, e.g. 2 days",
    "until": "Until when, e.g. Monday 9am",
    "note": "A note for whoever can help",
    "fields": "Fields where you can help, comma-separated",
    "companies": "Companies you know from the inside, comma-separated",
    "per-month": "At most this many asks a month",
    "tz": "Your time zone, e.g. Europe/Berlin",
    "quiet": "Quiet hours, e.g. 21:00-08:00, or off",
    "stay-in-touch": "Stay in touch every … days (7-365)",
    "digest": "Weekly digest on Mondays",
}
KEY_CHOICES = {
    "thanked": ("yes", "no"),
    "digest": ("on", "off"),
    "status": ("new", "reached-out", "replied", "scheduled", "met"),
}
KEY_NUMBERS = {"per-month": (0, 20), "stay-in-touch": (7, 365)}
CONTACT_KEYS = {"referred-by"}
# Verbs whose name is an existing contact (``add`` names a new one).
CONTACT_SUBJECTS = {"contact", "reached-out", "replied", "scheduled", "log", "prep"}
TEXT_OPTION_MAX = 6000  # Discord's cap on a string option


@dataclass(frozen=True)
class Option:
    """One Discord option of a subcommand and what it fills in the core's command."""

    name: str  # the Discord option name: the grammar key or the subject's name
    param: str  # the Python parameter name discord.py calls the callback with
    role: Literal["subject", "key", "member"]
    kind: OptionKind
    description: str
    required: bool = False
    max_length: int = c.SHORT_MAX
    bounds: tuple[int, int] | None = None
    choices: tuple[str, ...] = ()
    complete: Completion | None = None


def options_for(verb: str) -> list[Option]:
    """The options of a verb's subcommand, subject first."""
    spec = c.SPECS[verb]
    result: list[Option] = []
    if spec.subject:
        attr = spec.subject
        name = SUBJECT_OPTION.get(attr, attr)
        description = SUBJECT_DESCRIPTIONS.get((verb, attr)) or (
            "The contact's name" if attr == "name" else attr.replace("_", " ").capitalize()
        )
        # A creating verb with nothing typed opens a form, so even its subject is optional.
        required = spec.subject_required and not spec.creates
        if spec.subject_words:
            result.append(Option(name, name, "subject", "bool", description))
        elif attr == "channel":
            result.append(Option(name, name, "subject", "channel", description, required=required))
        else:
            result.append(
                Option(
                    name,
                    name,
                    "subject",
                    "text",
                    description,
                    required=required,
                    max_length=c.MAX_LENGTHS.get(attr, c.SHORT_MAX),
                    complete="contact" if attr == "name" and verb in CONTACT_SUBJECTS else ("verb" if attr == "topic" else None),
                )
            )
        if verb == "intro":
            result.append(Option("member", "member", "member", "user", "Ask one member directly instead"))
    for key in spec.keys:
        attr = c.attr_name(key)
        description = KEY_DESCRIPTIONS.get(key, key.replace("-", " ").capitalize())
        if key in KEY_NUMBERS:
            result.append(Option(key, attr, "key", "int", description, bounds=KEY_NUMBERS[key]))
            continue
        result.append(
            Option(
                key,
                attr,
                "key",
                "text",
                description,
                max_length=min(c.MAX_LENGTHS.get(attr, c.SHORT_MAX), TEXT_OPTION_MAX),
                choices=KEY_CHOICES.get(key, ()),
                complete="contact" if key in CONTACT_KEYS else ("tz" if key == "tz" else None),
            )
        )
    return result


def arguments(verb: str, values: dict[str, Any]) -> tuple[str | None, dict[str, str]]:
    """Typed option values -> the core's ``(subject, {key: text})``.

    A user becomes a mention (``<@id>``) and a channel ``<#id|name>``, as the text grammar
    writes them; a true boolean becomes its word (``off``, ``confirm``). Raises
    :class:`UserError` for ``intro`` given both ``what`` and ``member``.
    """
    subject: str | None = None
    options: dict[str, str] = {}
    for option in options_for(verb):
        value = values.get(option.param)
        if value is None or value is False or value == "":
            continue
        if option.role == "member":
            if subject is not None:
                raise UserError(
                    "Give `what` (an open request) or `member` (ask one person), not both. "
                    f"Try: `{c.SPECS[verb].example}`"
                )
            subject = f"<@{value.id}>"
        elif option.role == "subject":
            subject = _text(option, value)
        else:
            options[option.name] = _text(option, value)
    return subject, options


def _text(option: Option, value: Any) -> str:
    if option.kind == "bool":
        return option.name
    if option.kind == "channel":
        return f"<#{value.id}|{getattr(value, 'name', '')}>"
    return str(value)


# -- discord.py commands ----------------------------------------------------------------


class Interactions(Protocol):
    """What the generated callbacks call (adapters/discord/interactions.py)."""

    async def on_command(self, interaction: discord.Interaction, verb: str, values: dict[str, Any]) -> None: ...

    async def complete(self, interaction: discord.Interaction, what: Completion, current: str) -> list[app_commands.Choice[str]]: ...


class TextChannelOption(app_commands.Transformer):
    """A text or announcement channel, passed on as Discord resolved it (no cache needed)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        return value


def _annotation(option: Option) -> Any:
    if option.kind == "bool":
        return bool
    if option.kind == "user":
        return discord.User
    if option.kind == "channel":
        return app_commands.Transform[Any, TextChannelOption]
    if option.kind == "int":
        low, high = option.bounds or (0, 1000)
        return app_commands.Range[int, low, high]
    return app_commands.Range[str, 1, option.max_length]


def _command(verb: str, name: str, handler: Interactions) -> app_commands.Command:
    spec = c.SPECS[verb]
    options = options_for(verb)

    async def callback(interaction: discord.Interaction, **values: Any) -> None:
        await handler.on_command(interaction, verb, values)

    # discord.py reads options from the callback's signature; this one is generated.
    parameters = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction)]
    for option in options:
        parameters.append(
            inspect.Parameter(
                option.param,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if option.required else None,
                annotation=_annotation(option),
            )
        )
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    if options:
        app_commands.describe(**{o.param: o.description for o in options})(callback)
        renames = {o.param: o.name for o in options if o.param != o.name}
        if renames:
            app_commands.rename(**renames)(callback)
        choices = {o.param: [app_commands.Choice(name=x, value=x) for x in o.choices] for o in options if o.choices}
        if choices:
            app_commands.choices(**choices)(callback)
        completers = {o.param: _completer(handler, o.complete) for o in options if o.complete}
        if completers:
            app_commands.autocomplete(**completers)(callback)
    return app_commands.Command(name=name, description=_clip(spec.summary, 100), callback=callback)


def _completer(handler: Interactions, what: Completion) -> Callable[..., Awaitable[list[app_commands.Choice[str]]]]:
    async def complete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await handler.complete(interaction, what, current)

    return complete


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_root(handler: Interactions) -> app_commands.Group:
    """`/rapport` with a subcommand per verb and the ``admin`` group; usable in servers only.

    Commands in DMs would have no server to keep the data in, so Discord isn't asked to
    offer them there (buttons in DMs still work: they carry their server).
    """
    root = app_commands.Group(name="rapport", description=ROOT_DESCRIPTION, guild_only=True)
    admin = app_commands.Group(name="admin", description=ADMIN_DESCRIPTION)
    for verb in c.SPECS:
        if verb.startswith("admin "):
            admin.add_command(_command(verb, verb.split(" ", 1)[1], handler))
        else:
            root.add_command(_command(verb, verb, handler))
    root.add_command(admin)
    return root


def payload_hash(tree: app_commands.CommandTree) -> str:
    """A fingerprint of the global command definitions, to sync only when they change."""
    payload = [command.to_dict(tree) for command in tree.get_commands()]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
