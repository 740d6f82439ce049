"""Issue 13 on Slack, end to end: a contacts file dropped into the DM (downloaded from the
stand-in with the bot token), the map and meeting.ics uploaded to the DM, the calendar
feed and the "Open in email" link served by the app's own HTTP listener."""

from __future__ import annotations

import json
import re

import icalendar
from sqlalchemy import func, select

from core.models import ContactRow
from tests.adapters.slack.conftest import TOKEN
from tests.network_files import NEWER_ROW, PNG_MAGIC, ROWS, VCARD, linkedin_csv


def buttons(call) -> dict[str, str]:
    """action id -> label, or url -> label for link buttons, in a posted message."""
    found = {}
    for block in call.params.get("blocks") or []:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            found[element.get("url") or element["action_id"]] = element["text"]["text"]
    return found


async def contacts(slack) -> int:
    async with slack.app.db.read() as session:
        return await session.scalar(select(func.count(ContactRow.id)))


async def dropped(slack, name: str, content: bytes, **kw):
    """Drops a file into U1's DM with the app; returns the app's answer posted there."""
    before = len(slack.standin.of("chat.postMessage"))
    file = slack.standin.add_file("T1", "U1", name, content, **kw)
    answer = await slack.send.share_file(file)
    assert answer.status == 200
    calls = await slack.standin.wait_for("chat.postMessage", lambda c: c.params["channel"] == "DU1", count=before + 1)
    return calls[before]


async def confirm(slack, preview) -> str:
    action = next(a for a in buttons(preview) if a.startswith("import:confirm:"))
    message = {"text": preview.params["text"], "blocks": preview.params["blocks"]}
    answer = await slack.send.press(action, message=message, channel="DU1")
    assert answer.status == 200
    done = await slack.standin.wait_for("response_url", lambda c: answer.response_url.endswith(c.params["key"]))
    return done[0].blocks_text()


async def test_a_linkedin_export_dropped_in_the_dm_is_previewed_then_imported_once(slack):
    preview = await dropped(slack, "Connections.csv", linkedin_csv())
    text = preview.blocks_text()
    assert "Ready to import Connections.csv" in text and "3 new contacts" in text and "Jane Doe, Product Manager" in text
    assert await contacts(slack) == 0
    (download,) = slack.standin.of("download")
    assert download.token == TOKEN and download.team == "T1"  # fetched with the workspace's bot token

    outcome = await confirm(slack, preview)
    assert "Imported Connections.csv" in outcome and "3 new contacts" in outcome
    assert "import:confirm" not in outcome  # the buttons made way for the outcome
    assert await contacts(slack) == 3

    again = await dropped(slack, "Connections.csv", linkedin_csv())
    assert "Nothing new in Connections.csv" in again.blocks_text() and "import:confirm" not in again.blocks_text()
    newer = await dropped(slack, "Connections (1).csv", linkedin_csv(*ROWS, NEWER_ROW))
    assert "1 new contact;" in newer.blocks_text() and "3 you already have" in newer.blocks_text()
    await confirm(slack, newer)
    assert await contacts(slack) == 4

    vcard = await dropped(slack, "contacts.vcf", VCARD, mimetype="text/vcard")
    assert "2 new contacts" in vcard.blocks_text()
    await confirm(slack, vcard)
    assert await contacts(slack) == 6
    listing = await slack.send.ask("contacts company: Acme")
    assert "Your contacts at Acme (3)" in listing and "Eli Stone" in listing


async def test_bad_files_get_one_line_and_big_ones_are_not_downloaded(slack):
    picture = await dropped(slack, "photo.png", PNG_MAGIC + bytes(range(256)) * 4, mimetype="image/png")
    text = json.loads(picture.blocks_text())["text"]
    assert text.startswith(":warning: That file isn&#39;t text") or "isn't text" in text
    assert "\n" not in text

    wrong = await dropped(slack, "people.csv", b"Name,Phone\r\nJane,555\r\n")
    assert "no First Name/Last Name columns" in wrong.blocks_text()

    downloads = len(slack.standin.of("download"))
    huge = await dropped(slack, "Connections.csv", b"x", size=40 * 2**20)
    assert "40.0 MB and the limit is 5 MB" in huge.blocks_text()
    assert len(slack.standin.of("download")) == downloads  # refused on the size Slack stated
    assert await contacts(slack) == 0


