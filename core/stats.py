"""The organizers' numbers: one query layer for ``admin stats`` and the web dashboard.

Every function takes an ``AsyncSession``, a community (:class:`CommunityKey`: platform and
workspace/server id), a :class:`Period` and ``now``, and returns frozen dataclasses of
aggregates. Nothing here returns a member's notes, contacts, drafts or names: counts,
durations and the words of helpers' fields only.

The work happens in SQL aggregates that run on SQLite and PostgreSQL alike; Python only
touches grouped results (a handful of rows). The one exception is the word matching of
demand against supply (:func:`demand_supply`), which reads the *distinct texts* of open
requests and of helpers' fields, both bounded (at most three open requests per seeker; one
directory entry per member), never meetings, contacts or nudges.

Definitions (also in docs/organizers.md). A period is ``start <= t <= end`` in UTC;
``start`` None means since the community began.

* **Funnel**, following each intro request made in the period (open requests to the intro
  channel and direct asks of one member alike), as things stand at ``now``:

  1. *Requests*: intro requests created in the period.
  2. *With an offer*: of those, requests that got a first offer (someone pressed "I'd be
     glad to chat" or sent "I know someone") or whose direct ask was accepted.
  3. *Met*: of those, requests whose seeker logged a held meeting, at or after the request,
     with a person the request brought them: a contact an offer created or linked, or the
     member who accepted the direct ask.
  4. *Thanked within 24 h*: of those, requests where such a meeting was thanked within 24
     hours of its start (``thanked: yes`` when logged, or the thank-you nudge marked done).
  5. *Landed*: of those, requests whose seeker has since said where they landed
     (``landed``), after making the request.

  Each step is a subset of the one before, so a drop between two bars is where the loop
  breaks. ``landed_seekers`` counts seekers who asked in the period and landed afterwards
  by any path, for those who skipped a step.
* **Time to first offer**: for requests created in the period that got one, the time from
  the request to the first offer (or acceptance), in buckets, with the median.
* **Demand and supply by field**: open requests to the intro channel made in the period
  (still open now), matched by words to the fields helpers list in the directory (a request
  matches a field when it contains every word of the field); beside each field the helpers
  listing it and how many of them have capacity left this month. Requests that match no
  helper's field are their own row: that is whom to recruit.
* **Active members**: a member is active in a week (or the period) when they added a
  contact, logged an outreach, logged a meeting (counted when logged), asked for an
  introduction, offered one, or answered a direct ask. Reading the bot or receiving nudges
  doesn't count. Weeks start on Monday, 00:00 UTC.
* **Failed nudges**: nudges that failed for good, by when they failed, grouped by the
  reason :func:`failure_reason` reads from the platform's error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.models import (
    Community,
    ContactRow,
    HelperOffer,
    IntroOffer,
    IntroRequest,
    Meeting,
    Member,
    Nudge,
    Outreach,
)

HOUR = 3600
DAY = 24 * HOUR
WEEK = 7 * DAY
THANK_WINDOW = DAY  # "thank them within 24 hours"
CAPACITY_WINDOW = dt.timedelta(days=30)  # a helper's per-month capacity is a rolling 30 days

# --- periods -----------------------------------------------------------------------------

PeriodKey = Literal["30d", "90d", "year", "all"]
PERIOD_KEYS: tuple[PeriodKey, ...] = ("30d", "90d", "year", "all")
PERIOD_LABELS: dict[PeriodKey, str] = {
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "year": "This year",
    "all": "All time",
}
DEFAULT_PERIOD: PeriodKey = "30d"


@dataclass(frozen=True)
class Period:
    """A span of time: ``start <= t <= end`` (UTC). ``start`` None: since the beginning."""

    start: dt.datetime | None
    end: dt.datetime
    label: str
    key: str = ""

    @classmethod
    def last_days(cls, days: int, now: dt.datetime, label: str | None = None, key: str = "") -> Period:
        return cls(now - dt.timedelta(days=days), now, label or f"Last {days} days", key)

    @classmethod
    def this_year(cls, now: dt.datetime) -> Period:
        """From 1 January, 00:00 UTC, of ``now``'s year."""
        start = dt.datetime(now.year, 1, 1, tzinfo=dt.UTC)
        return cls(start, now, "This year", "year")

    @classmethod
    def all_time(cls, now: dt.datetime) -> Period:
        return cls(None, now, "All time", "all")

    def contains(self, column: Any) -> ColumnElement[bool]:
        """The SQL condition ``column`` lies in this period."""
        upper = column <= self.end
        return upper if self.start is None else and_(column >= self.start, upper)


