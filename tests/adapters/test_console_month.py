"""A month with Rapport in the console, as a job seeker lives it (issue 11's done-when).

The real console adapter, fed line by line, on a real database (SQLite, and PostgreSQL when
configured), with a test clock and the real dispatcher delivering nudges inline, so the
whole month runs in seconds. Then every word the member read is checked once more.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.console.adapter import ConsoleAdapter
from core.clock import FakeClock
from core.db import Database
from core.dispatch import Dispatcher
from core.service import Rapport

LA = ZoneInfo("America/Los_Angeles")


def la(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LA).astimezone(dt.UTC)


class Walk:
    """The console, a clock and the dispatcher: say a line, or let time pass."""

    def __init__(self, db: Database, clock: FakeClock, interactive_answers: list[str] | None = None,
                 export_dir: Path | None = None) -> None:
        self.clock = clock
        self.out = io.StringIO()
        self.core = Rapport(db, clock, default_tz="UTC")
        self.console = ConsoleAdapter(self.core, self.out, display_name="Dana",
                                      export_dir=export_dir)
        self.dispatcher = Dispatcher(db, clock, {"console": self.console}, "UTC")
        self.answers = list(interactive_answers or [])

    async def say(self, line: str) -> str:
        start = len(self.out.getvalue())
        ask = self._ask if self.answers else None
        await self.console.handle_line(line, ask=ask)
        await self.dispatcher.sweep()
        return self.out.getvalue()[start:]

    async def _ask(self, prompt: str) -> str | None:
        self.out.write(prompt)
        return self.answers.pop(0) if self.answers else ""

    async def until(self, when: dt.datetime) -> str:
        start = len(self.out.getvalue())
        self.clock.set(when)
        await self.dispatcher.sweep()
        return self.out.getvalue()[start:]

    @property
    def text(self) -> str:
        return self.out.getvalue()


def nudge_id(text: str, title: str) -> str:
    """The id of the DM titled ``title`` in ``text`` (its ``Nudge #N`` line)."""
    block = text[text.index(title):]
    return re.search(r"Nudge #(\d+)", block).group(1)  # type: ignore[union-attr]


def drafts_in(text: str) -> list[list[str]]:
    """Every draft printed, as its lines."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.strip() == "Draft:":
            current = []
            found.append(current)
        elif current is not None and line.startswith("  | "):
            current.append(line[4:])
        elif current is not None and line == "  |":
            current.append("")
        else:
            current = None
    return found


@pytest.fixture
def walk(db, tmp_path):
    return Walk(db, FakeClock(la(2026, 11, 23, 9, 0)), export_dir=tmp_path / "rapport-exports")  # Monday 23 November, 09:00 in Los Angeles


async def test_a_month_with_rapport(walk):
    # Week 1: a goal, a referred contact, a first message.
    assert "Settings saved: time zone" in await walk.say("settings tz: America/Los_Angeles")
    assert "Goal set" in await walk.say("goal product marketing at a B2B SaaS company")
    added = await walk.say("add Bob Li company: Initech role: Product Marketing Lead referred-by: Jane Doe")
    assert "I was referred to you by Jane Doe" in added and "I'm exploring product marketing at a B2B SaaS company." in added
    assert "| Dana" in added  # signed with the member's name

    out = await walk.say("reached-out Bob Li via: email when: yesterday")
    assert "Sent: Sun 22 Nov 2026, 12:00 PST (no time given: midday)" in out
    assert "Follow-up: Tue 1 Dec 2026, 12:00 PST (five days on, on a Tuesday to Thursday" in out

    # No answer: the follow-up comes on Tuesday, with a draft that names the referrer.
    out = await walk.until(la(2026, 12, 1, 12, 0))
    assert "Follow up with Bob Li" in out and "Jane Doe suggested I get in touch." in out
    follow = nudge_id(out, "Follow up with Bob Li")
    out = await walk.say(f"press nudge:snooze:{follow} for: 1 day")  # the Snooze button's form, in one line
    assert "until Wed 2 Dec 2026, 12:00 PST" in out

    # He answers; a meeting on Thursday; prep the day before, and the twenty-minute check.
    out = await walk.until(la(2026, 12, 2, 9, 0))
    assert "Bob Li replied" in await walk.say("replied Bob Li")
    out = await walk.say("scheduled Bob Li when: Friday 12:30 where: Blue Bottle, Market St")
    assert "Fri 4 Dec 2026, 12:30 PST" in out and "Twenty-minute check: Fri 4 Dec 2026, 12:48 PST" in out
    assert "Prep kit: Thu 3 Dec 2026, 09:00 PST" in out
    out = await walk.until(la(2026, 12, 3, 9, 0))
    assert "Prepare for Bob Li" in out and "Jane Doe (mention them in your first minute)" in out
    assert "Questions to bring" in await walk.say("prep Bob Li")
    out = await walk.until(la(2026, 12, 4, 12, 48))
    assert "Twenty minutes with Bob Li are nearly up" in out and "snooze" not in out  # no use later: no buttons

    # Log it with notes and referrals: the scheduled meeting, once.
    out = await walk.say("log Bob Li notes: Bob said Initech PMMs own pricing pages; learn Figma basics; "
                         "read Obviously Awesome referrals: Ana Ruiz")
    assert "When: Fri 4 Dec 2026, 12:30 PST (as scheduled)" in out
    assert "Ana Ruiz (new contact, referred by Bob Li)" in out
    assert "Tell Jane Doe you met Bob Li: Sat 5 Dec 2026, 09:00 PST" in out
    contact = await walk.say("contact Bob Li")
    assert contact.count("Met Fri 4 Dec") == 1 and "Upcoming" not in contact

    # That night, the thank-you: one point from the notes and a blank for the member's words.
    out = await walk.until(la(2026, 12, 4, 19, 0))
    assert "Time to thank Bob Li" in out
    assert "One thing I'm taking away: Initech PMMs own pricing pages. [add a sentence of your own" in out
    assert "Figma" not in out and "suggesting I talk with Ana Ruiz" in out
    thanks = nudge_id(out, "Time to thank Bob Li")
    assert "That's the note that gets you remembered" in await walk.say(f"done {thanks}")

    # The morning after: tell the referrer.
    out = await walk.until(la(2026, 12, 5, 9, 0))
    assert "Tell Jane Doe you met Bob Li" in out and "thanks to your introduction" in out
    await walk.say(f"done {nudge_id(out, 'Tell Jane Doe you met Bob Li')}")

    # Bob's referral: a first message that names Bob; a promised follow-up; a meeting.
    out = await walk.say("reached-out Ana Ruiz via: LinkedIn follow-up: next Wednesday 10am")
    assert "I was referred to you by Bob Li" in out and "Follow-up: Wed 9 Dec 2026, 10:00 PST (as you promised them)" in out
    out = await walk.until(la(2026, 12, 9, 10, 0))
    assert "This is when you told them you'd follow up" in out and "as I said I would" in out
    await walk.say("replied Ana Ruiz")
    assert "is still to come" in await walk.say("log Ana Ruiz when: 2026-12-11")
    await walk.until(la(2026, 12, 12, 9, 0))
    out = await walk.say("log Ana Ruiz when: 2026-12-11 notes: talked about pricing teardowns thanked: yes")
    assert "Fri 11 Dec 2026, 12:00 PST (no time given" in out

    # A month on: the second thank-you says what the member did with the advice.
    out = await walk.until(la(2027, 1, 3, 12, 30))
    assert "A month since you met Bob Li: a second thank-you" in out
    assert "tell you what I've done with your advice" in out
    assert "I talked with Ana Ruiz, as you suggested" in out and "[say what you did with it" in out

    # Landed: a note for everyone who helped, the referrer too.
    out = await walk.say("landed Product Marketing Manager at Acme")
    assert "Notes to send: Ana Ruiz, Bob Li, Jane Doe" in out
    assert "You introduced me to Bob Li, and that was part of how I got here." in out
    assert "Our conversation was part of how I got here, and so was your introduction to Ana Ruiz." in out

    # Every message the member read, read once more.
    text = walk.text
    for bad in ("(000", "(001", "(002", "(003", "000 tip", "A member", "Traceback", "I don't know the command",
                "Something went wrong", "…"):
        assert bad not in text, bad
    for draft in drafts_in(text):
        assert draft[0].endswith(",") and draft[-2].endswith(","), draft
        for line in draft[1:-2]:
            assert not line or line.endswith((".", "?", "!", "]")), line


async def test_i_know_someone_in_one_line_and_as_the_member_who_pressed(walk):
    await walk.say("as olga: admin channel #intros")
    await walk.say("goal product marketing at a B2B SaaS company")
    out = await walk.say("intro product marketing at B2B SaaS note: how do PMMs work with sales?")
    assert "I'd be glad to chat: `press intro:glad:1`" in out and "I know someone: `press intro:know:1`" in out
    post = out[out.index("[#intros]"):]
    assert "how do PMMs work with sales" not in post  # the note never goes to the channel
    assert "Your note: “how do PMMs work with sales?”, shown only to people who offer to help" in out
    out = await walk.say("as bob: press intro:know:1")
    assert "Dana's note: “how do PMMs work with sales?”" in out
    assert "Fill it in one line: `press intro:know:1 name: … company: … role: … reach: … note: …`" in out
    out = await walk.say("as bob: press intro:know:1 name: Cy Oh company: Acme reach: cy@acme.test note: ex-sales")
    assert "Thank you! I've sent Dana the details" in out
    assert "Bob knows someone: Cy Oh" in out and "I was referred to you by Bob" in out
    assert "I don't know the command" not in walk.text


async def test_the_know_form_at_a_terminal_is_the_pressers(db, tmp_path):
    walk = Walk(db, FakeClock(la(2026, 11, 23, 9, 0)), interactive_answers=["Cy Oh", "Acme", "", "cy@acme.test", ""],
                export_dir=tmp_path)
    walk.answers, answers = [], walk.answers
    await walk.say("as olga: admin channel #intros")
    await walk.say("intro product marketing")
    walk.answers = answers
    out = await walk.say("as carol: press intro:know:1")
    assert "Thank you! I've sent Dana the details" in out
    assert "Carol knows someone: Cy Oh" in out and "I don't know the command" not in out


async def test_intro_at_name_asks_that_member_with_the_note(walk):
    await walk.say("goal product marketing at a B2B SaaS company")
    out = await walk.say("intro @carol note: how did you move into PMM?")
    assert "There's no member @carol here yet" in out
    await walk.say("as carol: offer fields: marketing")
    helpers = await walk.say("helpers")
    assert "`/rapport intro @name note: what you'd like to learn`" in helpers
    out = await walk.say("intro @carol note: how did you move into PMM?")
    assert "Asked Carol (R1)" in out
    dm = out[out.index("[DM from Rapport to carol]"):]
    assert "Dana's note: “how did you move into PMM?”" in dm and "Accept: `press intro:accept:1`" in dm
    out = await walk.say("as carol: press intro:accept:1")
    assert "[conversation: me, carol]" in out and "Dana, meet Carol." in out
    assert "[#" not in walk.text  # a direct ask posts nothing in a channel


async def test_settings_name_signs_the_drafts(walk):
    out = await walk.say("settings")
    assert "Name: Dana" in out
    await walk.say("settings name: Dana Reyes")
    await walk.say("add Bob Li referred-by: Jane Doe")
    assert walk.text.rstrip().splitlines()[-1].endswith("Dana Reyes") or "| Dana Reyes" in walk.text
