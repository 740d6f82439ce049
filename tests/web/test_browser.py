"""The dashboard in a real browser: sign-in by link, the charts and tables with known data,
the period picker, CSV downloads, one community per organizer, refusals, logout."""

from __future__ import annotations

import csv
import io
import urllib.request
from pathlib import Path
from typing import Any

from tests.web.conftest import ORG_B, Stack


def table_rows(page: Any, table_id: str) -> list[list[str]]:
    """The body rows of a table on the page, as text."""
    return page.eval_on_selector_all(
        f"#table-{table_id} tbody tr",
        "rows => rows.map(r => Array.from(r.children).map(c => c.textContent.trim()))",
    )


def cards(page: Any) -> dict[str, str]:
    """The headline cards: label -> value, with the "3 of 5" under a share in brackets."""
    out = {}
    for card in page.locator(".card").all():
        label = card.locator(".k").inner_text().replace("\xa0", " ")
        value = card.locator(".v").inner_text()
        sub = card.locator(".sub")
        out[label] = f"{value} ({sub.inner_text()})" if sub.count() else value
    return out


def sign_in(page: Any, link: str) -> None:
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard")


def test_the_link_signs_in_and_the_page_shows_the_funnel(stack: Stack, context: Any, shots_dir: Path) -> None:
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(stack.base_url) or r.url.startswith("data:") else outside.append(r.url))
    csp_errors: list[str] = []
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)

    link = stack.link()
    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == "Your community dashboard"
    page.screenshot(path=str(shots_dir / "01-sign-in.png"))
    assert stack.run(stack.dashboard.link_state(link.rsplit("/", 1)[1])) == "valid"  # opening it used nothing up
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(stack.base_url + "/dashboard")

    assert page.get_by_role("heading", level=1).inner_text() == "Are introductions happening?"
    assert cards(page) == {
        "Active members": "5",
        "Meetings logged": "4",
        "Intro requests with an offer": "60% (3 of 5)",
        "Median time to first offer": "5.0 h",
        "Thank-yous within 24 h": "75% (3 of 4)",
        "Failed nudges": "5",
    }
    assert table_rows(page, "funnel") == [
        ["Requests", "5", "100%", "–"],
        ["With an offer", "3", "60%", "60%"],
        ["Met", "3", "60%", "100%"],
        ["Thanked within 24 h", "2", "40%", "67%"],
        ["Landed", "1", "20%", "50%"],
    ]
    assert table_rows(page, "first-offer") == [
        ["Under 1 hour", "1"], ["1 to 6 hours", "1"], ["6 to 24 hours", "0"], ["1 to 3 days", "1"],
        ["3 to 7 days", "0"], ["Over a week", "0"], ["No offer yet", "2"],
    ]
    assert table_rows(page, "fields") == [
        ["No helper's field matches", "1", "1", "0", "0"],
        ["product marketing", "1", "0", "1", "1"],
        ["saas", "1", "0", "1", "1"],
        ["data science", "0", "0", "1", "0"],
    ]
    assert dict(table_rows(page, "failures")) == {
        "DMs closed": "2", "Member gone or deactivated": "2", "Rapport lost access": "0",
        "Kept failing; gave up": "1", "Other": "0",
    }
    weekly = table_rows(page, "weekly")
    assert [w[0] for w in weekly] == ["2026-10-19", "2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16"]
    assert [w[1] for w in weekly] == ["0", "1", "3", "4", "2"]

    # Five charts, each drawn, labelled, and followed by its table; the biggest drop is named.
    charts = page.locator("svg.chart")
    assert charts.count() == 5
    for i in range(5):
        chart = charts.nth(i)
        assert chart.get_attribute("role") == "img"
        assert chart.locator("title").first.text_content()
        assert chart.bounding_box()["height"] > 100
    assert page.locator("#funnel-chart-desc").text_content().startswith("Requests 5, then With an offer 3")
    assert "biggest drop" in page.locator("#funnel .insight").inner_text()
    assert "nursing" in page.locator("#fields .insight").first.inner_text()
    for table_id in ("funnel", "first-offer", "fields", "weekly", "failures"):
        assert page.locator(f"#table-{table_id} caption").inner_text()
        assert page.locator(f"#table-{table_id} thead th[scope=col]").count() >= 2
        assert page.locator(f"#table-{table_id} tbody th[scope=row]").count() >= 1

    # Aggregates only: no notes, contacts, names or request texts of members.
    body = page.content()
    for private in ("PRIVATE NOTE", "secret@example.com", "Hana", "Sam", "Dee", "B2B SaaS company", "PM at Acme"):
        assert private not in body

    page.screenshot(path=str(shots_dir / "02-dashboard-30d.png"), full_page=True)
    assert outside == [] and csp_errors == []


