"""Nudges as DMs: delivered with their draft and buttons, pressed after a restart, rate
limits waited out, closed DMs reported once; an accepted intro opens a private thread."""

from __future__ import annotations

from sqlalchemy import select

from core.models import Member, Meta, Nudge
from tests.adapters.discord.conftest import buttons_of, eventually, text_of
from tests.adapters.discord.standin import EPHEMERAL


async def say(standin, user, guild, verb, options=None) -> str:
    answer = await standin.answer_to(await standin.command(user, guild, verb, options or {}))
    assert answer.kind == "message" and answer.message["flags"] & EPHEMERAL
    return text_of(answer.message)


async def thank_you_dm(standin, user) -> dict:
    return await standin.until(
        lambda: next((m for m in standin.dm_messages(user) if "thank" in text_of(m).lower()), None),
        within=8,
        what="the thank-you DM",
    )


async def nudge_status(engine, nudge_id: int) -> str:
    async with engine.connect() as conn:
        return await conn.scalar(select(Nudge.status).where(Nudge.id == nudge_id))


async def marked_sent(engine, nudge_id: int) -> None:
    """The DM is out before the dispatcher records it: wait for the record."""

    async def sent():
        return await nudge_status(engine, nudge_id) == "sent"

    await eventually(sent, what=f"nudge {nudge_id} to be marked sent")


async def test_a_logged_meeting_brings_a_thank_you_dm_whose_buttons_work(standin, start_bot, engine):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice])
    await start_bot()
    await say(standin, alice, guild, "log", {"name": "Jane Doe", "when": "2 days ago", "notes": "talked about SEO audits"})

    dm = await thank_you_dm(standin, alice)
    embed = dm["embeds"][0]
    assert embed["title"] == "Time to thank Jane Doe"
    assert "```" in embed["description"] and "Jane" in embed["description"].split("```")[1]
    buttons = buttons_of(dm)
    assert list(buttons) == ["Done", "Snooze", "Skip"]
    nudge_id = int(buttons["Done"].split(":")[2].split("@")[0])
    assert buttons["Done"] == f"nudge:done:{nudge_id}@{guild.id}"  # a DM button carries its server
    await marked_sent(engine, nudge_id)

    # In their own DM, the outcome takes the place of the pressed buttons; the draft stays.
    answer = await standin.answer_to(await standin.press(alice, dm, buttons["Done"]))
    assert answer.kind == "update" and answer.message["id"] == dm["id"]
    assert answer.message["embeds"][0]["description"] == embed["description"]
    assert answer.message["embeds"][-1]["description"].startswith(f"✅ Done: #{nudge_id}")
    assert buttons_of(answer.message) == {}
    assert await nudge_status(engine, nudge_id) == "done"
    async with engine.connect() as conn:
        assert await conn.scalar(select(Member.dm_channel_id)) == str(standin.dm_channels[alice.id])


async def test_a_nudge_button_works_after_a_restart(standin, start_bot, engine):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice])
    first = await start_bot()
    await say(standin, alice, guild, "log", {"name": "Jane Doe", "when": "2 days ago"})
    dm = await thank_you_dm(standin, alice)
    await first.stop()

    await start_bot()  # a new client and app on the same database
    snooze = buttons_of(dm)["Snooze"]
    nudge_id = int(snooze.split(":")[2].split("@")[0])
    answer = await standin.answer_to(await standin.press(alice, dm, snooze))
    assert answer.kind == "modal"
    assert answer.modal["custom_id"] == f"form:snooze:{nudge_id}@{guild.id}"

    sent = await standin.submit(alice, None, answer.modal["custom_id"], {"for": "2 days"}, channel_id=int(dm["channel_id"]))
    answer = await standin.answer_to(sent)
    assert f"Snoozed #{nudge_id}" in text_of(answer.message)
    assert await nudge_status(engine, nudge_id) == "pending"

    skip = await standin.answer_to(await standin.press(alice, dm, buttons_of(dm)["Skip"]))
    assert skip.kind == "update" and f"Skipped: #{nudge_id}" in text_of(skip.message)


