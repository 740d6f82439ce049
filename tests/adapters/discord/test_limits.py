"""Spam limits on Discord, end to end (issue 10, item 3): `landed` run twice DMs the member
who helped once, and the second reply says who has already heard."""

from __future__ import annotations

import asyncio

from tests.adapters.discord.conftest import text_of
from tests.adapters.discord.standin import EPHEMERAL


async def say(standin, user, guild, verb, options=None) -> str:
    answer = await standin.answer_to(await standin.command(user, guild, verb, options or {}))
    assert answer.kind == "message" and answer.message["flags"] & EPHEMERAL, answer
    return text_of(answer.message)


async def test_landed_twice_dms_the_referrer_once(standin, start_bot):
    alice = standin.user("Alice Example")
    carol = standin.user("Carol Helper", nick="Carol H")
    guild = standin.guild("Alumni", [alice, carol])
    bot = await start_bot()

    await say(standin, alice, guild, "add", {"name": "Jane Doe", "referred-by": f"<@{carol.id}>"})
    await say(standin, alice, guild, "log", {"name": "Jane Doe", "when": "yesterday", "thanked": "yes"})
    text = await say(standin, alice, guild, "landed", {"text": "PMM at Acme"})
    assert "Thanked for you\nCarol H" in text, text

    def carols_news():
        return [m for m in standin.dm_messages(carol) if "Alice Example landed!" in text_of(m)]

    await standin.until(carols_news, within=8, what="Carol's DM")
    text = await say(standin, alice, guild, "landed", {"text": "Senior PMM at Globex"})
    assert "Already told in the last 30 days\nCarol H, Jane Doe" in text, text
    assert "I won't message them again so soon" in text
    # A few dispatcher sweeps later, still one DM.
    await bot.app.sweep_now()
    await asyncio.sleep(0.5)
    assert len(carols_news()) == 1
