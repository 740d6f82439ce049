"""Every bad input gets a one-line error that shows the right form, and writes nothing."""

from dataclasses import replace

import pytest
from sqlalchemy import select

from core.models import Community, ContactRow, Member
from core.service import OOPS
from tests.integration.helpers import row_counts

BAD = [
    ("frobnicate Jane", "I don't know the command `frobnicate`"),
    ("lgo Jane", "Did you mean `log`"),
    ("contact", "`contact` needs a name. Try: `/rapport contact Jane Doe`"),
    ("log Jane when: bogus date", "couldn't read “bogus date” as a date"),
    ("log Jane colour: red when: yesterday", "`log` has no key `colour:` (its keys: when:"),
    ("log Jane Doe wehn: last monday", "`log` has no key `wehn:`. Did you mean `when:`?"),
    ("log Jane Doe (Acme) when: 9999-12-31", "too far ahead: give a date between"),
    ("log Jane Doe (Acme) when: 0001-01-01", "too far back: give a date between"),
    ("scheduled Jane Doe (Acme) when: 9999-12-31 10:00", "too far ahead"),
    ("log Ana Ruiz when: in 99999999999 days", "as a date"),
    ("snooze 1 for: 99999999999999999999 weeks", "between a minute and a year"),
    ("snooze 1 until: 9999-12-31 10:00", "too far ahead"),
    ("done 2147483648", "You have no nudge #2147483648"),
    ("done 9223372036854775808", "You have no nudge #9223372036854775808"),
    ("done ²", "digits 0-9"),
    ("contact #99999999999", "You have no contact #99999999999"),
    ("done R99999999999", "You have no request R99999999999"),
    ("log #٣ when: yesterday", "You have no contact #٣"),

    ("add Jane company:", "`company:` needs a value"),
    ("log Jane when: tomorrow 3pm", "is still to come"),
    ("scheduled Jane when: yesterday", "has already passed"),
    ("scheduled Jane", "Add `when:`"),
    ("log " + "J" * 101, "the limit is 100"),
    ("log Jane notes: " + "n" * 4001, "the limit is 4,000"),
    ("contact Nobody Here", "no contact named Nobody Here"),
    ("log Jane thanked: maybe", "`thanked:` takes yes or no"),
    ("settings tz: Mars/Olympus", "don't know the time zone"),
    ("settings quiet: late", "`quiet:` takes a range"),
    ("settings stay-in-touch: 2", "from 7 to 365"),
    ("contacts status: friends", "`status:` is one of"),
    ("done abc", "A nudge id is a number"),
    ("done 999", "no nudge #999"),
    ("snooze 1 for: forever", "as a length of time"),
    ("skip 999", "no nudge #999"),
    ("reached-out Jane follow-up: yesterday", "has already passed"),
    ("calendar later", "accepts only `reset`"),
    ("map Jane", "`map` takes no arguments"),
    ("contacts company:", "`company:` needs a value"),
    ("import path: /no/such/file.csv", "Check the path"),
]


async def _seed(core, alice):
    # Two contacts named Jane Doe at different companies, and some history.
    await core.run_text(alice, "add Jane Doe company: Acme")
    await core.run_text(alice, "add Jane Doe (Globex)")  # a second Jane Doe, said so
    await core.run_text(alice, "log Ana Ruiz when: yesterday")


@pytest.mark.parametrize(("text", "expected"), BAD)
async def test_bad_input_writes_nothing(core, alice, sessionmaker, text, expected):
    await _seed(core, alice)
    before = await row_counts(sessionmaker)
    reply = await core.run_text(alice, text)
    assert reply.error
    assert expected in reply.text, reply.text
    assert "\n" not in reply.text
    assert await row_counts(sessionmaker) == before


async def test_ambiguous_name_asks_which(core, alice, sessionmaker):
    await _seed(core, alice)
    before = await row_counts(sessionmaker)
    reply = await core.run_text(alice, "log Jane Doe when: yesterday notes: hi")
    assert reply.error and "2 contacts named Jane Doe" in reply.text and "`Jane Doe (Acme)`" in reply.text
    assert await row_counts(sessionmaker) == before
    ok = await core.run_text(alice, "log Jane Doe (Globex) when: yesterday")
    assert not ok.error and "Jane Doe" in ok.title
    partial = await core.run_text(alice, "contact Jane")
    assert partial.error and "2 contacts named" not in partial.text and "could be" in partial.text


async def test_snooze_with_bad_duration(core, alice, sessionmaker):
    await core.run_text(alice, "log Jane when: yesterday")
    from tests.integration.helpers import nudges_of

    nudge = (await nudges_of(sessionmaker, "alice"))[0]
    before = await row_counts(sessionmaker)
    reply = await core.run_text(alice, f"snooze {nudge.id} for: a while")
    assert reply.error and "as a length of time" in reply.text
    reply = await core.run_text(alice, f"snooze {nudge.id} for: 1 day until: monday")
    assert reply.error and "not both" in reply.text
    assert await row_counts(sessionmaker) == before
    assert [x.due_at for x in await nudges_of(sessionmaker, "alice") if x.id == nudge.id] == [nudge.due_at]


