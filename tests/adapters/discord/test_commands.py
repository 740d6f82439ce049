"""`/rapport` through real interactions: every verb, modals, autocomplete, organizers,
servers kept apart, the deferred path, and mentions that never ping."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from core.models import ContactRow
from tests.adapters.discord.conftest import buttons_of, channel_post, text_of
from tests.adapters.discord.standin import EPHEMERAL


async def ask(standin, user, guild, verb, options=None):
    """Runs a command and returns the bot's answer (an ephemeral message, a modal...)."""
    return await standin.answer_to(await standin.command(user, guild, verb, options or {}))


async def say(standin, user, guild, verb, options=None) -> tuple[str, dict]:
    answer = await ask(standin, user, guild, verb, options)
    assert answer.kind == "message", answer
    assert answer.message["flags"] & EPHEMERAL, f"{verb}: not ephemeral"
    return text_of(answer.message), answer.message


async def test_every_verb_answers_ephemerally(standin, start_bot):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice], organizers=(alice,))
    await start_bot()
    intros = guild.channel("intros")

    steps = [
        ("help", {}, "Rapport: your informational-interview coach"),
        ("help", {"verb": "log"}, "/rapport log"),
        ("admin channel", {"channel": intros}, "Intro requests will be posted in #intros"),
        ("admin stats", {}, "Active members"),
        ("goal", {"text": "product marketing at a B2B SaaS company"}, "Goal set"),
        ("goal", {}, "product marketing at a B2B SaaS company"),
        ("add", {"name": "Bob Li", "company": "Acme", "referred-by": "Ana Ruiz"}, "Bob Li"),
        ("contact", {"name": "Bob Li"}, "Bob Li"),
        ("contacts", {"status": "new"}, "Bob Li (Acme): new"),
        ("reached-out", {"name": "Bob Li", "via": "email", "follow-up": "next Tuesday 10am"}, "you reached out to Bob Li"),
        ("replied", {"name": "Bob Li"}, "Bob Li replied"),
        ("scheduled", {"name": "Bob Li", "when": "tomorrow 3pm", "where": "Blue Bottle"}, "Meeting with Bob Li"),
        ("prep", {"name": "Bob Li"}, "prep kit for Bob Li"),
        ("log", {"name": "Jane Doe", "when": "2 days ago", "notes": "SEO"}, "Logged your meeting with Jane Doe"),
        ("nudges", {}, "Your nudges"),
        ("intro", {"what": "product marketing at a B2B SaaS"}, "#intros"),
        ("offer", {"fields": "marketing", "per-month": 2}, "helper directory"),
        ("helpers", {"field": "marketing"}, "Alice Example"),
        ("offer", {"off": True}, "left the helper directory"),
        ("landed", {"text": "PMM at Acme"}, "Congratulations! PMM at Acme"),
        ("settings", {"tz": "Europe/Berlin", "stay-in-touch": 60}, "Europe/Berlin"),
    ]
    for verb, options, expected in steps:
        text, _ = await say(standin, alice, guild, verb, options)
        assert expected in text, f"{verb} {options}: {text}"

    # done / skip / snooze take the ids the nudges list shows.
    _, listing = await say(standin, alice, guild, "nudges")
    ids = [cid.split(":")[2] for label, cid in buttons_of(listing).items() if label.endswith("Done")]
    assert len(ids) >= 3
    assert "Done: #" + ids[0] in (await say(standin, alice, guild, "done", {"id": ids[0]}))[0]
    assert "Skipped: #" + ids[1] in (await say(standin, alice, guild, "skip", {"id": ids[1]}))[0]
    assert "Snoozed #" + ids[2] in (await say(standin, alice, guild, "snooze", {"id": ids[2], "for": "2 days"}))[0]

    text, message = await say(standin, alice, guild, "export")
    assert "Your data export" in text and "in your DMs" in text and not message["attachments"]
    dm = next(m for m in standin.dm_messages(alice) if "Your data export" in text_of(m))  # files stay in the DM
    assert [a["filename"].rsplit(".", 1)[1] for a in dm["attachments"]] == ["json", "csv", "csv"]

    text, message = await say(standin, alice, guild, "forget-me")
    assert "Delete all your Rapport data?" in text and buttons_of(message)["Yes, delete everything"] == "forget:confirm"
    text, _ = await say(standin, alice, guild, "forget-me", {"confirm": True})
    assert "all your data is deleted" in text


