"""Spam limits (issue 10, item 3), through the core's front door, on both databases:
`landed` tells each person once in 30 days, offers and direct asks are bounded per member
per day, and one member can't use up someone's monthly capacity alone."""

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from core import limits
from core.models import IntroOffer
from core.service import Actor
from core.ui import plain_text
from tests.integration.test_intros import FakePlatform, ok, sweep

NAMES = {"carol": "Carol Jones", "bob": "Bob Builder", "alice": "Alice Example", "dave": "Dave Doe", "erin": "Erin Eve",
         **{f"h{i}": f"Helper {i}" for i in range(8)}}


def asker(user_id: str) -> Actor:
    return Actor("console", "local", user_id, display_name=NAMES[user_id])


@pytest.fixture
def platform():
    return FakePlatform()


@pytest.fixture
def carol():
    return asker("carol")


@pytest.fixture
def org():
    return Actor("console", "local", "org", display_name="Olga Organizer", is_organizer=True)


async def run(core, actor, text):
    mentions = {w[2:-1]: NAMES.get(w[2:-1]) for w in text.split() if w.startswith("<@") and w.endswith(">")}
    return await core.run_text(actor, text, mentions)


def landed_notes(fake: FakePlatform) -> list[str]:
    return sorted(m.reply.title for m in fake.dms if m.kind == "landed")


def thanks_to(fake: FakePlatform, user_id: str) -> list[str]:
    return [m.reply.title for m in fake.dms if m.kind == "notice" and m.recipient.user_id == user_id]


# --- landed -------------------------------------------------------------------------


async def test_landed_again_tells_nobody_twice_within_30_days(core, alice, carol, platform, clock):
    await ok(core, alice, "add Jane Doe referred-by: <@carol>")
    await ok(core, alice, "log Jane Doe when: yesterday thanked: yes")
    first = await ok(core, alice, "landed Product Marketing Manager at Acme")
    assert "Jane Doe" in dict(first.fields)["Notes to send"] and dict(first.fields)["Thanked for you"] == "Carol Jones"
    await sweep(core, clock, platform)
    assert landed_notes(platform) == ["Tell Jane Doe where you landed"]
    assert thanks_to(platform, "carol") == ["Alice Example landed!"]

    # A typo fixed, then a different place the same week: no one hears it again.
    platform.dms.clear()
    for text in ("landed Product Marketing Manager at Acme Inc", "landed Senior PMM at Globex"):
        clock.advance(days=2)
        again = await ok(core, alice, text)
        fields = dict(again.fields)
        assert "Notes to send" not in fields and "Thanked for you" not in fields, fields
        assert fields["Already told in the last 30 days"] == "Carol Jones, Jane Doe"
        assert "I won't message them again so soon" in again.text
        assert "same people twice within 30 days" in again.context
        await sweep(core, clock, platform)
    assert platform.dms == []

    # Someone met since is told; the others still aren't.
    await ok(core, alice, "log Bob Li when: today 9am thanked: yes")
    third = await ok(core, alice, "landed Senior PMM at Globex")
    assert dict(third.fields)["Notes to send"] == "Bob Li"
    assert dict(third.fields)["Already told in the last 30 days"] == "Carol Jones, Jane Doe"
    await sweep(core, clock, platform)
    assert landed_notes(platform) == ["Tell Bob Li where you landed"] and thanks_to(platform, "carol") == []


async def test_landed_a_new_job_after_30_days_is_news_again(core, alice, carol, platform, clock, sessionmaker):
    await ok(core, alice, "add Jane Doe referred-by: <@carol>")
    await ok(core, alice, "log Jane Doe when: yesterday thanked: yes")
    await ok(core, alice, "landed PMM at Acme")
    await sweep(core, clock, platform)
    note = next(m for m in platform.dms if m.kind == "landed")
    await ok(core, alice, f"done {note.nudge_id}")  # the note was sent

    clock.advance(days=31)
    platform.dms.clear()
    reply = await ok(core, alice, "landed Head of Marketing at Initech")
    assert dict(reply.fields)["Notes to send"] == "Jane Doe" and "Already told in the last 30 days" not in dict(reply.fields)
    await sweep(core, clock, platform)
    assert landed_notes(platform) == ["Tell Jane Doe where you landed"]
    assert thanks_to(platform, "carol") == ["Alice Example landed!"]


# --- offers ---------------------------------------------------------------------------


