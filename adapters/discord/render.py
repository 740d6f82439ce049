"""Neutral UI -> Discord: a Reply becomes embeds, a view of buttons and files; a Form a modal.

Buttons and modals carry stable custom ids: the core's ``action_id`` / ``form_id``. Where
the message lands in a DM (nudges), the id also carries the server it belongs to
(``nudge:done:42@<guild id>``), because a DM interaction has no guild and one Discord user
can be a member of several servers that run the bot.

Everything a member typed goes into embeds (embeds never ping), and every send says
``AllowedMentions.none()`` as well. The core's text is plain (``core.ui``), so before it goes
into an embed it is made inert with :func:`inert`: Discord markdown is escaped (no
``[disguised](https://links)``, no bold, no headers), mentions show as text (``<@123>``,
``@everyone``), and only the core's backticked commands stay code. Discord's size limits
are enforced here, so a long reply is clipped rather than rejected.

Links: a ``Button`` with a ``url`` becomes a link button (no custom id; Discord opens it and
tells the bot nothing). Discord previews only links in a message's ``content``, and a
reply's text never goes there (only embeds, which are not unfurled), so a private link in
a reply's text is never previewed either. The ``SUPPRESS_EMBEDS`` flag would not help: it
hides the bot's own embeds too, which would blank the reply.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import discord

from core.ui import Attachment, Button, Field, Form, Reply

ACCENT = discord.Colour(0x2F80ED)
ERROR = discord.Colour(0xD64545)
DONE = discord.Colour(0x2E9E5B)
OUTCOME_MAX = 500

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits)
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
FIELDS_PER_EMBED = 25
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL_MAX = 6000
BUTTON_LABEL_MAX = 80
BUTTONS_PER_ROW = 5
ROWS_MAX = 5
MODAL_TITLE_MAX = 45
LABEL_MAX = 45
LABEL_DESCRIPTION_MAX = 100
PLACEHOLDER_MAX = 100
MODAL_INPUTS_MAX = 5
TEXT_INPUT_MAX = 4000

ACTION = r"[a-z-]+:[A-Za-z0-9:_-]*"
#: Any button of the core, optionally stamped with the server it belongs to.
BUTTON_TEMPLATE = rf"(?P<action>{ACTION})(?:@(?P<workspace>[0-9]+))?"
#: Any form of the core (``form:log``, ``form:snooze:42``), optionally stamped likewise.
FORM_PATTERN = re.compile(r"(?P<form>form:[A-Za-z0-9:_-]*)(?:@(?P<workspace>[0-9]+))?")

STYLES = {
    "primary": discord.ButtonStyle.primary,
    "danger": discord.ButtonStyle.danger,
    "default": discord.ButtonStyle.secondary,
}


def custom_id(stable_id: str, workspace_id: str | None = None) -> str:
    """The custom id for a core action or form id; ``workspace_id`` only for DMs."""
    return f"{stable_id}@{workspace_id}" if workspace_id else stable_id


def clip(text: str, limit: int) -> str:
    """Cuts ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    text = text or ""
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


# A link a member typed stays a plain link: it shows its own address, so it can't disguise
# one. It is left alone (escaping would break it) from a real host name, so Discord surely
# makes it a link, up to any "<", "[", backtick or backslash: those are escaped after it as
# anywhere. Should Discord's link run on over them, they are inside a link, inert too.
_URL = re.compile(r"<?https?://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+[^\s<>`\\\[\]]*>?")
# The core marks commands with backticks: `/rapport done R7`. Those spans stay code, where
# nothing renders: every other backtick is escaped, so Discord pairs them as we do. Not
# after a link in the same word, though: Discord's link would swallow the opening backtick
# and pair the closing one with the next span's, turning the text between into markdown.
_CODE = re.compile(r"`([^`\n]+)`")
_SPECIAL = re.compile(r"([\\*_~|`\[\]])")  # escaped anywhere: emphasis, code, masked links
_LINE_START = re.compile(r"^(\s*)([#>+-])", re.MULTILINE)  # headers, quotes, lists, small print
_ORDERED = re.compile(r"^(\s*\d+)\.(?=\s)", re.MULTILINE)  # "1. " starts a list
# Mentions, channels, roles, times, emoji all start "<x": a zero-width space after the "<"
# (not a backslash, which a link just before would take in) leaves them text.
_ANGLE = re.compile(r"<")
_EVERYONE = re.compile(r"@(everyone|here)")


