"""Signatures, replays, retries, mentions typed by users, and members kept apart."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time

import aiohttp
from sqlalchemy import func, select

from adapters.slack.runner import start_slack
from bot.app import App
from core.models import ContactRow, Member, SeenEvent
from tests.adapters.slack.conftest import SECRET, SlackHarness, free_port
from tests.adapters.slack.slackreq import SlackSender, sign


async def count(slack, model) -> int:
    async with slack.app.db.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_bad_signature_and_old_timestamp_are_rejected_and_nothing_written(slack):
    body, _ = slack.send.command_body("add Jane Doe")
    calls_before = len(slack.standin.calls)
    forged = await slack.send.post(body, "application/x-www-form-urlencoded", secret="not-the-secret")
    replayed = await slack.send.post(body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 600)
    assert forged.status == 401 and replayed.status == 401
    assert await count(slack, Member) == 0 and await count(slack, ContactRow) == 0
    assert await count(slack, SeenEvent) == 0
    assert len(slack.standin.calls) == calls_before  # not even users.info

    # The same body, signed properly and fresh, goes through.
    ok = await slack.send.post(body, "application/x-www-form-urlencoded")
    assert ok.status == 200 and "Added Jane Doe" in ok.body


async def test_a_retried_request_is_processed_once(slack):
    body, _ = slack.send.command_body("add Jane Doe")
    first = await slack.send.post(body, "application/x-www-form-urlencoded")
    again = await slack.send.post(body, "application/x-www-form-urlencoded", retry=1)
    assert first.status == again.status == 200
    assert "Added Jane Doe" in first.body and not again.body.strip()
    assert await count(slack, ContactRow) == 1

    # Another process sharing the database (no memory of the first): the table says no.
    slack.runner.listeners.seen._recent.clear()
    elsewhere = await slack.send.post(body, "application/x-www-form-urlencoded", retry=2)
    assert elsewhere.status == 200 and not elsewhere.body.strip()
    assert await count(slack, ContactRow) == 1

    # Events are deduplicated by event id, also when the retry is re-signed later.
    event = slack.send.event_body({"type": "app_home_opened", "user": "U1", "tab": "home", "channel": "DU1"},
                                  event_id="Ev0RETRIED")
    for retry in (None, 1, 2):
        assert (await slack.send.post(event, "application/json", retry=retry)).status == 200
    await slack.standin.wait_for("views.publish")
    assert len(slack.standin.of("views.publish")) == 1


@contextlib.asynccontextmanager
async def twin(slack: SlackHarness):
    """A second process on the first one's database: its own app, listener, memory and write gate."""
    settings = slack.app.settings.model_copy(update={"http_port": free_port()})
    app = App(settings, slack.clock)
    await app.open()
    runner = await start_slack(app)
    await app.start_web()
    http = aiohttp.ClientSession()
    base = f"http://127.0.0.1:{app.web.port}"
    try:
        yield SlackHarness(app, runner, slack.standin, SlackSender(f"{base}/slack/events", SECRET, slack.standin, http),
                           slack.clock, base, http)
    finally:
        await http.close()
        await runner.stop()
        await app.close()


async def replay(send: SlackSender, body: str, headers: dict[str, str]):
    """Posts exactly the bytes and headers Slack signed once, as a replaying attacker would."""
    async with send.session.post(send.url, data=body.encode(), headers=headers) as resp:
        return resp.status, await resp.text()


async def test_a_replayed_signed_request_runs_once_in_any_process(slack):
    """No X-Slack-Retry-Num: a captured request sent again within Slack's 5 minutes."""
    body, response_url = slack.send.command_body("log Jane Doe when: 2 days ago")
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body)}
    first = await replay(slack.send, body, headers)
    assert first[0] == 200 and "Logged" in first[1]
    again = await replay(slack.send, body, headers)
    assert again == (200, "")
    async with twin(slack) as other:
        # Another process that never saw it, a moment later (its record is the database's).
        elsewhere = await replay(other.send, body, headers)
        assert elsewhere == (200, "")
        # Both processes at once, for a request neither has seen: one runs it.
        body2, _ = slack.send.command_body("add Ana Ruiz")
        headers2 = {"Content-Type": "application/x-www-form-urlencoded", **sign(SECRET, body2)}
        answers = await asyncio.gather(*(replay(h.send, body2, headers2) for h in (slack, other, slack, other)))
        assert sorted(status for status, _ in answers) == [200] * 4
        assert sum("Added Ana Ruiz" in text for _, text in answers) == 1
        assert [text for _, text in answers].count("") == 3
    await asyncio.sleep(0.5)  # nothing was spawned to answer later either
    assert not [c for c in slack.standin.of("response_url") if response_url.endswith(c.params["key"])]
    assert await count(slack, ContactRow) == 2
    assert "Jane Doe" in await slack.send.ask("contacts")


