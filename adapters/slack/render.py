"""The neutral UI (``core.ui``) as Block Kit: messages, modals, the App Home view.

Safety: the core's text is plain and may hold whatever a member typed, so every piece of
it goes through :func:`escape` before any mrkdwn of ours is added around it. A typed
``<!channel>`` or ``<@U123>`` is then shown as text, never executed. ``plain_text``
objects (button labels, modal labels, header blocks) are never parsed for mentions, so they
carry the text as is.

Slack's limits are enforced here (block counts, text lengths) so a long reply is cut with a
note instead of being rejected with ``invalid_blocks``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from core.ui import Button, Field, Form, Reply, Section, plain_text

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
FIELD_TEXT = 2000
FIELDS_PER_SECTION = 10
BUTTONS_PER_ACTIONS = 25
FALLBACK_TEXT = 3000
MODAL_TITLE = 24
INPUT_MAX = 3000
METADATA_MAX = 3000
URL_MAX = 3000
#: Link buttons' action ids start with this. Slack still sends an action payload when one is
#: pressed (after opening the URL); the adapter acks it and does nothing else.
LINK_PREFIX = "link:"
#: On everything the bot posts: a message may carry a private link (a calendar feed, a
#: sign-in link) that Slack must not fetch to build a preview.
NO_UNFURL = {"unfurl_links": False, "unfurl_media": False}


def escape(text: str) -> str:
    """Escapes Slack's control characters, so user text is shown and never parsed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Undoes Slack's escaping of typed text (slash commands with ``should_escape``).

    Slack's own markup (``<@U1|ann>``, ``<#C1|intros>``) uses real angle brackets and is
    left as is; only the three entities a typed ``&``, ``<`` or ``>`` became are undone.
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def clip(text: str, limit: int) -> str:
    """Cuts escaped text to ``limit`` characters without splitting an entity."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&", max(0, len(cut) - 5))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def _chunks(text: str, limit: int = SECTION_TEXT) -> list[str]:
    """Splits escaped text into pieces of at most ``limit`` characters, at line ends when it can."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            head = clip(line, limit)[:-1]  # no ellipsis: the rest follows
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
            line = line[len(head) :]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current)
    return pieces


def mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def plain(text: str, limit: int = 3000) -> dict:
    text = text or " "
    return {"type": "plain_text", "text": text if len(text) <= limit else text[: limit - 1] + "…", "emoji": True}


def _section(text: str) -> dict:
    return {"type": "section", "text": mrkdwn(text)}


def _text_sections(text: str) -> list[dict]:
    return [_section(piece) for piece in _chunks(text) if piece.strip()]


def _fields(pairs: Iterable[tuple[str, str]]) -> list[dict]:
    """Label/value pairs as section blocks with fields (ten per block)."""
    items = [mrkdwn(clip(f"*{escape(label)}*\n{escape(value)}", FIELD_TEXT)) for label, value in pairs]
    return [
        {"type": "section", "fields": items[i : i + FIELDS_PER_SECTION]}
        for i in range(0, len(items), FIELDS_PER_SECTION)
    ]


def action_id_of(b: Button) -> str:
    """The Block Kit action id: the button's own, or ``link:<hash of the URL>`` for a link."""
    if b.url:
        return LINK_PREFIX + hashlib.sha256(b.url.encode()).hexdigest()[:16]
    return b.action_id[:255]


def is_link(action_id: str) -> bool:
    return action_id.startswith(LINK_PREFIX)


def button(b: Button) -> dict:
    """A button; one with a ``url`` is a link button (opens the URL, means nothing to the core)."""
    action_id = action_id_of(b)
    element = {"type": "button", "text": plain(b.label, 75), "action_id": action_id}
    if b.url:
        element["url"] = b.url[:URL_MAX]
    else:
        element["value"] = b.action_id[:2000]
    if b.style in ("primary", "danger"):
        element["style"] = b.style
    return element


def actions(buttons: Iterable[Button], seen: set[str]) -> list[dict]:
    """Buttons as actions blocks. An action id appears once per surface (Slack requires it)."""
    elements = []
    for b in buttons:
        action_id = action_id_of(b)
        if action_id in seen:
            continue
        seen.add(action_id)
        elements.append(button(b))
    # A block id named after its first button lets a click find (and replace) its block.
    return [
        {
            "type": "actions",
            "block_id": f"act:{elements[i]['action_id']}"[:255],
            "elements": elements[i : i + BUTTONS_PER_ACTIONS],
        }
        for i in range(0, len(elements), BUTTONS_PER_ACTIONS)
    ]


