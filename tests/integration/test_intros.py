"""Introductions, the helper directory, landed, and the organizers' verbs (core, both databases)."""

import datetime as dt
import re

import pytest

from core.dispatch import Dispatcher
from core.ports import PermanentError
from core.service import Actor
from core.ui import plain_text
from tests.integration.helpers import contact, nudges_of

UTC = dt.UTC


class FakePlatform:
    """Records what the core asks of a platform; DMs come through the dispatcher."""

    def __init__(self):
        self.posts, self.updates, self.conversations, self.dms = [], [], [], []
        self.fail_posts = False

    async def deliver(self, message):
        self.dms.append(message)
        return None

    async def post_channel(self, workspace_id, channel_id, reply):
        if self.fail_posts:
            raise PermanentError("not_in_channel")
        self.posts.append((workspace_id, channel_id, reply))
        return f"ts{len(self.posts)}"

    async def update_channel_post(self, workspace_id, channel_id, message_ref, reply):
        self.updates.append((channel_id, message_ref, reply))

    async def open_conversation(self, workspace_id, user_ids, reply, channel_id=None):
        self.conversations.append((user_ids, reply, channel_id))
        return "G1"


NAMES = {"carol": "Carol Jones", "bob": "Bob Builder", "alice": "Alice Example"}
MENTIONS = re.compile(r"<@!?([A-Za-z0-9._-]+)(?:\|[^>]*)?>")


@pytest.fixture
def platform():
    return FakePlatform()


def verified(text):
    """What an adapter passes: the mentions in ``text``, as if the platform vouched for them."""
    return {m: NAMES.get(m) for m in MENTIONS.findall(text)}


@pytest.fixture
def org():
    return Actor("console", "local", "org", display_name="Olga Organizer", is_organizer=True)


@pytest.fixture
def carol():
    return Actor("console", "local", "carol", display_name="Carol Jones")


async def sweep(core, clock, platform):
    """What the dispatcher does after commands commit: channel posts, conversations, DMs."""
    await Dispatcher(core.db, clock, {"console": platform}, "UTC").sweep()


async def ok(core, actor, text):
    reply = await core.run_text(actor, text, verified(text))
    assert not reply.error, reply.text
    return reply


async def test_intro_needs_a_channel_set_by_an_organizer(core, alice, org, platform):
    reply = await core.run_text(alice, "intro product marketing at a B2B SaaS company")
    assert reply.error and "an organizer must set one first" in reply.text
    refused = await core.run_text(alice, "admin channel #intros")
    assert refused.error and "Only organizers" in refused.text
    await ok(core, org, "admin channel <#C0INTROS|intros>")
    assert "#intros" in (await ok(core, alice, "intro product marketing at a B2B SaaS company")).title


async def test_open_request_offers_and_close(core, alice, bob, carol, org, platform, sessionmaker, clock, db):
    await ok(core, org, "admin channel <#C0INTROS|intros>")
    await ok(core, alice, "goal product marketing at a B2B SaaS company")
    await core.run_text(alice, "add Bob Li company: Old Co")  # a namesake the offer will update
    reply = await ok(core, alice, "intro product marketing at a B2B SaaS company note: private detail")
    assert not platform.posts  # nothing is posted before the command commits and the dispatcher runs
    await sweep(core, clock, platform)
    (_, channel, post), = platform.posts
    assert channel == "C0INTROS"
    text = plain_text(post)
    assert "Alice Example is looking for an introduction" in text and "product marketing" in text
    assert "private detail" not in text  # channel posts carry only the goal and the ask
    glad, know = post.buttons
    assert (glad.label, know.label) == ("I'd be glad to chat", "I know someone")
    # The seeker can't offer on their own request.
    assert (await core.press(alice, glad.action_id)).error
    # Bob is glad to chat; Carol knows someone.
    assert "I've told Alice Example" in (await core.press(bob, glad.action_id)).text
    # An offer cancels the one-week "no offers yet" nudge.
    assert not [x for x in await nudges_of(sessionmaker, "alice") if x.kind == "intro-stale"]
    form = (await core.press(carol, know.action_id)).form
    assert [f.key for f in form.fields] == ["name", "company", "role", "reach", "note"]
    done = await core.submit(carol, form.form_id, {"name": "bob li", "company": "Acme", "role": "PMM lead",
                                                   "reach": "bob@acme.test", "note": "tell him I sent you"})
    assert not done.error and "named as the referrer" in done.text
    dms = [m for m in (await _notices(core, clock, platform)) if m.recipient.user_id == "alice"]
    by_title = {m.reply.title: m.reply for m in dms}
    know_dm = by_title["Carol Jones knows someone: Bob Li"]
    assert "I was referred to you by Carol Jones" in know_dm.draft
    assert "bob@acme.test" in know_dm.text and "tell him I sent you" in know_dm.text
    assert "Bob Builder would be glad to chat" in by_title
    bob_li = await contact(sessionmaker, "Bob Li")
    assert bob_li.company == "Old Co"  # kept: only empty fields are filled
    assert bob_li.role == "PMM lead" and bob_li.email == "bob@acme.test" and bob_li.referred_by_member_id is not None
    shown = plain_text(await ok(core, alice, "contact Bob Li"))
    assert "Bob Li ← Carol Jones (community)" in shown
    # The seeker closes the request: the channel post is updated, buttons gone.
    close = reply.buttons[0]
    assert "Closed R1" in (await core.press(alice, close.action_id)).text
    await sweep(core, clock, platform)
    (_, ref, updated), = platform.updates
    assert ref == "ts1" and not updated.buttons and "found what they needed" in updated.title
    assert (await core.press(bob, glad.action_id)).error  # closed