async def test_a_malformed_timestamp_is_refused_not_crashed_on(slack):
    body, _ = slack.send.command_body("add Jane Doe")
    signature = sign(SECRET, body)["X-Slack-Signature"]
    for timestamp in ("soon", "", "1e9", "12.5", "9" * 5000, "-5", " 170000000 ", "１７００００００００"):
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}
        assert (await replay(slack.send, body, headers))[0] == 401, timestamp
    assert await count(slack, ContactRow) == 0 and await count(slack, SeenEvent) == 0


async def test_mentions_typed_by_users_are_shown_never_executed(slack):
    # With should_escape on, Slack sends a typed "<!channel>" as entities; "@here" arrives
    # as Slack's own markup. Both must reach Slack again as text, not as a broadcast.
    answer = await slack.send.ask("goal &lt;!channel&gt; hiring &amp; <!here> <@U2>")
    assert "&lt;!channel&gt;" in answer and "&lt;!here&gt;" in answer and "&lt;@U2&gt;" in answer
    assert "<!channel>" not in answer and "<!here>" not in answer and "<@U2>" not in answer
    assert "&amp;amp;" not in answer  # unescaped once on the way in, escaped once on the way out

    await slack.send.ask("log Jane <!everyone> when: 2 days ago notes: told me to ping <!channel> & <@U2>")
    dm = (await slack.standin.wait_for("chat.postMessage", lambda c: "Time to thank" in c.blocks_text()))[0]
    posted = dm.blocks_text() + dm.params["text"]
    assert "&lt;!channel&gt;" in posted and "&lt;!everyone&gt;" in posted
    for raw in ("<!channel>", "<!everyone>", "<@U2>"):
        assert raw not in posted


async def test_two_members_of_one_workspace_are_isolated(slack):
    await slack.send.ask("log Priya Patel when: yesterday 3pm notes: secret notes", user="U1")
    theirs = await slack.send.ask("contacts", user="U2")
    assert "No contacts yet" in theirs and "Priya" not in theirs
    assert "You have no contact named Priya Patel" in await slack.send.ask("contact Priya Patel", user="U2")
    ids = lambda answer: set(re.findall(r"nudge:done:(\d+)", answer))  # noqa: E731
    mine = ids(await slack.send.ask("nudges", user="U1"))
    theirs = ids(await slack.send.ask("nudges", user="U2"))  # their own weekly digest only
    assert mine and not mine & theirs
    nudge_id = max(int(x) for x in mine)
    assert "You have no nudge" in await slack.send.ask(f"done {nudge_id}", user="U2")
    await slack.send.press(f"nudge:done:{nudge_id}", user="U2", channel="DU2")
    await slack.standin.wait_for("response_url", lambda c: "You have no nudge" in c.blocks_text())
    assert f"nudge:done:{nudge_id}" in await slack.send.ask("nudges", user="U1")


async def test_health_and_url_verification(slack):
    async with slack.http.get(f"{slack.base}/health") as resp:
        assert resp.status == 200 and (await resp.json())["ok"] is True
    # Slack's check of the Event Subscriptions URL (HTTP mode set-up).
    challenge = '{"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}'
    answer = await slack.send.post(challenge, "application/json")
    assert answer.status == 200 and "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in answer.body


async def test_organizers_and_time_zones_come_from_users_info(slack):
    client = slack.runner.bolt.client
    admin = await slack.runner.listeners.actor("T1", "UADMIN", client)
    member = await slack.runner.listeners.actor("T1", "U1", client)
    assert admin.is_organizer and not member.is_organizer
    assert member.tz == "America/New_York" and member.display_name == "Ann Seeker"
    lookups = len(slack.standin.of("users.info"))
    await slack.runner.listeners.actor("T1", "U1", client)
    assert len(slack.standin.of("users.info")) == lookups  # cached
