"""The adapter's pure parts, without a Discord: options derived from the verbs' specs,
translation back to the core's grammar, rendering limits and link buttons, modals, error
translation, the invite URL."""

from __future__ import annotations

import base64
import re
from types import SimpleNamespace

import discord
import pytest
from discord import app_commands

from adapters.discord import render as r
from adapters.discord.commands import (
    DESCRIPTION_MAX,
    TEXT_OPTION_MAX,
    arguments,
    build_root,
    options_for,
)
from adapters.discord.invite import application_id_from_token, invite_url, permissions
from adapters.discord.platform import DiscordPlatform, translated
from bot.config import Settings
from core import commands as c
from core.errors import UserError
from core.forms import FORMS
from core.ports import PermanentError, RateLimited, TransientError
from core.ui import Attachment, Button, Field, Form, Reply, Section

# Discord's option types, by the kind of the Key it stands for; every other kind is a string.
OPTION_TYPES = {"int": 4, "word": 5, "member": 6, "channel": 7, "file": 11}
STRING = 3


class _Handler:
    async def on_command(self, interaction, verb, values) -> None: ...

    async def complete(self, interaction, what, current) -> list:
        return []


def synced_subcommands() -> dict[str, dict]:
    """What Discord is sent for ``/rapport``, by verb (``admin channel`` for the group's)."""
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    root = build_root(_Handler()).to_dict(tree)
    subcommands = {o["name"]: o for o in root["options"] if o["type"] == 1}
    for group in (o for o in root["options"] if o["type"] == 2):
        subcommands.update({f"{group['name']} {o['name']}": o for o in group["options"]})
    return subcommands


async def test_discords_options_are_the_verbs_specs():
    """Every option Discord gets comes from the verb's spec: name, type, bounds, choices,
    maximum length, description, autocomplete; nothing is declared twice."""
    subcommands = synced_subcommands()
    assert set(subcommands) == set(c.SPECS)
    for verb, spec in c.SPECS.items():
        # A path is a file on the console's own computer: offered nowhere else.
        keys = [k for k in (spec.subject, spec.alternative) if k is not None] + [k for k in spec.keys if k.kind != "path"]
        options = subcommands[verb].get("options", [])
        assert [o["name"] for o in options] == [k.name for k in keys], verb
        required = [o.get("required", False) for o in options]
        assert required == sorted(required, reverse=True), f"{verb}: required options come first"
        for key, option in zip(keys, options, strict=True):
            where = f"{verb} {key.name}"
            assert option["type"] == OPTION_TYPES.get(key.kind, STRING), where
            assert option["description"] == key.description[:DESCRIPTION_MAX] and len(key.description) <= DESCRIPTION_MAX, where
            # A creating verb run bare opens its form, so only other verbs' subjects are required.
            assert option.get("required", False) == (key is spec.subject and spec.subject_required and not spec.creates), where
            if key.kind == "int":
                assert (option["min_value"], option["max_value"]) == key.bounds, where
            if key.kind == "choice":
                assert [ch["value"] for ch in option["choices"]] == list(key.choices), where
                assert "max_length" not in option, where
            elif option["type"] == STRING:
                assert option["max_length"] == min(key.max_length, TEXT_OPTION_MAX) and option["min_length"] == 1, where
                assert "choices" not in option, where
            assert option.get("autocomplete", False) == (key.kind in ("contact", "tz") or (verb, key.name) == ("help", "verb")), where
    # The spec's examples of names (SPEC.md): subjects as the table says, intro's two ways.
    assert [o["name"] for o in subcommands["intro"]["options"]] == ["what", "member", "note"]
    assert [o["name"] for o in subcommands["offer"]["options"]] == ["off", "fields", "companies", "per-month"]
    per_month = subcommands["offer"]["options"][3]
    assert per_month["min_value"] == 1  # the core refuses 0, so Discord doesn't offer it
    assert [(o["name"], o["type"]) for o in subcommands["import"]["options"]] == [("file", 11)]  # an attachment


def test_rapport_stays_within_discords_25_subcommands():
    """Discord refuses a command with more than 25 subcommands and groups (the whole sync
    fails): /rapport is at the limit, so a new verb needs a group, or to replace one."""
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    root = build_root(_Handler()).to_dict(tree)
    assert len(root["options"]) <= 25
    for group in (o for o in root["options"] if o["type"] == 2):
        assert len(group["options"]) <= 25


