"""The quick reader of everyday dates gives exactly what dateparser gives."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dateparser
from hypothesis import given, settings
from hypothesis import strategies as st

from core.timeparse import quick_when

ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "America/Los_Angeles"]
clock = st.one_of(
    st.just(""),
    st.builds(lambda h, ap: f" {h}{ap}", st.integers(1, 12), st.sampled_from(["am", "pm", " am", " PM"])),
    st.builds(lambda h, m: f" {h}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
    st.builds(lambda h, m, ap: f" at {h}:{m:02d}{ap}", st.integers(1, 12), st.integers(0, 59), st.sampled_from(["am", "pm"])),
    st.sampled_from([" noon", " at noon", " midnight"]),
)
texts = st.one_of(
    st.builds(lambda d, c: d + c, st.sampled_from(["today", "yesterday", "tomorrow", "Yesterday", "TODAY"]), clock),
    st.builds(lambda d, t: d.isoformat() + t, st.dates(dt.date(2000, 1, 1), dt.date(2036, 12, 31)),
              st.one_of(st.just(""), st.builds(lambda h, m: f" {h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)))),
    st.builds(lambda n, u, ago: (f"{n} {u}{'s' if n != 1 else ''} ago" if ago else f"in {n} {u}{'s' if n != 1 else ''}"),
              st.integers(1, 60), st.sampled_from(["minute", "hour", "day", "week"]), st.booleans()),
)


def dateparser_answer(text: str, base: dt.datetime, tz: ZoneInfo, prefer: str) -> dt.datetime | None:
    parsed = dateparser.parse(text, languages=["en"], settings={
        "TIMEZONE": tz.key, "RETURN_AS_TIMEZONE_AWARE": True, "RELATIVE_BASE": base,
        "PREFER_DATES_FROM": prefer, "PREFER_DAY_OF_MONTH": "first"})
    return parsed.astimezone(dt.UTC) if parsed is not None else None


@given(text=texts, now=st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2035, 1, 1)),
       zone=st.sampled_from(ZONES), prefer=st.sampled_from(["past", "future"]))
@settings(max_examples=300, deadline=None)
def test_quick_reader_agrees_with_dateparser(text, now, zone, prefer):
    tz = ZoneInfo(zone)
    aware_now = now.replace(tzinfo=dt.UTC, microsecond=0)
    base = aware_now.astimezone(tz).replace(tzinfo=None)
    quick = quick_when(text, base, tz)
    if quick is None:
        return  # left to dateparser
    if quick.astimezone(tz).utcoffset() != aware_now.astimezone(tz).utcoffset():
        return  # across a DST change dateparser keeps the old offset (see the test below)
    assert quick == dateparser_answer(text, base, tz, prefer), text


def test_across_a_dst_change_the_wall_clock_time_is_kept():
    """"yesterday 3pm" the day after clocks spring forward is 3 pm on the clock, where
    dateparser would answer with the offset of today (an hour off)."""
    tz = ZoneInfo("America/New_York")
    now = dt.datetime(2026, 3, 9, 17, 0, tzinfo=dt.UTC)  # Monday 13:00 EDT; DST began Sunday
    base = now.astimezone(tz).replace(tzinfo=None)
    assert quick_when("yesterday 3pm", base, tz).astimezone(tz).hour == 15
    assert quick_when("2 days ago", base, tz).astimezone(tz) == dt.datetime(2026, 3, 7, 13, 0, tzinfo=tz)
    assert quick_when("in 1 week", base, tz).astimezone(tz).hour == 13


def test_dst_gaps_and_repeats_are_left_to_dateparser():
    tz = ZoneInfo("America/New_York")
    base = dt.datetime(2026, 3, 9, 13, 0)
    assert quick_when("yesterday 2:30am", base, tz) is None  # 02:30 didn't exist on 8 March
    assert quick_when("2026-11-01 01:30", base, tz) is None  # 01:30 happened twice


def test_other_forms_are_left_to_dateparser():
    base = dt.datetime(2026, 11, 18, 10, 0)
    for text in ("next Tuesday 10am", "Thursday 12:30", "last monday", "yesterday 25:00", "2026-02-30", "13pm"):
        assert quick_when(text, base, ZoneInfo("UTC")) is None, text