async def test_the_intro_request_is_posted_with_its_buttons(standin, start_bot):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice], organizers=(alice,))
    await start_bot()
    await say(standin, alice, guild, "admin channel", {"channel": guild.channel("intros")})
    text, _ = await say(standin, alice, guild, "intro", {"what": "product marketing at a B2B SaaS"})
    assert "Posted your request R1 to #intros" in text
    # The post goes out after the command commits, on the dispatcher's next sweep.
    post = await channel_post(standin, guild.channel("intros"))
    posts = standin.calls_to("POST", rf"/channels/{guild.channel('intros')['id']}/messages")
    assert len(posts) == 1 and posts[0].status == 200
    assert "product marketing at a B2B SaaS" in text_of(post)
    assert {cid.split(":")[1] for cid in buttons_of(post).values()} == {"glad", "know"}


async def test_a_bare_creating_verb_opens_a_modal_and_its_submission_runs(standin, start_bot, engine):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice])
    await start_bot()
    answer = await ask(standin, alice, guild, "log")
    assert answer.kind == "modal"
    modal = answer.modal
    assert modal["custom_id"] == "form:log"
    keys = [c["component"]["custom_id"] for c in modal["components"]]
    assert keys == ["subject", "when", "notes", "referrals", "company"]  # the first five fields
    assert all(len(c["label"]) <= 45 for c in modal["components"])

    sent = await standin.submit(alice, guild, "form:log", {"subject": "Jane Doe", "when": "yesterday 3pm", "notes": "SEO"})
    answer = await standin.answer_to(sent)
    assert answer.message["flags"] & EPHEMERAL
    assert "Logged your meeting with Jane Doe" in text_of(answer.message)
    async with engine.connect() as conn:
        assert await conn.scalar(select(ContactRow.name)) == "Jane Doe"


async def test_a_form_submission_the_core_refuses_is_answered_ephemerally(standin, start_bot, engine):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice])
    await start_bot()
    assert (await ask(standin, alice, guild, "log")).kind == "modal"
    # No name: the core's error is about the form's subject field, which Discord can't mark.
    sent = await standin.submit(alice, guild, "form:log", {"when": "yesterday 3pm", "notes": "SEO"})
    answer = await standin.answer_to(sent)
    assert answer.kind == "message" and answer.message["flags"] & EPHEMERAL
    text = text_of(answer.message)
    assert "needs a name" in text and "\n" not in text
    assert answer.message["embeds"][0]["color"] == 0xD64545
    async with engine.connect() as conn:
        assert await conn.scalar(select(ContactRow.name)) is None


async def test_options_are_validated_by_the_core_in_one_line(standin, start_bot):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice])
    await start_bot()
    text, message = await say(standin, alice, guild, "log", {"when": "yesterday"})
    assert "needs a name" in text and "/rapport log" in text
    assert message["embeds"][0]["color"] == 0xD64545
    text, _ = await say(standin, alice, guild, "intro", {"what": "design", "member": alice})
    assert "not both" in text


async def test_admin_is_refused_in_one_line_without_manage_server(standin, start_bot):
    alice, bob = standin.user("Alice Example"), standin.user("Bob Builder")
    guild = standin.guild("Alumni", [alice, bob], organizers=(alice,))
    await start_bot()
    text, _ = await say(standin, bob, guild, "admin channel", {"channel": guild.channel("intros")})
    assert text.startswith("Only organizers") and "Manage Server" in text and "\n" not in text
    text, _ = await say(standin, alice, guild, "admin stats")
    assert "Only organizers" not in text


async def test_commands_in_dms_are_refused_politely(standin, start_bot):
    alice = standin.user("Alice Example")
    standin.guild("Alumni", [alice])
    await start_bot()
    text, _ = await say(standin, alice, None, "nudges")
    assert "use `/rapport` in the server" in text
    # And Discord isn't asked to offer the command in DMs at all.
    assert standin.commands[0]["dm_permission"] is False


