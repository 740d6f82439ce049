"""Calendar files, read back with icalendar: instants across daylight-saving changes, stable
UIDs, and text that survives the trip."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from core.drafts import TWO_ASKS
from core.ics import FeedFollowUp, FeedMeeting, feed_ics, meeting_ics

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DOMAIN = "rapport.example"


def local(tz, *args):
    return dt.datetime(*args, tzinfo=tz).astimezone(UTC)


def one_meeting(start, tz, prep=None, *, name="Jane Doe", where=None, sequence=0, mid=7):
    data = meeting_ics(mid, name, start, tz, where, prep, sequence, DOMAIN, now=NOW)
    calendar = Calendar.from_ical(data)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def alarm_instant(event):
    (alarm,) = event.walk("VALARM")
    return event.decoded("DTSTART").astimezone(UTC) + alarm.decoded("TRIGGER")


def vtimezone_instant(calendar, event, name="DTSTART"):
    """The event's start read through the file's own VTIMEZONE, not the system's zone data."""
    (timezone,) = calendar.walk("VTIMEZONE")
    naive = event.decoded(name).replace(tzinfo=None)
    return naive.replace(tzinfo=timezone.to_tz(lookup_tzid=False)).astimezone(UTC)


def test_meeting_event_shape():
    start = local(NY, 2026, 11, 19, 10, 0)
    prep = local(NY, 2026, 11, 18, 9, 0)
    calendar, event = one_meeting(start, NY, prep, where="Blue Bottle, 5th Ave", sequence=2)
    assert calendar["METHOD"] == "PUBLISH"
    assert event["UID"] == "meeting-7@rapport.example"
    assert event["SEQUENCE"] == 2
    assert event.decoded("DTSTAMP") == NOW
    assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(minutes=20)
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event["SUMMARY"] == "Informational interview with Jane Doe"
    assert event["LOCATION"] == "Blue Bottle, 5th Ave"
    description = str(event["DESCRIPTION"])
    assert "Keep it to twenty minutes" in description
    assert all(ask in description for ask in TWO_ASKS)
    assert alarm_instant(event) == prep
    (alarm,) = event.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY"


def test_no_alarm_without_a_prep_time():
    _, event = one_meeting(local(NY, 2026, 11, 19, 10, 0), NY)
    assert event.walk("VALARM") == []