def inert(text: str) -> str:
    """``text`` as Discord should show it, literally: markdown escaped, mentions as text."""
    out: list[str] = []
    at = 0
    for span in _CODE.finditer(text or ""):
        word = re.split(r"\s", text[: span.start()])[-1]
        if "://" in word:
            continue
        out.append(_inert_plain(text[at : span.start()]))
        out.append(span.group(0))
        at = span.end()
    out.append(_inert_plain((text or "")[at:]))
    return "".join(out)


def _inert_plain(text: str) -> str:
    out: list[str] = []
    at = 0
    for link in _URL.finditer(text):
        out.append(_escape(text[at : link.start()]))
        out.append(link.group(0))
        at = link.end()
    out.append(_escape(text[at:]))
    return "".join(out)


def _escape(text: str) -> str:
    text = _SPECIAL.sub(r"\\\1", text)
    text = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    text = _ORDERED.sub(lambda m: m.group(1) + "\\.", text)
    text = _ANGLE.sub("<\u200b", text)
    text = _EVERYONE.sub("@\u200b\\1", text)
    # Anything else that looks like a link (no real host) must not become one: Discord's
    # link would take in the escapes after it and leave what follows live.
    return text.replace("://", "\\://")


def code_block(text: str, limit: int) -> str:
    """A copyable code block of at most ``limit`` characters, fences included."""
    # A fence inside the draft would end the block early; a zero-width space defuses it.
    body = text.replace("```", "`\u200b`\u200b`")
    return f"```\n{clip(body, max(1, limit - 8))}\n```"


@dataclass
class Rendered:
    """What one message is made of. Build a fresh one per send: files are read once."""

    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None
    files: list[discord.File] = field(default_factory=list)

    def send_kwargs(self) -> dict:
        """For ``send``/``send_message``/``followup.send``. Pings nobody; a caller that means
        to ping (a new thread's two members) replaces ``allowed_mentions``."""
        kwargs: dict = {"embeds": self.embeds, "allowed_mentions": discord.AllowedMentions.none()}
        if self.view is not None:
            kwargs["view"] = self.view
        if self.files:
            kwargs["files"] = self.files
        return kwargs

    def edit_kwargs(self) -> dict:
        """For ``edit``/``edit_original_response``: replaces content, embeds, buttons, files."""
        return {
            "content": None,
            "embeds": self.embeds,
            "view": self.view,
            "attachments": self.files,
            "allowed_mentions": discord.AllowedMentions.none(),
        }


def render(reply: Reply, workspace_id: str | None = None) -> Rendered:
    """Renders a reply. Pass ``workspace_id`` when the message goes to a DM (see module doc)."""
    return Rendered(embeds=_embeds(reply), view=_view(reply, workspace_id), files=[_file(a) for a in reply.files])


def _file(attachment: Attachment) -> discord.File:
    return discord.File(io.BytesIO(attachment.content), filename=attachment.filename)


