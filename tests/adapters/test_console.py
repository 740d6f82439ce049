"""The console end to end: feed lines to the real program, read what it prints."""

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "RAPPORT_"))}
    env.update(RAPPORT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'console.db'}", PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def run_console(tmp_path, lines: str, *args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=lines,
        capture_output=True,
        text=True,
        cwd=tmp_path,  # any working directory: migrations come from the package
        env=_env(tmp_path, **env),
        timeout=60,
    )


def test_done_when_of_the_foundation_issue(tmp_path):
    out = run_console(
        tmp_path,
        "/rapport log Jane Doe when: yesterday 3pm company: Acme referrals: Bob Li\n/rapport contacts\n",
    )
    assert out.returncode == 0, out.stderr
    assert "Logged your meeting with Jane Doe" in out.stdout
    assert "Bob Li (new contact, referred by Jane Doe)" in out.stdout
    listing = out.stdout[out.stdout.index("Your contacts (2)") :]
    assert "Jane Doe (Acme): met" in listing and "Bob Li: new" in listing and "referred by Jane Doe" in listing


def test_every_line_gets_a_reply_and_bad_input_does_not_stop_it(tmp_path):
    out = run_console(
        tmp_path,
        "frobnicate\nlog Jane when: not a date at all\ngoal data roles in Oregon\n\n# a comment\ngoal\n",
        "console",
    )
    assert out.returncode == 0, out.stderr
    assert "Error: I don't know the command `frobnicate`" in out.stdout
    assert "Error: I couldn't read “not a date at all” as a date" in out.stdout
    assert "» goal\nYour goal\ndata roles in Oregon" in out.stdout  # piped: each reply under its line
    assert "Traceback" not in out.stdout + out.stderr


def test_state_survives_restarts_and_export_writes_files(tmp_path):
    run_console(tmp_path, "add Jane Doe company: Acme\n")
    out = run_console(tmp_path, "contact jane doe\nexport\n")
    assert "Jane Doe (Acme)" in out.stdout
    assert list((tmp_path / "rapport-exports").glob("rapport-contacts-*.csv"))
    assert f"Saved in {tmp_path / 'rapport-exports'}/:" in out.stdout and "rapport-contacts-" in out.stdout
    assert f"Your data is kept in {tmp_path / 'console.db'}" in out.stdout


def test_db_upgrade_command(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"], capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path), timeout=60
    )
    assert out.returncode == 0 and "up to date" in out.stdout
    assert (tmp_path / "console.db").exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "set SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN"),
        ({"SLACK_CLIENT_ID": "1", "SLACK_SIGNING_SECRET": "s"}, "SLACK_CLIENT_SECRET is missing"),
        ({"RAPPORT_DEFAULT_TZ": "Mars/Base"}, "RAPPORT_DEFAULT_TZ"),
        ({"RAPPORT_DISPATCH_INTERVAL": "soon"}, "RAPPORT_DISPATCH_INTERVAL"),
    ],
)
def test_half_configured_stops_with_one_line(tmp_path, env, message):
    out = run_console(tmp_path, "", "run", **env)
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1


async def test_thank_you_dm_appears_inline_and_is_not_sent_twice(tmp_path):
    """Issue 3's done-when: a thank-you DM with a draft that uses the notes, once."""

    async def session(lines: list[str], wait_for: str | None, seconds: float = 20) -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=tmp_path, env=_env(tmp_path, RAPPORT_DISPATCH_INTERVAL="0.3"),
        )
        for line in lines:
            proc.stdin.write(line.encode() + b"\n")
        await proc.stdin.drain()
        seen = ""
        if wait_for:
            async def read_until():
                nonlocal seen
                while wait_for not in seen:
                    chunk = await proc.stdout.read(1024)
                    if not chunk:
                        break
                    seen += chunk.decode()
            await asyncio.wait_for(read_until(), seconds)
        else:
            await asyncio.sleep(2)  # a few sweeps at 0.3 s
        proc.stdin.close()
        rest, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err.decode()
        return seen + rest.decode()

    first = await session(["/rapport log Jane Doe when: 2 days ago notes: talked about SEO"], "[DM from Rapport]")
    dm = first[first.index("[DM from Rapport]") :]
    assert "Time to thank Jane Doe" in dm
    assert "what you shared about SEO" in dm  # the draft uses the notes
    assert re.search(r"`done \d+` · `snooze \d+ for: 1 day` · `skip \d+`", dm)
    second = await session(["nudges"], None)
    assert "Time to thank Jane Doe" not in second
    assert "sent, waiting for you" in second