async def test_autocomplete_offers_own_contacts_time_zones_and_verbs(standin, start_bot):
    alice, bob = standin.user("Alice Example"), standin.user("Bob Builder")
    guild = standin.guild("Alumni", [alice, bob])
    await start_bot()
    await say(standin, alice, guild, "add", {"name": "Jane Doe"})
    await say(standin, alice, guild, "add", {"name": "Janet Smith"})
    await say(standin, alice, guild, "add", {"name": "Bob Li"})

    async def choices(user, verb, options, focused):
        answer = await standin.answer_to(await standin.command(user, guild, verb, options, focused=focused))
        assert answer.kind == "choices"
        return [c["value"] for c in answer.choices]

    assert await choices(alice, "log", {"name": "jan"}, "name") == ["Jane Doe", "Janet Smith"]
    assert await choices(alice, "log", {"name": "smi"}, "name") == ["Janet Smith"]
    assert await choices(bob, "log", {"name": "jan"}, "name") == []
    zones = await choices(alice, "settings", {"tz": "berl"}, "tz")
    assert zones[0] == "Europe/Berlin" and len(zones) <= 25
    assert len(await choices(alice, "settings", {"tz": ""}, "tz")) == 25
    assert "reached-out" in await choices(alice, "help", {"verb": "reach"}, "verb")


async def test_two_servers_and_two_members_are_kept_apart(standin, start_bot):
    alice, bob = standin.user("Alice Example"), standin.user("Bob Builder")
    alumni = standin.guild("Alumni", [alice, bob])
    switchers = standin.guild("Career switchers", [alice])
    await start_bot()
    await say(standin, alice, alumni, "log", {"name": "Priya Raman", "when": "yesterday 3pm", "notes": "secret notes"})
    await say(standin, alice, alumni, "goal", {"text": "alumni goal"})

    assert "Priya Raman" in (await say(standin, alice, alumni, "contacts"))[0]
    for user, guild in ((alice, switchers), (bob, alumni)):
        text, _ = await say(standin, user, guild, "contacts")
        assert "Priya Raman" not in text
        text, _ = await say(standin, user, guild, "contact", {"name": "Priya Raman"})
        assert "no contact named Priya Raman" in text
        assert "alumni goal" not in (await say(standin, user, guild, "goal"))[0]
    answer = await standin.answer_to(await standin.command(alice, switchers, "log", {"name": "Pri"}, focused="name"))
    assert answer.choices == []


async def test_slow_work_is_deferred_then_the_reply_edited_in(standin, start_bot, monkeypatch):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice])
    bot = await start_bot()
    core = bot.client.interactions.core
    execute = core.execute

    async def slow_execute(actor, command, mentions=None):
        await asyncio.sleep(0.1)
        return await execute(actor, command, mentions)

    monkeypatch.setattr(core, "execute", slow_execute)
    bot.client.interactions.defer_after = 0.02
    sent = await standin.command(alice, guild, "export")
    answer = await standin.answer_to(sent)
    assert [c["type"] for c in sent.callbacks] == [5]
    assert sent.callbacks[0]["data"]["flags"] & EPHEMERAL
    assert "Your data export" in text_of(answer.message) and "in your DMs" in text_of(answer.message)
    assert standin.calls_to("PATCH", rf"/webhooks/\d+/{sent.token}/messages/@original")

    # Too late for a modal once deferred: the member is told how to go on instead.
    answer = await ask(standin, alice, guild, "log")
    assert answer.kind == "message" and "Run the command again" in text_of(answer.message)


