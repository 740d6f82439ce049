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
    re.IGNORECASE,
)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(
    text: str,
    now: dt.datetime,
    tz: ZoneInfo,
    prefer: Literal["past", "future"],
    example: str,
    *,
    field: str | None = None,
) -> dt.datetime:
    """Parses ``yesterday 3pm``, ``next Tuesday 10am``, ``in 3 days``, ``2026-11-20 14:00``.

    Returns UTC. ``example`` is shown in the error when the text is not a date; ``field``
    is the key the text came from (a form shows the error beside it).
    """
    text = text.strip()
    base = now.astimezone(tz).replace(tzinfo=None)
    quick = quick_when(text, base, tz)
    if quick is not None:
        return quick
    parsed: dt.datetime | None = None
    if text and len(text) <= 60:
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
    if parsed is None:
        raise UserError(
            f"I couldn't read “{text[:60]}” as a date. Try e.g. `yesterday 3pm`, `next Tuesday 10am`, "
            f"`2026-11-20 14:00`: `{example}`",
            field=field,
        )
    if parsed.tzinfo is None:  # pragma: no cover - dateparser returns aware values with the settings above
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(dt.UTC)


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
    delta = dt.timedelta(**{unit: amount})
    if delta <= dt.timedelta(0) or delta > dt.timedelta(days=366):
        raise UserError(f"Pick a length between a minute and a year: `{example}`", field=field)
    return delta


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
