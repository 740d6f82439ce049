"""The text grammar: /rapport <verb> [<subject>] [key: value]..."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import commands as c
from core.errors import UserError

words = st.text(alphabet=st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=6)
phrases = st.lists(words, min_size=1, max_size=2).map(" ".join)  # within every size limit


def test_log_with_keys():
    cmd = c.parse("/rapport log Jane Doe when: yesterday 3pm company: Acme referrals: Bob Li, Ana Ruiz")
    assert cmd == c.Log(name="Jane Doe", when="yesterday 3pm", company="Acme", referrals="Bob Li, Ana Ruiz")


def test_prefix_optional_and_keys_case_insensitive():
    assert c.parse("log Jane WHEN: today Company: Acme") == c.Log(name="Jane", when="today", company="Acme")


def test_value_runs_to_next_known_key_only():
    cmd = c.parse("log Jane notes: the ratio is 3:1, see https://x.test when: today")
    assert cmd.notes == "the ratio is 3:1, see https://x.test"
    assert cmd.when == "today"


def test_hyphenated_and_keyword_keys():
    assert c.parse("reached-out Jane follow-up: friday 10am").follow_up == "friday 10am"
    assert c.parse("snooze 4 for: 2 days").for_ == "2 days"
    assert c.parse("add Jane referred-by: Bob").referred_by == "Bob"


def test_admin_subcommands():
    assert c.parse("/rapport admin channel #intros") == c.AdminChannel(channel="#intros")
    assert c.parse("admin stats") == c.AdminStats()


def test_empty_is_help():
    assert c.parse("/rapport") == c.Help()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lgo Jane", "Did you mean `log`"),
        ("contact", "needs a name"),
        ("log Jane colour: red", None),  # unknown key is just text of the subject? no: not a key
        ("add Jane company:", "needs a value"),
        ("log Jane when: a when: b", "given twice"),
        ("contacts Jane", "takes no"),
        ("offer sometimes", "accepts only `off`"),
        ("log " + "x" * 101, "the limit is 100"),
        ("admin", "needs `channel` or `stats`"),
    ],
)
def test_bad_input_is_one_line(text, expected):
    if expected is None:
        # `colour:` is not one of log's keys, so it belongs to the subject.
        assert c.parse(text).name == "Jane colour: red"
        return
    with pytest.raises(UserError) as err:
        c.parse(text)
    assert expected in err.value.message
    assert "\n" not in err.value.message


def test_build_rejects_unknown_key_naming_the_keys():
    with pytest.raises(UserError) as err:
        c.build("log", "Jane", {"colour": "red"})
    assert "`colour:`" in err.value.message and "when:" in err.value.message


@given(verb=st.sampled_from(sorted(v for v, s in c.SPECS.items() if s.keys)), data=st.data())
@settings(max_examples=200, deadline=None)
def test_round_trip(verb, data):
    """Any subject and values made of words come back exactly, in any key order and case."""
    spec = c.SPECS[verb]
    chosen = data.draw(st.lists(st.sampled_from(spec.keys), unique=True, max_size=len(spec.keys)))
    values = {k.name: data.draw(value_for(k)) for k in chosen}
    subject = None
    if spec.subject and (spec.subject_required or data.draw(st.booleans())):
        subject = spec.subject_words[0] if spec.subject_words else data.draw(phrases)
    # A value must not itself contain a key of the verb followed by a colon: words have no colons.
    parts = [verb] + ([subject] if subject else [])
    for k in chosen:
        key = data.draw(st.sampled_from([k.name, k.name.upper(), k.name.title()]))
        parts.append(f"{key}: {values[k.name]}")
    cmd = c.parse(" ".join(parts))
    assert type(cmd) is spec.cls
    if subject:
        assert getattr(cmd, spec.subject.attribute) == subject
    for k, v in values.items():
        assert getattr(cmd, c.attr_name(k)) == v


def value_for(key):
    """Values a key accepts as typed: a choice, a number in bounds, or words."""
    if key.kind == "choice":
        return st.sampled_from(key.choices)
    if key.kind == "int" and key.bounds:
        return st.integers(*key.bounds).map(str)
    return phrases


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_parse_never_crashes(text):
    """Any input either parses or is a one-line UserError."""
    try:
        cmd = c.parse(text)
    except UserError as err:
        assert err.message and "\n" not in err.message
    else:
        assert isinstance(cmd, c.Command)