def _embeds(reply: Reply) -> list[discord.Embed]:
    colour = ERROR if reply.error else ACCENT
    title = clip(inert(reply.title), TITLE_MAX)
    description = clip(inert(reply.text), DESCRIPTION_MAX)
    if reply.draft:
        head = (description + "\n\n" if description else "") + "**Draft** (copy, edit, send):\n"
        room = DESCRIPTION_MAX - len(head)
        if room > 40:
            description = head + code_block(reply.draft, room)
    if not (title or description or reply.fields or reply.sections):
        description = "Done." if not reply.error else "Something went wrong."

    fields = [(clip(inert(label), FIELD_NAME_MAX), clip(inert(value), FIELD_VALUE_MAX) or "\u200b", len(value) <= 40)
              for label, value in reply.fields]
    for section in reply.sections:
        lines = [section.text] if section.text else []
        lines.extend(f"{label}: {value}" for label, value in section.fields)
        fields.append((clip(inert(section.title), FIELD_NAME_MAX) or "\u200b", clip(inert("\n".join(lines)), FIELD_VALUE_MAX) or "\u200b",
                       False))
    # Backticks mark commands in the core's text; a footer shows them literally (footers
    # render no markdown and no mentions, so nothing in one needs escaping).
    footer = clip(reply.context.replace("`", ""), min(FOOTER_MAX, EMBED_TOTAL_MAX - len(title) - len(description) - 100))

    budget = EMBED_TOTAL_MAX - len(title) - len(description) - len(footer)
    first = discord.Embed(title=title or None, description=description or None, colour=colour)
    embeds = [first]
    current = first
    left_out = 0
    for i, (name, value, inline) in enumerate(fields):
        size = len(name) + len(value)
        if size > budget - 60 or (len(current.fields) == FIELDS_PER_EMBED and len(embeds) == EMBEDS_PER_MESSAGE):
            left_out = len(fields) - i
            break
        if len(current.fields) == FIELDS_PER_EMBED:
            current = discord.Embed(colour=colour)
            embeds.append(current)
        current.add_field(name=name, value=value, inline=inline)
        budget -= size
    if left_out and len(current.fields) < FIELDS_PER_EMBED:
        current.add_field(name="\u200b", value=f"…and {left_out} more not shown.", inline=False)
    if footer:
        embeds[-1].set_footer(text=footer)
    return embeds


def _view(reply: Reply, workspace_id: str | None) -> discord.ui.View | None:
    rows: list[list[tuple[Button, str]]] = []
    for start in range(0, len(reply.buttons), BUTTONS_PER_ROW):
        rows.append([(b, b.label) for b in reply.buttons[start : start + BUTTONS_PER_ROW]])
    with_buttons = [s for s in reply.sections if s.buttons]
    for section in with_buttons:
        # Several sections' buttons share one message: say which item each button acts on.
        prefix = _section_tag(section.title) if len(with_buttons) > 1 else ""
        row = [(b, f"{prefix} {b.label}".strip()) for b in section.buttons[:BUTTONS_PER_ROW]]
        rows.append(row)
    rows = rows[:ROWS_MAX]
    if not rows:
        return None
    view = discord.ui.View(timeout=None)
    for number, row in enumerate(rows):
        for button, label in row:
            if button.url:
                # A link button: Discord opens the URL itself and tells the bot nothing.
                item = discord.ui.Button(label=clip(label, BUTTON_LABEL_MAX), url=button.url, row=number)
            else:
                item = discord.ui.Button(
                    label=clip(label, BUTTON_LABEL_MAX),
                    style=STYLES.get(button.style, discord.ButtonStyle.secondary),
                    custom_id=custom_id(button.action_id, workspace_id),
                    row=number,
                )
            view.add_item(item)
    # Presses are handled by one registered DynamicItem, matching by custom id, so they
    # survive restarts. A stopped view is not kept in discord.py's view store (where it
    # would also catch the press, and time out).
    view.stop()
    return view


def _section_tag(title: str) -> str:
    head = (title or "").split(" ", 1)[0]
    return head if head.startswith("#") else clip(title or "", 24)


# -- a pressed button's outcome ------------------------------------------------------------


def is_simple(reply: Reply) -> bool:
    """A one-line outcome (``Done: #42 …``) that can stand where the pressed buttons were."""
    return not (
        reply.error or reply.sections or reply.buttons or reply.draft or reply.fields or reply.files or reply.form
    )