@pytest.mark.parametrize(
    ("tz", "meeting", "prep", "start_utc", "prep_utc"),
    [
        # US spring forward: Sunday 8 March 2026, 02:00 -> 03:00
        (NY, (2026, 3, 9, 10, 0), (2026, 3, 8, 9, 0), (2026, 3, 9, 14, 0), (2026, 3, 8, 13, 0)),
        (NY, (2026, 3, 8, 10, 0), (2026, 3, 7, 9, 0), (2026, 3, 8, 14, 0), (2026, 3, 7, 14, 0)),
        # US fall back: Sunday 1 November 2026, 02:00 -> 01:00
        (NY, (2026, 11, 2, 10, 0), (2026, 11, 1, 9, 0), (2026, 11, 2, 15, 0), (2026, 11, 1, 14, 0)),
        (
            NY,
            (2026, 11, 1, 10, 0),
            (2026, 10, 31, 9, 0),
            (2026, 11, 1, 15, 0),
            (2026, 10, 31, 13, 0),
        ),
        # EU spring forward: Sunday 29 March 2026, 02:00 -> 03:00
        (
            BERLIN,
            (2026, 3, 30, 10, 0),
            (2026, 3, 29, 9, 0),
            (2026, 3, 30, 8, 0),
            (2026, 3, 29, 7, 0),
        ),
        (
            BERLIN,
            (2026, 3, 29, 10, 0),
            (2026, 3, 28, 9, 0),
            (2026, 3, 29, 8, 0),
            (2026, 3, 28, 8, 0),
        ),
        # EU fall back: Sunday 25 October 2026, 03:00 -> 02:00
        (
            BERLIN,
            (2026, 10, 26, 10, 0),
            (2026, 10, 25, 9, 0),
            (2026, 10, 26, 9, 0),
            (2026, 10, 25, 8, 0),
        ),
        (
            BERLIN,
            (2026, 10, 25, 10, 0),
            (2026, 10, 24, 9, 0),
            (2026, 10, 25, 9, 0),
            (2026, 10, 24, 7, 0),
        ),
    ],
)
def test_instants_across_daylight_saving_changes(tz, meeting, prep, start_utc, prep_utc):
    start, prep_at = local(tz, *meeting), local(tz, *prep)
    assert start == dt.datetime(*start_utc, tzinfo=UTC)  # the table says what we mean
    assert prep_at == dt.datetime(*prep_utc, tzinfo=UTC)
    calendar, event = one_meeting(start, tz, prep_at)
    assert event.decoded("DTSTART").astimezone(UTC) == start
    assert event.decoded("DTEND").astimezone(UTC) == start + dt.timedelta(minutes=20)
    assert vtimezone_instant(calendar, event) == start
    assert vtimezone_instant(calendar, event, "DTEND") == start + dt.timedelta(minutes=20)
    assert event.decoded("DTSTART").replace(tzinfo=None) == dt.datetime(*meeting)
    assert alarm_instant(event) == prep_at
    data = meeting_ics(7, "Jane Doe", start, tz, None, prep_at, 0, DOMAIN, now=NOW)
    hours = int((start - prep_at).total_seconds() // 3600)
    assert f"TRIGGER:-PT{hours}H\r\n".encode() in data  # exact hours, no nominal days


@pytest.mark.parametrize(
    "key", ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago"]
)
def test_vtimezone_changes_start_at_the_local_time_before_the_change(key):
    tz = ZoneInfo(key)
    data = meeting_ics(1, "A", local(tz, 2026, 6, 1, 10, 0), tz, None, None, 0, DOMAIN, now=NOW)
    (timezone,) = Calendar.from_ical(data).walk("VTIMEZONE")
    changes = 0
    for change in timezone.subcomponents:
        before, after = change["TZOFFSETFROM"].td, change["TZOFFSETTO"].td
        if before == after:
            continue
        instant = (change.decoded("DTSTART") - before).replace(tzinfo=UTC)
        assert instant.astimezone(tz).utcoffset() == after
        assert (instant - dt.timedelta(seconds=1)).astimezone(tz).utcoffset() == before
        changes += 1
    assert changes >= 2


def test_a_moved_meeting_keeps_its_uid_with_a_higher_sequence():
    _, first = one_meeting(local(NY, 2026, 11, 19, 10, 0), NY, sequence=0)
    _, moved = one_meeting(local(NY, 2026, 11, 20, 15, 30), NY, sequence=1)
    assert first["UID"] == moved["UID"]
    assert moved["SEQUENCE"] > first["SEQUENCE"]
    assert moved.decoded("DTSTART").astimezone(UTC) == local(NY, 2026, 11, 20, 15, 30)
    _, other = one_meeting(local(NY, 2026, 11, 19, 10, 0), NY, mid=8)
    assert other["UID"] != first["UID"]


def test_text_with_commas_semicolons_newlines_and_unicode_round_trips():
    name = 'Zoë O\'Brien, PhD; "Head\\of" 数据 🚀'
    where = "Café Ñ, 5th Ave; floor 2\nask at the desk"
    _, event = one_meeting(local(BERLIN, 2026, 5, 4, 10, 0), BERLIN, where=where, name=name)
    assert str(event["SUMMARY"]) == f"Informational interview with {name}"
    assert str(event["LOCATION"]) == where
    assert name in str(event["DESCRIPTION"])


def test_naive_datetimes_and_a_prep_after_the_start_are_refused():
    start = local(NY, 2026, 11, 19, 10, 0)
    with pytest.raises(ValueError):
        meeting_ics(1, "A", start.replace(tzinfo=None), NY, None, None, 0, DOMAIN, now=NOW)
    with pytest.raises(ValueError):
        meeting_ics(1, "A", start, NY, None, start + dt.timedelta(hours=1), 0, DOMAIN, now=NOW)
    with pytest.raises(ValueError):
        feed_ics(
            "Sam", NY, [FeedMeeting(1, "A", start.replace(tzinfo=None))], [], now=NOW, domain=DOMAIN
        )


def test_feed_has_meetings_and_follow_ups_in_the_members_zone():
    meeting_start = local(BERLIN, 2026, 3, 30, 10, 0)  # the day after the EU change
    prep = local(BERLIN, 2026, 3, 29, 9, 0)
    follow_up = local(BERLIN, 2026, 3, 26, 16, 45)
    data = feed_ics(
        "Sam Rivera",
        BERLIN,
        [FeedMeeting(7, "Jane Doe", meeting_start, "Zoom", prep, 3)],
        [FeedFollowUp(41, "Bob Li, CFA", follow_up, "email")],
        now=NOW,
        domain=DOMAIN,
    )
    calendar = Calendar.from_ical(data)
    assert calendar["X-WR-CALNAME"] == "Rapport: Sam Rivera's networking"
    assert calendar["X-WR-TIMEZONE"] == "Europe/Berlin"
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in data
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in data
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    nudge, meeting = calendar.walk("VEVENT")  # in order of time
    assert meeting["UID"] == "meeting-7@rapport.example" and meeting["SEQUENCE"] == 3
    assert meeting["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert vtimezone_instant(calendar, meeting) == meeting_start
    assert alarm_instant(meeting) == prep
    assert nudge["UID"] == "follow-up-41@rapport.example"
    assert str(nudge["SUMMARY"]) == "Follow up with Bob Li, CFA"
    assert nudge.decoded("DTSTART").astimezone(UTC) == follow_up
    assert vtimezone_instant(calendar, nudge) == follow_up
    assert nudge.decoded("DTEND") - nudge.decoded("DTSTART") == dt.timedelta(minutes=15)


def test_feed_meeting_uid_matches_the_attachment():
    start = local(NY, 2026, 11, 19, 10, 0)
    _, attached = one_meeting(start, NY, mid=12)
    feed = Calendar.from_ical(
        feed_ics("Sam", NY, [FeedMeeting(12, "Jane Doe", start)], [], now=NOW, domain=DOMAIN)
    )
    (in_feed,) = feed.walk("VEVENT")
    assert in_feed["UID"] == attached["UID"]


def test_empty_feed_and_utc_member():
    calendar = Calendar.from_ical(feed_ics("", ZoneInfo("UTC"), [], [], now=NOW, domain=DOMAIN))
    assert calendar["X-WR-CALNAME"] == "Rapport: networking"
    assert calendar.walk("VEVENT") == [] and calendar.walk("VTIMEZONE") == []
    start = dt.datetime(2026, 11, 19, 10, 0, tzinfo=UTC)
    data = feed_ics(
        "Sam", ZoneInfo("UTC"), [FeedMeeting(1, "A", start)], [], now=NOW, domain=DOMAIN
    )
    assert b"DTSTART:20261119T100000Z" in data