def period_for(key: str | None, now: dt.datetime) -> Period:
    """The period a picker key names (``30d``, ``90d``, ``year``, ``all``); anything else is
    the default, last 30 days: a bad query string never fails a page."""
    if key == "90d":
        return Period.last_days(90, now, key="90d")
    if key == "year":
        return Period.this_year(now)
    if key == "all":
        return Period.all_time(now)
    return Period.last_days(30, now, key="30d")


@dataclass(frozen=True)
class CommunityKey:
    """A community as the platforms name it: a Slack workspace, a Discord server, the console."""

    platform: str
    workspace_id: str


# --- dialect helpers ---------------------------------------------------------------------


def _epoch(column: Any, dialect: str) -> ColumnElement[Any]:
    """Seconds since 1970 of a UTC timestamp column, in SQL (whole seconds on SQLite)."""
    if dialect == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return extract("epoch", column)


def _seconds_between(earlier: Any, later: Any, dialect: str) -> ColumnElement[Any]:
    return _epoch(later, dialect) - _epoch(earlier, dialect)


def _floor_div(value: ColumnElement[Any], by: int, dialect: str) -> ColumnElement[Any]:
    """``floor(value / by)``."""
    if dialect == "sqlite":
        return value // by  # integers: SQLite's integer division (a floor for values >= 0)
    return cast(func.floor(value / by), Integer)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _members(community: CommunityKey) -> Any:
    """Ids of the community's members, as a subquery for ``IN``."""
    return select(Member.id).where(
        Member.platform == community.platform, Member.workspace_id == community.workspace_id
    )


def _community_id(community: CommunityKey) -> Any:
    return (
        select(Community.id)
        .where(Community.platform == community.platform, Community.workspace_id == community.workspace_id)
        .scalar_subquery()
    )


# --- the funnel --------------------------------------------------------------------------


@dataclass(frozen=True)
class Funnel:
    """The intro funnel for requests made in a period (definitions in the module docstring)."""

    requests: int
    offered: int
    met: int
    thanked: int
    landed: int
    landed_seekers: int

    def steps(self) -> tuple[tuple[str, int], ...]:
        return (
            ("Requests", self.requests),
            ("With an offer", self.offered),
            ("Met", self.met),
            ("Thanked within 24 h", self.thanked),
            ("Landed", self.landed),
        )


def _thanked_in_time(at: Any, thanked_at: Any, dialect: str) -> ColumnElement[bool]:
    """The meeting at ``at`` was thanked within 24 hours of its start."""
    if dialect == "postgresql":
        # Interval arithmetic on timestamptz: cheaper than extracting epochs as numerics.
        return and_(thanked_at.is_not(None), thanked_at <= at + literal_column(f"interval '{THANK_WINDOW} seconds'"))
    return and_(thanked_at.is_not(None), _seconds_between(at, thanked_at, dialect) <= THANK_WINDOW)


