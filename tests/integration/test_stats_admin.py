"""`admin stats` in chat and the dashboard's headline read the same numbers (core/stats.py)."""

from __future__ import annotations

from core import stats
from core.dashboard import Dashboard, Organizer
from core.db import Database
from core.service import Actor
from tests import statsdata as sd


async def test_admin_stats_matches_the_dashboard(engine, core, clock):
    db = Database(engine)
    async with db.write() as session:
        await sd.seed(session, clock.now())
    organizer = Actor(sd.A[0], sd.A[1], sd.ORGANIZER_A, display_name="Olga", is_organizer=True)
    reply = await core.run_text(organizer, "admin stats")
    assert not reply.error
    chat = {section.title: dict(section.fields) for section in reply.sections}

    dashboard = Dashboard(db, clock)
    signed = await dashboard.sign_in((await dashboard.create_link(Organizer(*sd.A, sd.ORGANIZER_A))).token)
    for title, key in (("Last 30 days", "30d"), ("All time", "all")):
        page = await dashboard.data(signed.viewer, key)
        assert chat[title] == dict(stats.summary_fields(page.summary))
    assert chat["Last 30 days"]["Intro requests with an offer"] == "3 of 5 (60%)"
    assert chat["All time"]["Meetings logged"] == "5"


async def test_admin_stats_is_for_organizers_only(engine, core, clock):
    member = Actor(sd.A[0], sd.A[1], "USAM", display_name="Sam")
    reply = await core.run_text(member, "admin stats")
    assert reply.error and "Only organizers" in reply.text


async def test_admin_dashboard_hands_an_organizer_a_link_and_refuses_others(engine, core, clock):
    from core import commands as c
    from core.service import ORGANIZERS_ONLY

    core.set_public_url("https://rapport.example.org/")
    member = Actor(sd.A[0], sd.A[1], "USAM", display_name="Sam")
    refused = await core.run_text(member, "admin dashboard")
    assert refused.error and refused.text == ORGANIZERS_ONLY
    organizer = Actor(sd.A[0], sd.A[1], sd.ORGANIZER_A, display_name="Olga", is_organizer=True)
    reply = await core.run_text(organizer, "admin dashboard")
    assert not reply.error and reply.title == "Your dashboard link"
    (button,) = reply.buttons
    assert button.url.startswith("https://rapport.example.org/dashboard/login/") and not button.action_id
    assert button.url not in reply.text + reply.context  # only in the button
    dashboard = Dashboard(Database(engine), clock)
    token = button.url.rsplit("/", 1)[1]
    assert await dashboard.link_state(token) == "valid"
    signed = await dashboard.sign_in(token)
    assert signed.viewer.organizer == Organizer(*sd.A, sd.ORGANIZER_A)
    out = await core.run_text(organizer, "admin dashboard logout")
    assert "one browser" in out.text and await dashboard.viewer(signed.cookie) is None
    again = await core.run_text(organizer, "admin dashboard logout")
    assert "nothing to end" in again.text
    assert c.parse("admin dashboard logout") == c.AdminDashboard(logout="logout")
    odd = await core.run_text(organizer, "admin dashboard please")
    assert odd.error and "went wrong" not in odd.text
