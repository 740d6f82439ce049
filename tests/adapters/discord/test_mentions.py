"""Mentions are platform facts: only a user Discord resolved as a member of the server where
the command runs (or one the server confirms) names a member. A user of another server or
a bot is refused in one line, and nobody is created or DMed; a real member is asked, by
the name the server shows for them."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select

from core.models import ContactRow, IntroOffer, IntroRequest, Member
from tests.adapters.discord.conftest import buttons_of, channel_post, text_of
from tests.adapters.discord.standin import EPHEMERAL


async def say(standin, user, guild, verb, options=None, resolve=()) -> str:
    answer = await standin.answer_to(await standin.command(user, guild, verb, options or {}, resolve=resolve))
    assert answer.kind == "message" and answer.message["flags"] & EPHEMERAL, answer
    return text_of(answer.message)


async def members(engine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.scalars(select(Member.user_id)))


async def count(engine, model) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(model))


async def test_a_user_of_another_server_is_neither_asked_nor_dmed(standin, start_bot, engine):
    alice = standin.user("Alice Example")
    sam = standin.user("Sam Stranger")
    robot = standin.user("Helper Bot", bot=True)
    alumni = standin.guild("Alumni", [alice, robot])
    standin.guild("Elsewhere", [sam])
    bot = await start_bot()

    # Discord resolves any user for a user option, but as a member only of this server.
    text = await say(standin, alice, alumni, "intro", {"member": sam, "note": "20 minutes?"})
    assert text == "Sam Stranger isn't a member of this server, so I can't reach them here. " \
                   "Pick someone from this server's member list."
    text = await say(standin, alice, alumni, "intro", {"member": robot, "note": "20 minutes?"})
    assert text.startswith("Helper Bot is a bot.") and "\n" not in text

    # Typed into a string option, a mention is checked with the server: not a member, not a name.
    text = await say(standin, alice, alumni, "add", {"name": "Bob Li", "referred-by": f"<@{sam.id}>"})
    assert text.startswith("I can only reach people in this community"), text
    assert standin.calls_to("GET", rf"/guilds/{alumni.id}/members/{sam.id}")[-1].status == 404
    text = await say(standin, alice, alumni, "intro", {"what": f"<@{sam.id}> about design"})
    assert text.startswith("I can only reach people in this community"), text
    # A bot of this server, typed or resolved by Discord, is no member either.
    for resolve in ((), (robot,)):
        text = await say(standin, alice, alumni, "add", {"name": "Bob Li", "referred-by": f"<@{robot.id}>"}, resolve=resolve)
        assert text.startswith("I can only reach people in this community"), text

    await bot.app.sweep_now()
    assert str(sam.id) not in await members(engine) and str(robot.id) not in await members(engine)
    assert await count(engine, IntroRequest) == 0 and await count(engine, ContactRow) == 0
    assert not standin.dm_messages(sam) and sam.id not in standin.dm_channels


async def test_a_member_of_this_server_is_asked_by_their_server_name(standin, start_bot, engine):
    alice = standin.user("Alice Example")
    carol = standin.user("Carol Helper", nick="Carol H")
    alumni = standin.guild("Alumni", [alice, carol])
    await start_bot()

    text = await say(standin, alice, alumni, "intro", {"member": carol, "note": "20 minutes about PMM?"})
    assert text.startswith("Asked Carol H (R1)"), text  # her nickname here, from the resolved member

    ask = await standin.until(
        lambda: next((m for m in standin.dm_messages(carol) if "Accept" in buttons_of(m)), None), within=8, what="Carol's DM"
    )
    assert list(buttons_of(ask)) == ["Accept", "Not now"]
    assert "Alice Example asked for an introduction to you" in text_of(ask)
    assert "20 minutes about PMM?" in text_of(ask)
    async with engine.connect() as conn:
        assert await conn.scalar(select(Member.display_name).where(Member.user_id == str(carol.id))) == "Carol H"


async def test_a_mention_typed_in_a_string_counts_once_the_server_vouches_for_it(standin, start_bot):
    alice = standin.user("Alice Example")
    carol = standin.user("Carol Helper", nick="Carol H")
    priya = standin.user("Priya Raman")
    alumni = standin.guild("Alumni", [alice, carol, priya])
    await start_bot()

    # Not among the resolved members: the bot asks the server, which knows Carol.
    text = await say(standin, alice, alumni, "add", {"name": "Bob Li", "referred-by": f"<@{carol.id}>"})
    assert "Referred by\nCarol H" in text, text
    assert len(standin.calls_to("GET", rf"/guilds/{alumni.id}/members/{carol.id}")) == 1

    # Among the resolved members: Discord has vouched already, so no lookup.
    text = await say(standin, alice, alumni, "add", {"name": "Ana Ruiz", "referred-by": f"<@{priya.id}>"}, resolve=(priya,))
    assert "Referred by\nPriya Raman" in text, text
    assert not standin.calls_to("GET", rf"/guilds/{alumni.id}/members/{priya.id}")


async def refusal(standin, sent) -> str:
    answer = await standin.answer_to(sent)
    assert answer.kind == "message" and answer.message["flags"] & EPHEMERAL, answer
    text = text_of(answer.message)
    assert "\n" not in text and "Something went wrong" not in text, text
    return text


def with_button(message: dict, custom_id: str) -> dict:
    """``message`` with its first button's custom id replaced."""
    copy = json.loads(json.dumps(message))
    copy["components"][0]["components"][0]["custom_id"] = custom_id
    return copy