def test_typed_options_become_the_grammar():
    member = SimpleNamespace(id=42)
    channel = SimpleNamespace(id=7, name="intros")
    assert arguments("log", {"name": "Jane Doe", "when": "yesterday", "referred_by": None}) == (
        "Jane Doe",
        {"when": "yesterday"},
    )
    assert arguments("add", {"name": "Bob", "referred_by": "Ana"}) == ("Bob", {"referred-by": "Ana"})
    assert arguments("snooze", {"id": "3", "for_": "2 days"}) == ("3", {"for": "2 days"})
    assert arguments("help", {"topic": "log"}) == ("log", {})
    assert arguments("offer", {"off": True}) == ("off", {})
    assert arguments("offer", {"off": False, "per_month": 2}) == (None, {"per-month": "2"})
    assert arguments("forget-me", {"confirm": True}) == ("confirm", {})
    assert arguments("intro", {"member": member, "note": "hi"}) == ("<@42>", {"note": "hi"})
    assert arguments("admin channel", {"channel": channel}) == ("<#7|intros>", {})
    with pytest.raises(UserError, match="not both"):
        arguments("intro", {"what": "design", "member": member})
    # Whatever comes out, the core's builder accepts.
    c.build("intro", *arguments("intro", {"member": member, "note": "hi"}))
    c.build("settings", *arguments("settings", {"stay_in_touch": 60, "digest": "off"}))
    for verb in c.SPECS:
        for option in options_for(verb):
            assert re.fullmatch(r"[-_a-z0-9]{1,32}", option.name)


async def test_a_reply_renders_within_discords_limits():
    many = tuple(Section(title=f"#{i} Thank-you", text="x" * 900, buttons=(Button("Done", f"nudge:done:{i}"),)) for i in range(40))
    reply = Reply(title="t" * 300, text="y" * 5000, draft="draft ``` text", sections=many, context="`/rapport nudges`",
                  files=(Attachment("a.json", b"{}"),))
    rendered = r.render(reply, workspace_id="123")
    embeds = [e.to_dict() for e in rendered.embeds]
    total = sum(len(e.get("title", "")) + len(e.get("description", "")) + len(e.get("footer", {}).get("text", ""))
                + sum(len(f["name"]) + len(f["value"]) for f in e.get("fields", [])) for e in embeds)
    assert total <= 6000 and len(embeds) <= 10
    assert len(embeds[0]["title"]) <= 256 and len(embeds[0]["description"]) <= 4096
    assert embeds[-1]["footer"]["text"] == "/rapport nudges"
    assert "more not shown" in embeds[-1]["fields"][-1]["value"]
    rows = rendered.view.to_components()
    assert len(rows) == 5 and all(len(row["components"]) <= 5 for row in rows)
    first = rows[0]["components"][0]
    assert first["custom_id"] == "nudge:done:0@123" and first["label"] == "#0 Done"
    assert rendered.view.is_finished()  # not kept in discord.py's view store
    assert [f.filename for f in rendered.files] == ["a.json"]


async def test_a_draft_is_a_code_block_that_stays_closed():
    reply = Reply(title="Time to thank Jane", text="Why.", draft="Hi Jane,\n```oops```\nThanks")
    description = r.render(reply).embeds[0].description
    assert description.endswith("\n```") and description.count("```") == 2
    assert r.render(Reply.fail("Nope")).embeds[0].colour == r.ERROR


async def test_a_link_button_opens_its_url_and_no_link_is_left_to_preview():
    link = "https://rapport.example/dashboard/one-time-token"
    reply = Reply(text=f"Your sign-in link: {link}", buttons=(Button("Open the dashboard", url=link), Button("Done", "nudge:done:1")))
    rendered = r.render(reply, workspace_id="9")
    first, second = rendered.view.to_components()[0]["components"]
    assert first["style"] == discord.ButtonStyle.link.value and first["url"] == link and "custom_id" not in first
    assert second["custom_id"] == "nudge:done:1@9"
    # Discord previews links in a message's content only; a reply never puts text there.
    assert "content" not in rendered.send_kwargs() and rendered.edit_kwargs()["content"] is None
    assert link in rendered.embeds[0].description