def outcome(reply: Reply) -> str:
    return " ".join(part for part in (reply.title, reply.text) if part) or "Done."


def answered(message: discord.Message, pressed: str, text: str) -> dict:
    """Edit arguments for ``message`` with the row of the pressed button replaced by the
    outcome: the member sees what happened where they clicked, and can't press it twice."""
    embeds = list(message.embeds)
    note = discord.Embed(description=clip(f"✅ {inert(text)}", OUTCOME_MAX), colour=DONE)
    if len(embeds) < EMBEDS_PER_MESSAGE:
        embeds.append(note)
    else:
        embeds[-1] = note
    view = discord.ui.View(timeout=None)
    kept = 0
    for row in message.components:
        children = [c for c in getattr(row, "children", []) if isinstance(c, discord.components.Button)]
        if not children or any(c.custom_id == pressed for c in children):
            continue
        for child in children:
            view.add_item(
                discord.ui.Button(
                    label=child.label, style=child.style, custom_id=child.custom_id, url=child.url,
                    disabled=child.disabled, emoji=child.emoji, row=kept,
                )
            )
        kept += 1
    view.stop()  # as in _view: presses go through the DynamicItem
    return {"embeds": embeds, "view": view if view.children else None}


# -- forms ---------------------------------------------------------------------------


def modal(form: Form, workspace_id: str | None = None) -> discord.ui.Modal:
    """A modal for the form's first five fields (Discord's limit; the core orders them)."""
    dialog = discord.ui.Modal(
        title=clip(form.title, MODAL_TITLE_MAX) or "Rapport",
        custom_id=custom_id(form.form_id, workspace_id),
        timeout=None,
    )
    for spec in form.fields[:MODAL_INPUTS_MAX]:
        text, description = _label(spec)
        dialog.add_item(discord.ui.Label(text=text, description=description, component=_input(spec)))
    # Submissions are routed by custom id (see client.py), so they work after a restart;
    # a stopped modal is not kept in discord.py's store.
    dialog.stop()
    return dialog


def _label(spec: Field) -> tuple[str, str | None]:
    if len(spec.label) <= LABEL_MAX:
        return spec.label, None
    cut = spec.label[: LABEL_MAX - 1].rsplit(" ", 1)[0].rstrip(" :,(") + "…"
    return cut, clip(spec.label, LABEL_DESCRIPTION_MAX)


def _input(spec: Field) -> discord.ui.Item:
    options = spec.options or (("yes", "no") if spec.kind == "bool" else ())
    if options:
        return discord.ui.Select(
            custom_id=spec.key,
            placeholder=clip(spec.placeholder, PLACEHOLDER_MAX) or None,
            options=[discord.SelectOption(label=o, value=o, default=o == spec.initial) for o in options[:25]],
            min_values=1 if spec.required else 0,
            max_values=1,
            required=spec.required,
        )
    return discord.ui.TextInput(
        custom_id=spec.key,
        style=discord.TextStyle.paragraph if spec.kind == "long" else discord.TextStyle.short,
        placeholder=clip(spec.placeholder, PLACEHOLDER_MAX) or None,
        default=clip(spec.initial, TEXT_INPUT_MAX) or None,
        required=spec.required,
        max_length=max(1, min(spec.max_length, TEXT_INPUT_MAX)),
    )


def modal_values(components: list[dict]) -> dict[str, str]:
    """The values of a modal submission, by field key (action rows and labels unwrapped)."""
    values: dict[str, str] = {}

    def walk(items: list[dict]) -> None:
        for item in items or []:
            if "components" in item:
                walk(item["components"])
            elif "component" in item:
                walk([item["component"]])
            elif "custom_id" in item:
                if "value" in item:
                    values[item["custom_id"]] = item.get("value") or ""
                elif "values" in item:
                    values[item["custom_id"]] = (item.get("values") or [""])[0]

    walk(components)
    return values