async def test_nothing_the_bot_sends_pings_everyone(standin, start_bot):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice], organizers=(alice,))
    await start_bot()
    loud = "@everyone @here <@&123456> hire me"
    await say(standin, alice, guild, "admin channel", {"channel": guild.channel("intros")})
    await say(standin, alice, guild, "goal", {"text": loud})
    await say(standin, alice, guild, "intro", {"what": loud})
    await say(standin, alice, guild, "log", {"name": "Jane Doe", "when": "2 days ago", "notes": loud})
    await standin.until(lambda: standin.dm_messages(alice), what="the thank-you DM")
    await channel_post(standin, guild.channel("intros"))

    payloads = []
    for call in standin.calls:
        body = call.body if isinstance(call.body, dict) else {}
        if call.path.endswith("/callback"):
            body = body.get("data") or {} if body.get("type") == 4 else {}
        if "embeds" in body or "content" in body:
            payloads.append((call.path, body))
    assert len(payloads) >= 5
    for path, body in payloads:
        mentions = body.get("allowed_mentions")
        assert mentions is not None, f"{path} sent no allowed_mentions"
        assert mentions.get("parse") == [], f"{path}: {mentions}"
        assert not mentions.get("roles") and not mentions.get("users") and not mentions.get("replied_user")
    # Shown as typed, inert: no everyone, no role mention (test_escaping.py has the rest).
    shown = "@\u200beveryone @\u200bhere <\u200b@&123456> hire me"
    assert shown in text_of(next(m for m in standin.messages.values() if m["channel_id"] == guild.channel("intros")["id"]))


async def test_a_button_on_an_ephemeral_reply_answers_in_place_and_a_slow_one_after_deferring(standin, start_bot, monkeypatch):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice])
    bot = await start_bot()
    await say(standin, alice, guild, "add", {"name": "Jane Doe"})
    await say(standin, alice, guild, "log", {"name": "Jane Doe", "when": "2 days ago"})
    _, listing = await say(standin, alice, guild, "nudges")
    done = [cid for label, cid in buttons_of(listing).items() if label.endswith("Done")]

    answer = await standin.answer_to(await standin.press(alice, listing, done[0]))
    assert answer.kind == "update" and done[0] not in buttons_of(answer.message).values()
    assert done[1] in buttons_of(answer.message).values()  # the other nudges keep theirs

    core = bot.client.interactions.core
    press = core.press

    async def slow_press(actor, action_id):
        await asyncio.sleep(0.1)
        return await press(actor, action_id)

    monkeypatch.setattr(core, "press", slow_press)
    bot.client.interactions.defer_after = 0.02
    sent = await standin.press(alice, answer.message, done[1])
    answer = await standin.answer_to(sent)
    assert [c["type"] for c in sent.callbacks] == [6]  # a deferred update, no "thinking" message
    assert answer.kind == "update" and "✅ Done: #" in text_of(answer.message)


async def test_stopping_finishes_work_in_flight_and_turns_new_work_away(standin, start_bot, monkeypatch):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice])
    bot = await start_bot()
    core = bot.client.interactions.core
    execute = core.execute

    async def slow_execute(actor, command, mentions=None):
        await asyncio.sleep(0.3)
        return await execute(actor, command, mentions)

    monkeypatch.setattr(core, "execute", slow_execute)
    sent = await standin.command(alice, guild, "goal", {"text": "design systems"})
    await standin.until(lambda: bot.client.interactions._inflight, what="the command to start")
    stopping = asyncio.ensure_future(bot.stop())
    await standin.until(lambda: not bot.client.interactions.accepting, what="the bot to stop taking work")
    late = await standin.answer_to(await standin.command(alice, guild, "nudges"))
    assert "restarting" in text_of(late.message)
    answer = await standin.answer_to(sent)
    assert "Goal set" in text_of(answer.message)
    await stopping
    assert bot.client.is_closed()


async def test_a_rejected_token_stops_start_up_with_one_line(standin, engine, monkeypatch):
    from adapters import StartupError
    from adapters.discord.runner import start_discord
    from bot.app import App
    from bot.config import Settings

    monkeypatch.setattr("bot.app.make_engine", lambda url, **kwargs: engine)
    settings = Settings(_env_file=None, DISCORD_TOKEN="MTIz.wrong.token", DISCORD_API_URL=standin.api_url,
                        DISCORD_GATEWAY_URL=standin.gateway_url)
    app = App(settings)
    await app.open()
    try:
        with pytest.raises(StartupError, match="DISCORD_TOKEN was rejected"):
            await start_discord(app)
    finally:
        await app.close()
