"""Mentions are platform facts. With should_escape on, Slack writes a mention picked from
its list as ``<@U123|name>`` in the command text and escapes what a member typed
(``&lt;@U2&gt;``). Only the first kind, confirmed by users.info to be a person of the same
workspace, can make the bot reach anyone."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.models import ContactRow, Member
from tests.adapters.slack.conftest import T1, T2

NOT_A_MEMBER = "I can only reach people in this community that you @-mention"


async def member_ids(slack) -> set[str]:
    async with slack.app.db.read() as session:
        return set(await session.scalars(select(Member.user_id)))


def one_line_refusal(answer: str) -> str:
    data = json.loads(answer)
    assert data.get("response_type") == "ephemeral" and ":warning:" in json.dumps(data["blocks"])
    assert "\n" not in data["text"].strip(), data["text"]
    return data["text"]


def reached(slack, user: str) -> bool:
    """Whether the bot DMed ``user`` or opened a conversation with them."""
    return bool(slack.standin.of("chat.postMessage", lambda c: c.params.get("channel") == f"D{user}")
                or slack.standin.of("conversations.open", lambda c: user in c.params.get("users", "").split(",")))


@pytest.mark.parametrize("typed", ["&lt;@U2&gt;", "&lt;@U2|ben&gt;"])
async def test_a_typed_mention_cant_make_the_bot_reach_anyone(slack, typed):
    await slack.send.ask("goal product marketing", user="U1")
    assert NOT_A_MEMBER in one_line_refusal(await slack.send.ask(f"intro {typed} note: twenty minutes?"))
    assert NOT_A_MEMBER in one_line_refusal(await slack.send.ask(f"add Jane Doe referred-by: {typed}"))
    await slack.app.dispatcher.sweep()
    assert not reached(slack, "U2")
    assert await member_ids(slack) == {"U1"}  # no member row for U2
    assert not slack.standin.of("users.info", lambda c: c.params.get("user") == "U2")  # never even looked up

    # Typed where a member isn't meant, it is just text, shown as typed.
    answer = await slack.send.ask(f"goal meet {typed} someday")
    assert "Goal set" in answer and "&lt;@U2" in answer and "<@U2" not in answer


async def test_real_mentions_of_outsiders_deleted_users_and_bots_are_refused(slack, standin):
    standin.add_user("U9", T2, name="Zed Elsewhere")
    standin.add_user("UGONE", T1, name="Gone Person")["deleted"] = True
    standin.add_user("UBOT2", T1, name="Some Bot")["is_bot"] = True
    for user_id, name in (("U9", "zed"), ("UGONE", "gone"), ("UBOT2", "somebot"), ("UNOBODY", "nobody")):
        answer = await slack.send.ask(f"intro <@{user_id}|{name}> note: twenty minutes about PMM")
        assert NOT_A_MEMBER in one_line_refusal(answer), user_id
        assert any(c.method == "users.info" and c.params.get("user") == user_id for c in slack.standin.calls)  # checked
        log = await slack.send.ask(f"log <@{user_id}|{name}> when: yesterday 3pm")
        assert NOT_A_MEMBER in one_line_refusal(log), user_id
    await slack.app.dispatcher.sweep()
    assert await member_ids(slack) == set()  # a refused command writes nothing, not even Ann
    for user_id in ("U9", "UGONE", "UBOT2"):
        assert not reached(slack, user_id)
    async with slack.app.db.read() as session:
        assert list(await session.scalars(select(ContactRow))) == []


async def test_a_real_mention_of_a_teammate_asks_them(slack):
    await slack.send.ask("goal product marketing at a B2B SaaS company", user="U1")
    # Slack's label is whatever the picker showed; the name Rapport uses is users.info's.
    answer = await slack.send.ask("intro <@U2|benny> note: twenty minutes about PMM")
    assert "Asked Ben Helper" in answer, answer[:400]
    dm = (await slack.standin.wait_for("chat.postMessage", lambda c: c.params["channel"] == "DU2"
                                       and "asked for an introduction to you" in c.blocks_text()))[0]
    assert "Ann Seeker" in dm.blocks_text() and "intro:accept:" in dm.blocks_text()
    async with slack.app.db.read() as session:
        ben = await session.scalar(select(Member).where(Member.user_id == "U2"))
    assert ben.workspace_id == T1 and ben.display_name == "Ben Helper"

    # A mention without a label works too, and links a logged contact to the member.
    logged = await slack.send.ask("log <@U2> when: yesterday 3pm notes: PMM", user="U1")
    assert "Logged your meeting with Ben Helper" in logged, logged[:400]
    async with slack.app.db.read() as session:
        contact = await session.scalar(select(ContactRow).where(ContactRow.linked_user_id == "U2"))
    assert contact is not None and contact.name == "Ben Helper"


async def test_a_mention_typed_into_a_modal_is_text_not_a_member(slack):
    """Slack leaves what a member types in a modal as it is (no escaping, no mentions): a
    ``<@U2>`` there is text, so it names nobody, and nobody is looked up."""
    await slack.send.command("add", user="U1")
    opened = await slack.standin.wait_for("views.open", lambda c: c.params["view"]["callback_id"] == "form:add")
    for typed in ("<@U2>", "<@U2|ben>"):
        data = (await slack.send.submit(opened[0].params["view"], {"subject": typed, "company": "Acme"}, user="U1")).json
        assert data["response_action"] in ("errors", "update") and NOT_A_MEMBER in json.dumps(data), data
    assert await member_ids(slack) == set()  # a refused form writes nothing, not even Ann
    assert not slack.standin.of("users.info", lambda c: c.params.get("user") == "U2")
    async with slack.app.db.read() as session:
        assert list(await session.scalars(select(ContactRow))) == []


async def test_a_button_naming_another_workspaces_member_asks_nobody(slack, standin):
    """``intro:ask:<member>:<request>`` carries a member: one of another workspace is refused."""
    from core.service import Actor

    standin.add_user("U9", T2, name="Zed Elsewhere")
    zed = Actor("slack", T2, "U9", display_name="Zed Elsewhere")
    assert not (await slack.app.core.run_text(zed, "offer fields: product marketing")).error
    async with slack.app.db.read() as session:
        zed_id = await session.scalar(select(Member.id).where(Member.user_id == "U9"))
    await slack.send.ask("admin channel <#C0INTRO|intros>", user="UADMIN")
    assert "Posted your request R1" in await slack.send.ask("intro product marketing leaders", user="U1")

    action = f"intro:ask:{zed_id}:1"
    await slack.send.press(action, user="U1", message={"blocks": [{"type": "actions", "block_id": "b1", "elements": [
        {"type": "button", "action_id": action, "text": {"type": "plain_text", "text": "Ask Zed"}}]}]}, channel="C1",
        ephemeral=True)
    told = await slack.standin.wait_for("response_url", lambda c: "no longer in use" in c.blocks_text())
    assert told[0].params["response_type"] == "ephemeral"
    await slack.app.dispatcher.sweep()
    assert not reached(slack, "U9")
    async with slack.app.db.read() as session:
        assert (await session.scalar(select(Member).where(Member.user_id == "U9"))).workspace_id == T2
        assert len(list(await session.scalars(select(Member).where(Member.user_id == "U9")))) == 1
