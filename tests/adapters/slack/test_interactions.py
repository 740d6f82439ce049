"""Modals, nudge DMs and their buttons, and the App Home, end to end."""

from __future__ import annotations

import json

from sqlalchemy import select

from core.models import Meeting, Nudge


def has_action(call, action_id_prefix: str) -> bool:
    return action_id_prefix in json.dumps(call.params.get("blocks") or call.params.get("view") or {})


async def open_form(slack, verb: str, user: str = "U1") -> dict:
    answer = await slack.send.command(verb, user=user)
    assert answer.status == 200
    calls = await slack.standin.wait_for("views.open", lambda c: c.params["view"]["callback_id"] == f"form:{verb}")
    return calls[-1].params["view"]


async def thank_you_dm(slack, user: str = "U1"):
    """Waits for the thank-you nudge DM and returns (call, nudge id)."""
    calls = await slack.standin.wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == f"D{user}" and "Time to thank" in c.blocks_text()
    )
    call = calls[0]
    action_ids = [e["action_id"] for b in call.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    done = next(a for a in action_ids if a.startswith("nudge:done:"))
    return call, int(done.rsplit(":", 1)[1])


async def test_log_modal_submission_creates_the_meeting(slack):
    view = await open_form(slack, "log")
    answer = await slack.send.submit(view, {"subject": "Jane Doe", "when": "yesterday 3pm", "notes": "SEO", "thanked": "no"})
    assert answer.status == 200 and not answer.body.strip()  # the modal closes
    reply = await slack.standin.wait_for("response_url", lambda c: "Logged your meeting with Jane Doe" in c.blocks_text())
    assert reply[0].params["response_type"] == "ephemeral"
    async with slack.app.db.read() as session:
        meetings = list(await session.scalars(select(Meeting)))
    assert len(meetings) == 1 and meetings[0].notes == "SEO"


async def test_a_modal_error_is_shown_on_its_field(slack):
    view = await open_form(slack, "log")
    answer = await slack.send.submit(view, {"subject": "Jane Doe", "when": "next week"})
    data = answer.json
    assert data["response_action"] == "errors"
    assert list(data["errors"]) == ["when"] and "still to come" in data["errors"]["when"]
    async with slack.app.db.read() as session:
        assert list(await session.scalars(select(Meeting))) == []

    # A date that can't be read: the parser names the field too.
    data = (await slack.send.submit(view, {"subject": "Jane Doe", "when": "the day after never"})).json
    assert list(data["errors"]) == ["when"] and "as a date" in data["errors"]["when"]

    # An error about no one field stays on top of the modal, which keeps its inputs.
    data = (await slack.send.submit(view, {})).json
    assert data["response_action"] == "update"
    updated = data["view"]
    assert updated["callback_id"] == "form:log" and "state" not in updated and "hash" not in updated
    assert "nothing was saved" in json.dumps(updated["blocks"][0]) and ":warning:" in json.dumps(updated["blocks"][0])
    inputs = [b["block_id"] for b in updated["blocks"] if b["type"] == "input"]
    assert inputs == [b["block_id"] for b in view["blocks"] if b["type"] == "input"]


async def test_a_nudge_dm_arrives_with_a_draft_and_working_buttons(slack):
    answer = await slack.send.ask("log Jane Doe when: 2 days ago notes: talked about SEO")
    assert "Logged your meeting with Jane Doe" in answer

    call, nudge_id = await thank_you_dm(slack)
    assert slack.standin.of("conversations.open", lambda c: c.params["users"] == "U1")
    text = call.blocks_text()
    assert "```" in text  # the draft, preformatted to copy
    for action in ("nudge:done:", "nudge:snooze:", "nudge:skip:"):
        assert action in text

    message = {"text": call.params["text"], "blocks": call.params["blocks"]}
    pressed = await slack.send.press(f"nudge:done:{nudge_id}", message=message, channel="DU1")
    assert pressed.status == 200
    replaced = await slack.standin.wait_for("response_url", lambda c: c.params.get("replace_original") is True)
    payload = replaced[0].params
    assert f"Done: #{nudge_id}" in json.dumps(payload)
    assert f"nudge:done:{nudge_id}" not in json.dumps(payload["blocks"])  # the buttons are gone
    async with slack.app.db.read() as session:
        assert (await session.get(Nudge, nudge_id)).status == "done"


async def test_snooze_opens_a_modal_and_moves_the_nudge(slack):
    await slack.send.ask("log Jane Doe when: 2 days ago")
    call, nudge_id = await thank_you_dm(slack)
    await slack.send.press(f"nudge:snooze:{nudge_id}", message={"blocks": call.params["blocks"]}, channel="DU1")
    opened = await slack.standin.wait_for("views.open", lambda c: c.params["view"]["callback_id"] == f"form:snooze:{nudge_id}")
    answer = await slack.send.submit(opened[0].params["view"], {"for": "3 days"})
    assert answer.status == 200 and not answer.body.strip()
    await slack.standin.wait_for("response_url", lambda c: f"Snoozed #{nudge_id}" in c.blocks_text())
    async with slack.app.db.read() as session:
        nudge = await session.get(Nudge, nudge_id)
    assert nudge.status == "pending" and nudge.due_at > slack.clock.now()


async def test_app_home_shows_goal_nudges_meetings_and_refreshes(slack):
    await slack.send.ask("goal product marketing at a B2B SaaS company")
    await slack.send.ask("log Jane Doe when: 2 days ago")
    await slack.send.open_home()
    home = (await slack.standin.wait_for("views.publish", lambda c: c.params["user_id"] == "U1"))[-1]
    view = home.params["view"]
    text = json.dumps(view)
    assert view["type"] == "home"
    for piece in ("B2B SaaS", "Upcoming nudges", "nudge:done:", "Recent meetings", "Jane Doe", "run:log"):
        assert piece in text, piece

    # A change made elsewhere republishes the open Home.
    published = len(slack.standin.of("views.publish"))
    await slack.send.ask("goal developer relations in Berlin")
    await slack.standin.wait_for("views.publish", lambda c: "developer relations in Berlin" in c.blocks_text())
    assert len(slack.standin.of("views.publish")) > published

    # A button on the Home: the outcome shows on top of the refreshed Home.
    nudge_id = int(text.split("nudge:skip:")[1].split('"')[0])
    await slack.send.press(f"nudge:skip:{nudge_id}", view=view)
    await slack.standin.wait_for("views.publish", lambda c: f"Skipped: #{nudge_id}" in c.blocks_text())

    # "Log a meeting" opens the log modal.
    await slack.send.press("run:log", view=view)
    await slack.standin.wait_for("views.open", lambda c: c.params["view"]["callback_id"] == "form:log")


async def test_a_home_for_someone_new_welcomes_without_creating_them(slack):
    await slack.send.open_home(user="U2")
    home = (await slack.standin.wait_for("views.publish", lambda c: c.params["user_id"] == "U2"))[0]
    assert "Welcome to Rapport" in home.blocks_text()
    async with slack.app.db.read() as session:
        from core.models import Member

        assert list(await session.scalars(select(Member))) == []


async def test_forget_me_button_confirms_in_place(slack):
    await slack.send.ask("add Jane Doe")
    answer = await slack.send.ask("forget-me")
    assert "forget:confirm" in answer
    await slack.send.press("forget:confirm", channel="C1", ephemeral=True)
    await slack.standin.wait_for("response_url", lambda c: "all your data is deleted" in c.blocks_text())
    assert "No contacts yet" in await slack.send.ask("contacts")


async def test_a_link_button_is_acked_and_nothing_else(slack):
    link = await slack.send.press("link:0123456789abcdef", channel="DU1")
    assert link.status == 200 and not link.body.strip()
    # A real button pressed after it is answered; the link's press never was.
    await slack.send.press("gone:away:1", channel="DU1")
    await slack.standin.wait_for("response_url", lambda c: "no longer in use" in c.blocks_text())
    assert not slack.standin.of("response_url", lambda c: link.response_url.endswith(c.params["key"]))
    assert len(slack.standin.of("users.info")) == 1  # only for the second press: the link reached no one


async def test_an_unknown_button_is_answered_not_crashed(slack):
    await slack.send.press("gone:away:1", channel="DU1")
    await slack.standin.wait_for("response_url", lambda c: "no longer in use" in c.blocks_text())
