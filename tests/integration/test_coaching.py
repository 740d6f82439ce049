"""Issue 11: the coaching behaves like a good coach, on SQLite and PostgreSQL. Each test
walks one thing the way a member meets it."""

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.actor import Actor
from core.dispatch import Dispatcher
from core.models import ContactRow, Meeting, Nudge
from core.ui import plain_text
from tests.integration.helpers import contact, nudges_of

UTC = dt.UTC
LA = ZoneInfo("America/Los_Angeles")


async def ok(core, actor, text):
    reply = await core.run_text(actor, text)
    assert not reply.error, reply.text
    return reply


def la(*args):
    return dt.datetime(*args, tzinfo=LA).astimezone(UTC)


async def one(sessionmaker, user, kind):
    (nudge,) = [x for x in await nudges_of(sessionmaker, user, status=("pending", "sent")) if x.kind == kind]
    return nudge


class Inbox:
    def __init__(self):
        self.messages = []

    async def deliver(self, message):
        self.messages.append(message)
        return None


# --- 1. snooze moves a nudge later, never earlier ---------------------------------------


async def test_snoozing_a_follow_up_not_due_yet_moves_it_from_its_due_time(core, alice, sessionmaker, clock):
    clock.set(la(2026, 11, 29, 10, 0))  # Sunday 29 November
    await ok(core, alice, "settings tz: America/Los_Angeles")
    await ok(core, alice, "reached-out Bob Li via: email follow-up: 2026-12-08 10:00")
    follow = await one(sessionmaker, "alice", "follow-up")
    assert follow.due_at == la(2026, 12, 8, 10, 0)
    # A promised time moves only when the member says when.
    refused = await core.run_text(alice, f"snooze {follow.id} for: 1 day")
    assert refused.error and "You told them you'd follow up Tue 8 Dec 2026, 10:00 PST" in refused.text
    assert "until:" in refused.text
    earlier = await core.run_text(alice, f"snooze {follow.id} until: 2026-12-01 10:00")
    assert earlier.error and "only moves it later" in earlier.text
    reply = await ok(core, alice, f"snooze {follow.id} until: 2026-12-09 10:00")
    assert "until Wed 9 Dec 2026, 10:00 PST (it was due Tue 8 Dec 2026, 10:00 PST)" in reply.text


async def test_snoozing_an_unpromised_follow_up_keeps_it_tuesday_to_thursday(core, alice, sessionmaker, clock):
    clock.set(la(2026, 12, 2, 11, 0))
    await ok(core, alice, "settings tz: America/Los_Angeles")
    await ok(core, alice, "reached-out Bob Li")  # Wednesday: due Tuesday 8th 11:00
    follow = await one(sessionmaker, "alice", "follow-up")
    assert follow.due_at == la(2026, 12, 8, 11, 0)
    reply = await ok(core, alice, f"snooze {follow.id} for: 1 day")
    assert "Wed 9 Dec 2026, 11:00 PST" in reply.text  # from its due time, not Monday 30 November
    reply = await ok(core, alice, f"snooze {follow.id} for: 2 days")
    assert "Tue 15 Dec 2026, 11:00 PST" in reply.text and "Tuesday to Thursday" in reply.text  # not Friday


async def test_two_weeks_never_pulls_a_february_nudge_into_december(core, alice, sessionmaker, clock):
    await ok(core, alice, "log Jane when: today 9am thanked: yes")
    stay = await one(sessionmaker, "alice", "stay-in-touch")  # in February
    reply = await ok(core, alice, f"snooze {stay.id} for: 2 weeks")
    assert (await one(sessionmaker, "alice", "stay-in-touch")).due_at == stay.due_at + dt.timedelta(weeks=2)
    assert "Mar 2027" in reply.text


async def test_the_twenty_minute_check_is_never_snoozed(core, alice, sessionmaker, clock):
    await ok(core, alice, "scheduled Jane when: tomorrow 12:00")
    check = await one(sessionmaker, "alice", "time-check")
    listing = await ok(core, alice, "nudges")
    section = next(s for s in listing.sections if s.title.startswith(f"#{check.id} "))
    assert [b.label for b in section.buttons] == ["Skip"]
    refused = await core.run_text(alice, f"snooze {check.id}")
    assert refused.error and "can't move" in refused.text


# --- 4. one meeting, one set of nudges ----------------------------------------------------


