"""Natural-language dates and durations, read in the member's time zone."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal
from zoneinfo import ZoneInfo

import dateparser

from core.errors import UserError

_DURATION = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?)\s*$",
    re.IGNORECASE | re.ASCII,
)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_UNIT_DAYS = {"minutes": 1 / 1440, "hours": 1 / 24, "days": 1, "weeks": 7}


def parse_when(
    text: str,
    now: dt.datetime,
    tz: ZoneInfo,
    prefer: Literal["past", "future"],
    example: str,
    *,
    field: str | None = None,
    day_time: dt.time | None = None,
) -> dt.datetime:
    """Parses ``yesterday 3pm``, ``next Tuesday 10am``, ``in 3 days``, ``2026-11-20 14:00``.

    Returns UTC. ``example`` is shown in the error when the text is not a date; ``field``
    is the key the text came from (a form shows the error beside it).

    ``day_time``: the time of day to use when the text names a day but no time of day
    (``yesterday``, ``3 days ago``, ``last Monday``): left alone, the readers answer with the
    time it is now (``3 days ago`` at 05:16 is 05:16) or midnight (``Monday``). A past day
    given as "today" never comes after ``now``.
    """
    text = text.strip()
    base = now.astimezone(tz).replace(tzinfo=None)
    try:
        when = _read(text, base, tz, prefer, example, field)
        if day_time is not None and not names_time_of_day(text):
            day = when.astimezone(tz).date()
            when = dt.datetime.combine(day, day_time).replace(tzinfo=tz).astimezone(dt.UTC)
            if prefer == "past" and when > now and day == now.astimezone(tz).date():
                when = now  # "today", before the day's time has come: now
    except (OverflowError, ValueError):  # a date at the very ends of the calendar
        when = dt.datetime.min.replace(tzinfo=dt.UTC)
    earliest, latest = now - YEARS_BACK, now + YEARS_AHEAD
    if not earliest <= when <= latest:
        raise UserError(
            f"“{text[:40]}” is too far {'back' if when < earliest else 'ahead'}: give a date between "
            f"{earliest.year + 1} and {latest.year - 1}, e.g. `{example}`",
            field=field,
        )
    return when


#: How far from today a date may be: a meeting logged from long ago, a follow-up years ahead.
YEARS_BACK = dt.timedelta(days=100 * 365)
YEARS_AHEAD = dt.timedelta(days=20 * 365)


def _read(text: str, base: dt.datetime, tz: ZoneInfo, prefer: Literal["past", "future"], example: str,
          field: str | None) -> dt.datetime:
    quick = quick_when(text, base, tz)
    if quick is not None:
        return quick
    parsed: dt.datetime | None = None
    if text and len(text) <= 60:
        try:
            parsed = dateparser.parse(
                text,
                languages=["en"],
                settings={
                    "TIMEZONE": tz.key,
                    "RETURN_AS_TIMEZONE_AWARE": True,
                    "RELATIVE_BASE": base,
                    "PREFER_DATES_FROM": prefer,
                    "PREFER_DAY_OF_MONTH": "first",
                },
            )
        except (OverflowError, ValueError, ArithmeticError):  # `in 99999999999 days`: past the calendar's end
            parsed = None
    if parsed is None:
        raise UserError(
            f"I couldn't read “{text[:60]}” as a date. Try e.g. `yesterday 3pm`, `next Tuesday 10am`, "
            f"`2026-11-20 14:00`: `{example}`",
            field=field,
        )
    if parsed.tzinfo is None:  # pragma: no cover - dateparser returns aware values with the settings above
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(dt.UTC)


_TIME_OF_DAY = re.compile(
    r"\d:\d{2}|\d\s*(?:am|pm|a\.m\.|p\.m\.)(?![a-z])|\d\s*[hm]\b|\bat\s+\d{1,2}\b"
    r"|\b(?:noon|midnight|midday|morning|afternoon|evening|tonight|night|lunch|lunchtime|now"
    r"|minutes?|mins?|hours?|hrs?)\b",
    re.IGNORECASE,
)


def names_time_of_day(text: str) -> bool:
    """Whether ``text`` says a time of day (``3pm``, ``14:00``, ``noon``, ``this morning``,
    ``2 hours ago``) rather than only a day (``yesterday``, ``3 days ago``, ``last Monday``,
    ``2026-11-20``)."""
    return bool(_TIME_OF_DAY.search(text))


_DAY_WORDS = {"today": 0, "yesterday": -1, "tomorrow": 1}
_CLOCK = r"(?:at\s+)?(?:(?P<noon>noon|midnight)|(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ap>am|pm)?)"
_QUICK_DAY = re.compile(rf"^(?P<day>today|yesterday|tomorrow)(?:\s+{_CLOCK})?$", re.IGNORECASE)
_QUICK_ISO = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[ T](?P<h>\d{2}):(?P<m>\d{2}))?$")
_QUICK_AGO = re.compile(r"^(?:in\s+(?P<ahead>\d{1,3})|(?P<back>\d{1,3}))\s+(?P<unit>minute|hour|day|week)s?(?P<ago>\s+ago)?$", re.IGNORECASE)


def quick_when(text: str, base: dt.datetime, tz: ZoneInfo) -> dt.datetime | None:
    """The everyday forms (``yesterday 3pm``, ``today at 10:30am``, ``2026-11-20 14:00``,
    ``in 3 days``, ``2 hours ago``) read without dateparser, which costs milliseconds a
    call. Same answers as dateparser (a property test holds them to it); None for anything
    else, and for wall times a DST change makes ambiguous or skips, so dateparser decides.
    ``base`` is now as naive local time; returns UTC."""
    local: dt.datetime | None = None
    if m := _QUICK_DAY.match(text):
        day = base + dt.timedelta(days=_DAY_WORDS[m["day"].lower()])
        local = day if m["noon"] is None and m["h"] is None else _at_clock(day, m["noon"], m["h"], m["m"], m["ap"])
    elif m := _QUICK_ISO.match(text):
        try:
            day = dt.datetime.strptime(m["date"], "%Y-%m-%d")
            local = day.replace(hour=int(m["h"]), minute=int(m["m"])) if m["h"] else day
        except ValueError:
            return None
    elif (m := _QUICK_AGO.match(text)) and bool(m["ahead"]) != bool(m["ago"]):
        amount = int(m["ahead"] or m["back"])
        delta = dt.timedelta(**{m["unit"].lower() + "s": amount})
        local = base + delta if m["ahead"] else base - delta
    if local is None:
        return None
    aware = local.replace(tzinfo=tz)
    if aware.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) != local or aware.replace(fold=1).utcoffset() != aware.utcoffset():
        return None  # skipped or repeated by a DST change
    return aware.astimezone(dt.UTC)


def _at_clock(day: dt.datetime, noon: str | None, hour: str | None, minute: str | None, ampm: str | None) -> dt.datetime | None:
    if noon:
        return day.replace(hour=12 if noon.lower() == "noon" else 0, minute=0, second=0, microsecond=0)
    h, mins = int(hour or 0), int(minute or 0)
    if ampm:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if ampm.lower() == "pm" else 0)
    if h > 23 or mins > 59:
        return None
    return day.replace(hour=h, minute=mins, second=0, microsecond=0)


def parse_duration(text: str, example: str, *, field: str | None = None) -> dt.timedelta:
    """Parses ``3 days``, ``2h``, ``1 week``, ``90 minutes``."""
    match = _DURATION.match(text)
    if not match:
        raise UserError(f"I couldn't read “{text[:40]}” as a length of time. Try `3 days` or `2 hours`: `{example}`", field=field)
    amount = float(match.group(1))
    unit = _UNITS[match.group(2)[0].lower()]
    if not 0 < amount * _UNIT_DAYS[unit] <= 366:  # before timedelta, which overflows on huge numbers
        raise UserError(f"Pick a length between a minute and a year: `{example}`", field=field)
    return dt.timedelta(**{unit: amount})


def fmt_when(when: dt.datetime, tz: ZoneInfo, now: dt.datetime | None = None) -> str:
    """``Sat 21 Nov 2026, 15:00 EST``: always the resolved date, in the member's zone."""
    loc = when.astimezone(tz)
    return f"{loc:%a} {loc.day} {loc:%b %Y, %H:%M} {loc.tzname()}"


def fmt_ago(when: dt.datetime | None, now: dt.datetime, tz: ZoneInfo) -> str:
    """``today``, ``yesterday``, ``3 days ago``: counted in local calendar days."""
    if when is None:
        return "never"
    days = (now.astimezone(tz).date() - when.astimezone(tz).date()).days
    if days < 0:
        return f"in {-days} day{'s' if days != -1 else ''}"
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 60:
        return f"{days} days ago"
    return f"{days // 30} months ago"