def test_introductions_in_the_console(tmp_path):
    """The community side, tried alone with `as <member>:` lines: a post, an offer, a DM with the referrer."""
    out = run_console(
        tmp_path,
        "intro product marketing at a B2B SaaS company\n"
        "as olga: admin channel #intros\n"
        "goal product marketing at a B2B SaaS company\n"
        "intro product marketing at a B2B SaaS company\n"
        "as bob: press intro:glad:1\n"
        "as carol: offer fields: marketing per-month: 2\n"
        "intro <@carol> note: how did you move into PMM?\n"
        "as carol: press intro:accept:2\n"
        "as olga: admin stats\n",
        RAPPORT_DISPATCH_INTERVAL="0.2",
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "an organizer must set one first" in text
    assert "[#intros]" in text and "is looking for an introduction" in text
    assert "Bob would be glad to chat" in text  # the seeker's DM
    assert "[DM from Rapport to carol]" in text and "Accept" not in text.split("[DM from Rapport to carol]")[0][-50:]
    assert "[conversation: me, carol]" in text
    assert "Intro requests with an offer: 2 of 2 (100%)" in text


async def test_forms_run_as_prompts_on_a_terminal(sqlite_engine, clock):
    """A bare creating verb on a terminal asks field by field (Enter skips)."""
    import io

    from adapters.console.adapter import ConsoleAdapter
    from core.db import Database
    from core.service import Rapport

    core = Rapport(Database(sqlite_engine), clock)
    out = io.StringIO()
    console = ConsoleAdapter(core, out, interactive=True)
    # log, then: name, when, notes, referrals, company, role, opportunities, thanked
    answers = io.StringIO("log\nJane Doe\nyesterday 3pm\ntalked about SEO\nBob Li\nAcme\n\n\n\ncontacts\n")
    await console.run(answers)
    text = out.getvalue()
    assert "Who did you meet? (e.g. Jane Doe):" in text
    assert "Logged your meeting with Jane Doe" in text and "Tue 17 Nov 2026, 15:00 UTC" in text
    assert "Bob Li: new" in text and "Jane Doe (Acme): met" in text


def test_import_a_linkedin_export_by_path_then_map_and_calendar(tmp_path):
    from tests.network_files import NEWER_ROW, PNG_MAGIC, ROWS, VCARD, linkedin_csv

    (tmp_path / "Connections.csv").write_bytes(linkedin_csv())
    (tmp_path / "contacts.vcf").write_bytes(VCARD)
    out = run_console(tmp_path, "import path: Connections.csv\ncontacts\n")
    assert out.returncode == 0, out.stderr
    assert "Ready to import Connections.csv" in out.stdout and "3 new contacts" in out.stdout
    assert "No contacts yet" in out.stdout  # nothing before confirming
    confirm = re.search(r"`press (import:confirm:\d+:[0-9a-f]+)`", out.stdout).group(1)

    out = run_console(tmp_path, f"press {confirm}\npress {confirm}\ncontacts company: Acme\n")
    assert "Imported Connections.csv" in out.stdout and "3 new contacts" in out.stdout
    assert "Error: That import is no longer waiting" in out.stdout  # confirmed once only
    assert "Your contacts at Acme (2)" in out.stdout

    (tmp_path / "Connections.csv").write_bytes(linkedin_csv(*ROWS, NEWER_ROW))
    out = run_console(tmp_path, f"import path: {tmp_path / 'Connections.csv'}\nimport path: ~/no/such/file.csv\n"
                                "import path: contacts.vcf\n")
    assert "1 new contact;" in out.stdout and "3 you already have" in out.stdout
    assert "Error: There's no file at ~/no/such/file.csv." in out.stdout
    assert "Ready to import contacts.vcf" in out.stdout  # the newer preview replaced the older one

    out = run_console(tmp_path, "log Jane Doe when: yesterday 3pm\nmap\nscheduled Bob Li when: tomorrow 10am\ncalendar\n")
    assert out.returncode == 0, out.stderr
    saved = tmp_path / "rapport-exports"
    assert f"Saved in {saved}/:\n  rapport-network.png" in out.stdout
    assert (saved / "rapport-network.png").read_bytes().startswith(PNG_MAGIC)
    assert (saved / "meeting.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")
    assert re.search(r"Address: http://localhost:\d+/calendar/[A-Za-z0-9_-]{43}\.ics", out.stdout)


def test_bad_files_are_refused_in_one_line_in_the_console(tmp_path):
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (tmp_path / "export.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    out = run_console(tmp_path, "import path: photo.png\nimport path: export.zip\nimport path: .\n")
    lines = [line for line in out.stdout.splitlines() if line.startswith("Error:")]
    assert len(lines) == 3, out.stdout
    assert "isn't text" in lines[0] and "zip file" in lines[1] and "is a folder" in lines[2]


def _one_line_and_out(out: subprocess.CompletedProcess, *needles: str) -> None:
    """Start-up stopped: non-zero, one line on stderr naming the problem and the fix, no traceback."""
    assert out.returncode != 0, out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rapport: RAPPORT_DATABASE_URL:"), out.stderr
    assert all(n in lines[0] for n in needles), lines[0]
    assert "Traceback" not in out.stdout + out.stderr


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket closes


@pytest.mark.parametrize("args", [(), ("console",), ("db", "upgrade")])
def test_start_up_on_a_database_file_that_cannot_be_made(tmp_path, args):
    (tmp_path / "afile").write_text("not a folder")
    url = f"sqlite+aiosqlite:///{tmp_path / 'afile' / 'data' / 'rapport.db'}"
    out = run_console(tmp_path, "help\n", *args, RAPPORT_DATABASE_URL=url)
    _one_line_and_out(out, "can't open the database file", "afile/data/rapport.db", "Not a directory",
                      "folder you can write to")


@pytest.mark.parametrize("args", [("console",), ("db", "upgrade")])
def test_start_up_on_a_sqlite_file_another_process_is_writing(tmp_path, args):
    import sqlite3

    assert run_console(tmp_path, "", "db", "upgrade").returncode == 0
    holder = sqlite3.connect(tmp_path / "console.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # a write transaction left open, as a crashed tool might
        holder.execute("INSERT INTO meta(key, value) VALUES ('held', 'by the test')")
        out = run_console(tmp_path, "help\n", *args)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _one_line_and_out(out, "is locked", "console.db", "another program", "Close that program")
    assert "Rapport console" not in out.stdout  # it never started


def test_start_up_on_a_postgresql_port_nobody_listens_on(tmp_path):
    port = _closed_port()
    out = run_console(tmp_path, "help\n", "console", RAPPORT_DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/rapport")
    _one_line_and_out(out, f"can't reach PostgreSQL on 127.0.0.1:{port}", "connection refused", "Start the server")


@pytest.mark.skipif(not os.environ.get("RAPPORT_TEST_POSTGRES_URL"), reason="RAPPORT_TEST_POSTGRES_URL is not set")
@pytest.mark.parametrize("args", [("console",), ("db", "upgrade")])
def test_start_up_on_a_postgresql_database_that_does_not_exist(tmp_path, args):
    from sqlalchemy.engine import make_url

    url = make_url(os.environ["RAPPORT_TEST_POSTGRES_URL"]).set(database="rapport_no_such_database")
    out = run_console(tmp_path, "help\n", *args, RAPPORT_DATABASE_URL=url.render_as_string(hide_password=False))
    _one_line_and_out(out, 'has no database "rapport_no_such_database"', "createdb rapport_no_such_database")


def test_the_console_exits_cleanly_at_the_end_of_input_with_sweeps_running(tmp_path):
    """End of input while the dispatcher sweeps every 10 ms and has DMs to deliver: exit 0,
    nothing on stderr (no CancelledError from a sweep cut short)."""
    lines = "log Jane Doe when: 2 days ago notes: talked about SEO\nlog Bob Li when: 3 days ago\nnudges\n"
    for _ in range(3):
        out = run_console(tmp_path, lines, RAPPORT_DISPATCH_INTERVAL="0.01", RAPPORT_HTTP_PORT="0")
        assert out.returncode == 0, out.stderr
        assert out.stderr == "", out.stderr
        assert "[DM from Rapport]" in out.stdout or "sent, waiting for you" in out.stdout
    out = run_console(tmp_path, "nudges\nquit\nnudges\n", RAPPORT_DISPATCH_INTERVAL="0.01", RAPPORT_HTTP_PORT="0")
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert out.stdout.count("» nudges") == 1  # `quit` ends the session like the end of input
