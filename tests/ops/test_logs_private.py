"""No private text in logs (issue 10, item 10).

A command fails in the database while its contact name and note carry unique markers: the
meeting's row breaks a NOT NULL constraint (a mapper hook takes its contact away), so the
database error is about the very row holding the note. The failure is logged (the tests check
that), and neither marker is in any log: the console's stderr in text and JSON formats, and
through the Slack stand-in what pytest captures (caplog) and the text and JSON formatters
write. On PostgreSQL this catches the server's ``DETAIL: Failing row contains (...)``; on
both it catches SQL parameters (``hide_parameters``).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import event

from bot.logs import JsonFormatter, TextFormatter
from core.models import Meeting
from tests.adapters.slack import conftest as slack_fixtures

# The Slack stand-in and the real app on it (SQLite, and PostgreSQL when configured).
backend, standin, start_slack_app = slack_fixtures.backend, slack_fixtures.standin, slack_fixtures.start_slack_app

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("RAPPORT_TEST_POSTGRES_URL")
NAME_MARKER = "Zqxname" + uuid.uuid4().hex[:8]
NOTE_MARKER = "zqxnote" + uuid.uuid4().hex[:8]
COMMAND = f"log {NAME_MARKER} Doe when: yesterday notes: private {NOTE_MARKER} about salary"

# Runs the real console with the meeting insert made to fail in the database.
BROKEN_CONSOLE = """
import sys
from sqlalchemy import event
from core.models import Meeting
event.listen(Meeting, "before_insert", lambda mapper, conn, row: setattr(row, "contact_id", None))
from bot.__main__ import main
sys.exit(main(["console"]))
"""


def _break_meetings(mapper, connection, row) -> None:
    row.contact_id = None


def no_markers(text: str) -> None:
    for marker in (NAME_MARKER, NOTE_MARKER, NAME_MARKER.lower()):
        assert marker not in text, f"{marker} leaked into the log:\n{text}"


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'rapport.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("RAPPORT_TEST_POSTGRES_URL is not set")
    from tests.adapters.slack.conftest import _drop_pg_database, _pg_database

    name, url = await _pg_database()
    try:
        yield url
    finally:
        await _drop_pg_database(name)


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_a_failing_command_in_the_console_logs_no_member_text(database_url, fmt, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RAPPORT_"))}
    env.update(RAPPORT_DATABASE_URL=database_url, RAPPORT_LOG_FORMAT=fmt, PYTHONPATH=str(ROOT))
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", BROKEN_CONSOLE], input=COMMAND + "\ncontacts\n",
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=90,
    )
    assert done.returncode == 0, done.stderr
    assert "Something went wrong" in done.stdout  # the member is told; the bug is logged
    assert "IntegrityError" in done.stderr and "meetings" in done.stderr, done.stderr
    if fmt == "json":
        lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
        assert any("IntegrityError" in line.get("exc", "") for line in lines), done.stderr
    no_markers(done.stderr)


async def test_a_failing_command_through_slack_logs_no_member_text(start_slack_app, caplog):
    slack = await start_slack_app()
    text_out, json_out = io.StringIO(), io.StringIO()
    handlers = [logging.StreamHandler(text_out), logging.StreamHandler(json_out)]
    handlers[0].setFormatter(TextFormatter())
    handlers[1].setFormatter(JsonFormatter())
    root = logging.getLogger()
    for handler in handlers:
        root.addHandler(handler)
    event.listen(Meeting, "before_insert", _break_meetings)
    try:
        with caplog.at_level(logging.DEBUG, logger="core"), caplog.at_level(logging.INFO):
            answer = await slack.send.ask(COMMAND)
            assert "Something went wrong" in answer
    finally:
        event.remove(Meeting, "before_insert", _break_meetings)
        for handler in handlers:
            root.removeHandler(handler)
    assert any(r.exc_info and "IntegrityError" in type(r.exc_info[1]).__name__ for r in caplog.records), caplog.text
    assert "IntegrityError" in text_out.getvalue() and "IntegrityError" in json_out.getvalue()
    no_markers(caplog.text)
    no_markers(text_out.getvalue())
    no_markers(json_out.getvalue())
    # The records themselves (what any other handler would format) carry no marker either.
    for record in caplog.records:
        no_markers(record.getMessage())
        if record.exc_info:
            no_markers(logging.Formatter().formatException(record.exc_info))
    # And the member's data is untouched by the failure: nothing half-written.
    assert "No contacts yet" in await slack.send.ask("contacts")


async def test_values_postgresql_or_asyncpg_quote_back_are_scrubbed(engine):
    """What hide_parameters can't hide: a value the driver couldn't send, quoted in its error."""
    import traceback

    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite quotes no values back in its errors")
    with pytest.raises(DBAPIError) as err:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT CAST(:v AS INTEGER) + 1"), {"v": f"note {NOTE_MARKER}"})
    formatted = "".join(traceback.format_exception(err.value))
    assert "invalid input for query argument" in formatted and "[value hidden]" in formatted
    no_markers(formatted)