def head_text(title: str, text: str, error: bool = False) -> str:
    """A bold title over the text, both escaped."""
    parts = []
    if title:
        parts.append(f"*{escape(title)}*")
    if text:
        parts.append(escape(text))
    out = "\n".join(parts)
    return f":warning: {out}" if error and out else out


def draft_blocks(draft: str) -> list[dict]:
    """The draft as a preformatted block: one click selects it, ready to copy and edit."""
    return [_section(f"```{piece}```") for piece in _chunks(escape(draft), SECTION_TEXT - 6) if piece.strip()]


def section_blocks(section: Section, seen: set[str]) -> list[dict]:
    blocks: list[dict] = []
    text = head_text(section.title, section.text)
    pieces = _chunks(text) if text else []
    fields = [mrkdwn(clip(f"*{escape(k)}*\n{escape(v)}", FIELD_TEXT)) for k, v in section.fields]
    for piece in pieces:
        blocks.append(_section(piece))
    if fields:
        if blocks and len(fields) <= FIELDS_PER_SECTION:
            blocks[-1]["fields"] = fields  # one block: the text with its fields beside it
        else:
            blocks.extend(_fields(section.fields))
    blocks.extend(actions(section.buttons, seen))
    return blocks


def reply_blocks(reply: Reply, limit: int = MESSAGE_BLOCKS, *, header: bool = False) -> list[dict]:
    """A reply as blocks: title and text, fields, draft, sections with their buttons, the
    reply's buttons, then the context. Sections that don't fit are summed up in a note."""
    seen: set[str] = set()
    head: list[dict] = []
    if header and reply.title:
        head.append({"type": "header", "text": plain(reply.title, 150)})
        head.extend(_text_sections(head_text("", reply.text, reply.error)))
    else:
        head.extend(_text_sections(head_text(reply.title, reply.text, reply.error)))
    head.extend(_fields(reply.fields))
    if reply.draft:
        head.extend(draft_blocks(reply.draft))
    tail: list[dict] = actions(reply.buttons, seen)
    if reply.context:
        tail.append({"type": "context", "elements": [mrkdwn(clip(escape(reply.context), SECTION_TEXT))]})

    body: list[dict] = []
    room = limit - len(head) - len(tail)
    for i, section in enumerate(reply.sections):
        blocks = section_blocks(section, seen)
        left_after = len(reply.sections) - i - 1
        if len(body) + len(blocks) + (1 if left_after else 0) > room:
            body.append({"type": "context", "elements": [mrkdwn(f"…and {left_after + 1} more not shown here.")]})
            break
        body.extend(blocks)
    blocks = head + body + tail
    if not blocks:
        blocks = [_section(" ")]
    return blocks[:limit]


def fallback_text(reply: Reply) -> str:
    """The message's ``text``: notifications and clients without blocks. Escaped too."""
    return clip(escape(plain_text(reply)), FALLBACK_TEXT) or " "


def message(reply: Reply) -> dict:
    """``text`` and ``blocks`` for chat.update (which has no unfurl options)."""
    return {"text": fallback_text(reply), "blocks": reply_blocks(reply)}


def post(reply: Reply) -> dict:
    """What a new message carries (chat.postMessage, response_url, a command's ack):
    ``text``, ``blocks``, and no link previews."""
    return {**message(reply), **NO_UNFURL}


# -- modals -----------------------------------------------------------------------------


def _element(field: Field) -> dict:
    key = field.key
    if field.kind == "select" and field.options:
        options = [{"text": plain(o, 75), "value": o[:150]} for o in field.options]
        element: dict = {"type": "static_select", "action_id": key, "options": options}
        if field.placeholder:
            element["placeholder"] = plain(field.placeholder, 150)
        for option in options:
            if field.initial and option["value"] == field.initial:
                element["initial_option"] = option
        return element
    if field.kind == "bool":
        option = {"text": plain("Yes"), "value": "yes"}
        element = {"type": "checkboxes", "action_id": key, "options": [option]}
        if field.initial.lower() in {"yes", "true", "on"}:
            element["initial_options"] = [option]
        return element
    element = {"type": "plain_text_input", "action_id": key, "max_length": min(field.max_length, INPUT_MAX)}
    if field.kind == "long":
        element["multiline"] = True
    if field.placeholder:
        element["placeholder"] = plain(field.placeholder, 150)
    if field.initial:
        element["initial_value"] = field.initial[: element["max_length"]]
    return element