async def _notices(core, clock, platform):
    platform.dms.clear()
    await sweep(core, clock, platform)
    return [m for m in platform.dms if m.kind == "notice"]


async def test_open_request_goes_stale_after_a_week_without_offers(core, alice, org, platform, sessionmaker, clock, db):
    await ok(core, org, "admin channel #intros")
    await ok(core, alice, "intro someone in climate tech")
    clock.advance(days=7)
    platform.dms.clear()
    await sweep(core, clock, platform)
    stale = [m for m in platform.dms if m.kind == "intro-stale"]
    assert stale and "narrow" not in stale[0].reply.title and "too broad" in stale[0].reply.text


async def test_three_open_requests_at_most(core, alice, org, platform, sessionmaker):
    await ok(core, org, "admin channel #intros")
    for what in ("a", "b", "c"):
        await ok(core, alice, f"intro people in field {what}")
    refused = await core.run_text(alice, "intro people in field d")
    assert refused.error and "3 open requests (R1, R2, R3)" in refused.text and "`/rapport done R1`" in refused.text
    await ok(core, alice, "done R2")
    await ok(core, alice, "intro people in field d")


async def test_channel_post_refused_for_good_is_told_to_the_seeker(core, alice, org, platform, sessionmaker, clock):
    await ok(core, org, "admin channel #intros")
    platform.fail_posts = True
    await ok(core, alice, "intro data roles")
    notices = await _notices(core, clock, platform)
    (told,) = [m for m in notices if m.recipient.user_id == "alice"]
    assert "couldn't be posted" in told.reply.title and "#intros" in told.reply.text and "admin channel" in told.reply.text
    assert not platform.posts
    assert (await sweep(core, clock, platform)) is None and not platform.posts  # not retried forever


async def test_double_opt_in_accepted_opens_a_conversation(core, alice, carol, org, platform, sessionmaker, clock):
    await ok(core, org, "admin channel <#C0INTROS|intros>")
    await ok(core, alice, "goal data analyst roles in Portland")
    await ok(core, alice, "intro <@carol> note: curious how you moved into analytics")
    notices = await _notices(core, clock, platform)
    (ask,) = [m for m in notices if m.recipient.user_id == "carol"]
    text = plain_text(ask.reply)
    assert "twenty minutes" in text and "not a job" in text and "data analyst roles in Portland" in text
    accept, decline = ask.reply.buttons
    assert (await core.press(alice, accept.action_id)).error  # only Carol answers
    assert "opening a conversation" in (await core.press(carol, accept.action_id)).text
    assert not platform.conversations
    notices = await _notices(core, clock, platform)
    (users, starter, channel), = platform.conversations
    assert users == ["alice", "carol"] and channel == "C0INTROS"
    assert "Alice Example, meet Carol Jones" in starter.text
    assert any("Carol Jones accepted" in m.reply.title for m in notices if m.recipient.user_id == "alice")


async def test_double_opt_in_declined_is_kind_and_blocks_for_30_days(core, alice, carol, platform, sessionmaker, clock):
    await ok(core, alice, "intro <@carol|carol> note: my secret plan")
    ask = [m for m in await _notices(core, clock, platform) if m.recipient.user_id == "carol"][0]
    _, decline = ask.reply.buttons
    assert "without any detail" in (await core.press(carol, decline.action_id)).text
    told = [m for m in await _notices(core, clock, platform) if m.recipient.user_id == "alice"][0]
    assert "can't make time right now" in told.reply.title
    assert "secret" not in plain_text(told.reply) and "busy" in told.reply.text
    refused = await core.run_text(alice, "intro <@carol> note: again?", verified("<@carol>"))
    assert refused.error and "said not now recently" in refused.text and "Fri 18 Dec 2026" in refused.text
    clock.advance(days=31)
    await ok(core, alice, "intro <@carol> note: again?")


