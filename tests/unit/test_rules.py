"""Timing rules, pure: an event, the member's settings and `now` in; due times (UTC) out."""

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from core import rules

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC


def at(tz, *args):
    return dt.datetime(*args, tzinfo=tz).astimezone(UTC)


def who(tz=NY, **kw):
    return rules.MemberTime(tz=tz, **kw)


def test_thank_you_evening_of_the_meeting_day():
    meeting = at(NY, 2026, 11, 18, 10, 0)
    due, last = rules.thank_you(meeting, meeting + dt.timedelta(hours=1), who())
    assert due == at(NY, 2026, 11, 18, 19, 0)
    assert last == meeting + dt.timedelta(hours=22)


def test_thank_you_two_hours_after_a_late_meeting():
    meeting = at(NY, 2026, 11, 18, 18, 30)
    due, _ = rules.thank_you(meeting, meeting, who())
    assert due == at(NY, 2026, 11, 18, 20, 30)


def test_thank_you_logged_late_is_now_and_has_no_stale_reminder():
    meeting = at(NY, 2026, 11, 16, 10, 0)
    now = at(NY, 2026, 11, 18, 12, 0)
    due, last = rules.thank_you(meeting, now, who())
    assert due == now and last is None


def test_thank_you_in_member_zone_not_utc():
    meeting = at(BERLIN, 2026, 11, 18, 10, 0)
    due, _ = rules.thank_you(meeting, meeting, who(BERLIN))
    assert due.astimezone(BERLIN).hour == 19


def test_update_referrer_next_morning():
    meeting = at(NY, 2026, 11, 18, 16, 0)
    assert rules.update_referrer(meeting, meeting, who()) == at(NY, 2026, 11, 19, 9, 0)


def test_check_back_and_second_thank_you():
    meeting = at(NY, 2026, 11, 18, 16, 0)
    assert rules.check_back(meeting, meeting) == meeting + dt.timedelta(days=3)
    assert rules.second_thank_you(meeting, meeting) == meeting + dt.timedelta(days=30)


def test_follow_up_exact_when_promised():
    sent = at(NY, 2026, 11, 18, 16, 0)
    promised = at(NY, 2026, 11, 20, 10, 15)
    assert rules.follow_up(sent, sent, who(), promised) == promised


def test_follow_up_five_days_moved_to_tue_thu():
    # Wednesday + 5 days = Monday -> Tuesday, same time of day.
    sent = at(NY, 2026, 11, 18, 11, 0)
    due = rules.follow_up(sent, sent, who())
    assert due == at(NY, 2026, 11, 24, 11, 0)
    assert due.astimezone(NY).weekday() == 1
    # Friday + 5 days = Wednesday: already a good day.
    sent = at(NY, 2026, 11, 20, 11, 0)
    assert rules.follow_up(sent, sent, who()).astimezone(NY).date() == dt.date(2026, 11, 25)


@given(st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1)))
@settings(max_examples=200, deadline=None)
def test_follow_up_always_tue_to_thu_and_at_least_five_days(naive):
    sent = naive.replace(tzinfo=UTC)
    due = rules.follow_up(sent, sent, who())
    assert due.astimezone(NY).weekday() in (1, 2, 3)
    assert due - sent >= dt.timedelta(days=5) - dt.timedelta(hours=1)  # a DST change may eat an hour
    assert due - sent <= dt.timedelta(days=9, hours=1)  # Sunday + 5 = Friday -> Tuesday


def test_prep_day_before_at_nine_or_two_hours_before():
    start = at(NY, 2026, 11, 20, 12, 30)
    assert rules.prep(start, at(NY, 2026, 11, 18, 9, 0), who()) == at(NY, 2026, 11, 19, 9, 0)
    # Scheduled the evening before: the 09:00 has passed, so two hours before.
    assert rules.prep(start, at(NY, 2026, 11, 19, 20, 0), who()) == at(NY, 2026, 11, 20, 10, 30)
    # Scheduled an hour before: now.
    now = at(NY, 2026, 11, 20, 11, 30)
    assert rules.prep(start, now, who()) == now
    assert rules.prep(start, start, who()) is None


