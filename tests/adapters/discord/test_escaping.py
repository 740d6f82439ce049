"""Hostile text on Discord (issue 10, item 9), through the stand-in: what a member typed
shows as typed (no disguised links, no bold, no mentions), sends ping nobody, and an
accepted introduction reaches both people even with no intro channel, or a deleted one."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from adapters.discord.render import inert
from core.models import Member, Nudge
from tests.adapters.discord.conftest import buttons_of, channel_post, eventually, text_of
from tests.adapters.discord.standin import EPHEMERAL

HOSTILE = "[click here](https://evil.example/login) **bold** __under__ ~~gone~~ ||spoiler|| @everyone @here <@{id}>"
HOSTILE_NOTE = "# Big header\n> a quote\n- a list [x](https://evil.example) `[y](https://evil.example)` https://ok.example/a_b"


AUTOLINK = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]")  # where Discord makes a plain link (it swallows backticks)


def segments(text: str) -> list[tuple[str, str]]:
    """``text`` read left to right as Discord does: ("escaped", c) for a backslash-escaped
    character, ("link", url) for a plain link, ("code", body) for an inline code span,
    ("raw", c) for anything else."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and not text[i + 1].isalnum() and not text[i + 1].isspace():
            out.append(("escaped", text[i + 1]))
            i += 2
        elif link := AUTOLINK.match(text, i):
            out.append(("link", link.group(0)))
            i = link.end()
        elif c == "`" and (end := text.find("`", i + 1)) > i + 1 and "\n" not in text[i:end]:
            out.append(("code", text[i + 1 : end]))
            i = end + 1
        else:
            out.append(("raw", c))
            i += 1
    return out


def live_markdown(text: str) -> list[str]:
    """What Discord would render as markup in ``text``: escaped characters, plain links and
    code spans are inert; any masked link, emphasis, mention or block markup left is not."""
    text = text.replace("\u200b", "\0")  # "@\u200beveryone" is text
    text = re.sub(r"```\n.*?\n```", "\x01", text, flags=re.DOTALL)  # a draft's code block
    text = text.replace("**Draft** (copy, edit, send):", "")  # the renderer's own label
    parts = segments(text)
    # A masked link wins over the plain link inside it.
    found = re.findall(r"\[[^\]\n]*\]\([^)\n]*\)", "".join(c if kind in ("raw", "link") else "\x01" for kind, c in parts))
    text = "".join(c if kind == "raw" else "\x01" for kind, c in parts)
    found += re.findall(r"\*\*|__|~~|\|\||(?<!\w)\*\S|<[@#&!:]|@everyone|@here", text)
    found += re.findall(r"^\s*(?:#{1,3}\s|>\s|-\s|-#)", text, re.MULTILINE)
    return found


def shown(text: str, *, in_links: bool = False) -> str:
    """What a member reads: escapes resolved, code spans as they are, zero-width spaces gone.
    ``in_links``: escapes inside a plain link resolved too (Discord shows them there, as
    backslashes: only in a link to no real host, which a reader can't follow anyway)."""
    def piece(kind: str, c: str) -> str:
        if kind == "code":
            return f"`{c}`"
        return re.sub(r"\\([^A-Za-z0-9\s])", r"\1", c) if kind == "link" and in_links else c

    return "".join(piece(kind, c) for kind, c in segments(text)).replace("\u200b", "")


def parts(message: dict) -> list[str]:
    """The markdown-rendering parts of a message's embeds (footers render none)."""
    out = []
    for embed in message.get("embeds", []):
        out += [embed.get("title") or "", embed.get("description") or ""]
        for item in embed.get("fields", []):
            out += [item["name"], item["value"]]
    return [p for p in out if p]


def assert_inert(message: dict) -> None:
    for part in parts(message):
        assert not live_markdown(part), (live_markdown(part), part)


async def say(standin, user, guild, verb, options=None, resolve=()) -> str:
    answer = await standin.answer_to(await standin.command(user, guild, verb, options or {}, resolve=resolve))
    assert answer.kind == "message" and answer.message["flags"] & EPHEMERAL, answer
    assert_inert(answer.message)
    return text_of(answer.message)


