"""Many workspaces (OAuth installs in our database) and Socket Mode."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from tests.adapters.slack.conftest import T1, T2, install


# slack-sdk's oauth.v2.access still uses aiohttp.BasicAuth, which aiohttp 3.14 deprecates.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_two_workspaces_installed_by_oauth_are_isolated(start_slack_app, standin):
    slack = await start_slack_app(oauth=True)
    await install(slack, T1)
    await install(slack, T2)
    async with slack.app.engine.connect() as conn:
        teams = sorted(r[0] for r in await conn.execute(text("SELECT team_id FROM slack_bots")))
    assert teams == [T1, T2]

    # On Enterprise Grid one user id can be in two workspaces: still two separate members.
    standin.add_user("WSAME", T1, name="Grid User")
    await slack.send.ask("log Priya Patel when: 2 days ago notes: T1 only", user="WSAME", team=T1)
    other = await slack.send.ask("contacts", user="WSAME", team=T2)
    assert "No contacts yet" in other and "Priya" not in other
    await slack.send.ask("log Kim Lee when: 2 days ago", user="WSAME", team=T2)

    dms = await standin.wait_for("chat.postMessage", lambda c: "Time to thank" in c.blocks_text(), count=2)
    by_team = {c.team: c.blocks_text() for c in dms}
    assert "Priya Patel" in by_team[T1] and "Kim Lee" not in by_team[T1]
    assert "Kim Lee" in by_team[T2] and "Priya" not in by_team[T2]
    # Every Web API call for a workspace used that workspace's own token.
    assert all(c.team in (T1, T2) for c in standin.calls if c.method in ("chat.postMessage", "users.info"))

    # Uninstalled from T2: its installation rows go, so its DMs now fail for good.
    assert (await slack.send.event({"type": "app_uninstalled"}, team=T2)).status == 200
    async with slack.app.engine.connect() as conn:
        teams = sorted(r[0] for r in await conn.execute(text("SELECT team_id FROM slack_bots")))
    assert teams == [T1]

    # A workspace that never installed Rapport is refused.
    refused = await slack.send.command("help", user="U9", team="T9")
    assert refused.status != 200 or "Rapport" not in refused.body


async def test_socket_mode_answers_over_the_websocket(start_slack_app, standin):
    slack = await start_slack_app(socket_mode=True, signing_secret=False)  # not needed here
    payload = {
        "token": "legacy", "team_id": T1, "team_domain": "t1", "channel_id": "C1", "channel_name": "general",
        "user_id": "U1", "user_name": "ann", "command": "/rapport", "text": "add Jane Doe company: Acme",
        "api_app_id": "A0RAPPORT", "response_url": standin.response_url(), "trigger_id": "13345.1.abc",
    }
    ack = await standin.push("slash_commands", payload)
    assert "Added Jane Doe" in json.dumps(ack.get("payload"))
    # Socket Mode serves no /slack/events: nothing from outside can post to it.
    async with slack.http.post(f"{slack.base}/slack/events", data=b"{}") as resp:
        assert resp.status in (404, 405)
    async with slack.http.get(f"{slack.base}/health") as resp:
        assert resp.status == 200
