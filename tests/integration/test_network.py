"""Issue 13 in the core, on SQLite and PostgreSQL: importing a network, the map, the
calendar (attachment and feed), and drafts one click from sending."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest
from sqlalchemy import func, select

from core import netmap
from core.dispatch import Dispatcher
from core.handlers.network import map_contacts
from core.models import ContactRow, Meeting, Member, PendingImport
from core.service import Actor
from core.ui import Button, Message, Reply, plain_text
from tests.integration.helpers import nudges_of
from tests.network_files import NEWER_ROW, PNG_MAGIC, ROWS, VCARD, linkedin_csv

UTC = dt.UTC


async def run(core, actor, text):
    reply = await core.run_text(actor, text)
    assert not reply.error, reply.text
    return reply


def action(reply: Reply, prefix: str) -> str:
    ids = [b.action_id for b in reply.buttons if b.action_id.startswith(prefix)]
    assert ids, plain_text(reply)
    return ids[0]


async def count(sessionmaker, model, *where) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


# --- import ------------------------------------------------------------------------------------


async def test_import_previews_confirms_and_never_duplicates(core, alice, sessionmaker):
    await run(core, alice, "add Jane Doe company: Acme")  # known by name: gets her email and profile
    preview = await core.import_file(alice, "Connections.csv", linkedin_csv())
    text = plain_text(preview)
    assert not preview.error
    assert "2 new contacts; 1 you already have (1 gets a missing detail filled in)" in text
    assert "Bob Li, Engineer at Acme" in text and "Jane Doe: adds email, LinkedIn profile, role" in text
    assert await count(sessionmaker, ContactRow) == 1  # nothing before confirming

    done = await core.press(alice, action(preview, "import:confirm:"))
    assert not done.error and "Imported Connections.csv" in done.title and "2 new contacts" in done.text
    assert not (done.buttons or done.sections or done.fields)  # simple: it replaces the buttons
    async with sessionmaker() as session:
        rows = {r.name: r for r in await session.scalars(select(ContactRow))}
    assert set(rows) == {"Jane Doe", "Bob Li", "Ana Ruiz"}
    assert rows["Jane Doe"].email == "jane@acme.test" and rows["Jane Doe"].source is None  # added by hand
    bob = rows["Bob Li"]
    assert bob.source == "linkedin" and bob.linkedin_url == "https://www.linkedin.com/in/bobli"
    assert bob.connected_on == dt.date(2023, 2, 2) and bob.role == "Engineer" and bob.status == "new"
    assert bob.last_touch_at is None and bob.imported_at is not None

    # The same file again: nothing new, no preview to confirm.
    again = await core.import_file(alice, "Connections.csv", linkedin_csv())
    assert "Nothing new" in again.title and not again.buttons
    # A newer export adds only who is new.
    newer = await core.import_file(alice, "Connections.csv", linkedin_csv(*ROWS, NEWER_ROW))
    assert "1 new contact;" in plain_text(newer)
    await core.press(alice, action(newer, "import:confirm:"))
    assert await count(sessionmaker, ContactRow) == 4
    # Pressing Confirm twice (a double click, a retry) imports once.
    late = await core.press(alice, action(newer, "import:confirm:"))
    assert late.error and "no longer waiting" in late.text
    assert await count(sessionmaker, ContactRow) == 4


async def test_imported_contacts_get_no_nudges_until_acted_on(core, alice, sessionmaker):
    await core.press(alice, action(await core.import_file(alice, "Connections.csv", linkedin_csv()), "import:confirm:"))
    await core.press(alice, action(await core.import_file(alice, "contacts.vcf", VCARD), "import:confirm:"))
    assert await count(sessionmaker, ContactRow) == 5
    about_contacts = lambda nudges: [x.kind for x in nudges if x.contact_id]  # noqa: E731 (the weekly digest aside)
    assert about_contacts(await nudges_of(sessionmaker, "alice")) == []
    await run(core, alice, "landed Product Manager at Acme")  # only people met get a landed note
    assert about_contacts(await nudges_of(sessionmaker, "alice")) == []
    async with sessionmaker() as session:
        dee = await session.scalar(select(ContactRow).where(ContactRow.name == "Dee Park"))
    assert dee.source == "vcard" and dee.company == "Hooli" and dee.role == "UX Researcher" and dee.email == "dee@hooli.test"
    # Acting on one of them is what starts the nudges.
    await run(core, alice, "reached-out Bob Li via: LinkedIn")
    assert about_contacts(await nudges_of(sessionmaker, "alice")) == ["follow-up"]


async def test_contacts_company_and_helpers_use_imported_contacts(core, alice, bob):
    await core.press(alice, action(await core.import_file(alice, "Connections.csv", linkedin_csv()), "import:confirm:"))
    listing = plain_text(await run(core, alice, "contacts company: acme"))
    assert "Your contacts at acme (2)" in listing and "Jane Doe (Acme)" in listing and "Bob Li (Acme)" in listing
    assert "Ana Ruiz" not in listing
    assert "No contacts at Hooli" in plain_text(await run(core, alice, "contacts company: Hooli"))

    await run(core, bob, "offer fields: product companies: Acme, Initech")
    helpers = plain_text(await run(core, alice, "helpers"))
    assert "Bob Builder" in helpers and "You may know someone there yourself" in helpers
    assert "Acme: Bob Li, Jane Doe" in helpers or "Acme: Jane Doe, Bob Li" in helpers
    # With no helper at Globex, your own connection there is still worth knowing.
    globex = plain_text(await run(core, alice, "helpers Globex"))
    assert "No helpers in Globex yet" in globex and "Globex: Ana Ruiz" in globex


@pytest.mark.parametrize(
    ("data", "filename", "says"),
    [
        (b"", "Connections.csv", "That file is empty"),
        (b"PK\x03\x04" + b"\x00" * 50, "Basic_LinkedInDataExport.zip", "zip file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "photo.png", "isn't text"),
        (b"Name,Phone\r\nJane,555\r\n", "people.csv", "no First Name/Last Name columns"),
        (b"x" * (5 * 2**20 + 1), "Connections.csv", "the limit is 5 MB"),
    ],
)
async def test_bad_files_are_refused_in_one_line(core, alice, sessionmaker, data, filename, says):
    reply = await core.import_file(alice, filename, data)
    assert reply.error and says in reply.text and "\n" not in reply.text
    assert await count(sessionmaker, PendingImport) == 0


async def test_import_path_is_the_consoles_alone(core):
    on_slack = Actor("slack", "T1", "U1", "Ann")
    reply = await core.run_text(on_slack, "import path: /etc/passwd")
    assert reply.error and "attach the file instead" in reply.text and "DM with Rapport" in reply.text
    on_discord = Actor("discord", "1", "2", "Dan")
    assert "`/rapport import`" in (await core.run_text(on_discord, "import")).text


async def test_a_preview_is_the_members_own_and_expires(core, alice, bob, clock, sessionmaker):
    preview = await core.import_file(alice, "Connections.csv", linkedin_csv())
    confirm = action(preview, "import:confirm:")
    stolen = await core.press(bob, confirm)
    assert stolen.error and "no longer waiting" in stolen.text
    assert await count(sessionmaker, ContactRow) == 0
    cancelled = await core.press(alice, action(preview, "import:cancel:"))
    assert "Cancelled" in cancelled.text and await count(sessionmaker, PendingImport) == 0

    preview = await core.import_file(alice, "Connections.csv", linkedin_csv())
    clock.advance(hours=25)
    expired = await core.press(alice, action(preview, "import:confirm:"))
    assert expired.error and "expired" in expired.text and await count(sessionmaker, ContactRow) == 0


async def test_a_newer_file_replaces_the_pending_preview(core, alice, sessionmaker):
    first = await core.import_file(alice, "Connections.csv", linkedin_csv())
    await core.import_file(alice, "contacts.vcf", VCARD)
    assert await count(sessionmaker, PendingImport) == 1
    assert (await core.press(alice, action(first, "import:confirm:"))).error


# --- the map -------------------------------------------------------------------------------------


async def test_map_graph_from_the_members_rows(core, alice, bob, sessionmaker):
    await run(core, alice, "log Jane Doe when: yesterday 3pm referrals: Bob Li")  # met, thank-you owed
    await run(core, alice, "reached-out Bob Li")
    await run(core, alice, "add Cy Oh referred-by: Bob Li")
    await core.press(alice, action(await core.import_file(alice, "Connections.csv", linkedin_csv(*ROWS[2:])), "import:confirm:"))
    await run(core, bob, "help")
    # A community member made this introduction (a mention the platform vouched for).
    assert not (await core.run_text(alice, "add Dee Park referred-by: <@bob>", {"bob": "Bob Builder"})).error
    async with sessionmaker() as session:
        member = await session.scalar(select(Member).where(Member.user_id == "alice"))
        contacts = await map_contacts(session, member.id)
    by_name = {c.name: c for c in contacts}
    assert sorted(by_name) == ["Ana Ruiz", "Bob Li", "Cy Oh", "Dee Park", "Jane Doe"]
    assert by_name["Jane Doe"].status == "met" and by_name["Jane Doe"].thank_you_owed
    assert by_name["Bob Li"].status == "reached-out" and not by_name["Bob Li"].thank_you_owed
    assert by_name["Ana Ruiz"].imported_untouched and not by_name["Bob Li"].imported_untouched
    assert by_name["Dee Park"].referred_by_member == "Bob Builder"
    graph = netmap.build_graph("Alice Example", contacts)
    assert graph.number_of_nodes() == 1 + len(contacts) + 1  # you, five contacts, Bob the member
    assert graph.has_edge("m:bob builder", f"c{by_name['Dee Park'].id}")
    assert graph.has_edge(f"c{by_name['Jane Doe'].id}", f"c{by_name['Bob Li'].id}")  # Jane referred Bob
    assert graph.has_edge(f"c{by_name['Bob Li'].id}", f"c{by_name['Cy Oh'].id}")


async def test_map_reply_is_a_png(core, alice):
    empty = await run(core, alice, "map")
    assert "empty" in empty.title and not empty.files
    await run(core, alice, "log Jane Doe when: yesterday 3pm referrals: Bob Li")
    reply = await run(core, alice, "map")
    assert len(reply.files) == 1 and reply.files[0].mime_type == "image/png"
    assert reply.files[0].content.startswith(PNG_MAGIC) and "2 contacts: 1 met" in reply.text


async def test_home_links_to_a_signed_map_that_expires(core, alice, clock):
    assert not [b for b in (await core.home(alice)).buttons if b.url]  # nobody to draw yet
    await run(core, alice, "add Jane Doe company: Acme")
    link = next(b.url for b in (await core.home(alice)).buttons if b.label == "See your network map")
    member, expires, signature = re.search(r"/map/(\d+)/(\d+)/([0-9a-f]+)\.png$", link).groups()
    png = await core.map_image(int(member), int(expires), signature)
    assert png.startswith(PNG_MAGIC)
    assert await core.map_image(int(member) + 1, int(expires), signature) is None  # someone else's
    assert await core.map_image(int(member), int(expires) + 3600, signature) is None  # stretched
    clock.advance(days=8)
    assert await core.map_image(int(member), int(expires), signature) is None  # expired


# --- the calendar --------------------------------------------------------------------------------


def events(data: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


async def test_scheduled_attaches_an_ics_and_a_move_keeps_its_uid(core, alice, sessionmaker):
    core.set_public_url("https://rapport.example.org")
    reply = await run(core, alice, "scheduled Jane Doe when: tomorrow 10am where: Blue Bottle")
    (ics_file,) = reply.files
    assert ics_file.filename == "meeting.ics" and ics_file.mime_type == "text/calendar"
    (event,) = events(ics_file.content)
    async with sessionmaker() as session:
        meeting_id = await session.scalar(select(Meeting.id))
    assert str(event["uid"]) == f"meeting-{meeting_id}@rapport.example.org"
    assert event.decoded("dtstart") == dt.datetime(2026, 11, 19, 10, 0, tzinfo=UTC)
    assert event.decoded("dtend") - event.decoded("dtstart") == dt.timedelta(minutes=20)
    assert "twenty minutes" in str(event["description"]).lower() and str(event["location"]) == "Blue Bottle"
    assert int(event.get("sequence", 0)) == 0
    (alarm,) = event.walk("VALARM")
    assert event.decoded("dtstart") + alarm.decoded("trigger") == dt.datetime(2026, 11, 19, 8, 0, tzinfo=UTC)  # the prep nudge

    moved = await run(core, alice, "scheduled Jane Doe when: friday 4pm")
    assert "Moved your meeting with Jane Doe" in moved.title and "Was" in dict(moved.fields)
    (event,) = events(moved.files[0].content)
    assert str(event["uid"]) == f"meeting-{meeting_id}@rapport.example.org" and int(event["sequence"]) == 1
    assert event.decoded("dtstart") == dt.datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    assert str(event["location"]) == "Blue Bottle"  # kept
    assert await count(sessionmaker, Meeting) == 1
    preps = [x for x in await nudges_of(sessionmaker, "alice") if x.kind in ("prep", "time-check")]
    assert sorted(x.kind for x in preps) == ["prep", "time-check"]  # the old ones were cancelled
    assert [x.due_at for x in preps if x.kind == "time-check"] == [dt.datetime(2026, 11, 20, 16, 18, tzinfo=UTC)]


async def test_meeting_times_across_a_dst_change(core, alice):
    await run(core, alice, "settings tz: America/New_York")
    # Now is Wed 18 Nov 2026 (EST, UTC-5); the meeting is after clocks go forward on 14 March.
    reply = await run(core, alice, "scheduled Jane Doe when: 2027-03-15 10:00")
    raw = reply.files[0].content.decode()
    assert "DTSTART;TZID=America/New_York:20270315T100000" in raw and "BEGIN:VTIMEZONE" in raw
    (event,) = events(reply.files[0].content)
    start = event.decoded("dtstart")
    assert start.astimezone(UTC) == dt.datetime(2027, 3, 15, 14, 0, tzinfo=UTC)  # 10:00 EDT
    (alarm,) = event.walk("VALARM")
    assert "TRIGGER:-PT25H" in raw  # 09:00 EDT the day before: 25 hours, not "one day"
    assert (start + alarm.decoded("trigger")).astimezone(UTC) == dt.datetime(2027, 3, 14, 13, 0, tzinfo=UTC)


async def test_calendar_feed_serves_the_members_events_only(core, alice, bob, clock):
    core.set_public_url("https://rapport.example.org")
    await run(core, alice, "scheduled Jane Doe when: tomorrow 10am")
    await run(core, alice, "reached-out Ana Ruiz via: email follow-up: next tuesday 10am")
    await run(core, alice, "reached-out Cy Oh")  # no promise: not on the calendar
    await run(core, bob, "scheduled Zed Secret when: tomorrow 11am")
    reply = await run(core, alice, "calendar")
    url = dict(reply.fields)["Address"]
    token = re.fullmatch(r"https://rapport\.example\.org/calendar/([A-Za-z0-9_-]{43})\.ics", url).group(1)
    assert any(b.url.startswith("https://calendar.google.com/") for b in reply.buttons)
    feed = await core.calendar_feed(token)
    summaries = sorted(str(e["summary"]) for e in events(feed))
    assert summaries == ["Follow up with Ana Ruiz", "Informational interview with Jane Doe"]
    assert b"Zed Secret" not in feed
    assert await core.calendar_feed(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert await core.calendar_feed("../../etc/passwd") is None

    again = await run(core, alice, "calendar")
    assert "can't show it again" in again.text and not again.fields
    new = await run(core, alice, "calendar reset")
    new_token = dict(new.fields)["Address"].rsplit("/", 1)[1].removesuffix(".ics")
    assert await core.calendar_feed(token) is None and await core.calendar_feed(new_token) is not None


async def test_only_the_tokens_hash_is_stored(core, alice, sessionmaker):
    reply = await run(core, alice, "calendar")
    token = dict(reply.fields)["Address"].rsplit("/", 1)[1].removesuffix(".ics")
    async with sessionmaker() as session:
        dump = " ".join(str(v) for row in (await session.execute(select(*Member.__table__.c))).all() for v in row)
        from core.models import CalendarFeed

        stored = await session.scalar(select(CalendarFeed.token_hash))
    assert token not in dump and token not in stored and len(stored) == 64


# --- drafts one click from sending ---------------------------------------------------------------


class Collector:
    def __init__(self):
        self.sent: list[Message] = []

    async def deliver(self, message):
        self.sent.append(message)
        return None


async def test_drafts_to_contacts_with_email_open_in_email(core, alice, db, clock, sessionmaker):
    await core.prepare_links()
    core.set_public_url("https://rapport.example.org")
    await run(core, alice, "add Jane Doe email: jane@acme.test")
    await run(core, alice, "log Jane Doe when: yesterday 3pm notes: talked about SEO & growth")
    await run(core, alice, "log Bob Li when: yesterday 5pm")  # no email: no link
    out = Collector()
    await Dispatcher(db, clock, {"console": out}, links=core.links).sweep()
    by_title = {m.reply.title: m for m in out.sent}
    jane = by_title["Time to thank Jane Doe"].reply
    links = [b for b in jane.buttons if b.url]
    assert [b.label for b in jane.buttons] == ["Done", "Snooze", "Skip", "Open in email"]
    assert re.fullmatch(r"https://rapport\.example\.org/mail/\d+/[0-9a-f]{32}", links[0].url)
    assert not [b for b in by_title["Time to thank Bob Li"].reply.buttons if b.url]

    nudge_id, signature = links[0].url.rsplit("/", 2)[1:]
    mailto = await core.email_link(int(nudge_id), signature)
    parts = urlsplit(mailto)
    assert parts.scheme == "mailto" and parts.path == "jane@acme.test"
    query = parse_qs(parts.query)
    assert query["subject"] == ["Thank you for your time"]
    assert query["body"][0].startswith("Hi Jane,\r\n\r\nThank you for taking the time") and "SEO & growth" in query["body"][0]
    assert "%0D%0A" in mailto and " " not in mailto and len(mailto) <= 1800
    assert await core.email_link(int(nudge_id), "0" * 32) is None
    assert await core.email_link(int(nudge_id) + 1, signature) is None


async def test_no_link_without_a_signing_key_or_for_other_drafts(core, alice, db, clock):
    await run(core, alice, "add Jane Doe email: jane@acme.test")
    await run(core, alice, "log Jane Doe when: yesterday 3pm")
    out = Collector()
    await Dispatcher(db, clock, {"console": out}).sweep()  # no links given: no button, nothing broken
    assert out.sent and not [b for m in out.sent for b in m.reply.buttons if b.url]


def test_mailto_drops_the_body_rather_than_cut_it():
    from core.links import mailto

    short = mailto("a@b.test", "Hi there", "Line one\nLine two é")
    assert short == "mailto:a@b.test?subject=Hi%20there&body=Line%20one%0D%0ALine%20two%20%C3%A9"
    long = mailto("a@b.test", "Hi", "word " * 1000)
    assert long == "mailto:a@b.test?subject=Hi"
    assert isinstance(Button("x", url=long), Button)


async def test_the_pitch_to_someone_a_helper_suggested_opens_in_email(core, alice, db, clock):
    await core.prepare_links()
    org = Actor("console", "local", "org", display_name="Olga Organizer", is_organizer=True)
    carol = Actor("console", "local", "carol", display_name="Carol Jones")
    await run(core, org, "admin channel #intros")
    await run(core, alice, "intro product marketing at a B2B SaaS company")

    class Posts(Collector):
        async def post_channel(self, workspace_id, channel_id, reply):
            self.sent.append(reply)
            return "ts1"

        async def update_channel_post(self, *args):
            pass

        async def open_conversation(self, *args, **kw):
            return "G1"

    out = Posts()
    await Dispatcher(db, clock, {"console": out}, links=core.links).sweep()
    know = next(b for r in out.sent if isinstance(r, Reply) for b in r.buttons if b.label == "I know someone")
    form = (await core.press(carol, know.action_id)).form
    await core.submit(carol, form.form_id, {"name": "Bob Li", "company": "Acme", "reach": "bob@acme.test"})
    await Dispatcher(db, clock, {"console": out}, links=core.links).sweep()
    pitch = next(m.reply for m in out.sent if isinstance(m, Message) and "knows someone" in m.reply.title)
    link = next(b.url for b in pitch.buttons if b.label == "Open in email")
    nudge_id, signature = link.rsplit("/", 2)[1:]
    query = parse_qs(urlsplit(await core.email_link(int(nudge_id), signature)).query)
    assert query["subject"] == ["Carol suggested I get in touch"]
    assert query["body"][0].startswith("Hello Bob,") and "referred to you by Carol Jones" in query["body"][0]
