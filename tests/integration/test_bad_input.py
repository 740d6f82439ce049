"""Every bad input gets a one-line error that shows the right form, and writes nothing."""

import pytest

from tests.integration.helpers import row_counts

BAD = [
    ("frobnicate Jane", "I don't know the command `frobnicate`"),
    ("lgo Jane", "Did you mean `log`"),
    ("contact", "`contact` needs a name. Try: `/rapport contact Jane Doe`"),
    ("log Jane colour: red when: bogus date", "couldn't read “bogus date” as a date"),
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