async def test_logging_a_scheduled_meeting_closes_it(core, alice, sessionmaker, clock, db):
    await ok(core, alice, "scheduled Jane Doe when: tomorrow 12:30 where: Blue Bottle")
    clock.set(dt.datetime(2026, 11, 19, 14, 0, tzinfo=UTC))  # the day after, 14:00: logged with no time
    reply = await ok(core, alice, "log Jane Doe notes: talked about SEO")
    assert "Thu 19 Nov 2026, 12:30 UTC (as scheduled)" in plain_text(reply)
    open_kinds = {x.kind for x in await nudges_of(sessionmaker, "alice", status=("pending", "sent"))}
    assert not open_kinds & {"prep", "time-check"}
    async with sessionmaker() as s:
        meetings = list(await s.scalars(select(Meeting)))
    assert [(m.status, m.where) for m in meetings] == [("held", "Blue Bottle")]
    home = plain_text(await core.home(alice))
    assert "Coming up" not in home
    export = await ok(core, alice, "export")
    assert "1 meetings" in export.text or "1 meeting" in export.text
    organizer = Actor("console", "local", "ORG1")
    stats = plain_text(await ok(core, organizer, "admin stats"))
    assert "Meetings logged: 1" in stats


async def test_a_second_date_moves_the_meeting(core, alice, sessionmaker, clock):
    await ok(core, alice, "scheduled Jane when: tomorrow 12:30")
    reply = await ok(core, alice, "scheduled Jane when: 2026-11-20 09:00")
    assert "Moved your meeting with Jane" in reply.title and "Was: Thu 19 Nov 2026, 12:30 UTC" in plain_text(reply)
    kinds = [x.kind for x in await nudges_of(sessionmaker, "alice")]
    assert kinds.count("prep") == 1 and kinds.count("time-check") == 1


async def test_a_meeting_needs_a_time_of_day(core, alice):
    reply = await core.run_text(alice, "scheduled Jane when: Thursday")
    assert reply.error and "What time on Thu 19 Nov?" in reply.text


# --- 5. no silent twins -------------------------------------------------------------------


async def test_adding_someone_you_have_updates_them(core, alice, sessionmaker):
    await ok(core, alice, "add Jane Doe company: Acme")
    reply = await ok(core, alice, "add Jane Doe role: Head of Marketing")
    assert "already in your contacts, so I updated them: role Head of Marketing" in reply.title
    moved = await core.run_text(alice, "add Jane Doe company: Globex")
    assert moved.error and "`/rapport add Jane Doe (Acme) company: Globex`" in moved.text
    await ok(core, alice, "add Jane Doe (Acme) company: Globex")
    second = await ok(core, alice, "add Jane Doe (Initech)")
    assert "you also have Jane Doe (Globex)" in second.title
    async with sessionmaker() as s:
        rows = [(r.name, r.company, r.role) for r in await s.scalars(select(ContactRow).order_by(ContactRow.id))]
    assert rows == [("Jane Doe", "Globex", "Head of Marketing"), ("Jane Doe", "Initech", None)]


async def test_a_near_name_asks_did_you_mean(core, alice, sessionmaker):
    await ok(core, alice, "add Jane Doe")
    for text in ("log Jane Do notes: hi", "log Jane", "reached-out jane doh", "scheduled Jane Do when: tomorrow 9am"):
        reply = await core.run_text(alice, text)
        assert reply.error and "Did you mean `Jane Doe`?" in reply.text, text
    async with sessionmaker() as s:
        assert await s.scalar(select(func.count(ContactRow.id))) == 1
        assert await s.scalar(select(func.count(Nudge.id)).where(Nudge.kind == "thank-you")) == 0


# --- 6. outreach like the seeds say ---------------------------------------------------------


async def test_reached_out_when_backdates_and_the_first_message_names_the_referrer(core, alice, sessionmaker, clock):
    await ok(core, alice, "goal product marketing at a B2B SaaS company")
    added = await ok(core, alice, "add Bob Li referred-by: Jane Doe")
    assert "I was referred to you by Jane Doe" in added.draft and "product marketing at a B2B SaaS company" in added.draft
    reply = await ok(core, alice, "reached-out Bob Li via: email when: 3 days ago")  # Sunday 15 November
    text = plain_text(reply)
    assert "Sent: Sun 15 Nov 2026, 12:00 UTC" in text
    assert "Follow-up: Fri 20 Nov 2026" not in text  # Friday moves on to the next Tuesday
    follow = await one(sessionmaker, "alice", "follow-up")
    assert follow.due_at == dt.datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert not reply.draft  # sent three days ago: no first message to write any more
    await ok(core, alice, "add Cy Oh referred-by: Jane Doe")
    now = await ok(core, alice, "reached-out Cy Oh via: email")
    assert "I was referred to you by Jane Doe" in now.draft and "twenty minutes of your advice" in now.draft
    assert "not asking about jobs" in now.draft
    again = await ok(core, alice, "reached-out Cy Oh via: phone")
    assert not again.draft  # only the first outreach comes with a first message


# --- 7. time zones ---------------------------------------------------------------------------


async def test_a_time_zone_that_is_a_region_is_refused_with_close_matches(core, alice):
    reply = await core.run_text(alice, "settings tz: Pacific")
    assert reply.error and "\n" not in reply.text
    assert "America/Los_Angeles" in reply.text and "Traceback" not in reply.text
    assert "Europe/Berlin" in plain_text(await ok(core, alice, "settings tz: berlin"))