async def test_double_opt_in_lapses_quietly_after_a_week(core, alice, carol, platform, sessionmaker, clock):
    await ok(core, alice, "intro <@carol>")
    ask = [m for m in await _notices(core, clock, platform) if m.recipient.user_id == "carol"][0]
    clock.advance(days=8)
    late = await core.press(carol, ask.reply.buttons[0].action_id)
    assert "lapsed" in late.text and not platform.conversations
    assert not [m for m in await _notices(core, clock, platform) if m.recipient.user_id == "alice"]


async def test_helper_directory_capacity_and_suggestions(core, alice, bob, carol, org, platform, sessionmaker, clock):
    await ok(core, org, "admin channel #intros")
    await ok(core, carol, "offer fields: product marketing, SaaS companies: Acme per-month: 1")
    await ok(core, bob, "offer fields: design per-month: 3")
    listing = plain_text(await ok(core, alice, "helpers"))
    assert "Carol Jones" in listing and "1 of 1 left" in listing and "Bob Builder" in listing
    assert "Bob Builder" not in plain_text(await ok(core, alice, "helpers marketing"))
    reply = await ok(core, alice, "intro product marketing at a SaaS company")
    assert [s.title for s in reply.sections] == ["Carol Jones", "Bob Builder"]  # field match first
    # Ask Carol straight from the suggestion.
    ask_button = reply.sections[0].buttons[0]
    assert "Asked Carol Jones" in (await core.press(alice, ask_button.action_id)).title
    # Carol is at capacity now: not suggested, and a direct ask says when it lifts.
    dave = Actor("console", "local", "dave", display_name="Dave")
    again = await ok(core, dave, "intro product marketing")
    assert [s.title for s in again.sections] == ["Bob Builder"]
    refused = await core.run_text(dave, "intro <@carol>", verified("<@carol>"))
    assert refused.error and "asked 1 times this month" not in refused.text and "their limit" in refused.text
    assert "Fri 18 Dec 2026" in refused.text
    assert "0 of 1 left" in plain_text(await ok(core, alice, "helpers"))
    await ok(core, carol, "offer off")
    assert "Carol" not in plain_text(await ok(core, alice, "helpers"))


async def test_landed_thanks_everyone_on_the_chain(core, alice, carol, platform, sessionmaker, clock, db):
    await ok(core, alice, "add Jane Doe referred-by: <@carol>")
    await ok(core, alice, "log Jane Doe when: yesterday thanked: yes referrals: Bob Li")
    await ok(core, alice, "log Bob Li when: today 9am thanked: yes")
    await ok(core, alice, "add Not Met")
    reply = await ok(core, alice, "landed Product Marketing Manager at Acme")
    assert "Bob Li, Jane Doe" in plain_text(reply) and "Carol Jones" in plain_text(reply)
    platform.dms.clear()
    await sweep(core, clock, platform)
    landed = {m.reply.title: m.reply for m in platform.dms if m.kind == "landed"}
    assert set(landed) == {"Tell Jane Doe where you landed", "Tell Bob Li where you landed"}
    assert "Product Marketing Manager at Acme" in landed["Tell Bob Li where you landed"].draft
    assert "introduction through Jane Doe" in landed["Tell Bob Li where you landed"].draft
    thanks = [m for m in platform.dms if m.kind == "notice" and m.recipient.user_id == "carol"]
    assert thanks and "landed" in thanks[0].reply.title
    # The list stays until each is done.
    pending = [x for x in await nudges_of(sessionmaker, "alice", status=("sent",)) if x.kind == "landed"]
    assert len(pending) == 2


async def test_admin_stats_on_known_data(core, alice, bob, carol, org, platform, sessionmaker, clock):
    await ok(core, org, "admin channel #intros")
    refused = await core.run_text(alice, "admin stats")
    assert refused.error and "Only organizers" in refused.text
    await ok(core, alice, "log Jane when: today 9am thanked: yes")
    await ok(core, bob, "log Zed when: today 8am")  # not thanked
    await ok(core, alice, "intro a first request")
    await ok(core, bob, "intro an unanswered request")
    clock.advance(hours=3)
    await core.press(carol, "intro:glad:1")
    stats = await ok(core, org, "admin stats")
    recent = dict(stats.sections[0].fields)
    assert recent["Active members"] == "2"
    assert recent["Meetings logged"] == "2"
    assert recent["Intro requests with an offer"] == "1 of 2 (50%)"
    assert recent["Median time to first offer"] == "3.0 h"
    assert recent["Thank-yous within 24 h"] == "1 of 2 (50%)"
    assert recent["Failed nudges"] == "0"
    assert stats.sections[1].title == "All time"
    assert "Jane" not in plain_text(stats)  # aggregates only


async def test_communities_are_isolated(core, alice, platform, sessionmaker):
    other_org = Actor("console", "other", "org2", is_organizer=True)
    await ok(core, other_org, "admin channel #elsewhere")
    reply = await core.run_text(alice, "intro a thing")
    assert reply.error and "organizer must set one first" in reply.text
