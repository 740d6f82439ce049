"""The whole grammar, driven at random: every verb of core/commands.py's specs with random
subjects, keys and values (Unicode, control characters, huge numbers, far dates), button
presses and form submissions, on both databases.

Whatever comes in, the member gets a specific answer: never the generic fallback, never a
traceback or an ERROR in the logs, and a refused command writes nothing at all.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core import commands as c
from core.forms import FORMS
from core.models import Base
from core.registry import BUTTONS, FORM_HANDLERS
from core.service import OOPS

EXAMPLES = int(os.environ.get("RAPPORT_GRAMMAR_EXAMPLES", "300"))  # more for a deeper search

# Values a member might type, or a hostile one might send.
NUMBERS = st.sampled_from(
    ["0", "1", "2", "7", "-1", "12", "2147483647", "2147483648", "9223372036854775808", "9" * 40, "1e9", "1.5",
     "١٢", "²", "٣٠٠٠٠٠٠٠٠٠٠", "R1", "R9999999999999", "#1", "#99999999999"]
)
DATES = st.sampled_from(
    ["yesterday", "tomorrow 3pm", "next Tuesday 10am", "9999-12-31", "0001-01-01", "in 999 weeks", "3000 days ago",
     "year 10000", "99999999999 days ago", "in 99999999999 days", "2026-13-45", "2026-11-20 25:61", "last monday",
     "31 February", "1 day", "9999999999999999 weeks", "0.5 hours", "1e400 days", "٣ days"]
)
NASTY = st.sampled_from(
    ["\x00", "a\x00b", "Jane\x00", "\x00Acme", "x\x00" * 3, "\x1b[31mred\x1b[0m", "\x07", "\r", "\u202e", "\ud800",
     "<@U1>", "<@U1|" + "x" * 300 + ">", "<@" + "U" * 200 + ">", "<@!123>", "<#C1|intros>", "@carol",
     "#" + "a" * 70, "<#" + "C" * 90 + ">", "<#" + "9" * 90 + ">",
     "https://x.y/z?a=b:c", "3:1", "key: value", "wehn: monday", "ß" * 60, "ﬃ" * 40,
     "Jane Doe", "Jane", "Ana Ruiz", "Jane Doe (Acme)", "#", "%", "_", "\\", "'", '"']
)
TEXT = st.text(max_size=40) | st.text(st.characters(codec="utf-8"), max_size=12)
WORDS = st.lists(st.sampled_from(["Jane", "Doe", "Acme", "ok", "3pm", "Ana", "x"]) | NASTY | NUMBERS, min_size=1, max_size=4).map(" ".join)
VALUE = st.one_of(WORDS, TEXT, NUMBERS, DATES, NASTY, st.text(min_size=90, max_size=320))
UNKNOWN_KEYS = st.sampled_from(["wehn", "colour", "title", "notes", "note", "whne", "company", "for", "tz", "ｗｈｅｎ"])
NAMES = st.sampled_from(["Jane Doe", "Jane Doe (Acme)", "Ana Ruiz", "bob li", "#1", "#2", "<@U1>", "<@carol|Carol>"])
BY_KIND = {
    "date": DATES | VALUE,
    "duration": DATES | NUMBERS,
    "int": NUMBERS | VALUE,
    "contact": NAMES | VALUE,
    "member": NAMES | NASTY,
}


def value_for(key: c.Key) -> st.SearchStrategy[str]:
    if key.name == "id":
        return NUMBERS | VALUE
    if key.choices:
        return st.sampled_from(key.choices) | VALUE
    return BY_KIND.get(key.kind, VALUE)


@st.composite
def lines(draw) -> str:
    verb = draw(st.sampled_from(sorted(c.SPECS)))
    spec = c.SPECS[verb]
    parts = [draw(st.sampled_from([verb, verb.upper(), f"/rapport {verb}"]))]
    if spec.subject is not None and draw(st.integers(0, 3)):
        subject = spec.alternative if spec.alternative is not None and draw(st.booleans()) else spec.subject
        parts.append(draw(value_for(subject)))
    for _ in range(draw(st.integers(0, 3))):
        if spec.keys and draw(st.integers(0, 4)):
            key = draw(st.sampled_from(spec.keys))
            parts.append(f"{draw(st.sampled_from([key.name, key.name.upper()]))}: {draw(value_for(key))}")
        else:
            parts.append(f"{draw(UNKNOWN_KEYS)}: {draw(VALUE)}")
    return " ".join(parts)


ACTIONS = st.builds(
    lambda prefix, args: ":".join([prefix, *args]),
    st.sampled_from(sorted(BUTTONS) + ["run", "nope", ""]),
    st.lists(st.sampled_from(["done", "skip", "snooze", "glad", "know", "close", "accept", "decline", "ask", "confirm",
                              "cancel", "log", "add", "1", "2", "0", "2147483648", "9" * 30, "١", "²", "-1", "\x00", "abc"])
             | NUMBERS, max_size=4),
)
FORM_IDS = st.builds(
    lambda base, arg: base + (f":{arg}" if arg is not None else ""),
    st.sampled_from([f.form_id for f in FORMS.values()] + [f"form:{n}" for n in sorted(FORM_HANDLERS)]
                    + ["form:nope", "nope"]),
    st.none() | NUMBERS,
)
FIELD_NAMES = st.sampled_from(sorted({f.key for form in FORMS.values() for f in form.fields} | {"name", "reach", "note", "bogus"}))
FORM_VALUES = st.dictionaries(FIELD_NAMES, VALUE, max_size=5)

INPUT = st.one_of(
    lines().map(lambda line: ("text", line)),
    lines().map(lambda line: ("text", line)),
    ACTIONS.map(lambda action: ("press", action)),
    st.tuples(FORM_IDS, FORM_VALUES).map(lambda fv: ("submit", fv)),
)


async def snapshot(sessionmaker) -> dict[str, list[tuple]]:
    """Every row of every table (the test database is small)."""
    async with sessionmaker() as session:
        return {
            table.name: sorted(map(tuple, (await session.execute(select(table))).all()), key=repr)
            for table in Base.metadata.sorted_tables
        }


async def _seed(core, alice, bob) -> None:
    """Contacts, a meeting, nudges, an intro request and a helper, for ids and names to hit."""
    for line in ("goal product marketing roles", "add Jane Doe company: Acme", "log Ana Ruiz when: yesterday referrals: Bob Li",
                 "scheduled Jane Doe when: tomorrow 3pm", "admin channel #intros", "intro product marketing at Acme"):
        reply = await core.run_text(alice, line)
        assert not reply.error, (line, reply.text)
    assert not (await core.run_text(bob, "offer fields: marketing")).error


@given(data=st.data())
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
async def test_any_input_gets_a_specific_answer_and_a_refusal_writes_nothing(core, alice, bob, sessionmaker, caplog, data):
    caplog.set_level(logging.WARNING)
    alice = replace(alice, is_organizer=True)  # the organizers' verbs too
    if not getattr(core, "_seeded", False) or not (await snapshot(sessionmaker))["contacts"]:
        await _seed(core, alice, bob)  # again after a `forget:confirm` press
        core._seeded = True
    kind, what = data.draw(INPUT, label="input")
    mentions = data.draw(st.dictionaries(st.sampled_from(["U1", "123", "carol"]), st.none() | TEXT | NASTY, max_size=2),
                         label="mentions")
    before = await snapshot(sessionmaker)
    caplog.clear()
    if kind == "text":
        reply = await core.run_text(alice, what, mentions)
    elif kind == "press":
        reply = await core.press(alice, what)
    else:
        reply = await core.submit(alice, *what)
    assert reply.text != OOPS and "Something went wrong" not in reply.text, (kind, what, reply.text)
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, (kind, what, [r.getMessage() for r in bad])
    assert "Traceback" not in caplog.text
    if reply.error:
        assert "\n" not in reply.text, reply.text
        assert await snapshot(sessionmaker) == before, (kind, what, reply.text)


async def test_every_verb_of_the_specs_gets_a_specific_answer(core, alice, bob, caplog):
    """Each verb at least once, as its example shows it, bare, and with an unknown key."""
    caplog.set_level(logging.WARNING)
    alice = replace(alice, is_organizer=True)
    await _seed(core, alice, bob)
    for verb, spec in sorted(c.SPECS.items()):
        for line in (spec.example, verb, f"{verb} wehn: \x00 9999-12-31"):
            reply = await core.run_text(alice, line)
            assert reply.text != OOPS, (line, reply.text)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
