"""core/stats.py on known data, SQLite and PostgreSQL: the funnel, time to first offer,
demand and supply by field, active members per week, failed nudges, and no leaks between
communities."""

from __future__ import annotations

import datetime as dt

import pytest

from core import stats
from core.db import Database
from core.models import ContactRow, Member, Outreach
from tests import statsdata as sd

NOW = dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.UTC)
A = stats.CommunityKey(*sd.A)
B = stats.CommunityKey(*sd.B)


@pytest.fixture
async def db(engine):
    database = Database(engine)
    async with database.write() as session:
        await sd.seed(session, NOW)
    return database


async def test_funnel_last_30_days(db):
    async with db.read() as session:
        f = await stats.funnel(session, A, stats.period_for("30d", NOW), NOW)
    assert (f.requests, f.offered, f.met, f.thanked, f.landed) == sd.EXPECTED_30D["funnel"]
    assert f.landed_seekers == sd.EXPECTED_30D["landed_seekers"]
    assert [label for label, _ in f.steps()] == ["Requests", "With an offer", "Met", "Thanked within 24 h", "Landed"]


async def test_funnel_all_time_and_the_other_community(db):
    async with db.read() as session:
        everything = await stats.funnel(session, A, stats.period_for("all", NOW), NOW)
        other = await stats.funnel(session, B, stats.period_for("all", NOW), NOW)
    assert (everything.requests, everything.offered, everything.met, everything.thanked, everything.landed) == sd.EXPECTED_ALL["funnel"]
    # B: one request, offered, met and thanked; nobody landed. Nothing of A's.
    assert (other.requests, other.offered, other.met, other.thanked, other.landed) == (1, 1, 1, 1, 0)


async def test_time_to_first_offer(db):
    async with db.read() as session:
        t = await stats.offer_times(session, A, stats.period_for("30d", NOW), NOW)
    expected = {label: sd.EXPECTED_30D["buckets"].get(label, 0) for label, _ in stats.OFFER_BUCKETS}
    assert dict(t.buckets) == expected
    assert [label for label, _ in t.buckets] == [label for label, _ in stats.OFFER_BUCKETS]
    assert t.answered == 3 and t.waiting == sd.EXPECTED_30D["waiting"]
    assert t.median_hours == pytest.approx(sd.EXPECTED_30D["median_hours"])


async def test_median_of_an_even_count_is_the_mean_of_the_middle_two(db):
    async with db.read() as session:
        t = await stats.offer_times(session, A, stats.period_for("all", NOW), NOW)
    # 0.5 h, 5 h, 10 h, 48 h -> (5 + 10) / 2
    assert t.answered == 4
    assert t.median_hours == pytest.approx(7.5)


async def test_demand_and_supply_by_field(db):
    async with db.read() as session:
        ds = await stats.demand_supply(session, A, stats.period_for("30d", NOW), NOW)
    rows = [(r.field, r.requests, r.waiting, r.helpers, r.with_capacity) for r in ds.rows]
    assert rows == [
        ("product marketing", 1, 0, 1, 1),
        ("saas", 1, 0, 1, 1),
        ("data science", 0, 0, 1, 0),  # Hugo was asked once this month, his limit
    ]
    assert (ds.unmatched.requests, ds.unmatched.waiting) == (1, 1)  # nursing: whom to recruit
    assert dict(ds.unmatched_words) == {"nursing": 1, "leadership": 1, "hospitals": 1}
    assert ds.open_requests == 2 and ds.helpers == 2  # Ina left the directory; Bo is in B


async def test_weekly_active_members(db):
    async with db.write() as session:
        # A newcomer active twice in one week counts once that week.
        zoe = Member(platform=A.platform, workspace_id=A.workspace_id, user_id="UZOE", display_name="Zoe",
                     quiet_start="21:00", quiet_end="08:00", stay_in_touch_days=90, digest=False,
                     dm_failed_notice=False, created_at=NOW - dt.timedelta(days=3))
        session.add(zoe)
        await session.flush()
        c = ContactRow(member_id=zoe.id, name="X", name_key="x", status="new", referrals_pending=False,
                       created_at=NOW - dt.timedelta(days=2))
        session.add(c)
        await session.flush()
        session.add(Outreach(member_id=zoe.id, contact_id=c.id, at=NOW - dt.timedelta(days=1)))
    period = stats.period_for("30d", NOW)
    async with db.read() as session:
        weekly = await stats.weekly_active(session, A, period, NOW)
        total = await stats.active_members(session, A, period, NOW)
    weeks = dict(weekly.weeks)
    # NOW is Wednesday 18 November 2026; weeks start on Mondays.
    assert all(day.weekday() == 0 for day in weeks)
    assert min(weeks) == dt.date(2026, 10, 19) and max(weeks) == dt.date(2026, 11, 16)
    assert len(weeks) == 5
    # Week of 16 Nov: Sue (r4 on Mon 16, meeting logged Tue 17), Hana (accepted r3 on Mon 16), Zoe.
    assert weeks[dt.date(2026, 11, 16)] == 3
    # Week of 9 Nov: Sam (outreach, meeting logged), Sid (r7, r2, Dee), Sue (r3 on Sat 14),
    # Hugo (answered r7, offered on r2).
    assert weeks[dt.date(2026, 11, 9)] == 4
    # Week of 2 Nov: Sam (r1 on Sun 8), Hana (glad to chat on r1), Sid (meeting with Zed logged).
    assert weeks[dt.date(2026, 11, 2)] == 3
    assert weeks[dt.date(2026, 10, 26)] == 1  # Sid's contact Zed 20 days ago (Thu 29 Oct)
    assert total == sd.EXPECTED_30D["active"] + 1


