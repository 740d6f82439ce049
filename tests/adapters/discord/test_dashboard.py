"""`/rapport admin dashboard` on Discord, end to end: an organizer gets a link button in an
ephemeral answer (a link button is never previewed) that signs in to their server's
dashboard; a member without Manage Server is refused in one line."""

from __future__ import annotations

from tests.adapters.discord.conftest import text_of
from tests.adapters.discord.standin import EPHEMERAL
from tests.adapters.slack.test_dashboard import open_dashboard


async def say(standin, user, guild, verb, options=None) -> tuple[str, dict]:
    answer = await standin.answer_to(await standin.command(user, guild, verb, options or {}))
    assert answer.kind == "message" and answer.message["flags"] & EPHEMERAL, answer
    return text_of(answer.message), answer.message


async def test_an_organizer_gets_a_link_button_that_opens_the_dashboard(standin, start_bot):
    organizer = standin.user("Olga Organizer")
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [organizer, alice], organizers=(organizer,))
    bot = await start_bot()
    bot.app.web.host, bot.app.web.port = "127.0.0.1", 0  # the test's own free port
    assert await bot.app.start_web()

    text, _ = await say(standin, alice, guild, "admin dashboard")
    assert "Only organizers can do that" in text
    text, message = await say(standin, organizer, guild, "admin dashboard")
    links = [b for row in message.get("components", []) for b in row.get("components", []) if b.get("url")]
    assert len(links) == 1 and links[0]["label"] == "Open the dashboard" and links[0]["style"] == 5
    url = links[0]["url"]
    assert f":{bot.app.web.port}/dashboard/login/" in url
    assert url not in message.get("content", "")  # only in the button: nothing for Discord to preview
    page = await open_dashboard(url.replace("localhost", "127.0.0.1"))
    assert "Are introductions happening?" in page and f"Discord server {guild.id}" in page

    text, _ = await say(standin, organizer, guild, "admin dashboard", {"logout": True})
    assert "Signed you out of the dashboard in one browser" in text