async def funnel(session: AsyncSession, community: CommunityKey, period: Period, now: dt.datetime) -> Funnel:
    """The intro funnel: requests -> with an offer -> met -> thanked within 24 h -> landed.

    Set-based, so it stays fast on a big community: the requests in scope; the people each
    one brought (offers' contacts, and the seeker's contact linked to whoever accepted a
    direct ask); the seeker's held meetings with those people at or after the request, one
    row per request with whether any was thanked in time; then one pass of counts."""
    dialect = _dialect(session)
    requests = (
        select(
            IntroRequest.id,
            IntroRequest.member_id,
            IntroRequest.created_at,
            IntroRequest.first_offer_at,
            IntroRequest.status,
            IntroRequest.target_member_id,
        )
        .where(IntroRequest.community_id == _community_id(community), period.contains(IntroRequest.created_at))
        .cte("funnel_requests")
    )
    target = aliased(Member)
    brought = union_all(
        select(IntroOffer.request_id.label("request_id"), IntroOffer.contact_id.label("contact_id"))
        .join(requests, requests.c.id == IntroOffer.request_id)
        .where(IntroOffer.contact_id.is_not(None)),
        select(requests.c.id, ContactRow.id)
        .join(target, target.id == requests.c.target_member_id)
        .join(
            ContactRow,
            and_(ContactRow.member_id == requests.c.member_id, ContactRow.linked_user_id == target.user_id),
        )
        .where(requests.c.status == "accepted"),
    ).subquery("funnel_brought")
    thanked_flag = case((_thanked_in_time(Meeting.at, Meeting.thanked_at, dialect), 1), else_=0)
    met = (
        select(brought.c.request_id.label("request_id"), func.max(thanked_flag).label("thanked"))
        .join(requests, requests.c.id == brought.c.request_id)
        .join(
            Meeting,
            and_(
                Meeting.contact_id == brought.c.contact_id,
                Meeting.member_id == requests.c.member_id,
                Meeting.status == "held",
                Meeting.at >= requests.c.created_at,
            ),
        )
        .group_by(brought.c.request_id)
        .subquery("funnel_met")
    )
    seeker = aliased(Member)
    offered = requests.c.first_offer_at.is_not(None)
    did_meet = and_(offered, met.c.request_id.is_not(None))
    did_thank = and_(did_meet, met.c.thanked == 1)
    landed_after = and_(seeker.landed_at.is_not(None), seeker.landed_at >= requests.c.created_at)

    def count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = (
        await session.execute(
            select(
                func.count(requests.c.id),
                count(offered),
                count(did_meet),
                count(did_thank),
                count(and_(did_thank, landed_after)),
                func.count(func.distinct(case((landed_after, requests.c.member_id), else_=None))),
            )
            .select_from(requests)
            .join(seeker, seeker.id == requests.c.member_id)
            .outerjoin(met, met.c.request_id == requests.c.id)
        )
    ).one()
    return Funnel(*(int(v or 0) for v in row))


# --- time to first offer ------------------------------------------------------------------

OFFER_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("Under 1 hour", HOUR),
    ("1 to 6 hours", 6 * HOUR),
    ("6 to 24 hours", DAY),
    ("1 to 3 days", 3 * DAY),
    ("3 to 7 days", 7 * DAY),
    ("Over a week", None),
)


@dataclass(frozen=True)
class OfferTimes:
    """Time to first offer for requests made in the period that got one.

    ``buckets`` pairs each label of :data:`OFFER_BUCKETS` with its count (every bucket, zeros
    included); ``waiting`` counts requests with no offer yet; ``median_hours`` is None when
    no request got an offer."""

    buckets: tuple[tuple[str, int], ...]
    answered: int
    waiting: int
    median_hours: float | None


