"""The console's mentions, piped through the real program: ``@name`` and ``<@name>`` name a
member only when the core already knows them in the console's community (``me``, or anyone
who acted with ``as name:``). Anyone else is refused in one line wherever a member or a
contact is meant, and no member or contact is made for them."""

from __future__ import annotations

import sqlite3

from tests.adapters.test_console import run_console


def rows(tmp_path, query: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "console.db") as conn:
        return conn.execute(query).fetchall()


def answers(stdout: str) -> dict[str, str]:
    """Each piped line's reply, by the line."""
    out = {}
    for chunk in stdout.split("\n» ")[1:]:
        line, _, reply = chunk.partition("\n")
        out[line.strip()] = reply.strip()
    return out


def test_an_unknown_name_is_no_member_anywhere_a_person_is_meant(tmp_path):
    lines = [
        "goal product marketing",
        "log @zed when: yesterday 3pm",
        "reached-out @zed",
        "prep @Zed",
        "contact @zed",
        "add @zed company: Acme",
        "add Eve Stone referred-by: @zed",
        "intro @zed note: twenty minutes?",
        "intro <@zed|Zed> note: twenty minutes?",
        "log <@zed> when: yesterday 3pm",
    ]
    out = run_console(tmp_path, "\n".join(lines) + "\n")
    assert out.returncode == 0, out.stderr
    said = answers(out.stdout)
    for line in lines[1:]:
        reply = said[line]
        assert reply.startswith("Error: "), (line, reply)
        assert "\n" not in reply and "zed" in reply.lower(), (line, reply)
        assert "Something went wrong" not in reply
    assert rows(tmp_path, "select user_id from members") == [("me",)]
    assert rows(tmp_path, "select name from contacts") == []
    assert "[DM from Rapport to zed]" not in out.stdout


def test_a_known_local_member_is_mentioned_and_text_stays_text(tmp_path):
    lines = [
        "as carol: offer fields: marketing",
        "goal meet @zed someday",  # no member meant: just text
        "log @Carol when: yesterday 3pm",
        "add Bo Li referred-by: <@CAROL|whoever>",
    ]
    out = run_console(tmp_path, "\n".join(lines) + "\n")
    assert out.returncode == 0, out.stderr
    said = answers(out.stdout)
    assert "meet @zed someday" in said["goal meet @zed someday"]
    assert said["log @Carol when: yesterday 3pm"].startswith("Logged your meeting with Carol")
    assert "Referred by: Carol" in said["add Bo Li referred-by: <@CAROL|whoever>"]
    assert sorted(rows(tmp_path, "select user_id from members")) == [("carol",), ("me",)]
    carol = rows(tmp_path, "select id from members where user_id = 'carol'")[0][0]
    assert rows(tmp_path, "select name, linked_user_id from contacts where name = 'Carol'") == [("Carol", "carol")]
    assert rows(tmp_path, "select referred_by_member_id from contacts where name = 'Bo Li'") == [(carol,)]