async def test_offers_are_bounded_per_day_and_the_refusal_says_when(core, alice, carol, org, platform, clock, sessionmaker):
    await ok(core, org, "admin channel #intros")
    request = await ok(core, alice, "intro product marketing")
    await sweep(core, clock, platform)
    post = platform.posts[0][2]
    glad, know = post.buttons[0].action_id, post.buttons[1].action_id
    start = clock.now()
    for i in range(limits.OFFERS_PER_DAY):
        form = (await core.press(carol, know)).form
        done = await core.submit(carol, form.form_id, {"name": f"Person {i}"})
        assert not done.error, done.text
        clock.advance(minutes=5)
    # The 11th: the button, a form already open, and "glad to chat" are all refused, in one line.
    lifts = (start + limits.DAY).strftime("%a %-d %b %Y, %H:%M UTC")
    for refused in (await core.press(carol, know), await core.submit(carol, form.form_id, {"name": "Person X"}),
                    await core.press(carol, glad)):
        assert refused.error and refused.form is None
        assert refused.text == (f"You've made {limits.OFFERS_PER_DAY} offers today, the most in a day; you can offer "
                                f"again from {lifts}. Thank you for being so generous!")
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(IntroOffer)) == limits.OFFERS_PER_DAY
    platform.dms.clear()
    await sweep(core, clock, platform)
    assert len([m for m in platform.dms if m.recipient.user_id == "alice"]) == limits.OFFERS_PER_DAY
    assert request.title.startswith("Posted your request R1")

    # Once the oldest offer is a day old, one more fits; then the next lifts five minutes on.
    clock.set(start + limits.DAY + dt.timedelta(seconds=1))
    assert "I've told Alice Example" in (await core.press(carol, glad)).text
    refused = await core.press(carol, know)
    assert refused.error and (start + limits.DAY + dt.timedelta(minutes=5)).strftime("%H:%M UTC") in refused.text


# --- direct asks ----------------------------------------------------------------------


async def test_direct_asks_are_bounded_per_day(core, alice, platform, clock):
    start = clock.now()
    for i in range(limits.DIRECT_ASKS_PER_DAY):
        asked = await run(core, alice, f"intro <@h{i}> note: twenty minutes on PMM?")
        assert not asked.error, asked.text
        await ok(core, alice, f"done R{i + 1}")  # well under three open at a time
        clock.advance(minutes=1)
    refused = await run(core, alice, "intro <@h6> note: twenty minutes on PMM?")
    lifts = (start + limits.DAY).strftime("%a %-d %b %Y, %H:%M UTC")
    assert refused.error and refused.text == (
        f"You've asked {limits.DIRECT_ASKS_PER_DAY} people directly today, the most in a day; you can ask again from "
        f"{lifts}. Meanwhile an open request reaches everyone at once: `/rapport intro <what you seek>`")
    await sweep(core, clock, platform)
    assert "h6" not in {m.recipient.user_id for m in platform.dms}
    clock.set(start + limits.DAY + dt.timedelta(seconds=1))
    assert not (await run(core, alice, "intro <@h6> note: twenty minutes on PMM?")).error


async def test_capacity_is_shared_but_one_member_cannot_use_it_up(core, alice, carol, platform, clock):
    """Carol never ran `offer`: everyone together may ask her twice in 30 days, and each
    member once, so a second ask from Alice doesn't take Dave's turn."""
    dave, erin = asker("dave"), asker("erin")
    assert not (await run(core, alice, "intro <@carol> note: PMM?")).error
    await ok(core, alice, "done R1")
    clock.advance(days=1)
    again = await run(core, alice, "intro <@carol> note: PMM, again?")
    assert again.error and again.text == (
        "You already asked Carol Jones this month; give them room, and ask again from Fri 18 Dec 2026, 15:00 UTC "
        "if you still need to. `/rapport helpers` lists others who offered.")
    assert not (await run(core, dave, "intro <@carol> note: design?")).error
    full = await run(core, erin, "intro <@carol> note: sales?")
    assert full.error and "Carol Jones has been asked twice this month, their limit" in full.text
    await sweep(core, clock, platform)
    assert len([m for m in platform.dms if m.recipient.user_id == "carol"]) == 2
    # The limit is named in the verb's help.
    assert f"{limits.DIRECT_ASKS_PER_DAY} people a day" in plain_text(await ok(core, alice, "help intro"))


async def test_offers_made_at_the_same_moment_still_stop_at_the_limit(core, alice, carol, org, platform, clock, sessionmaker):
    """Two of Carol's offers arriving together at the last free place: one goes in, the other is
    refused (on PostgreSQL each runs in its own transaction; the member's row is locked while
    counting)."""
    await ok(core, org, "admin channel #intros")
    await ok(core, alice, "intro product marketing")
    await sweep(core, clock, platform)
    know = platform.posts[0][2].buttons[1].action_id
    form_id = (await core.press(carol, know)).form.form_id
    for i in range(limits.OFFERS_PER_DAY - 1):
        assert not (await core.submit(carol, form_id, {"name": f"Person {i}"})).error
    for _ in range(3):  # a few tries: the two must overlap at least once
        replies = await asyncio.gather(*(core.submit(carol, form_id, {"name": f"Late {n}"}) for n in range(2)))
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(IntroOffer)) == limits.OFFERS_PER_DAY
        assert sum(not r.error for r in replies) <= 1, [r.text for r in replies]


async def test_an_open_request_does_not_suggest_someone_you_may_not_ask_again(core, alice, org, clock):
    h0, h1 = asker("h0"), asker("h1")
    await ok(core, org, "admin channel #intros")
    for helper in (h0, h1):
        await ok(core, helper, "offer fields: product marketing")
    assert not (await run(core, alice, "intro <@h0> note: twenty minutes on PMM?")).error
    posted = await ok(core, alice, "intro product marketing leaders")
    assert [s.title for s in posted.sections] == ["Helper 1"]  # Helper 0 was asked this month
    clock.advance(days=31)
    await ok(core, alice, "done R2")
    again = await ok(core, alice, "intro product marketing leaders")
    assert sorted(s.title for s in again.sections) == ["Helper 0", "Helper 1"]
