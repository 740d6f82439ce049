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
    parsed = None
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
