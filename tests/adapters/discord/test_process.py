"""`python -m bot run` as a subprocess against the stand-in: the issue's "done when".

Started with DISCORD_TOKEN, DISCORD_API_URL and DISCORD_GATEWAY_URL, it answers
`/rapport log name: Jane Doe when: 2 days ago` within Discord's 3 s, DMs a thank-you nudge
whose buttons work within a few sweeps, and exits within 10 s of SIGTERM.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
from pathlib import Path

from tests.adapters.discord.conftest import TOKEN, buttons_of, text_of

REPO = Path(__file__).resolve().parents[3]
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable))


def clean_env(**extra: str) -> dict[str, str]:
    """The parent's environment without any Rapport, Slack or Discord settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAPPORT_", "SLACK_", "DISCORD_"))}
    env.update(extra)
    return env


def midday_zone() -> str:
    """An IANA zone where it is early afternoon now, so quiet hours hold no nudge back."""
    offset = (13 - dt.datetime.now(dt.UTC).hour + 12) % 24 - 12
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # Etc/GMT-5 is UTC+5


async def test_python_m_bot_run_answers_nudges_and_stops_on_sigterm(standin, tmp_path):
    alice = standin.user("Alice Example")
    guild = standin.guild("Alumni", [alice])
    env = clean_env(
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_URL=standin.api_url,
        DISCORD_GATEWAY_URL=standin.gateway_url,
        RAPPORT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'rapport.db'}",
        RAPPORT_DISPATCH_INTERVAL="0.5",
        RAPPORT_DEFAULT_TZ=midday_zone(),
    )
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(PYTHON, "-m", "bot", "run", cwd=tmp_path, env=env, stdout=log, stderr=log)
    try:
        try:
            await standin.connected(within=30)
        except AssertionError:
            raise AssertionError(log_path.read_text()) from None

        sent = await standin.command(alice, guild, "log", {"name": "Jane Doe", "when": "2 days ago"})
        answer = await standin.answer_to(sent, within=10)
        assert sent.first_callback_at - sent.sent_at < 3.0, "no initial response within Discord's 3 s"
        assert answer.message["flags"] & 64
        assert "Logged your meeting with Jane Doe" in text_of(answer.message)

        dm = await standin.until(lambda: next(iter(standin.dm_messages(alice)), None), within=10, what="the thank-you DM")
        assert "Time to thank Jane Doe" in text_of(dm)
        done = await standin.answer_to(await standin.press(alice, dm, buttons_of(dm)["Done"]), within=10)
        assert "✅ Done: #" in text_of(done.message)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError("the bot did not exit within 10 s of SIGTERM") from None
    assert code == 0, log_path.read_text()