def test_the_page_reads_at_a_narrow_width(stack: Stack, browser: Any, shots_dir: Path) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    try:
        page = ctx.new_page()
        sign_in(page, stack.link())
        # Nothing wider than the screen (tables scroll inside their own box if they must).
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(shots_dir / "03-dashboard-narrow.png"), full_page=True)
    finally:
        ctx.close()


def test_the_period_picker_changes_the_numbers(stack: Stack, context: Any, shots_dir: Path) -> None:
    page = context.new_page()
    sign_in(page, stack.link())
    assert page.locator('.periods a[aria-current="page"]').inner_text() == "Last 30 days"
    page.get_by_role("link", name="All time").click()
    page.wait_for_url("**/dashboard?period=all")
    assert page.locator('.periods a[aria-current="page"]').inner_text() == "All time"
    assert table_rows(page, "funnel")[0][:2] == ["Requests", "6"]
    assert table_rows(page, "funnel")[3][:2] == ["Thanked within 24 h", "2"]
    headline = cards(page)
    assert headline["Meetings logged"] == "5"
    assert headline["Median time to first offer"] == "7.5 h"
    assert headline["Failed nudges"] == "6"
    assert table_rows(page, "weekly")[0][0] == "2026-09-14"
    page.screenshot(path=str(shots_dir / "04-dashboard-all-time.png"), full_page=True)
    page.get_by_role("link", name="Last 90 days").click()
    page.wait_for_url("**/dashboard?period=90d")
    assert table_rows(page, "funnel")[0][:2] == ["Requests", "6"]
    # A made-up period in the address is the default, not an error.
    page.goto(stack.base_url + "/dashboard?period=%3Cscript%3E")
    assert page.locator('.periods a[aria-current="page"]').inner_text() == "Last 30 days"


def test_each_table_downloads_as_csv(stack: Stack, context: Any) -> None:
    page = context.new_page()
    sign_in(page, stack.link())
    page.get_by_role("link", name="All time").click()
    page.wait_for_url("**/dashboard?period=all")
    with page.expect_download() as info:
        page.locator("#funnel .csv a").click()
    download = info.value
    assert download.suggested_filename == "rapport-funnel-all.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0] == ["Step", "Requests", "Of all requests", "Of the step before"]
    assert rows[1][:2] == ["Requests", "6"] and rows[5][:2] == ["Landed", "1"]
    for table_id in ("summary", "first-offer", "fields", "weekly", "failures"):
        with page.expect_download() as info:
            page.locator(".cards-foot a" if table_id == "summary" else f"#{table_id} .csv a").click()
        assert info.value.suggested_filename == f"rapport-{table_id}-all.csv"
        assert Path(info.value.path()).read_text(encoding="utf-8").count("\n") >= 2


