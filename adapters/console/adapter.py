"""The console: one local member, lines in, replies out, DMs printed inline.

It is a real adapter (and the simplest end-to-end test target): feed it lines, read what
it prints. With a terminal on stdin, forms run as prompts; piped, it reads to the end of
input and exits, so it can be scripted: each reply is headed by the line it answers, and
a form is filled in one line (`press intro:know:1 name: Bob Li company: Acme`).

The console gives no names of its own: its member is called after the computer's user
until they pick a name with `settings name:`.
"""

from __future__ import annotations

import asyncio
import getpass
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from core.commands import SPECS, Import, parse, split_keys, split_verb
from core.errors import UserError
from core.importing import check_size
from core.service import Actor, Rapport
from core.ui import Form, Message, Reply, plain_text

PLATFORM = "console"
WORKSPACE = "local"
USER = "me"


_AS = re.compile(r"^as\s+([A-Za-z0-9_.-]{1,32}):\s*(.*)$", re.IGNORECASE)
# `@carol` (after a space or at the start, so emails don't count) or `<@carol>`.
_MENTION = re.compile(r"(?:(?<=\s)|^)(?:@([A-Za-z0-9_.-]{1,32})\b|<@([A-Za-z0-9_.-]{1,32})(?:\|[^>]*)?>)")


def _channel(channel_id: str) -> str:
    return channel_id if channel_id.startswith("#") else f"#{channel_id}"


def render(reply: Reply) -> str:
    """Plain text, with buttons shown as the commands that do the same."""
    sections = tuple(
        replace(s, buttons=(), text=f"{s.text}\n→ {_hints(s.buttons)}" if s.buttons else s.text)
        for s in reply.sections
    )
    text = plain_text(replace(reply, buttons=(), sections=sections))
    if reply.buttons:
        text += f"\n→ {_hints(reply.buttons)}"
    return text


def _names_members(line: str) -> bool:
    """Whether the line's verb takes a member (``intro @carol``, ``log @carol``,
    ``referred-by: @carol``), so an unknown ``@name`` there is a mistake rather than text."""
    try:
        verb, _ = split_verb(line)
    except UserError:
        return False
    spec = SPECS.get(verb)
    if spec is None:
        return False
    keys = (spec.subject, spec.alternative, *spec.keys)
    return any(k is not None and k.kind in ("contact", "member") for k in keys)


def _import_path(line: str) -> str | None:
    """The file of an ``import path: <file>`` line, else None."""
    try:
        command = parse(line)
    except UserError:
        return None
    return command.path if isinstance(command, Import) and command.path else None


def _read_local(shown: str) -> tuple[str, bytes] | Reply:
    """The file's name and bytes, or a one-line refusal (missing, a folder, too large)."""
    path = Path(shown).expanduser()
    how = "Check the path, e.g. `import path: ~/Downloads/Connections.csv`"
    try:
        if path.is_dir():
            return Reply.fail(f"{shown} is a folder. Give the file inside it: {how}")
        check_size(path.stat().st_size)
        return path.name, path.read_bytes()
    except UserError as err:
        return Reply.fail(err.message)
    except FileNotFoundError:
        return Reply.fail(f"There's no file at {shown}. {how}")
    except OSError as err:
        return Reply.fail(f"I couldn't open {shown} ({err.strerror or err}). {how}")


def _hints(buttons) -> str:
    return " · ".join(_hint(b) for b in buttons)


def _hint(button) -> str:
    """A button as the line that presses it, with its label unless the command says it
    already (``done 12``): ``I know someone: `press intro:know:1```."""
    if button.url:
        return f"{button.label}: {button.url}"
    command = button.command or f"press {button.action_id}"
    if command.split()[0].lower() == button.label.split()[0].lower():
        return f"`{command}`"
    return f"{button.label}: `{command}`"


def one_line(form: Form, pressed: str | None) -> str:
    """How to fill ``form`` in one line: the button's press with the fields as keys."""
    keys = " ".join(f"{f.key}: …" for f in form.fields if f.key != "subject")
    if pressed:
        return f"`press {pressed} {keys}`"
    return ""


def _user_name() -> str | None:
    try:
        return getpass.getuser().title() or None
    except Exception:  # no user name to be had (some containers): the member picks one
        return None


