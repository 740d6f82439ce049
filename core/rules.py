"""Timing rules: pure functions from an event, the member's settings and ``now`` to due times.

Every rule computes in the member's IANA time zone and returns UTC. The seeds behind each
rule are cited in SPEC.md's timing table (000 tip 4, 003 and so on).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC


@dataclass(frozen=True)
class MemberTime:
    """What the rules need to know about a member."""

    tz: ZoneInfo
    quiet_start: dt.time = dt.time(21, 0)
    quiet_end: dt.time = dt.time(8, 0)
    stay_in_touch_days: int = 90


def local(when: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return when.astimezone(tz)


def at_local(day: dt.date, clock_time: dt.time, tz: ZoneInfo) -> dt.datetime:
    """A wall-clock time on a local day, as UTC. Times in a DST gap move forward by the gap."""
    naive = dt.datetime.combine(day, clock_time)
    aware = naive.replace(tzinfo=tz)
    # Round-trip through UTC: a nonexistent wall time (spring forward) resolves to a real one.
    return aware.astimezone(UTC)


def in_quiet_hours(when: dt.datetime, who: MemberTime) -> bool:
    t = local(when, who.tz).time()
    start, end = who.quiet_start, who.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end


def defer_quiet(when: dt.datetime, who: MemberTime) -> dt.datetime:
    """Moves a due time that falls in quiet hours to the end of quiet hours."""
    if not in_quiet_hours(when, who):
        return when
    loc = local(when, who.tz)
    day = loc.date()
    if who.quiet_start > who.quiet_end and loc.time() >= who.quiet_start:
        day = day + dt.timedelta(days=1)
    return at_local(day, who.quiet_end, who.tz)


def not_before(when: dt.datetime, now: dt.datetime) -> dt.datetime:
    return max(when, now)


# --- the rules -------------------------------------------------------------------------

THANK_YOU_EVENING = dt.time(19, 0)
MORNING = dt.time(9, 0)


def thank_you(meeting_at: dt.datetime, now: dt.datetime, who: MemberTime) -> tuple[dt.datetime, dt.datetime | None]:
    """Thank within 24 hours, that night (000 tip 4, 003).

    Due 19:00 on the meeting day, or 2 h after the meeting if that is later; logged
    late, now. Returns ``(due, last_reminder)``; the last reminder is at meeting + 22 h,
    or None when that has passed or would not come after the first.
    """
    day = local(meeting_at, who.tz).date()
    due = max(at_local(day, THANK_YOU_EVENING, who.tz), meeting_at + dt.timedelta(hours=2))
    due = not_before(due, now)
    last = meeting_at + dt.timedelta(hours=22)
    if last <= now or last <= due:
        return due, None
    return due, last


def update_referrer(meeting_at: dt.datetime, now: dt.datetime, who: MemberTime) -> dt.datetime:
    """Tell the referrer the morning after you met the person they recommended (000 tip 5)."""
    day = local(meeting_at, who.tz).date() + dt.timedelta(days=1)
    return not_before(at_local(day, MORNING, who.tz), now)


def check_back(meeting_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    """If they were undecided about referrals, check back in a few days (003): + 3 days."""
    return not_before(meeting_at + dt.timedelta(days=3), now)


def second_thank_you(meeting_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    """About a month later, a second, longer thank-you (002): + 30 days."""
    return not_before(meeting_at + dt.timedelta(days=30), now)


GOOD_FOLLOW_UP_DAYS = {1, 2, 3}  # Tuesday, Wednesday, Thursday (003)


def follow_up(outreach_at: dt.datetime, now: dt.datetime, who: MemberTime, promised: dt.datetime | None = None) -> dt.datetime:
    """Follow up exactly when you said you would; else + 5 days on the next Tue-Thu (003)."""
    if promised is not None:
        return not_before(promised, now)
    loc = local(outreach_at, who.tz) + dt.timedelta(days=5)
    day = loc.date()
    while day.weekday() not in GOOD_FOLLOW_UP_DAYS:
        day += dt.timedelta(days=1)
    return not_before(at_local(day, loc.time().replace(tzinfo=None), who.tz), now)


def prep(start: dt.datetime, now: dt.datetime, who: MemberTime) -> dt.datetime | None:
    """Prepare the day before at 09:00, or 2 h before if scheduled sooner (003).

    None when the meeting has already started.
    """
    if start <= now:
        return None
    day_before = at_local(local(start, who.tz).date() - dt.timedelta(days=1), MORNING, who.tz)
    if day_before >= now:
        return day_before
    two_hours = start - dt.timedelta(hours=2)
    return not_before(two_hours, now)


def time_check(start: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """Keep to twenty minutes (003): a nudge at start + 18 min; None if that has passed."""
    due = start + dt.timedelta(minutes=18)
    return due if due > now else None


def stay_in_touch(last_touch: dt.datetime, now: dt.datetime, who: MemberTime) -> dt.datetime:
    """Check in occasionally (000 tip 5): last touch + the member's cadence."""
    return not_before(last_touch + dt.timedelta(days=who.stay_in_touch_days), now)


