"""Introductions on Slack: the intro channel post and its buttons, the know-someone modal,
double opt-in with a group DM. Nothing here is intro-specific in the adapter: it is the
generic button, form and Platform plumbing, exercised by the core's intro flow."""

from __future__ import annotations

import json
import re


def action_ids(call) -> list[str]:
    return [e["action_id"] for b in call.params.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


async def test_open_request_offers_and_double_opt_in(slack):
    ask, standin = slack.send.ask, slack.standin
    refused = await ask("admin channel <#C0INTRO|intros>", user="U1")
    assert "organizer" in refused.lower()
    assert "Intro requests will be posted in" in await ask("admin channel <#C0INTRO|intros>", user="UADMIN")

    await ask("goal product marketing at a B2B SaaS company", user="U1")
    await ask("intro product marketing at a B2B SaaS company note: private <!channel> note", user="U1")
    post = (await standin.wait_for("chat.postMessage", lambda c: c.params["channel"] == "C0INTRO"))[0]
    posted = post.blocks_text()
    assert "Ann Seeker is looking for an introduction" in posted and "private" not in posted  # never the notes
    glad, know = (next(a for a in action_ids(post) if a.startswith(p)) for p in ("intro:glad:", "intro:know:"))
    message = {"text": post.params["text"], "blocks": post.params["blocks"]}

    # "I know someone": a modal, then a DM to the seeker with a pitch naming the referrer.
    await slack.send.press(know, user="U2", message=message, channel="C0INTRO")
    opened = await standin.wait_for("views.open", lambda c: c.params["view"]["callback_id"].startswith("form:intro-offer:"))
    answer = await slack.send.submit(opened[0].params["view"], {"name": "Bob Li", "company": "Acme", "reach": "bob@acme.com"},
                                     user="U2")
    assert answer.status == 200 and not answer.body.strip()
    await standin.wait_for("response_url", lambda c: "I've sent Ann Seeker the details" in c.blocks_text())
    dm = await standin.wait_for("chat.postMessage", lambda c: c.params["channel"] == "DU1" and "knows someone: Bob Li" in c.blocks_text())
    assert "Ben Helper" in dm[0].blocks_text() and "```" in dm[0].blocks_text()

    # "I'd be glad to chat": answered to the helper only; the shared post is left as it is.
    await slack.send.press(glad, user="U2", message=message, channel="C0INTRO")
    thanks = await standin.wait_for("response_url", lambda c: "I've told Ann Seeker" in c.blocks_text())
    assert thanks[0].params["response_type"] == "ephemeral" and not thanks[0].params.get("replace_original")
    await standin.wait_for("chat.postMessage", lambda c: c.params["channel"] == "DU1" and "would be glad to chat" in c.blocks_text())

    # Double opt-in: Ben gets a DM with Accept / Not now; Accept opens a group DM.
    await ask("intro <@U2|ben> note: twenty minutes about PMM", user="U1")
    offer = (await standin.wait_for("chat.postMessage", lambda c: c.params["channel"] == "DU2"
                                    and "asked for an introduction to you" in c.blocks_text()))[0]
    accept = next(a for a in action_ids(offer) if a.startswith("intro:accept:"))
    await slack.send.press(accept, user="U2", message={"blocks": offer.params["blocks"]}, channel="DU2")
    opened = await standin.wait_for("conversations.open", lambda c: set(c.params["users"].split(",")) == {"U1", "U2"})
    group = (await standin.wait_for("chat.postMessage", lambda c: c.params["channel"].startswith("G")))[0]
    assert "Ann Seeker" in group.blocks_text() and opened
    replaced = await standin.wait_for("response_url", lambda c: c.params.get("replace_original") is True)
    assert "opening a conversation" in json.dumps(replaced[-1].params)
    assert not re.search(r"<!channel>", json.dumps([c.params for c in standin.calls]))
