"""Calendar files: one meeting as an .ics attachment, and a member's subscription feed.

Pure: every instant comes in as an aware UTC datetime and ``now`` (for DTSTAMP) is a
parameter; nothing here reads the clock. Events are written in the member's time zone
(``DTSTART;TZID=...``) with the matching VTIMEZONE, so a calendar shows the meeting at the
local time the member agreed, and moving it in the calendar keeps that zone.

A meeting's UID is ``meeting-<id>@<domain>`` in both the attachment and the feed, so a
calendar that sees the meeting again (moved, re-sent) updates the event it has instead of
adding a second one; ``sequence`` must grow with each change. Alarms are written as exact
durations before the start (``-PT25H``, never ``-P1DT1H``): a day is not always 24 hours
across a daylight-saving change, and an exact duration lands on the prep time we computed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone
from icalendar.prop import vDuration

from core.drafts import TWO_ASKS

MEETING_LENGTH = dt.timedelta(minutes=20)
FOLLOW_UP_LENGTH = dt.timedelta(minutes=15)
FEED_REFRESH = dt.timedelta(hours=1)
PRODID = "-//Rapport//Networking coach//EN"


@dataclass(frozen=True, slots=True)
class FeedMeeting:
    """A scheduled meeting in the feed. ``prep_at_utc``: when to prepare (an alarm), if known."""

    meeting_id: int
    contact_name: str
    start_utc: dt.datetime
    where: str | None = None
    prep_at_utc: dt.datetime | None = None
    sequence: int = 0


@dataclass(frozen=True, slots=True)
class FeedFollowUp:
    """A follow-up the member promised: ``due_utc`` is the promised time, exactly."""

    outreach_id: int
    contact_name: str
    due_utc: dt.datetime
    via: str | None = None


def meeting_uid(meeting_id: int, domain: str) -> str:
    """The stable UID of a meeting's event, the same in the attachment and the feed."""
    return f"meeting-{meeting_id}@{domain}"


def follow_up_uid(outreach_id: int, domain: str) -> str:
    return f"follow-up-{outreach_id}@{domain}"