async def test_pending_nudges_keep_their_local_time_in_a_new_zone(core, sessionmaker, clock):
    console = Actor("console", "local", "dana", fallback_name="Dana")
    await ok(core, console, "log Jane when: today 10am thanked: yes referrals: pending")
    digest = await one(sessionmaker, "dana", "digest")
    assert digest.due_at == dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 09:00 UTC
    reply = await ok(core, console, "settings tz: America/Los_Angeles")
    assert "keep their local time" in reply.context
    assert (await one(sessionmaker, "dana", "digest")).due_at == la(2026, 11, 23, 9, 0)  # Monday 09:00 PST
    assert (await one(sessionmaker, "dana", "check-back")).due_at == la(2026, 11, 21, 10, 0)
    # The platform's zone changing does the same.
    slack = Actor("slack", "T1", "U1", display_name="Sam", tz="Europe/Berlin")
    await ok(core, slack, "goal data roles")
    assert (await one(sessionmaker, "U1", "digest")).due_at == dt.datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    await ok(core, Actor("slack", "T1", "U1", display_name="Sam", tz="Asia/Tokyo"), "goal data roles in Tokyo")
    assert (await one(sessionmaker, "U1", "digest")).due_at == dt.datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


# --- 8. meetings in the past keep a sensible time of day ---------------------------------------


async def test_a_past_day_without_a_time_is_a_daytime_meeting(core, alice, sessionmaker, clock):
    clock.set(dt.datetime(2026, 11, 23, 5, 16, tzinfo=UTC))
    reply = await ok(core, alice, "log Jane when: 3 days ago")
    assert "Fri 20 Nov 2026, 12:00 UTC (no time given: I've put it at midday" in plain_text(reply)
    reply = await ok(core, alice, "log Ana when: last Monday 3pm")
    assert "Mon 16 Nov 2026, 15:00 UTC" in plain_text(reply) and "no time given" not in plain_text(reply)


# --- 10, 11. names, reasons and labels --------------------------------------------------------


async def test_lists_name_the_referrer_and_the_last_call(core, alice, sessionmaker):
    await ok(core, alice, "add Bob Li referred-by: Jane Doe")
    reply = await ok(core, alice, "log Bob Li when: today 10am")
    text = plain_text(reply)
    assert "Tell Jane Doe you met Bob Li: Thu 19 Nov 2026, 09:00 UTC" in text
    assert "Last call to thank Bob Li: Thu 19 Nov 2026, 08:00 UTC" in text
    listing = plain_text(await ok(core, alice, "nudges"))
    assert "Tell Jane Doe you met Bob Li" in listing and "Last call to thank Bob Li" in listing
    assert "Update your referrer" not in listing


async def test_no_nudge_shows_an_internal_code(core, alice, sessionmaker, clock, db):
    await ok(core, alice, "settings quiet: off")
    await ok(core, alice, "add Bob Li referred-by: Jane Doe")
    await ok(core, alice, "log Bob Li when: today 9am referrals: pending")
    await ok(core, alice, "scheduled Ana when: in 3 days at 10am")
    await ok(core, alice, "reached-out Cy Oh")
    await ok(core, alice, "landed PMM at Acme")
    inbox = Inbox()
    dispatcher = Dispatcher(db, clock, {"console": inbox}, "UTC")
    for _ in range(8):
        clock.advance(days=30)
        await dispatcher.sweep()
    kinds = {m.kind for m in inbox.messages}
    assert kinds >= {"thank-you", "update-referrer", "check-back", "second-thank-you", "prep", "time-check",
                     "follow-up", "stay-in-touch", "digest", "landed"}
    for message in inbox.messages:
        text = plain_text(message.reply)
        for code in ("(000", "(001", "(002", "(003", "000 tip", "A member"):
            assert code not in text, (message.kind, text)
    time_check = next(m for m in inbox.messages if m.kind == "time-check")
    assert not time_check.reply.buttons
    thank = next(m for m in inbox.messages if m.kind == "thank-you")
    assert thank.reply.draft.endswith("Alice Example")


async def test_the_console_member_has_a_name(core, sessionmaker):
    me = Actor("console", "local", "me", fallback_name="Dana")
    reply = await ok(core, me, "settings")
    assert "Name: Dana" in plain_text(reply)
    await ok(core, me, "settings name: Dana Reyes")
    assert "Name: Dana Reyes" in plain_text(await ok(core, me, "settings"))  # the fallback never overwrites it
    slack = Actor("slack", "T1", "U1", display_name="Sam")
    refused = await core.run_text(slack, "settings name: Samantha")
    assert refused.error and "profile" in refused.text
    assert (await contact(sessionmaker, "nobody")) is None