async def test_a_failure_midway_rolls_back_everything(core, alice, sessionmaker):
    """One transaction per command: a referral name that is too long fails the whole log."""
    before = await row_counts(sessionmaker)
    reply = await core.run_text(alice, "log Jane when: yesterday referrals: Bob Li, " + "x" * 150)
    assert reply.error and "over 100 characters" in reply.text
    after = await row_counts(sessionmaker)
    # The member row is created on first contact, nothing else.
    assert {k: v for k, v in after.items() if k not in ("members", "nudges")} == {k: v for k, v in before.items() if k not in ("members", "nudges")}


@pytest.mark.parametrize(
    ("kind", "what", "expected"),
    [
        # An id past the database's range reads like a missing one (no row can have it).
        ("press", "nudge:done:2147483648", "You have no nudge #2147483648"),
        ("press", "intro:glad:99999999999999", "That request no longer exists"),
        ("press", "nudge:skip:²", "That button is no longer in use"),
        ("press", "nudge:done:1\x00", "That button is no longer in use"),
        ("submit", "form:intro-offer:9223372036854775808", "That request no longer exists"),
        ("submit", "form:intro-offer:١", "That form is no longer in use"),
    ],
)
async def test_buttons_and_forms_with_ids_no_button_carries(core, alice, sessionmaker, kind, what, expected):
    await _seed(core, alice)
    before = await row_counts(sessionmaker)
    reply = await (core.press(alice, what) if kind == "press" else core.submit(alice, what, {"name": "Bob Li"}))
    assert reply.error and expected in reply.text and reply.text != OOPS, reply.text
    assert await row_counts(sessionmaker) == before


async def test_control_characters_never_reach_the_database(core, alice, sessionmaker):
    """PostgreSQL refuses NUL; terminal escapes would repaint the console: both are dropped."""
    reply = await core.run_text(alice, "add Jane\x00 Doe\x1b[31m company: Ac\x07me notes: hi\x00 there")
    assert not reply.error, reply.text
    assert "\x1b" not in reply.text and "\x00" not in reply.text
    reply = await core.run_text(alice, "goal data\x00 roles\u202e in Oregon")
    assert not reply.error, reply.text
    reply = await core.submit(alice, "form:add", {"subject": "Ana\x00 Ruiz", "company": "\x1b[1mGlobex"})
    assert not reply.error, reply.text
    async with sessionmaker() as session:
        contacts = {r.name: r for r in await session.scalars(select(ContactRow))}
        goal = await session.scalar(select(Member.goal))
    assert contacts["Jane Doe"].company == "Acme" and contacts["Jane Doe"].notes == "hi there"
    assert contacts["Ana Ruiz"].company == "Globex"
    assert goal == "data roles in Oregon"


async def test_names_are_stored_within_their_columns(core, alice, sessionmaker):
    # 100 characters that casefold to 200 ("ß" -> "ss"): the matching key still fits.
    reply = await core.run_text(alice, "add " + "ß" * 100)
    assert not reply.error, reply.text
    again = await core.run_text(alice, "contact " + "ß" * 100)
    assert not again.error and "ß" * 100 in again.title, again.text
    # A mention's name from the platform: too long, or with a NUL in it.
    for uid, label in (("U1", "x" * 300), ("U2", "Bob\x00 Builder")):
        reply = await core.run_text(alice, f"intro <@{uid}> note: how did you start?", {uid: label})
        assert reply.text != OOPS and not reply.error, reply.text
    async with sessionmaker() as session:
        names = set(await session.scalars(select(Member.display_name).where(Member.user_id.in_(("U1", "U2")))))
    assert len(names) == 2 and all(len(n) <= 100 and "\x00" not in n for n in names), names


async def test_a_channel_id_longer_than_the_column_is_refused(core, alice, sessionmaker):
    organizer = replace(alice, is_organizer=True)
    before = await row_counts(sessionmaker)
    for channel in ("#" + "a" * 70, "<#" + "C" * 90 + ">", "<#" + "9" * 90 + ">"):
        reply = await core.run_text(organizer, "admin channel " + channel)
        assert reply.error and "Give a channel as `#intros`" in reply.text, reply.text
    assert await row_counts(sessionmaker) == before
    ok = await core.run_text(organizer, "admin channel #" + "a" * 63)
    assert not ok.error, ok.text
    async with sessionmaker() as session:
        assert await session.scalar(select(Community.intro_channel_id)) == "#" + "a" * 63


async def test_a_platform_name_with_control_characters_is_kept_clean(core, alice, sessionmaker):
    dana = replace(alice, user_id="dana", display_name="Dana\x00 Smith\x1b[31m")
    reply = await core.run_text(dana, "goal data roles in Oregon")
    assert not reply.error, reply.text
    renamed = replace(dana, display_name="Dana\x07 Jones")
    assert not (await core.run_text(renamed, "goal data roles in Ohio")).error
    async with sessionmaker() as session:
        assert await session.scalar(select(Member.display_name).where(Member.user_id == "dana")) == "Dana Jones"


async def test_an_error_quoting_a_value_with_line_breaks_is_still_one_line(core, alice):
    # Found by the grammar property test: a refusal that quotes what was typed.
    assert not (await core.submit(alice, "form:add", {"subject": "Jane Doe", "company": "Ac\nme\r\nInc"})).error
    reply = await core.run_text(alice, "add Jane Doe company: Globex")
    assert reply.error and "Ac me Inc" in reply.text and "\n" not in reply.text and "\r" not in reply.text, reply.text
    reply = await core.run_text(alice, "log Jane Doe wehn:\nlast monday")
    assert reply.error and "\n" not in reply.text, reply.text