def no_pings(call) -> None:
    mentions = call.body["allowed_mentions"]
    assert mentions["parse"] == [] and not mentions.get("users") and not mentions.get("roles"), mentions


async def test_a_request_with_markdown_and_mentions_is_posted_inert(standin, start_bot):
    organizer = standin.user("Olga Organizer")
    alice = standin.user("Alice Example", nick="**Alice** [me](https://evil.example)")
    priya = standin.user("Priya Raman")
    guild = standin.guild("Alumni", [organizer, alice, priya], organizers=(organizer,))
    intros = guild.channel("intros")
    await start_bot()

    # The core's own commands stay code.
    refused = await say(standin, alice, guild, "intro", {"what": "design"})
    assert "`/rapport admin channel #intros`" in refused, refused
    await say(standin, organizer, guild, "admin channel", {"channel": intros})
    await say(standin, alice, guild, "goal", {"text": "**PMM** at [Acme](https://evil.example) @everyone"})

    what = HOSTILE.format(id=priya.id)
    reply = await say(standin, alice, guild, "intro", {"what": what, "note": HOSTILE_NOTE})
    assert what in shown(reply)
    post = await channel_post(standin, intros)
    assert_inert(post)
    assert what in shown(text_of(post)) and "**PMM** at [Acme](https://evil.example) @everyone" in shown(text_of(post))
    assert "**Alice** [me](https://evil.example) is looking for an introduction" in shown(text_of(post))
    assert "https://ok.example" not in text_of(post)  # the note stays private
    for call in standin.calls_to("POST", rf"/channels/{intros['id']}/messages"):
        no_pings(call)

    # Priya glad to chat: her reply shows Alice's note, inert; Alice's DM shows the ask, inert.
    answer = await standin.answer_to(await standin.press(priya, post, buttons_of(post)["I'd be glad to chat"]))
    assert answer.kind == "message", answer
    assert_inert(answer.message)
    note = shown(text_of(answer.message))
    assert "# Big header\n> a quote\n- a list [x](https://evil.example)" in note, note
    assert "`[y](https://evil.example)` https://ok.example/a_b" in note
    dm = await standin.until(lambda: next(iter(standin.dm_messages(alice)), None), within=8, what="Alice's DM")
    assert_inert(dm)
    assert what in shown(text_of(dm))
    for call in standin.calls_to("POST", rf"/channels/{standin.dm_channels[alice.id]}/messages"):
        no_pings(call)


async def accept(standin, seeker, helper, guild, note: str) -> None:
    await say(standin, seeker, guild, "intro", {"member": helper, "note": note}, resolve=(helper,))
    ask = await standin.until(lambda: next((m for m in standin.dm_messages(helper) if "Accept" in buttons_of(m)), None),
                              within=8, what="the ask")
    assert_inert(ask)
    answer = await standin.answer_to(await standin.press(helper, ask, buttons_of(ask)["Accept"]))
    assert "opening a conversation" in text_of(answer.message), text_of(answer.message)


def introduction(standin, user) -> dict | None:
    return next((m for m in standin.dm_messages(user) if "An introduction" in text_of(m)), None)


async def assert_introduced_by_dm(standin, alice, carol, note: str) -> None:
    for person, other in ((alice, carol), (carol, alice)):
        dm = await standin.until(lambda p=person: introduction(standin, p), within=8, what=f"{person.name}'s introduction")
        assert dm["content"] == f"Your introduction to <@{other.id}>. Send them a message here on Discord to say hello."
        assert "Alice Example, meet Carol Helper" in text_of(dm)
        assert note in shown(text_of(dm))
        assert_inert(dm)
        assert dm["_allowed_mentions"]["parse"] == []
    for person in (alice, carol):  # and no word of failure, or of trying again
        for message in standin.dm_messages(person):
            assert not re.search(r"couldn't|try again|in a minute", text_of(message), re.IGNORECASE), text_of(message)


async def test_accept_with_no_intro_channel_introduces_both_by_dm(standin, start_bot):
    alice = standin.user("Alice Example")
    carol = standin.user("Carol Helper")
    guild = standin.guild("Alumni", [alice, carol])
    await start_bot()

    note = "20 minutes about [PMM](https://evil.example)? **please**"
    await accept(standin, alice, carol, guild, note)
    await assert_introduced_by_dm(standin, alice, carol, note)
    assert not standin.calls_to("POST", r"/channels/\d+/threads")