def modal(form: Form, *, hint: str = "", metadata: dict | None = None) -> dict:
    """A form as a modal: ``callback_id`` is the form id; each field's key is its block and
    action id, so a submission maps straight back to the form's keys."""
    blocks: list[dict] = []
    if hint:
        blocks.append({"type": "context", "elements": [mrkdwn(clip(escape(hint), SECTION_TEXT))]})
    for field in form.fields:
        blocks.append(
            {
                "type": "input",
                "block_id": field.key,
                "optional": not field.required,
                "label": plain(field.label, 2000),
                "element": _element(field),
            }
        )
    view = {
        "type": "modal",
        "callback_id": form.form_id,
        "title": plain(form.title, MODAL_TITLE),
        "submit": plain(form.submit_label or "Save", MODAL_TITLE),
        "close": plain("Cancel", MODAL_TITLE),
        "blocks": blocks[:VIEW_BLOCKS],
    }
    if metadata:
        packed = json.dumps(metadata, separators=(",", ":"))
        if len(packed) <= METADATA_MAX:
            view["private_metadata"] = packed
    return view


def view_values(view: dict) -> dict[str, str]:
    """A submitted modal's values by field key (``state.values[block_id][action_id]``)."""
    out: dict[str, str] = {}
    for block_id, actions_ in (view.get("state", {}).get("values") or {}).items():
        for _action_id, state in actions_.items():
            kind = state.get("type")
            if kind == "static_select":
                value = (state.get("selected_option") or {}).get("value")
            elif kind == "checkboxes":
                value = "yes" if state.get("selected_options") else "no"
            elif kind == "datepicker":
                value = state.get("selected_date")
            elif kind == "timepicker":
                value = state.get("selected_time")
            else:
                value = state.get("value")
            if value is not None:
                out[block_id] = value
    return out


def view_metadata(view: dict) -> dict:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def input_keys(view: dict) -> list[str]:
    """The field keys of a modal: its input blocks' ids."""
    return [b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input" and b.get("block_id")]


ERROR_BLOCK = "rapport:error"
#: What ``response_action: update`` may carry of a submitted view (Slack rejects the rest:
#: id, state, hash, team_id...).
VIEW_KEYS = ("type", "callback_id", "title", "submit", "close", "blocks", "private_metadata",
             "clear_on_close", "notify_on_close", "external_id", "submit_disabled")


def with_error(view: dict, message: str) -> dict:
    """The submitted modal again, with ``message`` on top: for an error that is about no
    one field. Its input blocks keep their ids, so Slack keeps what the member typed."""
    blocks = [b for b in view.get("blocks", []) if b.get("block_id") != ERROR_BLOCK]
    note = {"type": "context", "block_id": ERROR_BLOCK,
            "elements": [mrkdwn(f":warning: {clip(escape(message), SECTION_TEXT - 10)}")]}
    out = {k: view[k] for k in VIEW_KEYS if k in view}
    out["blocks"] = [note, *blocks][:VIEW_BLOCKS]
    return out


# -- the App Home -------------------------------------------------------------------------


def home_view(reply: Reply, notice: str = "") -> dict:
    """The App Home tab: the reply with its title as a header, and an optional notice on top
    (the outcome of the last button pressed there)."""
    blocks = reply_blocks(reply, VIEW_BLOCKS - 1, header=True)
    if notice:
        blocks.insert(1 if blocks and blocks[0]["type"] == "header" else 0,
                      {"type": "context", "elements": [mrkdwn(clip(escape(notice), SECTION_TEXT))]})
    return {"type": "home", "blocks": blocks}


def outcome_blocks(blocks: list[dict], block_id: str, outcome: str) -> list[dict]:
    """A message's blocks with the clicked actions block replaced by the outcome, so the
    buttons can't be pressed twice and the member sees what happened where they clicked."""
    note = {"type": "context", "elements": [mrkdwn(f":white_check_mark: {clip(escape(outcome), 2900)}")]}
    out = []
    replaced = False
    for block in blocks:
        if block.get("type") == "actions" and block.get("block_id") == block_id and not replaced:
            out.append(note)
            replaced = True
        else:
            out.append(block)
    if not replaced:
        out.append(note)
    return out[:MESSAGE_BLOCKS]


def summary(reply: Reply) -> str:
    """One line for a reply: its title, else its text."""
    return (reply.title or reply.text or "Done.").strip().splitlines()[0]