def test_time_check_eighteen_minutes_in():
    start = at(NY, 2026, 11, 20, 12, 30)
    assert rules.time_check(start, start - dt.timedelta(days=1)) == start + dt.timedelta(minutes=18)
    assert rules.time_check(start, start + dt.timedelta(minutes=30)) is None


def test_stay_in_touch_cadence():
    touch = at(NY, 2026, 11, 18, 12, 0)
    assert rules.stay_in_touch(touch, touch, who(stay_in_touch_days=60)) == touch + dt.timedelta(days=60)


def test_quiet_hours_defer_to_their_end():
    w = who()
    assert rules.defer_quiet(at(NY, 2026, 11, 18, 22, 0), w) == at(NY, 2026, 11, 19, 8, 0)
    assert rules.defer_quiet(at(NY, 2026, 11, 19, 3, 0), w) == at(NY, 2026, 11, 19, 8, 0)
    # The edges: 20:59 goes out, 21:00 waits, 08:00 goes out.
    assert rules.defer_quiet(at(NY, 2026, 11, 18, 20, 59), w) == at(NY, 2026, 11, 18, 20, 59)
    assert rules.defer_quiet(at(NY, 2026, 11, 18, 21, 0), w) == at(NY, 2026, 11, 19, 8, 0)
    assert rules.defer_quiet(at(NY, 2026, 11, 19, 8, 0), w) == at(NY, 2026, 11, 19, 8, 0)


def test_quiet_hours_not_wrapping_and_off():
    w = who(quiet_start=dt.time(13, 0), quiet_end=dt.time(14, 0))
    assert rules.defer_quiet(at(NY, 2026, 11, 18, 13, 30), w) == at(NY, 2026, 11, 18, 14, 0)
    off = who(quiet_start=dt.time(0, 0), quiet_end=dt.time(0, 0))
    late = at(NY, 2026, 11, 18, 23, 30)
    assert rules.defer_quiet(late, off) == late


def test_time_check_is_not_held_back_by_quiet_hours():
    late = at(NY, 2026, 11, 18, 21, 18)
    assert rules.deliverable_at("time-check", late, who()) == late
    assert rules.deliverable_at("thank-you", late, who()) == at(NY, 2026, 11, 19, 8, 0)


def test_dst_spring_forward():
    # US DST starts 2027-03-14 at 02:00 local. A meeting on the 13th at 10:00 EST:
    # the referrer update is the next morning, 09:00 EDT (13:00 UTC, not 14:00).
    meeting = at(NY, 2027, 3, 13, 10, 0)
    due = rules.update_referrer(meeting, meeting, who())
    assert due.astimezone(NY).hour == 9
    assert due == dt.datetime(2027, 3, 14, 13, 0, tzinfo=UTC)
    # Quiet hours ending at 02:30, a time that doesn't exist that night, still end.
    w = who(quiet_start=dt.time(23, 0), quiet_end=dt.time(2, 30))
    deferred = rules.defer_quiet(at(NY, 2027, 3, 14, 0, 30), w)
    assert deferred == dt.datetime(2027, 3, 14, 7, 30, tzinfo=UTC)  # 03:30 EDT


def test_dst_fall_back_thank_you_evening():
    # US DST ends 2026-11-01. A meeting that Sunday at 09:00 EST: 19:00 EST = 00:00 UTC next day.
    meeting = at(NY, 2026, 11, 1, 9, 0)
    due, last = rules.thank_you(meeting, meeting, who())
    assert due == dt.datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    assert last == meeting + dt.timedelta(hours=22)


def test_next_digest_monday_nine_local():
    wed = at(BERLIN, 2026, 11, 18, 15, 0)
    assert rules.next_digest(wed, who(BERLIN)) == at(BERLIN, 2026, 11, 23, 9, 0)
    monday_nine = at(BERLIN, 2026, 11, 23, 9, 0)
    assert rules.next_digest(monday_nine, who(BERLIN)) == at(BERLIN, 2026, 11, 30, 9, 0)
    monday_early = at(BERLIN, 2026, 11, 23, 7, 0)
    assert rules.next_digest(monday_early, who(BERLIN)) == monday_nine