async def test_accept_after_the_intro_channel_was_deleted_introduces_both_by_dm(standin, start_bot):
    organizer = standin.user("Olga Organizer")
    alice = standin.user("Alice Example")
    carol = standin.user("Carol Helper")
    guild = standin.guild("Alumni", [organizer, alice, carol], organizers=(organizer,))
    intros = guild.channel("intros")
    await start_bot()
    await say(standin, organizer, guild, "admin channel", {"channel": intros})
    del standin.channels[int(intros["id"])]  # deleted on Discord; the bot's cache still has it

    await accept(standin, alice, carol, guild, "a chat about PMM?")
    await assert_introduced_by_dm(standin, alice, carol, "a chat about PMM?")
    assert [c.status for c in standin.calls_to("POST", rf"/channels/{intros['id']}/threads")] == [404]


async def test_with_the_intro_channel_the_introduction_is_still_a_private_thread(standin, start_bot):
    organizer = standin.user("Olga Organizer")
    alice = standin.user("Alice Example")
    carol = standin.user("Carol Helper")
    guild = standin.guild("Alumni", [organizer, alice, carol], organizers=(organizer,))
    intros = guild.channel("intros")
    await start_bot()
    await say(standin, organizer, guild, "admin channel", {"channel": intros})

    await accept(standin, alice, carol, guild, "a chat about **PMM**?")
    thread = await standin.until(lambda: next((m for m in standin.messages.values() if "An introduction" in text_of(m)), None),
                                 within=8, what="the thread's first message")
    assert standin.channels[int(thread["channel_id"])]["parent_id"] == intros["id"]
    assert thread["content"] == f"<@{alice.id}> <@{carol.id}>"
    assert {str(u) for u in thread["_allowed_mentions"]["users"]} == {str(alice.id), str(carol.id)}
    assert thread["_allowed_mentions"]["parse"] == []
    assert_inert(thread)
    assert introduction(standin, alice) is None and introduction(standin, carol) is None


async def test_when_neither_can_get_dms_both_are_told_what_to_do(standin, start_bot, engine):
    """No intro channel and both DMs closed: nothing reaches them on Discord, and the notice
    the dispatcher leaves each of them says what to do instead, not to wait and retry."""
    alice = standin.user("Alice Example")
    carol = standin.user("Carol Helper")
    guild = standin.guild("Alumni", [alice, carol])
    await start_bot()
    await say(standin, alice, guild, "intro", {"member": carol, "note": "PMM?"}, resolve=(carol,))
    ask = await standin.until(lambda: next((m for m in standin.dm_messages(carol) if "Accept" in buttons_of(m)), None),
                              within=8, what="the ask")
    standin.dms_closed |= {alice.id, carol.id}
    await standin.answer_to(await standin.press(carol, ask, buttons_of(ask)["Accept"]))

    async def notices():
        async with engine.connect() as conn:
            rows = (await conn.execute(
                select(Member.user_id, Nudge.payload).join(Member, Member.id == Nudge.member_id).where(Nudge.kind == "notice")
            )).all()
        return {u: p for u, p in rows if p and p.get("title") == "I couldn't open your introduction's conversation"}

    told = await eventually(notices, within=8, what="the failure notices")
    assert set(told) == {str(alice.id), str(carol.id)}
    text = told[str(carol.id)]["text"]
    assert "Message each other directly: you'll find each other in the member list." in text
    assert "an organizer can check that I'm allowed to message members here" in text
    assert not re.search(r"try again|in a minute|intro channel", text, re.IGNORECASE), text


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(list("ab 1.\n*_~|`[]()<>@#&!:-+\\/") + ["https://", "x.co", "everyone", "here"]), max_size=40))
def test_any_text_is_shown_as_typed_and_nothing_in_it_is_live(pieces):
    text = "".join(pieces)
    rendered = inert(text)
    if "://" in text:  # Discord's plain link may take in an escape meant for the text after it
        assert shown(rendered, in_links=True).replace("\\", "") == text.replace("\\", "")
    else:
        assert shown(rendered) == text
    assert not live_markdown(rendered), (text, rendered)
