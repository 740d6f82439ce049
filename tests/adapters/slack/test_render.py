"""Block Kit rendering: escaping, Slack's limits, modals and their values."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from adapters.slack import render
from adapters.slack.platform import classify
from core.ports import PermanentError, RateLimited, TransientError
from core.ui import Button, Field, Form, Reply, Section


@given(st.text(max_size=300))
def test_escape_round_trips_and_leaves_no_control_characters(text):
    escaped = render.escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert render.unescape(escaped) == text


def test_everything_from_a_reply_is_escaped_before_our_mrkdwn():
    evil = "<!channel> & <@U1> <https://x|y>"
    reply = Reply(title=evil, text=evil, fields=((evil, evil),), draft=evil,
                  sections=(Section(title=evil, text=evil, fields=((evil, evil),)),), context=evil)
    dumped = json.dumps(render.message(reply))
    for raw in ("<!channel>", "<@U1>", "<https://"):
        assert raw not in dumped
    assert "*&lt;!channel&gt; &amp; &lt;@U1&gt;" in dumped  # bold title, escaped inside
    assert "```&lt;!channel&gt;" in dumped  # the draft, preformatted


def test_long_replies_stay_within_slack_limits():
    sections = tuple(Section(title=f"#{i}", text="x" * 500, buttons=(Button("Done", f"nudge:done:{i}"),)) for i in range(80))
    blocks = render.reply_blocks(Reply(title="Many", text="y" * 7000, sections=sections, context="c"))
    assert len(blocks) <= render.MESSAGE_BLOCKS
    assert all(len(b.get("text", {}).get("text", "")) <= render.SECTION_TEXT for b in blocks)
    assert "more not shown" in json.dumps(blocks)
    home = render.home_view(Reply(title="Rapport", sections=sections))
    assert len(home["blocks"]) <= render.VIEW_BLOCKS


def test_entities_are_never_cut_in_half():
    cut = render.clip(render.escape("a" * 97 + "<<<<"), 100)
    assert cut.endswith("…") and not cut.rstrip("…").endswith(("&", "&l", "&lt"))


def test_an_action_id_appears_once_per_surface():
    b = Button("Done", "nudge:done:1")
    blocks = render.reply_blocks(Reply(sections=(Section(text="a", buttons=(b,)),), buttons=(b,)))
    ids = [e["action_id"] for blk in blocks if blk["type"] == "actions" for e in blk["elements"]]
    assert ids == ["nudge:done:1"]


def test_a_form_becomes_a_modal_and_its_submission_maps_back():
    form = Form("form:log", "Log a meeting with someone important", (
        Field("subject", "Who?", required=True, max_length=100),
        Field("notes", "Notes", kind="long", max_length=4000),
        Field("thanked", "Thanked?", kind="select", options=("no", "yes"), initial="no"),
        Field("digest", "Digest", kind="bool"),
    ), "Log it")
    view = render.modal(form, hint="Or type `/rapport log Jane`", metadata={"response_url": "http://x"})
    assert view["callback_id"] == "form:log" and len(view["title"]["text"]) <= 24
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert inputs["subject"]["optional"] is False and inputs["notes"]["element"]["max_length"] == 3000
    assert inputs["thanked"]["element"]["initial_option"]["value"] == "no"
    assert json.loads(view["private_metadata"]) == {"response_url": "http://x"}
    state = {"values": {
        "subject": {"subject": {"type": "plain_text_input", "value": "Jane"}},
        "notes": {"notes": {"type": "plain_text_input", "value": None}},
        "thanked": {"thanked": {"type": "static_select", "selected_option": {"value": "yes"}}},
        "digest": {"digest": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}},
    }}
    assert render.view_values({"state": state}) == {"subject": "Jane", "thanked": "yes", "digest": "yes"}


def test_an_error_about_no_field_goes_on_top_of_the_modal_keeping_its_inputs():
    form = Form("form:log", "Log a meeting", (Field("subject", "Who?"), Field("when", "When?")))
    submitted = {**render.modal(form, hint="Or type it"), "id": "V1", "hash": "h", "state": {"values": {}},
                 "team_id": "T1", "app_id": "A1"}
    assert render.input_keys(submitted) == ["subject", "when"]
    view = render.with_error(submitted, "No <good> & no bad")
    assert not {"id", "hash", "state", "team_id", "app_id"} & set(view)  # Slack refuses those in an update
    assert view["callback_id"] == "form:log" and render.input_keys(view) == ["subject", "when"]
    assert view["blocks"][0]["block_id"] == render.ERROR_BLOCK
    assert "No &lt;good&gt; &amp; no bad" in json.dumps(view["blocks"][0])
    again = render.with_error(view, "Second")  # a second error replaces the first
    assert [b.get("block_id") for b in again["blocks"]].count(render.ERROR_BLOCK) == 1


def test_a_link_button_opens_its_url_and_never_reaches_the_core():
    reply = Reply(buttons=(Button("Open your calendar", url="https://example.org/cal/secret"), Button("Done", "nudge:done:1")))
    elements = [e for b in render.reply_blocks(reply) if b["type"] == "actions" for e in b["elements"]]
    link, done = elements
    assert link["url"] == "https://example.org/cal/secret" and render.is_link(link["action_id"])
    assert "value" not in link and "secret" not in link["action_id"]
    assert done["action_id"] == "nudge:done:1" and not render.is_link(done["action_id"])
    assert render.post(reply)["unfurl_links"] is False and render.post(reply)["unfurl_media"] is False


def test_outcome_replaces_only_the_pressed_buttons():
    reply = Reply(title="Time to thank Jane", draft="Dear Jane", buttons=(Button("Done", "nudge:done:7"),))
    blocks = render.reply_blocks(reply)
    after = render.outcome_blocks(blocks, "act:nudge:done:7", "Done: #7 <thanks>")
    dumped = json.dumps(after)
    assert "nudge:done:7" not in dumped and "Done: #7 &lt;thanks&gt;" in dumped and "Dear Jane" in dumped


class _Response(dict):
    def __init__(self, status, data, headers=None):
        super().__init__(data)
        self.status_code, self.headers = status, headers or {}


def test_slack_errors_become_the_cores_delivery_errors():
    from slack_sdk.errors import SlackApiError

    def err(status, code, headers=None):
        return SlackApiError("x", _Response(status, {"ok": False, "error": code}, headers))

    limited = classify(err(429, "ratelimited", {"Retry-After": "42"}))
    assert isinstance(limited, RateLimited) and limited.retry_after == 42
    for code in ("user_not_found", "account_inactive", "cannot_dm_bot", "channel_not_found", "is_archived", "invalid_auth"):
        assert isinstance(classify(err(200, code)), PermanentError), code
    assert isinstance(classify(err(500, "internal_error")), TransientError)
    assert isinstance(classify(TimeoutError()), TransientError)


async def test_sends_to_one_workspace_are_paced_and_workspaces_dont_wait_for_each_other():
    import time

    from adapters.slack.platform import Throttle

    throttle = Throttle(rate=50.0, burst=2)
    started = time.monotonic()
    for _ in range(7):  # 2 at once, then 5 at 50/s: about 0.1 s
        await throttle.wait("T1")
    paced = time.monotonic() - started
    started = time.monotonic()
    await throttle.wait("T2")
    assert paced >= 0.09 and time.monotonic() - started < 0.01
