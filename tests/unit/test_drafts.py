"""The drafts read like a person wrote them: one short, complete point from the notes at
most, a marked blank for the member's own words, no line breaks inside a sentence, the
referrer named, never a job asked for."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import drafts

TZ = ZoneInfo("America/Los_Angeles")
NOW = dt.datetime(2026, 12, 4, 17, 0, tzinfo=dt.UTC)
RAW = ("Bob said Initech PMMs own pricing pages; learn Figma basics; read Obviously Awesome by April Dunford, "
       "then come back with questions about the pricing page teardown he mentioned")


def member(**kw):
    base = dict(id=1, platform="console", workspace_id="local", user_id="me", display_name="Dana Reyes",
                goal="product marketing at a B2B SaaS company", tz=None, platform_tz=None, quiet_start="21:00",
                quiet_end="08:00", stay_in_touch_days=90, dm_channel_id=None, landed_text=None)
    return SimpleNamespace(**{**base, **kw})


def contact(name="Bob Li", **kw):
    base = dict(id=2, name=name, company="Initech", role=None, email=None, referrals_pending=False,
                referred_by_contact_id=None, referred_by_member_id=None)
    return SimpleNamespace(**{**base, **kw})


def meeting(notes=RAW, days_ago=1):
    return SimpleNamespace(id=3, at=NOW - dt.timedelta(days=days_ago), where=None, notes=notes, opportunities=None,
                           thanked_at=None)


def every_draft(notes=RAW, goal="product marketing at a B2B SaaS company"):
    m, c, mt = member(goal=goal), contact(), meeting(notes)
    since = drafts.MonthSince(met_on_advice=["Ana Ruiz"], other_meetings=2)
    return {
        "thank-you": drafts.thank_you_draft(m, c, mt, ["Ana Ruiz", "Cy Oh"], TZ, NOW),
        "update-referrer": drafts.update_referrer_draft(m, "Jane Doe", c, mt, TZ, NOW),
        "check-back": drafts.check_back_draft(m, c, mt, TZ, NOW),
        "second-thank-you": drafts.second_thank_you_draft(m, c, mt, since),
        "follow-up": drafts.follow_up_draft(m, c, NOW - dt.timedelta(days=7), "Jane Doe", TZ, promised=True),
        "pitch": drafts.pitch_draft(m, "Bob Li", "Jane Doe"),
        "glad": drafts.glad_to_chat_draft(m, "Carol Jones", "product marketing"),
        "stay-in-touch": drafts.stay_in_touch_draft(m, c, mt),
        "landed": drafts.landed_draft(m, c, "Product Marketing Manager at Acme", ["Bob Li", "Jane Doe"]),
    }


def test_the_thank_you_takes_one_complete_point_not_the_raw_notes():
    draft = every_draft()["thank-you"]
    assert "One thing I'm taking away: Initech PMMs own pricing pages." in draft
    assert "Bob said" not in draft and "Figma" not in draft and "…" not in draft
    assert drafts.THEIR_WORDS in draft  # a marked blank for the member's own words
    assert "Thank you too for suggesting I talk with Ana Ruiz and Cy Oh" in draft


@pytest.mark.parametrize(
    ("notes", "expected"),
    [
        ("talked about SEO", "what you shared about SEO."),
        ("- Learn Figma basics\n- read Obviously Awesome", "I'm taking your advice to heart: learn Figma basics."),
        ("She suggested I learn SQL before applying.", "I'm taking your advice to heart: learn SQL before applying."),
        ("Great chat. Most PMMs start in sales", "One thing I'm taking away: most PMMs start in sales."),
        ("How did he get into PMM? luck", None),
        ("x" * 200, None),
        ("", None),
    ],
)
def test_whatever_the_member_typed_the_thank_you_is_grammatical(notes, expected):
    draft = drafts.thank_you_draft(member(), contact(), meeting(notes), [], TZ, NOW)
    if expected:
        assert expected in draft
    else:
        assert f"yesterday. {drafts.THEIR_WORDS}" in draft  # no point to take: only the blank


@given(notes=st.text(max_size=400))
@settings(max_examples=200, deadline=None)
def test_a_point_is_short_complete_and_from_the_notes(notes):
    point = drafts.point_of(notes, "Bob Li")
    if point is None:
        return
    assert 0 < len(point.text) <= drafts.POINT_MAX
    assert point.text.lower() in notes.lower()
    assert "\n" not in point.text and not point.text.endswith(("…", ","))


@pytest.mark.parametrize("kind", list(every_draft()))
def test_no_line_breaks_inside_a_sentence(kind):
    """Each paragraph is one line: only the greeting and the closing end with a comma, and
    every other line ends a sentence (or a marked blank)."""
    lines = every_draft()[kind].splitlines()
    assert lines[0].endswith(",") and lines[-2].endswith(",")
    for line in lines[1:-2]:
        assert not line or line.endswith((".", "?", "!", "]")), f"{kind}: {line!r}"


@pytest.mark.parametrize("kind", list(every_draft()))
def test_no_internal_codes_and_no_job_asked_for(kind):
    text = every_draft()[kind]
    assert not re.search(r"\(00[0-3]|00[0-3] tip|seed", text)
    assert "job?" not in text.lower() and "hire me" not in text.lower()


def test_the_first_message_names_the_referrer_asks_for_twenty_minutes_and_carries_the_goal():
    draft = every_draft()["pitch"]
    first = draft.splitlines()[2]
    assert first.startswith("I was referred to you by Jane Doe")
    assert "I'm exploring product marketing at a B2B SaaS company." in first
    assert "twenty minutes of your advice" in first and "I'm not asking about jobs" in draft
    assert draft.endswith("Thank you,\nDana Reyes")
    assert "I'd like to move into product marketing." in drafts.pitch_draft(member(goal="Move into product marketing"), "Bob", None)
    assert "[one line on what you're looking for" in drafts.pitch_draft(member(goal=None), "Bob", "Jane")


def test_the_one_month_note_says_what_the_member_did_with_the_advice():
    draft = every_draft(notes="learn Figma basics; read Obviously Awesome")["second-thank-you"]
    assert "tell you what I've done with your advice" in draft
    assert "You suggested I learn Figma basics. [say what you did with it" in draft
    assert "I talked with Ana Ruiz, as you suggested" in draft
    assert "two more people in the field" in draft


def test_the_landed_note_thanks_a_referrer_for_the_introduction():
    m, jane = member(), contact("Jane Doe")
    draft = drafts.landed_draft(m, jane, "Product Marketing Manager at Acme", ["Jane Doe"], met=False, introduced=["Bob Li"])
    assert "You introduced me to Bob Li, and that was part of how I got here." in draft
    assert "Our conversation" not in draft


def test_an_introduction_names_both_people():
    starter = drafts.introduction_starter(member(display_name="Dana"), member(display_name="Carol", user_id="carol"),
                                          "PMM", "how did you move into PMM?")
    assert starter.text.startswith("Dana, meet Carol.") and "Dana's note: “how did you move into PMM?”" in starter.text
    assert "A member" not in drafts.introduction_starter(member(display_name=None), member(display_name="Carol"), "", None).text