async def member_id(engine, guild, user) -> int | None:
    async with engine.connect() as conn:
        return await conn.scalar(select(Member.id).where(Member.workspace_id == str(guild.id), Member.user_id == str(user.id)))


async def test_a_dm_button_stamped_with_a_server_proves_nothing_by_itself(standin, start_bot, engine):
    """A button or form in a DM carries the server it belongs to; someone who isn't a member
    there can't act in that server by pressing (or sending) one stamped with it."""
    organizer = standin.user("Olga Organizer")
    alice = standin.user("Alice Example")
    sam = standin.user("Sam Stranger")
    alumni = standin.guild("Alumni", [organizer, alice], organizers=(organizer,))
    elsewhere = standin.guild("Elsewhere", [sam])
    intros = alumni.channel("intros")
    await start_bot()
    await say(standin, organizer, alumni, "admin channel", {"channel": intros})
    await say(standin, alice, alumni, "intro", {"what": "product marketing at a B2B SaaS company"})
    await channel_post(standin, intros)
    # Sam uses Rapport in his own server, so he has a DM from it with real buttons.
    await say(standin, sam, elsewhere, "log", {"name": "Jane Doe", "when": "2 days ago"})
    dm = await standin.until(lambda: next(iter(standin.dm_messages(sam)), None), within=8, what="Sam's DM")
    assert buttons_of(dm)["Done"].endswith(f"@{elsewhere.id}")

    # The same DM, with custom ids naming Alumni (Discord would not send such a press; the
    # bot doesn't count on that): an offer on Alice's request, then a form.
    glad = f"intro:glad:1@{alumni.id}"
    text = await refusal(standin, await standin.press(sam, with_button(dm, glad), glad))
    assert text.startswith("I can't tell which server this belongs to"), text
    add = f"run:add@{elsewhere.id}"
    opened = await standin.answer_to(await standin.press(sam, with_button(dm, add), add))  # his own server: fine
    assert opened.kind == "modal"
    standin.modals[f"form:add@{alumni.id}"] = {**opened.modal, "custom_id": f"form:add@{alumni.id}"}
    text = await refusal(standin, await standin.submit(sam, None, f"form:add@{alumni.id}", {"subject": "Bob Li"},
                                                       channel_id=int(dm["channel_id"])))
    assert text.startswith("I can't tell which server this belongs to"), text

    assert await member_id(engine, alumni, sam) is None
    assert await count(engine, IntroOffer) == 0
    await asyncio.sleep(0.5)  # a few dispatcher sweeps: nothing is on its way to Alice
    assert not [m for m in standin.dm_messages(alice) if "glad to chat" in text_of(m)]
    # His own server's buttons work as ever.
    done = await standin.answer_to(await standin.press(sam, dm, buttons_of(dm)["Done"]))
    assert done.kind == "update" and "Done: #" in text_of(done.message)


async def test_a_mention_typed_into_a_form_is_text_and_a_button_cant_carry_an_outsider(standin, start_bot, engine):
    organizer = standin.user("Olga Organizer")
    alice = standin.user("Alice Example")
    sam = standin.user("Sam Stranger")
    alumni = standin.guild("Alumni", [organizer, alice], organizers=(organizer,))
    elsewhere = standin.guild("Elsewhere", [sam])
    await start_bot()
    # A modal has no mentions, only text: Discord vouches for nobody typed there.
    opened = await standin.answer_to(await standin.command(alice, alumni, "add", {}))
    assert opened.kind == "modal"
    form = opened.modal["custom_id"]
    text = await refusal(standin, await standin.submit(alice, alumni, form, {"subject": f"<@{sam.id}>", "company": "Acme"}))
    assert text.startswith("I can only reach people in this community"), text
    assert not standin.calls_to("GET", rf"/guilds/{alumni.id}/members/{sam.id}")

    # Sam is a helper in his own server; a button naming him can't ask him for Alice.
    await say(standin, sam, elsewhere, "offer", {"fields": "product marketing"})
    await say(standin, organizer, alumni, "admin channel", {"channel": alumni.channel("intros")})
    await say(standin, alice, alumni, "intro", {"what": "product marketing leaders"})
    post = await channel_post(standin, alumni.channel("intros"))
    helper = await member_id(engine, elsewhere, sam)
    ask = f"intro:ask:{helper}:1"
    text = await refusal(standin, await standin.press(alice, with_button(post, ask), ask))
    assert text == "That button is no longer in use.", text
    await asyncio.sleep(0.5)
    assert await member_id(engine, alumni, sam) is None
    assert await count(engine, ContactRow) == 0 and await count(engine, IntroRequest) == 1
    assert not [m for m in standin.dm_messages(sam) if "asked for an introduction" in text_of(m)]