def test_custom_ids_match_the_templates():
    button = re.compile(r.BUTTON_TEMPLATE)
    for action in ("nudge:done:42", "forget:confirm", "intro:glad:7", "intro:ask:3:9"):
        assert button.fullmatch(action)["action"] == action
        stamped = button.fullmatch(r.custom_id(action, "1234"))
        assert (stamped["action"], stamped["workspace"]) == (action, "1234")
    assert button.fullmatch("Nope") is None
    form = r.FORM_PATTERN.fullmatch("form:snooze:42@99")
    assert (form["form"], form["workspace"]) == ("form:snooze:42", "99")


async def test_a_form_becomes_a_modal_of_its_first_five_fields():
    dialog = r.modal(FORMS["log"], workspace_id="5")
    data = dialog.to_dict()
    assert data["custom_id"] == "form:log@5" and len(data["components"]) == 5
    labels = [row["label"] for row in data["components"]]
    assert all(len(label) <= 45 for label in labels)
    long_one = next(row for row in data["components"] if row["component"]["custom_id"] == "referrals")
    assert long_one["description"].startswith("People they suggested")
    assert dialog.is_finished()
    choice = r.modal(Form("form:x", "X", (Field("thanked", "Thanked?", kind="select", options=("no", "yes")),)))
    assert choice.to_dict()["components"][0]["component"]["type"] == 3


def test_modal_values_unwrap_rows_and_labels():
    components = [
        {"type": 18, "component": {"type": 4, "custom_id": "subject", "value": "Jane"}},
        {"type": 1, "components": [{"type": 4, "custom_id": "when", "value": ""}]},
        {"type": 18, "component": {"type": 3, "custom_id": "thanked", "values": ["yes"]}},
    ]
    assert r.modal_values(components) == {"subject": "Jane", "when": "", "thanked": "yes"}


def _http_error(cls, status: int, code: int = 0):
    response = SimpleNamespace(status=status, reason="x")
    return cls(response, {"code": code, "message": "m"})


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_http_error(discord.Forbidden, 403, 50007), PermanentError),
        (_http_error(discord.NotFound, 404, 10013), PermanentError),
        (_http_error(discord.HTTPException, 400, 50035), PermanentError),
        (_http_error(discord.DiscordServerError, 503), TransientError),
        (_http_error(discord.HTTPException, 429), TransientError),
        (ConnectionResetError(), TransientError),
        (discord.RateLimited(45.0), RateLimited),
    ],
)
async def test_errors_are_translated_for_the_dispatcher(error, expected):
    with pytest.raises(expected) as caught:
        async with translated("DM"):
            raise error
    if expected is RateLimited:
        assert caught.value.retry_after == 45.0


async def test_a_conversation_without_an_intro_channel_that_reaches_nobody_is_a_permanent_failure():
    """Without a channel both people are introduced by DM; when neither takes DMs, the
    dispatcher tells both what happened instead of retrying."""
    tried = []

    async def create_dm(user):
        tried.append(user.id)
        raise PermanentError(f"DM to {user.id}: 403 50007 Cannot send messages to this user")

    platform = DiscordPlatform(client=SimpleNamespace(is_closed=lambda: False, create_dm=create_dm))
    with pytest.raises(PermanentError, match="50007"):
        await platform.open_conversation("1", ["2", "3"], Reply(title="Introduction"), None)
    assert tried == [2, 3]


async def test_a_stopped_client_hands_the_dispatchers_work_back():
    closed = SimpleNamespace(is_closed=lambda: True)
    platform = DiscordPlatform(client=closed)
    with pytest.raises(TransientError, match="client is closed"):
        await platform.post_channel("1", "2", Reply(text="hello"))


def test_the_invite_url_asks_for_exactly_what_the_bot_uses():
    token = base64.b64encode(b"123456789012345678").decode().rstrip("=") + ".GAbcde.signature"
    assert application_id_from_token(token) == "123456789012345678"
    assert application_id_from_token("not-a-token") is None
    url = invite_url(Settings(_env_file=None, DISCORD_TOKEN=token))
    assert url.startswith("https://discord.com/oauth2/authorize?client_id=123456789012345678&")
    assert "scope=bot%20applications.commands" in url
    value = permissions().value
    assert f"permissions={value}" in url
    granted = {name for name, on in discord.Permissions(value) if on}  # read_messages = View Channel
    assert granted == {"read_messages", "send_messages", "embed_links", "attach_files", "create_private_threads", "send_messages_in_threads"}
    assert "client_id=YOUR_APPLICATION_ID" in invite_url(Settings(_env_file=None))
