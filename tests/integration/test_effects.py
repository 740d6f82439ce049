"""Platform side effects after commit (the outbox): nothing is posted by a command that rolls
back, nothing waits on a platform with a transaction open, a post that fails for a moment
is retried, a post's reference is written back for later updates. Both databases."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from core.dispatch import Dispatcher
from core.models import Effect, IntroRequest
from core.ports import RateLimited, TransientError
from core.service import Actor
from core.ui import plain_text

ORG = Actor("console", "local", "org", display_name="Olga", is_organizer=True)


class Platform:
    """A platform whose channel posts can be slowed down or made to fail."""

    def __init__(self):
        self.posts, self.updates, self.dms = [], [], []
        self.failures: list[Exception] = []  # raised by the next posts, in order
        self.gate: asyncio.Event | None = None  # when set, posts wait for it

    async def deliver(self, message):
        self.dms.append(message)

    async def post_channel(self, workspace_id, channel_id, reply):
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        self.posts.append(reply)
        return f"ts{len(self.posts)}"

    async def update_channel_post(self, workspace_id, channel_id, message_ref, reply):
        self.updates.append((message_ref, reply))

    async def open_conversation(self, workspace_id, user_ids, reply, channel_id=None):
        return "G1"


async def ask(core, alice, what="data roles"):
    assert not (await core.run_text(ORG, "admin channel #intros")).error
    reply = await core.run_text(alice, f"intro {what}")
    assert not reply.error, reply.text
    return reply


async def effects(sessionmaker):
    async with sessionmaker() as s:
        return list(await s.scalars(select(Effect).order_by(Effect.id)))


async def test_the_post_goes_out_after_commit_and_its_reference_is_kept(core, alice, db, clock, sessionmaker):
    platform = Platform()
    await ask(core, alice)
    assert not platform.posts
    result = await Dispatcher(db, clock, {"console": platform}, "UTC").sweep()
    assert result.sent >= 1 and len(platform.posts) == 1
    assert "is looking for an introduction" in plain_text(platform.posts[0])
    async with sessionmaker() as s:
        assert (await s.scalar(select(IntroRequest.message_ref))) == "ts1"
    assert [e.status for e in await effects(sessionmaker)] == ["done"]


async def test_a_command_that_fails_after_asking_for_a_post_posts_nothing(core, alice, db, clock, sessionmaker, monkeypatch):
    from core.handlers import intros

    async def broken(ctx, what):
        raise RuntimeError("a bug after the post was asked for")

    monkeypatch.setattr(intros, "suggest_helpers", broken)
    await core.run_text(ORG, "admin channel #intros")
    reply = await core.run_text(alice, "intro data roles")
    assert reply.error and "nothing was changed" in reply.text
    platform = Platform()
    await Dispatcher(db, clock, {"console": platform}, "UTC").sweep()
    assert not platform.posts and await effects(sessionmaker) == []


async def test_a_post_that_fails_twice_for_a_moment_is_retried_and_lands(core, alice, db, clock, sessionmaker):
    platform = Platform()
    platform.failures = [TransientError("HTTP 500"), TransientError("internal_error")]
    dispatcher = Dispatcher(db, clock, {"console": platform}, "UTC")
    await ask(core, alice)
    assert (await dispatcher.sweep()).retried == 1
    assert (await dispatcher.sweep()).claimed == 0  # backing off
    clock.advance(seconds=5)
    assert (await dispatcher.sweep()).retried == 1
    clock.advance(seconds=10)
    await dispatcher.sweep()
    assert len(platform.posts) == 1
    (effect,) = await effects(sessionmaker)
    assert effect.status == "done" and effect.attempts == 3


async def test_a_rate_limit_is_waited_out(core, alice, db, clock, sessionmaker):
    platform = Platform()
    platform.failures = [RateLimited(20)]
    dispatcher = Dispatcher(db, clock, {"console": platform}, "UTC")
    await ask(core, alice)
    await dispatcher.sweep()
    clock.advance(seconds=19)
    assert (await dispatcher.sweep()).claimed == 0
    clock.advance(seconds=2)
    await dispatcher.sweep()
    assert len(platform.posts) == 1


async def test_closed_before_the_first_post_is_posted_closed_once(core, alice, db, clock):
    platform = Platform()
    await ask(core, alice)
    assert not (await core.run_text(alice, "done R1")).error
    await Dispatcher(db, clock, {"console": platform}, "UTC").sweep()
    assert len(platform.posts) == 1 and not platform.updates
    assert "found what they needed" in platform.posts[0].title and not platform.posts[0].buttons


async def test_a_slow_platform_holds_up_no_command(core, alice, bob, db, clock):
    platform = Platform()
    platform.gate = asyncio.Event()
    await ask(core, alice)
    sweep = asyncio.ensure_future(Dispatcher(db, clock, {"console": platform}, "UTC").sweep())
    await asyncio.sleep(0.05)  # the sweep is now waiting on the platform
    assert not sweep.done()
    for text in ("log Jane Doe when: yesterday 3pm notes: pricing", "nudges", "intro design roles"):
        reply = await asyncio.wait_for(core.run_text(bob, text), timeout=2)
        assert not reply.error, reply.text
    platform.gate.set()
    await sweep
    assert len(platform.posts) == 1
    await Dispatcher(db, clock, {"console": platform}, "UTC").sweep()
    assert len(platform.posts) == 2  # Bob's request, after Alice's


async def test_an_update_waits_for_its_first_post(core, alice, db, clock, sessionmaker):
    """A close while the first post is in flight updates that post once it exists."""
    platform = Platform()
    platform.gate = asyncio.Event()
    await ask(core, alice)
    first = asyncio.ensure_future(Dispatcher(db, clock, {"console": platform}, "UTC").sweep())
    await asyncio.sleep(0.05)
    assert not (await core.run_text(alice, "done R1")).error
    second = Dispatcher(db, clock, {"console": platform}, "UTC")
    await second.sweep()  # the close's sync sees the post in flight and waits
    assert not platform.posts and not platform.updates
    platform.gate.set()
    await first
    clock.advance(seconds=3)
    await second.sweep()
    assert len(platform.posts) == 1 and len(platform.updates) == 1
    ref, reply = platform.updates[0]
    assert ref == "ts1" and "found what they needed" in reply.title