async def test_files_outside_the_dm_and_the_apps_own_are_ignored(slack):
    file = slack.standin.add_file("T1", "U1", "Connections.csv", linkedin_csv())
    await slack.send.share_file(file, channel_type="channel", channel="C1")
    await slack.send.share_file(file, user="UBOT", bot_id="BBOT")  # the app's own upload
    other = dict(file, url_private_download="https://evil.example/steal", url_private="https://evil.example/steal")
    await slack.send.share_file(other)
    posted = await slack.standin.wait_for("chat.postMessage", lambda c: c.params["channel"] == "DU1")
    assert "only read files shared here in Slack" in posted[0].blocks_text()
    assert not slack.standin.of("download")  # never fetched anything, with the token or without
    assert len(slack.standin.of("chat.postMessage")) == 1


async def test_import_by_path_is_refused_on_slack(slack):
    answer = await slack.send.ask("import path: /etc/passwd")
    assert "attach the file instead" in answer and "DM with Rapport" in answer
    assert "Drop LinkedIn" in await slack.send.ask("import")


async def uploaded(slack, filename: str) -> bytes:
    done = await slack.standin.wait_for(
        "files.completeUploadExternal", lambda c: any(f.get("title") == filename for f in c.params["files"])
    )
    file_id = next(f["id"] for f in done[-1].params["files"] if f.get("title") == filename)
    assert done[-1].params["channel_id"] == "DU1"
    return slack.standin.uploads[file_id]


async def test_the_map_and_meeting_ics_go_to_the_dm(slack):
    await slack.send.ask("log Jane Doe when: yesterday 3pm referrals: Bob Li")
    answer = await slack.send.ask("map", within=60)
    assert "Your network" in answer and "DM" in answer
    png = await uploaded(slack, "rapport-network.png")
    assert png.startswith(PNG_MAGIC)

    answer = await slack.send.ask("scheduled Bob Li when: tomorrow 10am")
    assert "Meeting with Bob Li is on the calendar" in answer
    ics = await uploaded(slack, "meeting.ics")
    (event,) = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert str(event["uid"]).startswith("meeting-") and "localhost" in str(event["uid"])  # RAPPORT_PUBLIC_URL unset


async def test_calendar_feed_is_served_on_the_listener(slack):
    await slack.send.ask("scheduled Jane Doe when: tomorrow 10am")
    answer = await slack.send.ask("calendar")
    url = re.search(r"http://localhost:\d+/calendar/([A-Za-z0-9_-]{43})\.ics", answer)
    assert url, answer
    token = url.group(1)
    async with slack.http.get(f"{slack.base}/calendar/{token}.ics") as resp:
        assert resp.status == 200 and resp.content_type == "text/calendar"
        assert "no-store" in resp.headers["Cache-Control"]
        (event,) = icalendar.Calendar.from_ical(await resp.read()).walk("VEVENT")
    assert str(event["summary"]) == "Informational interview with Jane Doe"
    async with slack.http.get(f"{slack.base}/calendar/{token[:-2]}xx.ics") as resp:
        assert resp.status == 404


async def test_open_in_email_redirects_to_the_draft(slack):
    await slack.send.ask("add Jane Doe email: jane@acme.test")
    await slack.send.ask("log Jane Doe when: 2 days ago notes: talked about SEO")
    dm = await slack.standin.wait_for("chat.postMessage", lambda c: "Time to thank" in c.blocks_text())
    links = [u for u in buttons(dm[0]) if u.startswith("http")]
    assert len(links) == 1 and buttons(dm[0])[links[0]] == "Open in email"
    assert dm[0].params["unfurl_links"] is False
    path = links[0].split("://", 1)[1].split("/", 1)[1]
    async with slack.http.get(f"{slack.base}/{path}", allow_redirects=False) as resp:
        assert resp.status == 302
        location = resp.headers["Location"]
    assert location.startswith("mailto:jane@acme.test?subject=Thank%20you") and "SEO" in location
    async with slack.http.get(f"{slack.base}/{path[:-1]}0", allow_redirects=False) as resp:
        assert resp.status == 404


async def test_app_home_links_to_the_map(slack):
    await slack.send.ask("add Jane Doe company: Acme")
    await slack.send.open_home()
    views = await slack.standin.wait_for("views.publish", lambda c: "See your network map" in c.blocks_text())
    link = next(
        e["url"] for b in views[-1].params["view"]["blocks"] if b["type"] == "actions" for e in b["elements"] if e.get("url")
    )
    path = link.split("://", 1)[1].split("/", 1)[1]
    async with slack.http.get(f"{slack.base}/{path}") as resp:
        assert resp.status == 200 and resp.content_type == "image/png"
        assert (await resp.read()).startswith(PNG_MAGIC)