@given(
    st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1)),
    st.sampled_from(["America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]),
)
@settings(max_examples=300, deadline=None)
def test_deferred_nudges_never_land_in_quiet_hours(naive, zone):
    w = who(ZoneInfo(zone))
    due = rules.defer_quiet(naive.replace(tzinfo=UTC), w)
    assert not rules.in_quiet_hours(due, w)
    assert due >= naive.replace(tzinfo=UTC)
    assert due - naive.replace(tzinfo=UTC) <= dt.timedelta(hours=13)


def test_due_now_is_not_held_back_by_quiet_hours():
    """The member just acted, so they're at their screen: a nudge due now goes now."""
    now = at(NY, 2026, 11, 18, 23, 0)
    assert rules.deliverable_at("thank-you", now, who(), now) == now
    assert rules.deliverable_at("thank-you", now + dt.timedelta(hours=1), who(), now) == at(NY, 2026, 11, 19, 8, 0)


# --- issue 11: snooze moves a nudge later, never earlier ------------------------------------


def test_snooze_of_a_nudge_not_yet_due_counts_from_its_due_time():
    """A follow-up due Tuesday 8 December, snoozed for a day on 29 November: Wednesday 9th,
    not Monday 30th."""
    due = at(NY, 2026, 12, 8, 10, 0)
    now = at(NY, 2026, 11, 29, 15, 0)
    assert rules.snoozed(due, now, who(), dt.timedelta(days=1)) == at(NY, 2026, 12, 9, 10, 0)
    february = at(NY, 2027, 2, 10, 9, 0)
    assert rules.snoozed(february, now, who(), dt.timedelta(weeks=2)) == at(NY, 2027, 2, 24, 9, 0)


def test_snooze_of_a_nudge_already_out_counts_from_now():
    due = at(NY, 2026, 11, 20, 10, 0)
    now = at(NY, 2026, 11, 29, 15, 0)
    assert rules.snoozed(due, now, who(), dt.timedelta(days=1)) == at(NY, 2026, 11, 30, 15, 0)


def test_snoozed_follow_up_stays_on_tuesday_to_thursday():
    due = at(NY, 2026, 12, 10, 10, 0)  # a Thursday
    later = rules.snoozed(due, at(NY, 2026, 11, 29, 15, 0), who(), dt.timedelta(days=1), good_days=True)
    assert later == at(NY, 2026, 12, 15, 10, 0)  # Friday moves on to Tuesday, same time of day


@given(
    due=st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2027, 12, 31)),
    now=st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2027, 12, 31)),
    hours=st.integers(1, 24 * 60),
    good=st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_snooze_never_earlier_and_never_before_now(due, now, hours, good):
    due, now = due.replace(tzinfo=UTC), now.replace(tzinfo=UTC)
    later = rules.snoozed(due, now, who(), dt.timedelta(hours=hours), good_days=good)
    assert later > due and later > now
    if good:
        assert later.astimezone(NY).weekday() in rules.GOOD_FOLLOW_UP_DAYS


def test_follow_up_of_a_backdated_outreach_counts_from_when_it_was_sent():
    sent = at(NY, 2026, 11, 22, 12, 0)  # Sunday
    now = at(NY, 2026, 11, 23, 9, 0)
    assert rules.follow_up(sent, now, who()) == at(NY, 2026, 12, 1, 12, 0)  # Friday 27th -> Tuesday
    # Sent long ago: now, if today is a good day; else the next Tuesday at the time it was sent.
    old = at(NY, 2026, 11, 2, 12, 0)
    wednesday = at(NY, 2026, 11, 25, 9, 0)
    assert rules.follow_up(old, wednesday, who()) == wednesday
    saturday = at(NY, 2026, 11, 28, 9, 0)
    assert rules.follow_up(old, saturday, who()) == at(NY, 2026, 12, 1, 12, 0)
