"""Mentions are platform facts: only a user Discord resolved as a member of the server where
the command runs (or one the server confirms) names a member. A user of another server or
a bot is refused in one line, and nobody is created or DMed; a real member is asked, by
the name the server shows for them."""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import ContactRow, IntroRequest, Member
from tests.adapters.discord.conftest import buttons_of, text_of
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
