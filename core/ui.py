"""Neutral output. Handlers return these; each adapter renders them its own way.

Text here is plain: no Slack mrkdwn, no Discord markdown, and it may contain whatever a
member typed. Adapters escape it (Slack) or disable mentions (Discord) before posting.
Emphasis is structural instead: a ``title`` is shown bold, a ``draft`` as a quote block
the member can copy, ``context`` as small print.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ButtonStyle = Literal["primary", "danger", "default"]
FieldKind = Literal["text", "long", "date", "select", "bool"]


@dataclass(frozen=True)
class Button:
    """A button. ``action_id`` is stable across restarts, e.g. ``nudge:done:42``.

    ``command`` is the same action as text (``done 42``), for the console. A button with a
    ``url`` is a link (a private sign-in link, a mailto: draft): pressing it opens the URL
    and reaches the core as nothing; adapters never let the platform preview it.
    """

    label: str
    action_id: str = ""
    style: ButtonStyle = "default"
    command: str = ""
    url: str = ""


@dataclass(frozen=True)
class Field:
    """One input of a form. ``key`` is the grammar key (or ``subject``) it fills."""

    key: str
    label: str
    kind: FieldKind = "text"
    required: bool = False
    placeholder: str = ""
    initial: str = ""
    options: tuple[str, ...] = ()
    max_length: int = 100


@dataclass(frozen=True)
class Form:
    """A form (Slack modal, Discord modal, console prompts).

    Submitting it runs ``verb`` with the fields' values; ``form_id`` is stable
    (``form:log``, ``form:snooze:42``) so a submission can be routed after a restart.
    """

    form_id: str
    title: str
    fields: tuple[Field, ...]
    submit_label: str = "Save"


@dataclass(frozen=True)
class Section:
    """A block of a reply: an item of a list, with its own fields and buttons."""

    text: str
    title: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Attachment:
    """A file the adapter uploads or writes (export)."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Reply:
    """What a handler returns, and what a nudge or other DM carries."""

    text: str = ""
    title: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    draft: str = ""
    sections: tuple[Section, ...] = ()
    buttons: tuple[Button, ...] = ()
    context: str = ""
    form: Form | None = None
    files: tuple[Attachment, ...] = ()
    error: bool = False
    error_field: str | None = None  # the form field an error is about (a key, or "subject")
    changed: bool = False  # the command changed something (a member's dashboard may need a refresh)

    @classmethod
    def fail(cls, text: str, field: str | None = None) -> Reply:
        return cls(text=" ".join(text.splitlines()), error=True, error_field=field)


@dataclass(frozen=True)
class Recipient:
    """Whom a message goes to: one member on one platform."""

    platform: str
    workspace_id: str
    user_id: str
    dm_channel_id: str | None = None


@dataclass(frozen=True)
class Message:
    """A DM to a member (a nudge, or news of something another member did)."""

    recipient: Recipient
    reply: Reply
    nudge_id: int | None = None
    kind: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def _label(button: Button) -> str:
    return f"{button.label}: {button.url}" if button.url else button.label


def plain_text(reply: Reply) -> str:
    """Render a reply as plain text (console, notification fallbacks, tests)."""
    lines: list[str] = []
    if reply.title:
        lines.append(reply.title)
    if reply.text:
        lines.append(reply.text)
    for label, value in reply.fields:
        lines.append(f"  {label}: {value}")
    if reply.draft:
        lines.append("  Draft:")
        lines.extend("  | " + line for line in reply.draft.splitlines())
    for section in reply.sections:
        body = section.text.splitlines()
        if section.title:
            lines.append(f"• {section.title}")
        elif body:
            lines.append(f"• {body.pop(0)}")
        lines.extend(f"    {line}" for line in body)
        for label, value in section.fields:
            lines.append(f"    {label}: {value}")
        if section.buttons:
            lines.append("    [" + "] [".join(_label(b) for b in section.buttons) + "]")
    if reply.buttons:
        lines.append("[" + "] [".join(_label(b) for b in reply.buttons) + "]")
    if reply.context:
        lines.append(reply.context)
    return "\n".join(lines)