class ConsoleAdapter:
    """Reads commands, prints replies; the local member's Platform (DMs, channel posts print inline).

    One local member, ``me``. A line ``as bob: <command>`` acts as another local member, so
    the community side (offers, accepting an intro, organizer verbs) can be tried alone.
    """

    def __init__(
        self,
        core: Rapport,
        out: TextIO | None = None,
        *,
        display_name: str | None = None,
        export_dir: Path | None = None,
        interactive: bool | None = None,
    ) -> None:
        self.core = core
        self.out = out or sys.stdout
        # The console is its own little community: its one member is also its organizer. It has
        # no profile to give a name: the computer's user name stands in until `settings name:`.
        self.actor = Actor(platform=PLATFORM, workspace_id=WORKSPACE, user_id=USER, is_organizer=True,
                           fallback_name=display_name or _user_name())
        self.export_dir = export_dir or Path.cwd() / "rapport-exports"
        self.interactive = interactive
        self._print_lock = asyncio.Lock()
        self._posts = 0

    # -- Platform (core.ports) -----------------------------------------------------------

    async def deliver(self, message: Message) -> str | None:
        to = "" if message.recipient.user_id == USER else f" to {message.recipient.user_id}"
        await self.print(f"\n[DM from Rapport{to}]\n{render(message.reply)}\n")
        return None

    async def post_channel(self, workspace_id: str, channel_id: str, reply: Reply) -> str:
        self._posts += 1
        await self.print(f"\n[{_channel(channel_id)}]\n{render(reply)}\n")
        return str(self._posts)

    async def update_channel_post(self, workspace_id: str, channel_id: str, message_ref: str, reply: Reply) -> None:
        await self.print(f"\n[{_channel(channel_id)}, post {message_ref} updated]\n{render(reply)}\n")

    async def open_conversation(self, workspace_id: str, user_ids: list[str], reply: Reply, channel_id: str | None = None) -> str:
        await self.print(f"\n[conversation: {', '.join(user_ids)}]\n{render(reply)}\n")
        return "conversation-" + "-".join(user_ids)

    # -- the loop -----------------------------------------------------------------------

    async def print(self, text: str) -> None:
        async with self._print_lock:
            self.out.write(text if text.endswith("\n") else text + "\n")
            self.out.flush()

    async def handle_line(self, line: str, ask=None) -> Reply | None:
        """Runs one line; ``ask`` (a coroutine prompt) runs forms as prompts."""
        line = line.strip()
        if not line or line.startswith("#"):
            return None
        if line.lower() in {"quit", "exit", "/quit", "/exit"}:
            raise EOFError
        actor = self.actor
        if m := _AS.match(line):  # `as bob: /rapport ...`: try the community side locally
            actor = Actor(PLATFORM, WORKSPACE, m.group(1).lower(), is_organizer=True, fallback_name=m.group(1).title())
            line = m.group(2)
        body = line.removeprefix("/rapport").strip() if line.lower().startswith("/rapport") else line
        path = _import_path(line)
        pressed = None
        if body.lower().startswith("press "):
            pressed, _, rest = body[6:].strip().partition(" ")
            reply = await self.core.press(actor, pressed)
            if reply.form is not None and rest.strip():
                # The form in one line: `press intro:know:1 name: Bob Li company: Acme`.
                reply = await self.submit_line(actor, reply.form, rest)
        elif path is not None:
            reply = await self.import_path(actor, path)
        else:
            line, mentions, unknown = await self.mentions(line)
            if unknown and _names_members(line):
                reply = Reply.fail(
                    f"There's no member @{unknown} here yet. In the console, `as {unknown}: help` brings them in."
                )
            else:
                reply = await self.core.run_text(actor, line, mentions)
        if reply.form is not None and ask is not None:
            reply = await self._fill(actor, reply.form, ask) or reply
        elif reply.form is not None and pressed:
            reply = replace(reply, context=" ".join(x for x in (reply.context, f"Fill it in one line: {one_line(reply.form, pressed)}") if x))
        await self.show(reply)
        return reply

    async def submit_line(self, actor: Actor, form: Form, text: str) -> Reply:
        """Submits ``form`` with values written as keys (``name: Bob Li company: Acme``);
        text before the first key fills the form's first field."""
        keys = tuple(f.key for f in form.fields)
        try:
            lead, values = split_keys(text, keys)
        except UserError as err:
            return Reply.fail(err.message)
        if lead and form.fields and form.fields[0].key not in values:
            values[form.fields[0].key] = lead
        elif lead:
            fields = ", ".join(f"{k}:" for k in keys)
            return Reply.fail(f"I couldn't tell which field “{lead[:40]}” is for. This form's fields: {fields}")
        return await self.core.submit(actor, form.form_id, values)
    async def import_path(self, actor: Actor, raw: str) -> Reply:
        """``import path: <file>``: the console reads a file on its own computer and hands the
        bytes to the core, as Slack and Discord hand over a shared file. (Nowhere else does a
        path mean anything: the core refuses one from a platform.)"""
        found = await asyncio.to_thread(_read_local, raw.strip().strip("\"'"))
        if isinstance(found, Reply):
            return found
        name, data = found
        return await self.core.import_file(actor, name, data)

    async def mentions(self, line: str) -> tuple[str, dict[str, str | None], str | None]:
        """The console's members are local: ``@carol`` or ``<@carol>`` names one the core
        knows (``me``, or anyone who acted with ``as carol:``). Returns the line with each
        written as a mention, the verified mentions, and the first unknown name, if any."""
        found: dict[str, str | None] = {}
        unknown: str | None = None
        for match in _MENTION.finditer(line):
            name = (match.group(1) or match.group(2)).lower()
            if name in found:
                continue
            if await self.core.is_member(PLATFORM, WORKSPACE, name):
                found[name] = None  # the core knows their name
            elif unknown is None:
                unknown = name
        if not found:
            return line, {}, unknown
        line = _MENTION.sub(lambda m: f"<@{(m.group(1) or m.group(2)).lower()}>" if (m.group(1) or m.group(2)).lower() in found else m.group(0), line)
        return line, found, unknown

    async def show(self, reply: Reply) -> None:
        text = ("Error: " if reply.error else "") + render(reply)
        if reply.files:
            self.export_dir.mkdir(parents=True, exist_ok=True)
            text += f"\nSaved in {self.export_dir.resolve()}/:"
            for attachment in reply.files:
                (self.export_dir / attachment.filename).write_bytes(attachment.content)
                text += f"\n  {attachment.filename}"
        await self.print(text)

    async def _fill(self, actor: Actor, form: Form, ask) -> Reply | None:
        await self.print(f"{form.title} (press Enter to skip a field)")
        values: dict[str, str] = {}
        for field in form.fields:
            hint = f" [{field.initial}]" if field.initial else (f" (e.g. {field.placeholder})" if field.placeholder else "")
            if field.options:
                hint += f" {'/'.join(field.options)}"
            answer = await ask(f"  {field.label}{hint}: ")
            if answer is None:
                return None
            answer = answer.strip() or field.initial
            if answer:
                values[field.key] = answer
        return await self.core.submit(actor, form.form_id, values)

    async def run(self, inp: TextIO | None = None) -> None:
        """Reads lines until end of input (or `quit`)."""
        inp = inp or sys.stdin
        interactive = self.interactive if self.interactive is not None else inp.isatty()
        loop = asyncio.get_running_loop()

        async def read(prompt: str = "") -> str | None:
            if interactive and prompt:
                await self.print(prompt.rstrip("\n") if prompt.endswith("\n") else prompt)
            line = await loop.run_in_executor(None, inp.readline)
            return line if line else None

        if interactive:
            await self.print("Type `help` for commands, `quit` to leave.")
        while True:
            if interactive:
                self.out.write("rapport> ")
                self.out.flush()
            line = await loop.run_in_executor(None, inp.readline)
            if not line:
                break
            if not interactive and line.strip() and not line.lstrip().startswith("#"):
                await self.print(f"\n» {line.strip()}")  # piped: each reply under the line it answers
            try:
                await self.handle_line(line, ask=read if interactive else None)
            except EOFError:
                break
            except Exception as err:  # never crash on input; say what happened
                await self.print(f"Error: something went wrong ({type(err).__name__}); nothing was changed.")