def meeting_ics(
    meeting_id: int,
    contact_name: str,
    start_utc: dt.datetime,
    tz: ZoneInfo,
    where: str | None,
    prep_at_utc: dt.datetime | None,
    sequence: int,
    domain: str,
    *,
    now: dt.datetime,
) -> bytes:
    """An .ics file (METHOD:PUBLISH) with one 20-minute event for a scheduled meeting.

    The description says to keep it to twenty minutes and lists the two asks; an alarm at
    ``prep_at_utc`` (the prep nudge's time, normally 09:00 local the day before) reminds the
    member to prepare. Send it again with the same ``meeting_id`` and a higher ``sequence``
    when the meeting moves. Raises ValueError for a naive datetime or a prep time after the
    start.
    """
    _aware(start_utc=start_utc, prep_at_utc=prep_at_utc, now=now)
    calendar = _calendar()
    calendar.add("method", "PUBLISH")
    event = _meeting_event(
        meeting_id, contact_name, start_utc, tz, where, prep_at_utc, sequence, domain, now
    )
    _add_timezone(calendar, tz, [start_utc])
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def feed_ics(
    name: str,
    tz: ZoneInfo,
    meetings: Sequence[FeedMeeting],
    follow_ups: Sequence[FeedFollowUp],
    *,
    now: dt.datetime,
    domain: str,
) -> bytes:
    """A calendar to subscribe to: the member's scheduled meetings (20 minutes, with the prep
    alarm) and promised follow-ups (15-minute events at the promised time), in ``tz``.

    Named "Rapport: <name>'s networking" (X-WR-CALNAME and NAME) and asks to be refreshed
    hourly (REFRESH-INTERVAL, X-PUBLISHED-TTL). Events are ordered by start. Raises
    ValueError for a naive datetime.
    """
    _aware(now=now)
    for m in meetings:
        _aware(start_utc=m.start_utc, prep_at_utc=m.prep_at_utc)
    for f in follow_ups:
        _aware(due_utc=f.due_utc)
    calendar = _calendar()
    calendar.add("method", "PUBLISH")
    title = f"Rapport: {name}'s networking" if name else "Rapport: networking"
    calendar.add("name", title)
    calendar.add("x-wr-calname", title)
    calendar.add("x-wr-caldesc", "Your informational interviews and the follow-ups you promised.")
    calendar.add("x-wr-timezone", tz.key)
    calendar.add("refresh-interval", vDuration(FEED_REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(FEED_REFRESH))

    events: list[tuple[dt.datetime, str, Event]] = []
    for m in meetings:
        event = _meeting_event(
            m.meeting_id,
            m.contact_name,
            m.start_utc,
            tz,
            m.where,
            m.prep_at_utc,
            m.sequence,
            domain,
            now,
        )
        events.append((m.start_utc, str(event["uid"]), event))
    for f in follow_ups:
        event = Event()
        event.add("uid", follow_up_uid(f.outreach_id, domain))
        event.add("dtstamp", now.astimezone(dt.UTC))
        event.add("dtstart", f.due_utc.astimezone(tz))
        event.add("dtend", (f.due_utc + FOLLOW_UP_LENGTH).astimezone(tz))
        event.add("summary", f"Follow up with {f.contact_name}")
        how = f" ({f.via})" if f.via else ""
        event.add(
            "description",
            f"You said you'd follow up with {f.contact_name} at this time{how}: doing it "
            "exactly when you said shows you keep your word. A short, friendly note: who "
            "you are, what you'd like to learn, and a request for twenty minutes.",
        )
        event.add("transp", "TRANSPARENT")  # a reminder, not a block of busy time
        events.append((f.due_utc, str(event["uid"]), event))

    _add_timezone(calendar, tz, [when for when, _, _ in events] or [now])
    for _, _, event in sorted(events, key=lambda e: (e[0], e[1])):
        calendar.add_component(event)
    return bytes(calendar.to_ical())


# --- pieces ----------------------------------------------------------------------------------


class _ExactDuration(vDuration):
    """A duration written in hours, minutes and seconds only: "-PT25H", never "-P1DT1H",
    whose day part a calendar may stretch or shrink across a daylight-saving change."""

    def to_ical(self) -> bytes:
        seconds = int(self.td.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        minutes, seconds = divmod(rest, 60)
        text = f"{sign}PT{hours}H" if hours or not (minutes or seconds) else f"{sign}PT"
        if minutes:
            text += f"{minutes}M"
        if seconds:
            text += f"{seconds}S"
        return text.encode()


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    return calendar


def _meeting_event(
    meeting_id: int,
    contact_name: str,
    start_utc: dt.datetime,
    tz: ZoneInfo,
    where: str | None,
    prep_at_utc: dt.datetime | None,
    sequence: int,
    domain: str,
    now: dt.datetime,
) -> Event:
    if prep_at_utc is not None and prep_at_utc > start_utc:
        raise ValueError("the prep time comes after the meeting starts")
    event = Event()
    event.add("uid", meeting_uid(meeting_id, domain))
    event.add("sequence", sequence)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("dtstart", start_utc.astimezone(tz))
    event.add("dtend", (start_utc + MEETING_LENGTH).astimezone(tz))
    event.add("summary", f"Informational interview with {contact_name}")
    if where:
        event.add("location", where)
    event.add("description", _meeting_description(contact_name))
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    if prep_at_utc is not None:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add(
            "description",
            f"Prepare for your chat with {contact_name}: your questions, the two asks, "
            "a notebook and pen.",
        )
        alarm.add("trigger", _ExactDuration(prep_at_utc - start_utc))
        event.add_component(alarm)
    return event


def _meeting_description(contact_name: str) -> str:
    asks = "\n".join(f"{i}. {ask}" for i, ask in enumerate(TWO_ASKS, 1))
    return (
        f"Keep it to twenty minutes: you asked {contact_name} for twenty, so offer to "
        "stop when they're up.\n\n"
        "Before you go, the two asks:\n"
        f"{asks}\n\n"
        "Be there ten to fifteen minutes early with a notebook and pen, never ask for a "
        "job, and send your thank-you tonight."
    )


def _add_timezone(calendar: Calendar, tz: ZoneInfo, instants: Sequence[dt.datetime]) -> None:
    """Adds the VTIMEZONE for ``tz`` covering ``instants`` (with a margin for alarms and
    edits); none for UTC, whose times are written with a Z."""
    if tz.key in ("UTC", "Etc/UTC", "Etc/Zulu", "Zulu", "Universal", "Etc/Universal"):
        return
    first = min(instants).astimezone(tz).date() - dt.timedelta(days=31)
    last = max(instants).astimezone(tz).date() + dt.timedelta(days=366)
    timezone = Timezone.from_tzinfo(tz, tzid=tz.key, first_date=first, last_date=last)
    _fix_onsets(timezone, tz)
    calendar.add_component(timezone)


def _fix_onsets(timezone: Timezone, tz: ZoneInfo) -> None:
    """Writes each change's DTSTART as the local time *before* the change, as RFC 5545 asks.

    icalendar writes a spring-forward change at the first local time after it (03:00 for a
    change at 02:00), which a strict reader, going by TZOFFSETFROM, puts an hour late.
    """
    one_second = dt.timedelta(seconds=1)
    for change in timezone.subcomponents:
        before: dt.timedelta = getattr(change["TZOFFSETFROM"], "td")  # noqa: B009 - icalendar's vUTCOffset
        after: dt.timedelta = getattr(change["TZOFFSETTO"], "td")  # noqa: B009
        if before == after:
            continue
        written = change.decoded("DTSTART")
        for guess in (written - before, written - after):
            instant = guess.replace(tzinfo=dt.UTC)
            if (
                instant.astimezone(tz).utcoffset() == after
                and (instant - one_second).astimezone(tz).utcoffset() == before
            ):
                del change["DTSTART"]
                change.add("dtstart", (instant + before).replace(tzinfo=None))
                break


def _aware(**values: dt.datetime | None) -> None:
    for label, value in values.items():
        if value is not None and value.tzinfo is None:
            raise ValueError(f"{label} must be timezone-aware (UTC)")
