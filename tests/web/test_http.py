"""The dashboard's routes over real HTTP (no browser), SQLite and PostgreSQL: headers,
cookies, CSRF, CSV, refusals, and bad input that never reaches a generic error."""

from __future__ import annotations

import csv
import io
import re

import aiohttp
import pytest

from adapters.web import DashboardRoutes
from adapters.web.charts import nice_max, ticks
from adapters.web.routes import CSP
from adapters.web.style import CSS_PATH
from adapters.web.tables import neutralise, to_csv
from bot.web import WebServer
from core.clock import FakeClock
from core.dashboard import Dashboard
from core.db import Database
from core.models import HelperOffer, IntroRequest, Member
from tests import statsdata as sd
from tests.web.conftest import NOW, ORG_A


@pytest.fixture
async def site(engine):
    db = Database(engine)
    async with db.write() as session:
        seeded = await sd.seed(session, NOW)
        # A helper whose free-text fields look like spreadsheet formulas.
        evil = Member(platform=sd.A[0], workspace_id=sd.A[1], user_id="UEVIL", display_name="Eve",
                      quiet_start="21:00", quiet_end="08:00", stay_in_touch_days=90, digest=False,
                      dm_failed_notice=False, created_at=NOW)
        session.add(evil)
        await session.flush()
        session.add(HelperOffer(member_id=evil.id, fields="=HYPERLINK(\"evil\") hack, @SUM(A1) hack, +1 hack",
                                per_month=1, active=True, created_at=NOW))
        session.add(IntroRequest(member_id=evil.id, community_id=seeded.community_a, what="hack everything",
                                 status="open", created_at=NOW))
    clock = FakeClock(NOW)
    dashboard = Dashboard(db, clock)
    servers = []

    async def start(secure: bool = False):
        server = WebServer("127.0.0.1", 0)
        server.add_routes(DashboardRoutes(dashboard, secure=secure).routes())
        await server.start()
        servers.append(server)
        return f"http://127.0.0.1:{server.port}"

    yield dashboard, clock, start
    for server in servers:
        await server.stop()


def _client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def _headers_ok(response: aiohttp.ClientResponse) -> None:
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


async def _sign_in(http: aiohttp.ClientSession, base: str, link_path: str) -> aiohttp.ClientResponse:
    async with http.get(base + link_path) as r:
        nonce = re.search(r'name="nonce" value="([^"]+)"', await r.text()).group(1)
    return await http.post(base + link_path, data={"nonce": nonce}, allow_redirects=False)


async def test_sign_in_sets_a_careful_cookie_and_every_page_has_the_headers(site):
    dashboard, _, start = site
    base = await start()
    link = await dashboard.create_link(ORG_A)
    async with _client() as http:
        async with http.head(base + link.path) as r:  # a HEAD (some unfurlers) uses nothing up
            assert r.status == 200
        async with http.get(base + link.path) as r:
            assert r.status == 200
            _headers_ok(r)
            assert "rapport_session" not in r.headers.getall("Set-Cookie", [""])[0]
        r = await _sign_in(http, base, link.path)
        assert r.status == 303 and r.headers["Location"] == "/dashboard"
        _headers_ok(r)
        session_cookie = next(h for h in r.headers.getall("Set-Cookie") if h.startswith("rapport_session="))
        assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
        assert "Path=/dashboard" in session_cookie and "Max-Age=86400" in session_cookie
        assert "Secure" not in session_cookie
        async with http.get(base + "/dashboard") as page:
            assert page.status == 200
            _headers_ok(page)
            html = await page.text()
            assert "Are introductions happening?" in html
            # Nothing is loaded from elsewhere, and members' text is only text.
            assert not re.search(r'(src|href|action)="(https?:)?//', html)
            assert "=hyperlink(&quot;evil&quot;) hack" in html and "<script" not in html
        async with http.get(base + CSS_PATH) as css:
            assert css.status == 200 and css.content_type == "text/css"
            assert "immutable" in css.headers["Cache-Control"]
        for path in ("/dashboard/nope", "/dashboard/secrets.csv", "/dashboard/login/x"):
            async with http.get(base + path) as r:
                assert r.status == 404
                _headers_ok(r)


async def test_cookies_are_secure_behind_https(site):
    dashboard, _, start = site
    base = await start(secure=True)
    link = await dashboard.create_link(ORG_A)
    async with _client() as http:
        r = await _sign_in(http, base, link.path)
        assert all("Secure" in h for h in r.headers.getall("Set-Cookie"))