INTRO_STALE_AFTER = dt.timedelta(days=7)


def intro_stale(created_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    """An open request with no offer after a week: time to narrow the ask."""
    return not_before(created_at + INTRO_STALE_AFTER, now)


def next_digest(now: dt.datetime, who: MemberTime) -> dt.datetime:
    """The next Monday 09:00 local strictly after ``now``."""
    loc = local(now, who.tz)
    day = loc.date() + dt.timedelta(days=(7 - loc.weekday()) % 7)
    due = at_local(day, MORNING, who.tz)
    if due <= now:
        due = at_local(day + dt.timedelta(days=7), MORNING, who.tz)
    return due


# Kinds that a member can't usefully get later than asked: not held back by quiet hours.
NOT_DEFERRED = {"time-check"}


def deliverable_at(kind: str, due: dt.datetime, who: MemberTime, now: dt.datetime | None = None) -> dt.datetime:
    """When a nudge may be sent: its due time, deferred out of quiet hours for most kinds.

    A nudge due the moment it is planned (``due <= now``: the member just did something,
    so they are at their screen) is not held back: quiet hours are for people who are away.
    """
    if kind in NOT_DEFERRED or (now is not None and due <= now):
        return due
    return defer_quiet(due, who)


def parse_clock(text: str) -> dt.time:
    """``21:00`` or ``9pm`` -> time; raises ValueError."""
    text = text.strip().lower().replace(" ", "")
    suffix = None
    if text.endswith(("am", "pm")):
        suffix, text = text[-2:], text[:-2]
    hour_s, _, minute_s = text.partition(":")
    hour, minute = int(hour_s), int(minute_s or 0)
    if suffix:
        if not 1 <= hour <= 12:
            raise ValueError(text)
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    return dt.time(hour, minute)


# --- a member's time ---------------------------------------------------------------------


class MemberSettings(Protocol):
    """What the rules read of a member (a ``core.models.Member`` or a plain row of one)."""

    @property
    def tz(self) -> str | None: ...
    @property
    def platform_tz(self) -> str | None: ...
    @property
    def quiet_start(self) -> str | None: ...
    @property
    def quiet_end(self) -> str | None: ...
    @property
    def stay_in_touch_days(self) -> int | None: ...


def member_zone(member: MemberSettings, default_tz: str) -> ZoneInfo:
    """The member's zone: their own setting, else the platform's, else the community default."""
    for name in (member.tz, member.platform_tz, default_tz):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def member_time(member: MemberSettings, default_tz: str) -> MemberTime:
    """Everything the rules need to know about a member's time."""
    return MemberTime(
        tz=member_zone(member, default_tz),
        quiet_start=parse_clock(member.quiet_start or "21:00"),
        quiet_end=parse_clock(member.quiet_end or "08:00"),
        stay_in_touch_days=member.stay_in_touch_days or 90,
    )
