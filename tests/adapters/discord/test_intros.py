"""An open intro request on Discord, end to end (issue 6): the organizer picks the channel,
a member asks, another presses "I know someone" and fills the form, the seeker gets a DM
with a draft naming the referrer, and the organizer's stats count the offer."""

from __future__ import annotations

from tests.adapters.discord.conftest import buttons_of, channel_post, text_of
from tests.adapters.discord.standin import EPHEMERAL


async def say(standin, user, guild, verb, options=None) -> tuple[str, dict]:
    answer = await standin.answer_to(await standin.command(user, guild, verb, options or {}))
    assert answer.kind == "message" and answer.message["flags"] & EPHEMERAL, answer
    return text_of(answer.message), answer.message


async def test_i_know_someone_reaches_the_seeker_with_the_referrer_named_and_counts_in_stats(standin, start_bot):
    organizer = standin.user("Olga Organizer")
    alice = standin.user("Alice Example")
    priya = standin.user("Priya Raman", nick="Priya R")
    guild = standin.guild("Alumni", [organizer, alice, priya], organizers=(organizer,))
    intros = guild.channel("intros")
    await start_bot()

    # 1. The organizer picks the intro channel.
    text, _ = await say(standin, organizer, guild, "admin channel", {"channel": intros})
    assert "Intro requests will be posted in #intros" in text

    # 2. Alice asks; the request lands in #intros with its two buttons, pinging nobody.
    what = "product marketing at a B2B SaaS company"
    text, _ = await say(standin, alice, guild, "intro", {"what": what})
    assert "#intros" in text
    post = await channel_post(standin, intros)  # after the commit, on the dispatcher's sweep
    posts = standin.calls_to("POST", rf"/channels/{intros['id']}/messages")
    assert len(posts) == 1 and posts[0].status == 200
    mentions = posts[0].body["allowed_mentions"]
    assert mentions["parse"] == [] and not mentions.get("users") and not mentions.get("roles")
    assert not mentions.get("replied_user")
    assert what in text_of(post)
    buttons = buttons_of(post)
    assert set(buttons) == {"I'd be glad to chat", "I know someone"}

    # 3. Priya presses "I know someone" and names Bob Li in the form.
    answer = await standin.answer_to(await standin.press(priya, post, buttons["I know someone"]))
    assert answer.kind == "modal", answer
    form = answer.modal["custom_id"]
    assert form.startswith("form:intro-offer:")
    sent = await standin.submit(priya, guild, form, {"name": "Bob Li", "company": "Acme"}, channel_id=int(intros["id"]))
    answer = await standin.answer_to(sent)
    assert answer.kind == "message" and answer.message["flags"] & EPHEMERAL
    assert "with you named as the referrer" in text_of(answer.message)

    # 4. Within a few dispatcher sweeps Alice gets a DM naming Bob Li, the draft naming Priya.
    dm = await standin.until(
        lambda: next((m for m in standin.dm_messages(alice) if "Bob Li" in text_of(m)), None),
        within=8,
        what="Alice's DM about Bob Li",
    )
    dm_text = text_of(dm)
    assert "I was referred to you by Priya R" in dm_text, dm_text
    assert "Acme" in dm_text
    assert not standin.dm_messages(priya)

    # 5. The organizer's stats count one request, answered.
    text, _ = await say(standin, organizer, guild, "admin stats")
    assert "Intro requests with an offer: 1 of 1 (100%)" in text, text
