"""Issue 13 on Discord, end to end: `/rapport import file:` with an attachment (downloaded
from the stand-in's CDN), the preview's buttons, the map and meeting.ics sent to the DM,
and drafts' "Open in email" as a link button Discord accepts (https, never mailto:)."""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import ContactRow
from tests.adapters.discord.conftest import buttons_of, text_of
from tests.adapters.discord.standin import EPHEMERAL
from tests.network_files import NEWER_ROW, PNG_MAGIC, ROWS, VCARD, linkedin_csv


async def ask(standin, user, guild, verb, options=None):
    return await standin.answer_to(await standin.command(user, guild, verb, options or {}), within=60)


async def contacts(bot) -> int:
    async with bot.app.db.read() as session:
        return await session.scalar(select(func.count(ContactRow.id)))


async def imported(standin, user, guild, name: str, content: bytes, **kw):
    answer = await ask(standin, user, guild, "import", {"file": standin.attachment(name, content, **kw)})
    assert answer.kind == "message" and answer.message["flags"] & EPHEMERAL
    return answer.message


async def press(standin, user, message, label: str) -> str:
    answer = await standin.answer_to(await standin.press(user, message, buttons_of(message)[label]))
    return text_of(answer.message)


async def test_an_attached_linkedin_export_is_previewed_then_imported_once(standin, start_bot):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice])
    bot = await start_bot()

    preview = await imported(standin, alice, guild, "Connections.csv", linkedin_csv())
    assert "Ready to import Connections.csv" in text_of(preview) and "3 new contacts" in text_of(preview)
    assert await contacts(bot) == 0
    assert "Imported Connections.csv" in await press(standin, alice, preview, "Import 3")
    assert await contacts(bot) == 3
    # The outcome took the place of the buttons: Confirm can't be pressed twice.
    assert not any(label.startswith("Import") for label in buttons_of(standin.messages[int(preview["id"])]))

    again = await imported(standin, alice, guild, "Connections.csv", linkedin_csv())
    assert "Nothing new in Connections.csv" in text_of(again) and not buttons_of(again)
    newer = await imported(standin, alice, guild, "Connections.csv", linkedin_csv(*ROWS, NEWER_ROW))
    assert "1 new contact;" in text_of(newer)
    await press(standin, alice, newer, "Import 1")
    vcard = await imported(standin, alice, guild, "contacts.vcf", VCARD, content_type="text/vcard")
    await press(standin, alice, vcard, "Import 2")
    assert await contacts(bot) == 6
    answer = await ask(standin, alice, guild, "contacts", {"company": "Acme"})
    assert "Your contacts at Acme (3)" in text_of(answer.message)


async def test_bad_attachments_get_one_line(standin, start_bot):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice])
    bot = await start_bot()
    picture = await imported(standin, alice, guild, "photo.png", PNG_MAGIC + bytes(range(256)) * 4, content_type="image/png")
    assert "isn't text" in text_of(picture)
    downloads = len(standin.calls_to("GET", r"/attachments/.*"))
    huge = await imported(standin, alice, guild, "Connections.csv", b"x", size=30 * 2**20)
    assert "30.0 MB and the limit is 5 MB" in text_of(huge)
    assert len(standin.calls_to("GET", r"/attachments/.*")) == downloads  # refused on the size Discord stated
    plain = await ask(standin, alice, guild, "import")
    assert "attach" in text_of(plain.message) and "`file`" in text_of(plain.message)
    assert await contacts(bot) == 0


async def test_the_map_and_meeting_ics_arrive_in_the_dm(standin, start_bot):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice])
    await start_bot()
    await ask(standin, alice, guild, "log", {"name": "Jane Doe", "when": "yesterday 3pm", "referrals": "Bob Li"})
    answer = await ask(standin, alice, guild, "map")
    assert "Your network" in text_of(answer.message) and "in your DMs" in text_of(answer.message)
    assert not answer.message["attachments"]
    dm = await standin.until(
        lambda: next((m for m in standin.dm_messages(alice) if m["attachments"]), None), what="the map in the DM"
    )
    assert [a["filename"] for a in dm["attachments"]] == ["rapport-network.png"]

    await ask(standin, alice, guild, "scheduled", {"name": "Bob Li", "when": "tomorrow 10am"})
    await standin.until(
        lambda: any(a["filename"] == "meeting.ics" for m in standin.dm_messages(alice) for a in m["attachments"]),
        what="meeting.ics in the DM",
    )


async def test_drafts_open_in_email_with_a_link_discord_accepts(standin, start_bot):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice])
    await start_bot()
    await ask(standin, alice, guild, "add", {"name": "Jane Doe", "email": "jane@acme.test"})
    await ask(standin, alice, guild, "log", {"name": "Jane Doe", "when": "2 days ago"})
    dm = await standin.until(
        lambda: next((m for m in standin.dm_messages(alice) if "Time to thank" in text_of(m)), None), within=8, what="the DM"
    )
    links = [b for row in dm["components"] for b in row["components"] if b.get("url")]
    assert [b["label"] for b in links] == ["Open in email"] and links[0]["style"] == 5
    assert links[0]["url"].startswith("http://localhost:") and "/mail/" in links[0]["url"]  # https in production


async def test_calendar_gives_a_subscription_address(standin, start_bot):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice])
    await start_bot()
    answer = await ask(standin, alice, guild, "calendar")
    text = text_of(answer.message)
    assert "/calendar/" in text and ".ics" in text
    assert buttons_of(answer.message)["Add to Google Calendar"].startswith("https://calendar.google.com/")
    again = await ask(standin, alice, guild, "calendar", {"reset": True})
    assert "the old one no longer works" in text_of(again.message)
