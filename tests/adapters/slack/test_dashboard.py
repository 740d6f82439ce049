"""`/rapport admin dashboard` on Slack, end to end: an organizer gets a private link button
(never unfurled) that signs in to their workspace's dashboard; anyone else is refused."""

from __future__ import annotations

import json
import re

import aiohttp


async def open_dashboard(url: str) -> str:
    """Opens a sign-in link as a browser would: the page, its Sign in button, the dashboard."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(url) as r:
            assert r.status == 200
            nonce = re.search(r'name="nonce" value="([^"]+)"', await r.text()).group(1)
        async with http.post(url, data={"nonce": nonce}) as r:
            assert r.status == 200 and r.url.path == "/dashboard"
            return await r.text()


async def test_an_organizer_gets_a_private_link_that_opens_the_dashboard(slack):
    refused = await slack.send.ask("admin dashboard")  # U1 is no admin in users.info
    assert "Only organizers can do that" in refused
    answer = json.loads(await slack.send.ask("admin dashboard", user="UADMIN"))
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    assert answer["unfurl_links"] is False and answer["unfurl_media"] is False
    buttons = [e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    link = next(e for e in buttons if e.get("url"))
    assert link["text"]["text"] == "Open the dashboard"
    port = slack.base.rsplit(":", 1)[1]
    assert link["url"].startswith(f"http://localhost:{port}/dashboard/login/")  # RAPPORT_PUBLIC_URL unset
    url = link["url"].replace("localhost", "127.0.0.1")
    page = await open_dashboard(url)
    assert "Are introductions happening?" in page and "Slack workspace T1" in page
    # The link worked once.
    async with slack.http.get(url) as r:
        assert r.status == 410
    ended = await slack.send.ask("admin dashboard logout", user="UADMIN")
    assert "Signed you out of the dashboard in one browser" in ended
