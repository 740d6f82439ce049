"""The `/rapport` slash command, derived from the verbs' specs (``core.commands.SPECS``).

Each verb is a subcommand (``admin`` a subcommand group). Its subject, its alternative
(``intro``'s ``member``) and each of its keys become one typed option each, everything
about it taken from the :class:`core.commands.Key` that declares it: the name, the type
(``int`` within ``bounds``; ``choice`` as choices; ``word`` as a boolean; ``channel``;
``member`` as a user; ``file`` as an attachment; ``contact`` and ``tz`` autocompleted; any
other kind a string no longer than ``max_length``), and the description. A ``path`` key (a
file on the console's own computer) is no option here: it means nothing on Discord. Nothing
about a verb is declared here.
Options are translated back into ``core.commands.build(verb, subject, options)``, so the
grammar, its validation and its error messages stay in the core.

:func:`options_for` is pure (tested without Discord); :func:`build_root` turns it into
discord.py commands whose callbacks hand everything to an :class:`Interactions` object.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

import discord
from discord import app_commands

from core import commands as c
from core.errors import UserError

OptionKind = Literal["text", "bool", "int", "user", "channel", "attachment"]
Completion = Literal["contact", "tz", "verb"]

ROOT_DESCRIPTION = "Rapport: your informational-interview coach"
ADMIN_DESCRIPTION = "Organizers (Manage Server): the intro channel and stats"
TEXT_OPTION_MAX = 6000  # Discord's cap on a string option's max_length
DESCRIPTION_MAX = 100  # Discord's cap on an option's (and a command's) description

_KINDS: dict[str, OptionKind] = {"int": "int", "word": "bool", "channel": "channel", "member": "user", "file": "attachment"}
_CONSOLE_ONLY = ("path",)  # key kinds that are no option on Discord
_COMPLETIONS: dict[str, Completion] = {"contact": "contact", "tz": "tz"}


@dataclass(frozen=True)
class Option:
    """One Discord option of a subcommand and what it fills in the core's command."""

    name: str  # the Discord option name: the Key's name
    param: str  # the Python parameter name discord.py calls the callback with
    role: Literal["subject", "alternative", "key"]  # an alternative fills the subject another way
    kind: OptionKind
    description: str
    required: bool = False
    max_length: int | None = None  # strings only
    bounds: tuple[int, int] | None = None  # integers only
    choices: tuple[str, ...] = ()
    complete: Completion | None = None
    word: str = ""  # a boolean's word in the grammar (``off``, ``confirm``)


def option_for(key: c.Key, role: Literal["subject", "alternative", "key"], *, required: bool = False) -> Option:
    """The Discord option that stands for ``key``."""
    kind = _KINDS.get(key.kind, "text")
    return Option(
        name=key.name,
        param=key.attribute,
        role=role,
        kind=kind,
        description=_clip(key.description or key.name, DESCRIPTION_MAX),
        required=required,
        # A choice is bounded by its choices; Discord takes no length with them.
        max_length=min(key.max_length, TEXT_OPTION_MAX) if kind == "text" and key.kind != "choice" else None,
        bounds=key.bounds if kind == "int" else None,
        choices=key.choices if key.kind == "choice" else (),
        complete=_COMPLETIONS.get(key.kind),
        word=(key.choices[0] if key.choices else key.name) if kind == "bool" else "",
    )


@functools.cache
def options_for(verb: str) -> tuple[Option, ...]:
    """The options of a verb's subcommand: the subject, its alternative, then the keys;
    required ones first, as Discord demands (only a subject is ever required)."""
    spec = c.SPECS[verb]
    result: list[Option] = []
    if spec.subject is not None:
        # A creating verb with nothing typed opens a form, so even its subject is optional.
        required = spec.subject_required and not spec.creates
        option = option_for(spec.subject, "subject", required=required)
        if spec.cls is c.Help:
            option = replace(option, complete="verb")  # help's topic is a verb: offer the verbs
        result.append(option)
    if spec.alternative is not None:
        result.append(option_for(spec.alternative, "alternative"))
    result.extend(option_for(key, "key") for key in spec.keys if key.kind not in _CONSOLE_ONLY)
    return tuple(sorted(result, key=lambda o: not o.required))



def arguments(verb: str, values: dict[str, Any]) -> tuple[str | None, dict[str, str]]:
    """Typed option values -> the core's ``(subject, {key: text})``.

    A user becomes a mention (``<@id>``) and a channel ``<#id|name>``, as the text grammar
    writes them; a true boolean becomes its word (``off``, ``confirm``); a number its
    digits. Whether a mentioned user may count is not decided here (see
    ``interactions.Interactions.mentions``). Raises :class:`UserError` for a subject given
    both ways (``intro`` with ``what`` and ``member``).
    """
    spec = c.SPECS[verb]
    subject: str | None = None
    options: dict[str, str] = {}
    for option in options_for(verb):
        value = values.get(option.param)
        if value is None or value is False or value == "" or option.kind == "attachment":
            continue  # an attached file's bytes never go into the grammar (see interactions)
        if option.role == "key":
            options[option.name] = _text(option, value)
            continue
        if subject is not None and spec.subject is not None and spec.alternative is not None:
            raise UserError(
                f"Give `{spec.subject.name}` or `{spec.alternative.name}` "
                f"({spec.alternative.description.lower() or 'instead'}), not both. Try: `{spec.example}`"
            )
        subject = _text(option, value)
    return subject, options


def _text(option: Option, value: Any) -> str:
    if option.kind == "bool":
        return option.word
    if option.kind == "channel":
        return f"<#{value.id}|{getattr(value, 'name', '')}>"
    if option.kind == "user":
        return f"<@{value.id}>"
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
    if option.kind == "attachment":
        return discord.Attachment
    if option.kind == "int":
        if option.bounds is None:
            return int
        low, high = option.bounds
        return app_commands.Range[int, low, high]
    if option.max_length is None:
        return str
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
    return app_commands.Command(name=name, description=_clip(spec.summary, DESCRIPTION_MAX), callback=callback)


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
