"""Platform side effects after commit, on Slack: an intro request's channel post is carried
out by the dispatcher once the command has answered, so nobody waits on Slack while a
transaction is open; a post that fails for a moment is retried; a command that fails posts
nothing; and with OAuth a cold token cache no longer holds up the answer."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from sqlalchemy import func, select

import core.handlers.intros
from core.models import Effect, IntroRequest, Member
from tests.adapters.slack.conftest import T1, eventually, install

INTRO_CHANNEL = "C0INTRO"
ASK = "intro product marketing at a B2B SaaS company"
QUICK = 1.0  # seconds: "at once"


def to_intro_channel(call) -> bool:
    return call.params.get("channel") == INTRO_CHANNEL


def action_ids(call) -> list[str]:
    return [e["action_id"] for b in call.params.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


async def timed(ask, text: str, user: str) -> tuple[str, float]:
    started = time.monotonic()
    answer = await ask(text, user=user)
    return answer, time.monotonic() - started


async def set_intro_channel(slack) -> None:
    answer = await slack.send.ask(f"admin channel <#{INTRO_CHANNEL}|intros>", user="UADMIN")
    assert "Intro requests will be posted in" in answer


async def the_effect(slack) -> Effect | None:
    async with slack.app.db.read() as session:
        return await session.scalar(select(Effect).order_by(Effect.id.desc()).limit(1))


async def test_a_slow_channel_post_holds_up_nobody(slack):
    ask, standin = slack.send.ask, slack.standin
    await set_intro_channel(slack)
    await ask("goal product marketing at a B2B SaaS company", user="U1")
    # Ben is known (his profile cached), and the process has read a date once: dateparser
    # loads its data on first use (1-2 s), which has nothing to do with what is tested here.
    await ask("scheduled Cy Oh when: tomorrow 10am", user="U2")
    standin.delay("chat.postMessage", 10.0, when=to_intro_channel)

    answer, took = await timed(ask, ASK, "U1")
    asked_at = time.monotonic()
    assert "to #intros" in answer and took < QUICK, (took, answer[:300])
    await standin.wait_until(lambda: [c for c in standin.in_flight if to_intro_channel(c)])

    # While Slack sits on the post, other members' commands answer at once.
    for text, user in (("nudges", "U2"), ("log Jane Doe when: yesterday 3pm notes: SEO", "U2"),
                       ("contacts", "UADMIN"), ("add Cy Oh company: Acme", "UADMIN")):
        answer, took = await timed(ask, text, user)
        assert took < QUICK and ":warning:" not in answer, (text, took, answer[:300])
    assert standin.in_flight and not standin.of("chat.postMessage", to_intro_channel)

    post = (await standin.wait_for("chat.postMessage", to_intro_channel, within=15))[0]
    assert post.at - asked_at >= 9.5
    assert "Ann Seeker is looking for an introduction" in post.blocks_text()

    # Its buttons work: Ben is glad to chat, and Ann hears of it in her DM.
    glad = next(a for a in action_ids(post) if a.startswith("intro:glad:"))
    message = {"text": post.params["text"], "blocks": post.params["blocks"]}
    await slack.send.press(glad, user="U2", message=message, channel=INTRO_CHANNEL)
    await standin.wait_for("response_url", lambda c: "I've told Ann Seeker" in c.blocks_text())
    await standin.wait_for("chat.postMessage", lambda c: c.params["channel"] == "DU1"
                           and "would be glad to chat" in c.blocks_text())


@pytest.mark.parametrize("fault", [{"error": "internal_error", "status": 500}, {"error": "fatal_error", "status": 200}])
async def test_a_channel_post_that_fails_for_a_moment_is_retried_and_lands(slack, fault):
    standin = slack.standin
    await set_intro_channel(slack)
    standin.fail("chat.postMessage", fault["error"], times=2, status=fault["status"], when=to_intro_channel)
    answer = await slack.send.ask(ASK)
    assert "Posted your request" in answer

    # Each failure puts the post back for later (5 s, then 10 s on the app's clock); the
    # test moves the clock rather than sleeping.
    for attempt, wait in ((1, 5), (2, 10)):
        async def backed_off(attempt=attempt):
            effect = await the_effect(slack)
            return effect if effect.status == "pending" and effect.attempts == attempt and effect.last_error else None

        effect = await eventually(backed_off)
        assert len(standin.failed("chat.postMessage", to_intro_channel)) == attempt
        assert fault["error"] in effect.last_error or str(fault["status"]) in effect.last_error
        assert effect.due_at == slack.clock.now() + dt.timedelta(seconds=wait)
        assert not standin.of("chat.postMessage", to_intro_channel)
        slack.clock.advance(seconds=wait)

    post = (await standin.wait_for("chat.postMessage", to_intro_channel))[0]
    assert "Ann Seeker is looking for an introduction" in post.blocks_text()

    async def done():
        effect = await the_effect(slack)
        return effect if effect.status == "done" else None

    await eventually(done)
    async with slack.app.db.read() as session:
        request = await session.scalar(select(IntroRequest))
    assert request.message_ref == post.response["ts"]  # later updates go to this very post
    assert len(standin.of("chat.postMessage", to_intro_channel)) == 1


async def test_a_command_that_fails_after_asking_for_a_post_posts_nothing(slack, monkeypatch):
    await set_intro_channel(slack)

    async def broken(*_args, **_kwargs):
        raise RuntimeError("the helper directory fell over")

    # intro() asks for its channel post, then looks for matching helpers: that fails.
    monkeypatch.setattr(core.handlers.intros, "suggest_helpers", broken)
    answer = await slack.send.ask(ASK)
    assert "Something went wrong" in answer and "nothing was changed" in answer
    await slack.app.dispatcher.sweep()  # a whole sweep, in turn with the scheduled ones
    async with slack.app.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Effect)) == 0
        assert await session.scalar(select(func.count()).select_from(IntroRequest)) == 0
    assert not slack.standin.of("chat.postMessage", to_intro_channel)
    assert not slack.standin.failed("chat.postMessage", to_intro_channel)


# slack-sdk's oauth.v2.access still uses aiohttp.BasicAuth, which aiohttp 3.14 deprecates.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_oauth_with_a_cold_token_cache_answers_an_intro_at_once(start_slack_app, standin):
    slack = await start_slack_app(oauth=True)
    await install(slack, T1)
    await set_intro_channel(slack)
    # Cold: the next bot token for T1 comes from the installation store, read while the
    # command's own transaction may be open (this once deadlocked SQLite).
    slack.runner.listeners.clients.forget(T1)

    started = time.monotonic()
    answer = await slack.send.command(ASK)
    took = time.monotonic() - started
    assert answer.status == 200 and took < QUICK, took
    assert "Posted your request" in answer.body  # in the ack itself, not later at response_url
    post = (await standin.wait_for("chat.postMessage", to_intro_channel, within=5))[0]
    assert post.team == T1 and post.at - started < 3
    assert "Ann Seeker is looking for an introduction" in post.blocks_text()
    async with slack.app.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 2
    assert json.loads(answer.body)["response_type"] == "ephemeral"
