"""The adapter's pure parts, without a Discord: option generation, translation back to the
core's grammar, rendering limits, modals, error translation, the invite URL."""

from __future__ import annotations

import base64
import re
from types import SimpleNamespace

import discord
import pytest

from adapters.discord import render as r
from adapters.discord.commands import arguments, options_for
from adapters.discord.invite import application_id_from_token, invite_url, permissions
from adapters.discord.platform import NameCache, translated
from bot.config import Settings
from core import commands as c
from core.errors import UserError
from core.forms import FORMS
from core.ports import PermanentError, RateLimited, TransientError
from core.ui import Attachment, Button, Field, Form, Reply, Section


def test_options_are_named_as_the_spec_says():
    names = {verb: [o.name for o in options_for(verb)] for verb in c.SPECS}
    assert names["log"] == ["name", "when", "company", "role", "notes", "referrals", "opportunities", "thanked"]
    assert names["add"][-2:] == ["referred-by", "notes"]
    assert names["reached-out"] == ["name", "via", "follow-up"]
    assert names["offer"] == ["off", "fields", "companies", "per-month"]
    assert names["settings"] == ["tz", "quiet", "stay-in-touch", "digest"]
    assert names["help"] == ["verb"] and names["goal"] == ["text"] and names["done"] == ["id"]
    assert names["helpers"] == ["field"] and names["admin channel"] == ["channel"]
    assert names["intro"] == ["what", "member", "note"] and names["forget-me"] == ["confirm"]
    for verb in c.SPECS:
        for option in options_for(verb):
            assert re.fullmatch(r"[-_a-z0-9]{1,32}", option.name)
            assert 1 <= len(option.description) <= 100
    # A creating verb run bare opens its form, so nothing of it is required.
    assert not any(o.required for o in options_for("log"))
    assert [o.required for o in options_for("contact")] == [True]


def test_typed_options_become_the_grammar():
    member = SimpleNamespace(id=42)
    channel = SimpleNamespace(id=7, name="intros")
    assert arguments("log", {"name": "Jane Doe", "when": "yesterday", "referred_by": None}) == (
        "Jane Doe",
        {"when": "yesterday"},
    )
    assert arguments("add", {"name": "Bob", "referred_by": "Ana"}) == ("Bob", {"referred-by": "Ana"})
    assert arguments("snooze", {"id": "3", "for_": "2 days"}) == ("3", {"for": "2 days"})
    assert arguments("offer", {"off": True}) == ("off", {})
    assert arguments("offer", {"off": False, "per_month": 2}) == (None, {"per-month": "2"})
    assert arguments("forget-me", {"confirm": True}) == ("confirm", {})
    assert arguments("intro", {"member": member, "note": "hi"}) == ("<@42>", {"note": "hi"})
    assert arguments("admin channel", {"channel": channel}) == ("<#7|intros>", {})
    with pytest.raises(UserError):
        arguments("intro", {"what": "design", "member": member})
    # Whatever comes out, the core's builder accepts.
    c.build("intro", *arguments("intro", {"member": member, "note": "hi"}))
    c.build("settings", *arguments("settings", {"stay_in_touch": 60, "digest": "off"}))


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


def test_name_cache_remembers_and_forgets():
    cache = NameCache(ttl=60, max_size=2)
    assert cache.get("g", "u") == (False, None)
    cache.put("g", "u", "Alice")
    cache.put("g", "v", None)
    assert cache.get("g", "u") == (True, "Alice") and cache.get("g", "v") == (True, None)
    cache.put("g", "w", "Wen")  # over the bound: starts afresh
    assert cache.get("g", "u") == (False, None)


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