async def test_weekly_active_all_time_starts_with_the_first_member(db):
    async with db.read() as session:
        weekly = await stats.weekly_active(session, A, stats.period_for("all", NOW), NOW)
    first = min(day for day, _ in weekly.weeks)
    assert first == dt.date(2026, 9, 14)  # members joined Sat 19 Sep (60 days ago); that week's Monday
    assert sum(n for _, n in weekly.weeks) >= 5


async def test_failed_nudges_by_reason(db):
    async with db.read() as session:
        recent = await stats.failures(session, A, stats.period_for("30d", NOW), NOW)
        everything = await stats.failures(session, A, stats.period_for("all", NOW), NOW)
        other = await stats.failures(session, B, stats.period_for("all", NOW), NOW)
    counts = dict(recent.by_reason)
    assert list(counts) == list(stats.REASON_LABELS)
    assert {k: v for k, v in counts.items() if v} == sd.EXPECTED_30D["failed"]
    assert recent.total == 5
    assert everything.total == sd.EXPECTED_ALL["failed_total"]
    assert other.total == 1 and dict(other.by_reason)["member_gone"] == 1


async def test_summary(db):
    async with db.read() as session:
        s = await stats.summary(session, A, stats.period_for("30d", NOW), NOW)
        everything = await stats.summary(session, A, stats.period_for("all", NOW), NOW)
    assert s.active == sd.EXPECTED_30D["active"]
    assert s.meetings == sd.EXPECTED_30D["meetings"]
    assert (s.requests, s.offered) == (5, 3)
    assert s.thanked_in_time == sd.EXPECTED_30D["thanked_in_time"]
    assert s.failed == 5
    assert dict(stats.summary_fields(s)) == {
        "Active members": "5",
        "Meetings logged": "4",
        "Intro requests with an offer": "3 of 5 (60%)",
        "Median time to first offer": "5.0 h",
        "Thank-yous within 24 h": "3 of 4 (75%)",
        "Failed nudges": "5",
    }
    assert everything.meetings == sd.EXPECTED_ALL["meetings"]


async def test_an_empty_community_has_zeros_everywhere(db):
    nobody = stats.CommunityKey("discord", "999")
    async with db.read() as session:
        data = await stats.dashboard_data(session, nobody, stats.period_for("all", NOW), NOW)
    assert data.funnel.requests == 0 and data.offer_times.median_hours is None
    assert data.weekly.weeks == () and data.failures.total == 0
    assert data.fields.rows == () and data.fields.unmatched.requests == 0
    assert dict(stats.summary_fields(data.summary))["Median time to first offer"] == "n/a"


def test_periods():
    assert stats.period_for("90d", NOW).start == NOW - dt.timedelta(days=90)
    assert stats.period_for("year", NOW).start == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert stats.period_for("all", NOW).start is None
    for junk in (None, "", "7d", "' OR 1=1 --", "x" * 500):
        assert stats.period_for(junk, NOW) == stats.period_for("30d", NOW)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("Slack: cannot_dm_bot", "dms_closed"),
        ("Slack: messages_tab_disabled", "dms_closed"),
        ("Slack: user_not_found", "member_gone"),
        ("Slack: account_inactive", "member_gone"),
        ("Slack: users_not_found", "member_gone"),
        ("Slack: token_revoked", "no_access"),
        ("Rapport is not installed in workspace T1", "no_access"),
        ("DM to 1: 403 50007 Cannot send messages to this user", "dms_closed"),
        ("DM to 1: 404 10013 Unknown User", "member_gone"),
        ("DM to 1: 404 0 Not Found", "member_gone"),
        ("DM to 1: 403 50001 Missing Access", "no_access"),
        ("gave up", "kept_failing"),
        ("DM to 1: HTTP 503", "kept_failing"),
        ("TimeoutError", "kept_failing"),
        ("", "other"),
        (None, "other"),
        ("something new", "other"),
    ],
)
def test_failure_reason(error, reason):
    assert stats.failure_reason(error) == reason


def test_fields_are_split_and_matched_by_words():
    assert stats.split_fields("UX, Product design / research & Data and AI") == [
        "ux", "product design", "research", "data", "ai"]
    assert stats.split_fields(" , ;") == []
    assert stats.field_words("Looking for someone in C++ at a B2B company") == {"c++", "b2b"}