async def offer_times(session: AsyncSession, community: CommunityKey, period: Period, now: dt.datetime) -> OfferTimes:
    """The distribution of time to first offer (buckets) and its median."""
    dialect = _dialect(session)
    waited = _seconds_between(IntroRequest.created_at, IntroRequest.first_offer_at, dialect)
    in_scope = (
        IntroRequest.community_id == _community_id(community),
        period.contains(IntroRequest.created_at),
    )
    whens = [(waited < limit, index) for index, (_, limit) in enumerate(OFFER_BUCKETS) if limit is not None]
    bucket = case(*whens, else_=len(OFFER_BUCKETS) - 1).label("bucket")
    answered_rows = (
        select(bucket).where(*in_scope, IntroRequest.first_offer_at.is_not(None)).subquery()
    )
    counts = dict(
        (int(b), int(n))
        for b, n in await session.execute(
            select(answered_rows.c.bucket, func.count()).group_by(answered_rows.c.bucket)
        )
    )
    total = await session.scalar(select(func.count(IntroRequest.id)).where(*in_scope)) or 0
    answered = sum(counts.values())
    median: float | None = None
    if answered:
        middle = list(
            await session.scalars(
                select(waited.label("waited"))
                .where(*in_scope, IntroRequest.first_offer_at.is_not(None))
                .order_by(waited)
                .offset((answered - 1) // 2)
                .limit(2 if answered % 2 == 0 else 1)
            )
        )
        median = sum(float(v) for v in middle) / len(middle) / HOUR
    return OfferTimes(
        buckets=tuple((label, counts.get(i, 0)) for i, (label, _) in enumerate(OFFER_BUCKETS)),
        answered=answered,
        waiting=int(total) - answered,
        median_hours=median,
    )


# --- demand and supply by field -------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9+#]+")
_FIELD_SPLIT = re.compile(r"[,;/|\n]+|\s+&\s+|\s+and\s+")
# Words that say nothing about a field; never required for a match, never a "recruit" hint.
STOPWORDS = frozenset(
    """a an and any as at be by for from in into is it of on or someone somebody the to with who
    what which would like looking look seeking seek want wants need needs meet meeting talk chat
    intro introduction introductions person company companies role roles job jobs about know
    anyone help advice career careers industry field get learn more some my me our your their
    this that there can could please thanks thank
    """.split()  # noqa: SIM905 - a word list reads better as words
)


def field_words(text: str) -> frozenset[str]:
    """The words of a field or request that count for matching: lower case, letters/digits
    (and + #, for C++ and C#), two characters or more, no stop words."""
    return frozenset(w for w in _WORD.findall(text.casefold()) if len(w) >= 2 and w not in STOPWORDS)


def split_fields(text: str) -> list[str]:
    """A helper's free-text fields as separate fields: ``"UX, product design / research"``
    -> ``["ux", "product design", "research"]`` (lower case, spaces collapsed, duplicates
    dropped, in order)."""
    seen: dict[str, None] = {}
    for part in _FIELD_SPLIT.split(text.casefold()):
        name = " ".join(part.split()).strip(" .-")
        if name and field_words(name):
            seen.setdefault(name, None)
    return list(seen)


@dataclass(frozen=True)
class FieldRow:
    """One field: open requests that match it (``waiting``: of those, without an offer yet),
    helpers listing it, and how many of them have capacity left this month."""

    field: str
    requests: int
    waiting: int
    helpers: int
    with_capacity: int


@dataclass(frozen=True)
class DemandSupply:
    """Fields by demand (most requests first, then fewest helpers with capacity);
    ``unmatched`` is the row of requests no helper's field matches, and
    ``unmatched_words`` the most common words in them, with how many requests use each."""

    rows: tuple[FieldRow, ...]
    unmatched: FieldRow
    unmatched_words: tuple[tuple[str, int], ...]
    open_requests: int
    helpers: int


UNMATCHED_LABEL = "No helper's field matches"


async def demand_supply(
    session: AsyncSession, community: CommunityKey, period: Period, now: dt.datetime, *, limit: int = 25
) -> DemandSupply:
    """Open requests per field beside helpers with capacity left (see the module docstring)."""
    members = _members(community)
    asks = (
        select(IntroRequest.target_member_id.label("helper_id"), func.count().label("asks"))
        .where(IntroRequest.target_member_id.is_not(None), IntroRequest.created_at > now - CAPACITY_WINDOW)
        .group_by(IntroRequest.target_member_id)
        .subquery()
    )
    has_capacity = HelperOffer.per_month - func.coalesce(asks.c.asks, 0) > 0
    helper_rows = await session.execute(
        select(
            HelperOffer.fields,
            func.count(),
            func.coalesce(func.sum(case((has_capacity, 1), else_=0)), 0),
        )
        .outerjoin(asks, asks.c.helper_id == HelperOffer.member_id)
        .where(HelperOffer.active.is_(True), HelperOffer.member_id.in_(members))
        .group_by(HelperOffer.fields)
    )
    helpers_by_field: Counter[str] = Counter()
    capacity_by_field: Counter[str] = Counter()
    helpers_total = 0
    for text, count, with_capacity in helper_rows:
        helpers_total += int(count)
        for name in split_fields(text or ""):
            helpers_by_field[name] += int(count)
            capacity_by_field[name] += int(with_capacity)

    request_rows = await session.execute(
        select(
            func.lower(IntroRequest.what),
            func.count(),
            func.coalesce(func.sum(case((IntroRequest.first_offer_at.is_(None), 1), else_=0)), 0),
        )
        .where(
            IntroRequest.community_id == _community_id(community),
            IntroRequest.target_member_id.is_(None),
            IntroRequest.status == "open",
            period.contains(IntroRequest.created_at),
        )
        .group_by(func.lower(IntroRequest.what))
    )
    # An index from each field's rarest-looking word (its longest) to the fields, so each
    # request text is checked only against fields that could match it.
    required = {name: field_words(name) for name in helpers_by_field}
    by_word: dict[str, list[str]] = {}
    for name, words in required.items():
        by_word.setdefault(max(words, key=lambda w: (len(w), w)), []).append(name)
    demand: Counter[str] = Counter()
    waiting: Counter[str] = Counter()
    unmatched = unmatched_waiting = total = 0
    unmatched_words: Counter[str] = Counter()
    for text, count, no_offer in request_rows:
        count, no_offer = int(count), int(no_offer)
        total += count
        words = field_words(text or "")
        hits = {name for w in words for name in by_word.get(w, ()) if required[name] <= words}
        for name in hits:
            demand[name] += count
            waiting[name] += no_offer
        if not hits:
            unmatched += count
            unmatched_waiting += no_offer
            for w in words:
                unmatched_words[w] += count
    rows = [
        FieldRow(name, demand[name], waiting[name], helpers_by_field[name], capacity_by_field[name])
        for name in helpers_by_field
    ]
    rows.sort(key=lambda r: (-r.requests, r.with_capacity, r.field))
    return DemandSupply(
        rows=tuple(rows[:limit]),
        unmatched=FieldRow(UNMATCHED_LABEL, unmatched, unmatched_waiting, 0, 0),
        unmatched_words=tuple(sorted(unmatched_words.items(), key=lambda kv: (-kv[1], kv[0]))[:8]),
        open_requests=total,
        helpers=helpers_total,
    )


# --- active members -----------------------------------------------------------------------


def _activity(community: CommunityKey, period: Period) -> Any:
    """(member_id, at) for every dated thing a member did in the period (see the docstring)."""
    members = _members(community)
    cid = _community_id(community)
    parts = [
        select(ContactRow.member_id.label("member_id"), ContactRow.created_at.label("at")).where(
            ContactRow.member_id.in_(members), period.contains(ContactRow.created_at)
        ),
        select(Outreach.member_id, Outreach.at).where(Outreach.member_id.in_(members), period.contains(Outreach.at)),
        select(Meeting.member_id, Meeting.created_at).where(
            Meeting.member_id.in_(members), period.contains(Meeting.created_at)
        ),
        select(IntroRequest.member_id, IntroRequest.created_at).where(
            IntroRequest.community_id == cid, period.contains(IntroRequest.created_at)
        ),
        select(IntroRequest.target_member_id, IntroRequest.answered_at).where(
            IntroRequest.community_id == cid,
            IntroRequest.target_member_id.is_not(None),
            period.contains(IntroRequest.answered_at),
        ),
        select(IntroOffer.helper_member_id, IntroOffer.created_at).where(
            IntroOffer.helper_member_id.in_(members), period.contains(IntroOffer.created_at)
        ),
    ]
    return union_all(*parts).subquery()


async def active_members(session: AsyncSession, community: CommunityKey, period: Period, now: dt.datetime) -> int:
    """How many members were active in the period."""
    activity = _activity(community, period)
    members = select(activity.c.member_id).distinct().subquery()
    return int(await session.scalar(select(func.count()).select_from(members)) or 0)


@dataclass(frozen=True)
class WeeklyActive:
    """Active members per week: ``weeks`` pairs each week's Monday (UTC) with its count, every
    week of the period in order, zeros included. The first and last weeks may be partial.
    ``total`` is how many members were active in the period as a whole."""

    weeks: tuple[tuple[dt.date, int], ...]
    total: int = 0


def _monday(moment: dt.datetime) -> dt.datetime:
    day = moment.astimezone(dt.UTC).date()
    monday = day - dt.timedelta(days=day.weekday())
    return dt.datetime(monday.year, monday.month, monday.day, tzinfo=dt.UTC)


def _week_index(column: Any, anchor: dt.datetime, dialect: str) -> ColumnElement[Any]:
    """Whole weeks from ``anchor`` (a Monday, 00:00 UTC) to ``column``, in SQL."""
    if dialect == "postgresql":
        # Dates subtract to whole days (an integer); integer division by 7 is a floor here.
        days = cast(func.timezone("UTC", column), Date) - literal(anchor.date(), Date)
        return days // 7
    return _floor_div(_epoch(column, dialect) - int(anchor.timestamp()), WEEK, dialect)


async def weekly_active(session: AsyncSession, community: CommunityKey, period: Period, now: dt.datetime) -> WeeklyActive:
    """Active members per week of the period (for all time, from the first member's arrival),
    and in the period as a whole, in one query: the distinct (member, week) pairs first (a
    hash aggregate), then counts per week and of distinct members."""
    dialect = _dialect(session)
    start = period.start
    if start is None:
        start = await session.scalar(
            select(func.min(Member.created_at)).where(
                Member.platform == community.platform, Member.workspace_id == community.workspace_id
            )
        )
        if start is None:
            return WeeklyActive(weeks=())
    anchor = _monday(start)
    activity = _activity(community, period)
    pairs = (
        select(activity.c.member_id.label("member_id"), _week_index(activity.c.at, anchor, dialect).label("week"))
        .distinct()
        .cte("active_pairs")
    )
    rows = await session.execute(
        union_all(
            select(pairs.c.week, func.count()).group_by(pairs.c.week),
            select(literal(-1), func.count(func.distinct(pairs.c.member_id))),
        )
    )
    counts: dict[int, int] = {}
    total = 0
    for w, n in rows:
        if w is None:
            continue
        if int(w) == -1:
            total = int(n)
        else:
            counts[int(w)] = int(n)
    last = int((period.end - anchor).total_seconds() // WEEK)
    weeks = tuple(((anchor + dt.timedelta(weeks=i)).date(), counts.get(i, 0)) for i in range(last + 1))
    return WeeklyActive(weeks=weeks, total=total)


# --- failed nudges ------------------------------------------------------------------------

FailureReason = Literal["dms_closed", "member_gone", "no_access", "kept_failing", "other"]
REASON_LABELS: dict[FailureReason, str] = {
    "dms_closed": "DMs closed",
    "member_gone": "Member gone or deactivated",
    "no_access": "Rapport lost access",
    "kept_failing": "Kept failing; gave up",
    "other": "Other",
}
_SLACK_DMS_CLOSED = ("cannot_dm_bot", "messages_tab_disabled")
_SLACK_GONE = ("user_not_found", "users_not_found", "user_not_visible", "account_inactive", "user_disabled")
_SLACK_NO_ACCESS = (
    "invalid_auth", "not_authed", "token_revoked", "token_expired", "app_uninstalled", "team_not_found",
    "team_access_not_granted", "missing_scope", "not_allowed_token_type", "no_permission",
    "restricted_action", "ekm_access_denied", "not installed",
)
_DISCORD_CODE = re.compile(r"\b([1-5]\d\d) (\d{1,6})\b")


def failure_reason(error: str | None) -> FailureReason:
    """Why a nudge failed, from the text the dispatcher stored in ``nudges.last_error``.

    Slack's error codes (``Slack: user_not_found``), Discord's ``<status> <code> <text>``
    (``403 50007`` is "cannot send messages to this user": DMs closed; ``404`` or ``10013``
    is an unknown user; ``403 50001``/``50013`` missing access) and the dispatcher's own
    ``gave up`` and transient errors (``HTTP 5xx``, timeouts) after its last retry.
    """
    text = (error or "").strip().casefold()
    if not text:
        return "other"
    if any(code in text for code in _SLACK_DMS_CLOSED):
        return "dms_closed"
    if any(code in text for code in _SLACK_GONE):
        return "member_gone"
    if any(code in text for code in _SLACK_NO_ACCESS):
        return "no_access"
    if m := _DISCORD_CODE.search(text):
        status, code = m.group(1), m.group(2)
        if code == "50007":
            return "dms_closed"
        if code in {"10013", "10007"} or status == "404":
            return "member_gone"
        if code in {"50001", "50013"} or status in {"401", "403"}:
            return "no_access"
    if "unknown user" in text or "unknown member" in text:
        return "member_gone"
    if "cannot send messages to this user" in text:
        return "dms_closed"
    if (
        "gave up" in text
        or "http 5" in text
        or "timeout" in text
        or "timed out" in text
        or "rate limit" in text
        or "connect" in text
    ):
        return "kept_failing"
    return "other"


@dataclass(frozen=True)
class Failures:
    """Failed nudges in the period by reason (every reason, in :data:`REASON_LABELS` order)."""

    total: int
    by_reason: tuple[tuple[FailureReason, int], ...]


async def failures(session: AsyncSession, community: CommunityKey, period: Period, now: dt.datetime) -> Failures:
    """Nudges that failed for good in the period, by reason."""
    rows = await session.execute(
        select(Nudge.last_error, func.count())
        .where(Nudge.status == "failed", Nudge.member_id.in_(_members(community)), period.contains(Nudge.closed_at))
        .group_by(Nudge.last_error)
    )
    counts: Counter[FailureReason] = Counter()
    for error, count in rows:
        counts[failure_reason(error)] += int(count)
    return Failures(
        total=sum(counts.values()),
        by_reason=tuple((reason, counts.get(reason, 0)) for reason in REASON_LABELS),
    )


# --- the summary (admin stats) -----------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """``admin stats``'s numbers, also the dashboard's headline.

    ``meetings``: held meetings that took place in the period; ``thanked_in_time``: of
    those, thanked within 24 h of their start. ``requests``/``offered``/``median_hours`` are
    the funnel's first two steps and the median time to first offer. ``failed``: nudges
    that failed for good in the period."""

    active: int
    meetings: int
    requests: int
    offered: int
    median_hours: float | None
    thanked_in_time: int
    failed: int


async def meetings_thanked(
    session: AsyncSession, community: CommunityKey, period: Period, now: dt.datetime
) -> tuple[int, int]:
    """(held meetings in the period, of those thanked within 24 h)."""
    dialect = _dialect(session)
    in_time = _thanked_in_time(Meeting.at, Meeting.thanked_at, dialect)
    held, thanked = (
        await session.execute(
            select(func.count(Meeting.id), func.coalesce(func.sum(case((in_time, 1), else_=0)), 0)).where(
                Meeting.member_id.in_(_members(community)), Meeting.status == "held", period.contains(Meeting.at)
            )
        )
    ).one()
    return int(held or 0), int(thanked or 0)


async def summary(
    session: AsyncSession,
    community: CommunityKey,
    period: Period,
    now: dt.datetime,
    *,
    times: OfferTimes | None = None,
    failed: Failures | None = None,
    active: int | None = None,
) -> Summary:
    """The headline numbers; pass ``times``/``failed``/``active`` already computed for the
    same period to reuse them."""
    times = times or await offer_times(session, community, period, now)
    failed = failed or await failures(session, community, period, now)
    held_thanked = await meetings_thanked(session, community, period, now)
    if active is None:
        active = await active_members(session, community, period, now)
    return make_summary(active, held_thanked, times, failed)


def make_summary(active: int, held_thanked: tuple[int, int], times: OfferTimes, failed: Failures) -> Summary:
    """The summary from parts already computed for one period."""
    return Summary(
        active=active,
        meetings=held_thanked[0],
        requests=times.answered + times.waiting,
        offered=times.answered,
        median_hours=times.median_hours,
        thanked_in_time=held_thanked[1],
        failed=failed.total,
    )


def fmt_hours(hours: float | None) -> str:
    """``42 min``, ``5.5 h``, ``3.0 days``; ``n/a`` for none."""
    if hours is None:
        return "n/a"
    if hours < 1:
        return f"{round(hours * 60)} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def share(part: int, whole: int) -> str:
    """``3 of 4 (75%)``; ``0 of 0`` when there is nothing to share."""
    return f"{part} of {whole} ({round(100 * part / whole)}%)" if whole else "0 of 0"


def summary_fields(s: Summary) -> tuple[tuple[str, str], ...]:
    """The summary as labelled, formatted values: the same text in chat and on the page."""
    return (
        ("Active members", str(s.active)),
        ("Meetings logged", str(s.meetings)),
        ("Intro requests with an offer", share(s.offered, s.requests)),
        ("Median time to first offer", fmt_hours(s.median_hours)),
        ("Thank-yous within 24 h", share(s.thanked_in_time, s.meetings)),
        ("Failed nudges", str(s.failed)),
    )


# --- everything the page shows ------------------------------------------------------------


@dataclass(frozen=True)
class DashboardData:
    """All of the dashboard's numbers for one community and period."""

    community: CommunityKey
    period: Period
    summary: Summary
    funnel: Funnel
    offer_times: OfferTimes
    fields: DemandSupply
    weekly: WeeklyActive
    failures: Failures


Part = Callable[[AsyncSession, CommunityKey, Period, dt.datetime], Awaitable[Any]]
#: The dashboard's independent aggregates, in the order :func:`assemble` takes them.
PARTS: tuple[Part, ...] = ()  # filled below, once the functions exist


def assemble(community: CommunityKey, period: Period, results: Sequence[Any]) -> DashboardData:
    """A :class:`DashboardData` from the results of :data:`PARTS`, in order."""
    times, failed, weekly, held_thanked, the_funnel, fields = results
    return DashboardData(
        community=community,
        period=period,
        summary=make_summary(weekly.total, held_thanked, times, failed),
        funnel=the_funnel,
        offer_times=times,
        fields=fields,
        weekly=weekly,
        failures=failed,
    )


async def dashboard_data(session: AsyncSession, community: CommunityKey, period: Period, now: dt.datetime) -> DashboardData:
    """Every aggregate of the dashboard, read in the caller's (read) transaction. (The parts
    are independent: ``core.dashboard`` runs them side by side on PostgreSQL.)"""
    return assemble(community, period, [await part(session, community, period, now) for part in PARTS])


PARTS = (offer_times, failures, weekly_active, meetings_thanked, funnel, demand_supply)

__all__ = [
    "CommunityKey",
    "DashboardData",
    "DemandSupply",
    "FieldRow",
    "Failures",
    "Funnel",
    "OfferTimes",
    "Period",
    "Summary",
    "WeeklyActive",
    "dashboard_data",
    "demand_supply",
    "failure_reason",
    "failures",
    "funnel",
    "offer_times",
    "period_for",
    "summary",
    "summary_fields",
    "weekly_active",
]
