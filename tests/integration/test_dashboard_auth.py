"""core/dashboard.py: single-use links, sessions, the signing key (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from core import dashboard as d
from core.clock import FakeClock
from core.db import Database
from core.models import DashboardLink, DashboardSession, Meta
from tests import statsdata as sd

ORG_A = d.Organizer(sd.A[0], sd.A[1], sd.ORGANIZER_A)
ORG_B = d.Organizer(sd.B[0], sd.B[1], sd.ORGANIZER_B)


@pytest.fixture
def db(engine):
    return Database(engine)


@pytest.fixture
def dash(db, clock):
    return d.Dashboard(db, clock)


async def test_a_link_signs_in_once(dash, db):
    link = await dash.create_link(ORG_A)
    assert link.path == d.LOGIN_PATH + link.token and len(link.token) >= 43
    assert await dash.link_state(link.token) == "valid"
    assert await dash.link_state(link.token) == "valid"  # looking (a preview) never uses it up
    signed = await dash.sign_in(link.token)
    assert signed.viewer.organizer == ORG_A
    assert signed.max_age == 24 * 3600
    viewer = await dash.viewer(signed.cookie)
    assert viewer is not None and viewer.organizer == ORG_A and viewer.csrf == signed.viewer.csrf
    assert await dash.link_state(link.token) == "used"
    with pytest.raises(d.SignInRefused) as refused:
        await dash.sign_in(link.token)
    assert refused.value.state == "used" and "already been used" in refused.value.message
    # Only hashes are stored: neither the token nor the session id is in the database.
    async with db.read() as session:
        stored = list(await session.scalars(select(DashboardLink.token_hash)))
        sessions = list(await session.scalars(select(DashboardSession.session_hash)))
    assert link.token not in stored and len(stored[0]) == 64
    assert signed.cookie.split(".")[0] not in sessions


async def test_links_expire_after_ten_minutes(dash, clock):
    link = await dash.create_link(ORG_A)
    clock.advance(minutes=9, seconds=59)
    assert await dash.link_state(link.token) == "valid"
    clock.advance(seconds=1)
    assert await dash.link_state(link.token) == "expired"
    with pytest.raises(d.SignInRefused) as refused:
        await dash.sign_in(link.token)
    assert refused.value.state == "expired" and "ten minutes" in refused.value.message


@pytest.mark.parametrize("token", ["", "short", "x" * 43 + "!", "../../etc/passwd", "a" * 200, "A" * 43])
async def test_unknown_or_malformed_links_are_refused(dash, token):
    assert await dash.link_state(token) == "unknown"
    with pytest.raises(d.SignInRefused) as refused:
        await dash.sign_in(token)
    assert refused.value.state == "unknown"


async def test_two_clicks_at_once_sign_in_once(engine, clock):
    # Two Dashboards (two processes) on one database, each with its own write gate.
    first, second = d.Dashboard(Database(engine), clock), d.Dashboard(Database(engine), clock)
    for _ in range(5):
        link = await first.create_link(ORG_A)
        results = await asyncio.gather(first.sign_in(link.token), second.sign_in(link.token), return_exceptions=True)
        won = [r for r in results if isinstance(r, d.SignedIn)]
        lost = [r for r in results if isinstance(r, d.SignInRefused)]
        assert len(won) == 1 and len(lost) == 1, results
        assert lost[0].state == "used"


async def test_sessions_last_a_day(dash, clock):
    signed = await dash.sign_in((await dash.create_link(ORG_A)).token)
    clock.advance(hours=23, minutes=59)
    assert await dash.viewer(signed.cookie) is not None
    clock.advance(minutes=1)
    assert await dash.viewer(signed.cookie) is None


async def test_logout_needs_the_session_csrf_token(dash):
    signed = await dash.sign_in((await dash.create_link(ORG_A)).token)
    other = await dash.sign_in((await dash.create_link(ORG_A)).token)
    assert not await dash.sign_out(signed.cookie, "")
    assert not await dash.sign_out(signed.cookie, other.viewer.csrf)  # another session's token
    assert await dash.viewer(signed.cookie) is not None
    assert await dash.sign_out(signed.cookie, signed.viewer.csrf)
    assert await dash.viewer(signed.cookie) is None
    assert await dash.viewer(other.cookie) is not None  # the other browser stays signed in
    assert not await dash.sign_out(signed.cookie, signed.viewer.csrf)  # already ended


async def test_logout_from_chat_ends_that_organizers_sessions_in_that_community(dash):
    mine = [await dash.sign_in((await dash.create_link(ORG_A)).token) for _ in range(2)]
    same_user_elsewhere = d.Organizer(ORG_B.platform, ORG_B.workspace_id, ORG_A.user_id)
    theirs = await dash.sign_in((await dash.create_link(ORG_B)).token)
    elsewhere = await dash.sign_in((await dash.create_link(same_user_elsewhere)).token)
    assert await dash.end_sessions(ORG_A) == 2
    assert [await dash.viewer(s.cookie) for s in mine] == [None, None]
    assert (await dash.viewer(theirs.cookie)).organizer == ORG_B
    assert (await dash.viewer(elsewhere.cookie)).organizer == same_user_elsewhere
    assert await dash.end_sessions(ORG_A) == 0


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c + "x",
        lambda c: c.split(".")[0],
        lambda c: c.split(".")[0] + "." + "A" * 43,
        lambda c: "",
        lambda c: "a.b.c",
        lambda c: None,
    ],
)
async def test_forged_cookies_are_nobody(dash, tamper):
    signed = await dash.sign_in((await dash.create_link(ORG_A)).token)
    assert await dash.viewer(tamper(signed.cookie)) is None


async def test_the_signing_key_is_kept_in_meta_and_shared(engine, clock):
    one = d.Dashboard(Database(engine), clock)
    signed = await one.sign_in((await one.create_link(ORG_A)).token)
    # Another process on the same database accepts the cookie.
    two = d.Dashboard(Database(engine), clock)
    assert (await two.viewer(signed.cookie)).organizer == ORG_A
    async with Database(engine).read() as session:
        assert await session.scalar(select(func.count()).select_from(Meta).where(Meta.key == d.SIGNING_KEY_META)) == 1
    # With RAPPORT_SECRET_KEY set, the key comes from it: the old cookie is refused, and two
    # processes with the same secret agree.
    three = d.Dashboard(Database(engine), clock, secret_key="s3cret")
    four = d.Dashboard(Database(engine), clock, secret_key="s3cret")
    assert await three.viewer(signed.cookie) is None
    fresh = await three.sign_in((await three.create_link(ORG_A)).token)
    assert (await four.viewer(fresh.cookie)).organizer == ORG_A
    assert await one.viewer(fresh.cookie) is None


async def test_old_links_and_sessions_are_purged(dash, db, clock):
    await dash.sign_in((await dash.create_link(ORG_A)).token)
    await dash.create_link(ORG_A)
    clock.advance(days=3)
    await dash.create_link(ORG_B)
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(DashboardLink)) == 1
        assert await session.scalar(select(func.count()).select_from(DashboardSession)) == 0


async def test_the_numbers_are_the_viewers_community_only(db, clock):
    now = dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.UTC)
    async with db.write() as session:
        await sd.seed(session, now)
    dash = d.Dashboard(db, FakeClock(now))
    a = await dash.sign_in((await dash.create_link(ORG_A)).token)
    b = await dash.sign_in((await dash.create_link(ORG_B)).token)
    data_a = await dash.data(a.viewer, "30d")
    data_b = await dash.data(b.viewer, "30d")
    assert data_a.community.workspace_id == sd.A[1] and data_a.funnel.requests == 5
    assert data_b.community.workspace_id == sd.B[1] and data_b.funnel.requests == 1
    assert data_a.period.key == "30d" and (await dash.data(a.viewer, "bogus")).period.key == "30d"