async def test_command_definitions_are_synced_only_when_they_change(standin, start_bot, engine):
    standin.guild("Alumni", [standin.user("Alice Example")])
    first = await start_bot(dispatch=False)
    assert first.client.synced is True
    await first.stop()
    second = await start_bot(dispatch=False)
    assert second.client.synced is False
    await second.stop()
    assert len(standin.calls_to("PUT", r"/applications/\d+/commands")) == 1

    async with engine.begin() as conn:  # as if an upgrade changed a command
        await conn.execute(Meta.__table__.update().values(value="an older definition"))
    third = await start_bot(dispatch=False)
    assert third.client.synced is True
    assert len(standin.calls_to("PUT", r"/applications/\d+/commands")) == 2


async def test_a_429_is_waited_out(standin, start_bot, engine):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice])
    await start_bot()
    standin.rate_limit("POST", r"/channels/\d+/messages", retry_after=0.3)
    await say(standin, alice, guild, "log", {"name": "Jane Doe", "when": "2 days ago"})
    dm = await thank_you_dm(standin, alice)
    posts = standin.calls_to("POST", r"/channels/\d+/messages")
    assert [c.status for c in posts] == [429, 200]
    nudge_id = int(buttons_of(dm)["Done"].split(":")[2].split("@")[0])
    await marked_sent(engine, nudge_id)


async def test_closed_dms_fail_the_nudge_and_the_member_is_told_once(standin, start_bot, engine):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice])
    standin.dms_closed.add(alice.id)
    await start_bot()
    replies = [await say(standin, alice, guild, "log", {"name": "Jane Doe", "when": "2 days ago"})]

    async def failed():
        async with engine.connect() as conn:
            return await conn.scalar(select(Nudge.id).where(Nudge.status == "failed"))

    nudge_id = await eventually(failed, what="the nudge to fail")
    async with engine.connect() as conn:
        error = await conn.scalar(select(Nudge.last_error).where(Nudge.id == nudge_id))
    assert "50007" in error
    assert len(standin.calls_to("POST", r"/channels/\d+/messages")) == 1  # not retried

    replies.append(await say(standin, alice, guild, "nudges"))
    replies.append(await say(standin, alice, guild, "nudges"))
    # Told once, by the core, in the reply to the next command (the log's reply was written
    # before its DM was tried), in Discord's words.
    told = [i for i, text in enumerate(replies) if "I couldn't DM you" in text]
    assert told == [1], replies
    assert "turn on Direct Messages in this server's Privacy Settings" in replies[1]


async def test_an_accepted_intro_opens_a_private_thread_pinging_only_the_two(standin, start_bot):
    alice, carol = standin.user("Alice Example"), standin.user("Carol Helper", nick="Carol H")
    guild = standin.guild("Alumni", [alice, carol], organizers=(alice,))
    intros = guild.channel("intros")
    await start_bot()
    await say(standin, alice, guild, "admin channel", {"channel": intros})
    await say(standin, alice, guild, "goal", {"text": "product marketing @everyone"})
    await say(standin, alice, guild, "intro", {"member": carol, "note": "20 minutes about PMM?"})

    ask = await standin.until(
        lambda: next((m for m in standin.dm_messages(carol) if "Accept" in buttons_of(m)), None), within=8, what="Carol's DM"
    )
    accept = buttons_of(ask)["Accept"]
    assert accept.endswith(f"@{guild.id}")
    answer = await standin.answer_to(await standin.press(carol, ask, accept))
    assert answer.kind == "update" and "Accept" not in buttons_of(answer.message)
    assert "✅ Thank you! I'm opening a conversation" in text_of(answer.message)

    # The thread is opened after the press commits, on the dispatcher's next sweep.
    thread = await standin.until(
        lambda: next((c for c in standin.channels.values() if c.get("parent_id") == intros["id"]), None),
        within=8,
        what="the private thread",
    )
    thread_id = int(thread["id"])
    starter = await standin.until(
        lambda: next((m for m in standin.messages.values() if int(m["channel_id"]) == thread_id), None),
        what="the thread's first message",
    )
    threads = standin.calls_to("POST", rf"/channels/{intros['id']}/threads")
    assert len(threads) == 1 and threads[0].body["type"] == 12 and threads[0].body["invitable"] is False
    assert standin.thread_members[thread_id] == {alice.id, carol.id}
    assert starter["content"] == f"<@{alice.id}> <@{carol.id}>"
    mentions = starter["_allowed_mentions"]
    assert mentions["parse"] == [] and {str(u) for u in mentions["users"]} == {str(alice.id), str(carol.id)}
    assert not mentions.get("roles")


