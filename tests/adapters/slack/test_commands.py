"""Every verb of SPEC.md through `/rapport`: a signed slash command in, the ephemeral answer
out (in the ack, or at the command's response_url)."""

from __future__ import annotations

import json
import re

import pytest

VERBS_WITH_FORMS = ("log", "add", "scheduled", "reached-out", "intro", "settings")


def nudge_ids(answer: str) -> list[int]:
    return sorted({int(x) for x in re.findall(r"nudge:done:(\d+)", answer)})


async def test_every_verb_answers_ephemerally(slack):
    ask = slack.send.ask
    expectations = [
        ("help", ["Rapport: your informational-interview coach", "/rapport log"]),
        ("help log", ["/rapport log", "Usage"]),
        ("goal product marketing at a B2B SaaS company", ["Goal set", "product marketing at a B2B SaaS company"]),
        ("goal", ["Your goal", "B2B SaaS"]),
        ("add Jane Doe company: Acme role: PM referred-by: Bob Li", ["Added Jane Doe"]),
        ("contact Jane Doe", ["Jane Doe", "Acme"]),
        ("reached-out Ana Ruiz via: email", ["you reached out to Ana Ruiz"]),
        ("replied Ana Ruiz", ["Ana Ruiz replied"]),
        ("scheduled Cy Oh when: tomorrow 10am where: Blue Bottle", ["Meeting with Cy Oh is on the calendar"]),
        ("prep Cy Oh", ["Your prep kit for Cy Oh", "The two asks"]),
        ("log Jane Doe when: yesterday 3pm notes: talked about SEO", ["Logged your meeting with Jane Doe", "Thank-you note"]),
        ("contacts", ["Your contacts", "Jane Doe", "Ana Ruiz", "Cy Oh"]),
        ("nudges", ["Your nudges", "nudge:done:", "nudge:snooze:", "nudge:skip:"]),
        ("settings tz: Europe/Berlin", ["Settings saved", "Europe/Berlin"]),
        ("forget-me", ["Delete all your Rapport data?", "forget:confirm"]),
        ("frobnicate", ["I don't know the command", ":warning:"]),
    ]
    for text, wanted in expectations:
        answer = await ask(text)
        for piece in wanted:
            assert piece in answer, f"/rapport {text}: {piece!r} not in {answer[:600]}"

    ids = nudge_ids(await ask("nudges"))
    assert len(ids) >= 3
    assert "Done: #" in await ask(f"done {ids[0]}")
    assert f"Snoozed #{ids[1]}" in await ask(f"snooze {ids[1]} for: 2 days")
    assert "Skipped: #" in await ask(f"skip {ids[2]}")

    export = await ask("export")
    assert "Your data export" in export and "DM" in export
    await slack.standin.wait_for("files.completeUploadExternal", lambda c: c.params.get("channel_id") == "DU1")

    more = [
        ("intro product marketing at a B2B SaaS company", ["an organizer must set one first"]),
        ("offer fields: marketing per-month: 2", ["helper directory"]),
        ("helpers marketing", ["Helpers (1)", "Ann Seeker"]),
        ("landed Product Marketing Manager at Acme", ["Congratulations!"]),
        ("admin channel #intros", ["Only organizers can do that"]),
        ("admin stats", ["Only organizers can do that"]),
    ]
    for text, wanted in more:
        answer = await ask(text)
        for piece in wanted:
            assert piece in answer, f"/rapport {text}: {piece!r} not in {answer[:600]}"
    assert "Community stats" in await ask("admin stats", user="UADMIN")  # an admin in users.info


@pytest.mark.parametrize("verb", VERBS_WITH_FORMS)
async def test_creating_verbs_without_arguments_open_a_modal(slack, verb):
    answer = await slack.send.command(verb)
    assert answer.status == 200 and not answer.body.strip(), answer  # an empty ack: the modal is the answer
    call = (await slack.standin.wait_for("views.open", lambda c: c.params["view"]["callback_id"] == f"form:{verb}"))[0]
    view = call.params["view"]
    assert view["type"] == "modal" and len(view["title"]["text"]) <= 24
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert inputs and all(b["block_id"] == b["element"]["action_id"] for b in inputs)


async def test_bad_input_is_one_line_and_ephemeral(slack):
    answer = await slack.send.ask("log Jane Doe when: next week")
    data = json.loads(answer)
    assert data.get("response_type") in (None, "ephemeral")
    assert "still to come" in answer and ":warning:" in answer


async def test_settings_shows_the_platform_time_zone(slack):
    answer = await slack.send.ask("settings digest: off")
    assert "America/New_York (from the platform)" in answer