def test_a_second_communitys_organizer_sees_only_their_own(stack: Stack, context: Any, shots_dir: Path) -> None:
    page = context.new_page()
    sign_in(page, stack.link(ORG_B))
    assert "TBETA" in page.locator("header").inner_text()
    assert table_rows(page, "funnel")[0][:2] == ["Requests", "1"]
    assert [r[0] for r in table_rows(page, "fields")] == ["nursing leadership"]
    body = page.content()
    assert "TALPHA" not in body and "saas" not in body and "product marketing" not in body
    page.screenshot(path=str(shots_dir / "05-second-community.png"), full_page=True)


def test_used_and_expired_links_are_refused(stack: Stack, browser: Any, shots_dir: Path) -> None:
    link = stack.link()
    first = browser.new_context()
    second = browser.new_context()
    try:
        sign_in(first.new_page(), link)
        page = second.new_page()
        response = page.goto(link)
        assert response.status == 410
        assert page.get_by_role("heading", level=1).inner_text() == "This link has been used"
        assert "/rapport admin dashboard" in page.locator("main").inner_text()
        page.screenshot(path=str(shots_dir / "06-link-used.png"))

        expiring = stack.link()
        page.goto(expiring)  # opened in time...
        stack.clock.advance(minutes=11)
        page.get_by_role("button", name="Sign in").click()  # ...pressed too late
        assert page.get_by_role("heading", level=1).inner_text() == "This link has expired"
        page.screenshot(path=str(shots_dir / "07-link-expired.png"))
        response = page.goto(stack.base_url + "/dashboard")
        assert response.status == 401
        assert page.get_by_role("heading", level=1).inner_text() == "You're not signed in"
    finally:
        first.close()
        second.close()


def test_no_session_or_a_forged_one_is_refused(stack: Stack, context: Any, shots_dir: Path) -> None:
    page = context.new_page()
    response = page.goto(stack.base_url + "/dashboard")
    assert response.status == 401
    assert page.get_by_role("heading", level=1).inner_text() == "You're not signed in"
    page.screenshot(path=str(shots_dir / "08-not-signed-in.png"))
    context.add_cookies([{"name": "rapport_session", "value": "x" * 43 + "." + "y" * 43, "url": stack.base_url + "/dashboard"}])
    assert page.goto(stack.base_url + "/dashboard").status == 401
    assert page.goto(stack.base_url + "/dashboard/funnel.csv").status == 401
    assert page.goto(stack.base_url + "/dashboard/login/not-a-real-token-at-all-aaaaaaaaaaaaaaaaa").status == 404


def test_a_link_preview_neither_uses_the_link_nor_signs_in(stack: Stack, context: Any) -> None:
    link = stack.link()
    # What Slack's or Discord's unfurler does: a plain GET, following redirects.
    with urllib.request.urlopen(urllib.request.Request(link, headers={"User-Agent": "Slackbot-LinkExpanding 1.0"})) as r:
        assert r.status == 200
        assert "Set-Cookie" not in r.headers or "rapport_session" not in r.headers["Set-Cookie"]
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["Cache-Control"] == "no-store"
    page = context.new_page()
    sign_in(page, link)  # the person's click still works
    assert page.get_by_role("heading", level=1).inner_text() == "Are introductions happening?"


def test_logout_ends_the_session(stack: Stack, context: Any, shots_dir: Path) -> None:
    page = context.new_page()
    sign_in(page, stack.link())
    cookie = next(c for c in context.cookies() if c["name"] == "rapport_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/dashboard"
    page.get_by_role("button", name="Log out").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You're signed out"
    page.screenshot(path=str(shots_dir / "09-signed-out.png"))
    assert page.goto(stack.base_url + "/dashboard").status == 401
    # The old cookie, replayed, is refused too: the session ended on the server.
    context.add_cookies([{**cookie, "expires": -1}])
    assert page.goto(stack.base_url + "/dashboard").status == 401


def test_sessions_end_after_a_day(stack: Stack, context: Any) -> None:
    page = context.new_page()
    sign_in(page, stack.link())
    stack.clock.advance(hours=24)
    assert page.reload().status == 401