async def test_a_sign_in_post_without_the_pages_nonce_signs_no_one_in(site):
    dashboard, _, start = site
    base = await start()
    link = await dashboard.create_link(ORG_A)
    async with _client() as http:
        # What a forged cross-site form would send: no nonce cookie, or a guessed nonce.
        for data in ({}, {"nonce": "guess"}):
            async with http.post(base + link.path, data=data, allow_redirects=False) as r:
                assert r.status == 400
                assert "Press Sign in once more" in await r.text()
                assert not any(h.startswith("rapport_session=") for h in r.headers.getall("Set-Cookie", []))
    assert await dashboard.link_state(link.token) == "valid"


async def test_used_expired_and_reused_links_say_so(site):
    dashboard, clock, start = site
    base = await start()
    link = await dashboard.create_link(ORG_A)
    async with _client() as http:
        (await _sign_in(http, base, link.path)).release()
        async with http.get(base + link.path) as r:
            assert r.status == 410 and "already been used" in await r.text()
        async with http.post(base + link.path, data={"nonce": "x"}) as r:
            assert r.status == 410
        late = await dashboard.create_link(ORG_A)
        clock.advance(minutes=10)
        async with http.get(base + late.path) as r:
            assert r.status == 410 and "expired" in await r.text()


async def test_logout_needs_the_pages_token(site):
    dashboard, _, start = site
    base = await start()
    link = await dashboard.create_link(ORG_A)
    async with _client() as http:
        (await _sign_in(http, base, link.path)).release()
        async with http.post(base + "/dashboard/logout", data={"csrf": "forged"}) as r:
            assert r.status == 403 and "still signed in" in await r.text()
        async with http.get(base + "/dashboard") as r:
            assert r.status == 200
            csrf = re.search(r'name="csrf" value="([^"]+)"', await r.text()).group(1)
        async with http.post(base + "/dashboard/logout", data={"csrf": csrf}) as r:
            assert r.status == 200 and "signed out" in await r.text()
        async with http.get(base + "/dashboard") as r:
            assert r.status == 401
        async with http.post(base + "/dashboard/logout", data={"csrf": csrf}) as r:
            assert r.status == 200  # already out: says so, no error


async def test_csv_is_neutralised_and_named(site):
    dashboard, _, start = site
    base = await start()
    link = await dashboard.create_link(ORG_A)
    async with _client() as http:
        (await _sign_in(http, base, link.path)).release()
        async with http.get(base + "/dashboard/fields.csv?period=30d") as r:
            assert r.status == 200 and r.content_type == "text/csv"
            assert r.headers["Content-Disposition"] == 'attachment; filename="rapport-fields-30d.csv"'
            text = await r.text()
    rows = list(csv.reader(io.StringIO(text)))
    names = [row[0] for row in rows[1:]]
    assert "'=hyperlink(\"evil\") hack" in names
    assert "'@sum(a1) hack" in names and "'+1 hack" in names
    assert not any(n[:1] in "=+-@" for n in names)


@pytest.mark.parametrize(
    "query", ["?period=", "?period=%00", "?period=" + "9" * 5000, "?period=all&period=30d", "?x=1"]
)
async def test_odd_query_strings_get_the_page(site, query):
    dashboard, _, start = site
    base = await start()
    link = await dashboard.create_link(ORG_A)
    async with _client() as http:
        (await _sign_in(http, base, link.path)).release()
        async with http.get(base + "/dashboard" + query) as r:
            assert r.status == 200
        async with http.get(base + "/dashboard/weekly.csv" + query) as r:
            assert r.status == 200


async def test_odd_sign_in_posts_are_answered_plainly(site):
    dashboard, _, start = site
    base = await start()
    link = await dashboard.create_link(ORG_A)
    async with _client() as http:
        for kwargs in ({"data": b"\x00\xff" * 1000}, {"json": {"nonce": 1}}, {"data": {"nonce": "x" * 100_000}}):
            async with http.post(base + link.path, **kwargs) as r:
                assert r.status == 400
        async with http.post(base + "/dashboard/logout", data=b"\xff\xfe") as r:
            assert r.status == 200  # nobody signed in: "you're signed out"


def test_neutralise():
    assert neutralise("=1+1") == "'=1+1" and neutralise("@x") == "'@x" and neutralise("\tx") == "'\tx"
    assert neutralise("plain") == "plain" and neutralise(-3) == -3 and neutralise("") == ""


def test_axis_tops():
    assert [nice_max(v) for v in (0, 1, 3, 7, 12, 99, 101, 4999)] == [1, 1, 5, 10, 20, 100, 200, 5000]
    assert ticks(1) == [0, 1] and ticks(20) == [0, 5, 10, 15, 20]


def test_csv_of_a_table():
    from adapters.web.tables import Table

    text = to_csv(Table("t", "c", ("A", "B"), (("=x", 1), ("y", 2))))
    assert text == "A,B\r\n'=x,1\r\ny,2\r\n"
