"""`python -m bot run` as a subprocess against the stand-in: the issue's "done when".

Started with SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_API_URL, it answers a signed
`/rapport log Jane Doe when: 2 days ago`, DMs a thank-you nudge with working buttons within
a few sweeps, and exits within 10 s of SIGTERM. A half-configured Slack stops start-up
with one line.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp

from tests.adapters.slack.conftest import SECRET, TOKEN, free_port
from tests.adapters.slack.slackreq import SlackSender

PYTHON = str(Path(sys.executable))


def clean_env(**extra: str) -> dict[str, str]:
    """The parent's environment without any Rapport, Slack or Discord settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAPPORT_", "SLACK_", "DISCORD_"))}
    env.update(extra)
    return env


def log_file(path: Path):
    """Where the bot's output goes (read when start-up fails); closed by the caller."""
    return path.open("wb")


def midday_zone() -> str:
    """An IANA zone where it is early afternoon now, so quiet hours hold nothing back."""
    offset = (13 - dt.datetime.now(dt.UTC).hour + 12) % 24 - 12  # -12 … +11 hours from UTC
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # Etc/GMT-5 is UTC+5


async def test_python_m_bot_run_answers_nudges_and_stops_on_sigterm(standin, tmp_path):
    standin.users["U1"]["tz"] = midday_zone()
    port = free_port()
    env = clean_env(
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=standin.api_url,
        RAPPORT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'rapport.db'}",
        RAPPORT_DISPATCH_INTERVAL="0.5",
        RAPPORT_HTTP_HOST="127.0.0.1",
        RAPPORT_HTTP_PORT=str(port),
    )
    log = log_file(tmp_path / "bot.log")
    proc = await asyncio.create_subprocess_exec(PYTHON, "-m", "bot", "run", cwd=tmp_path, env=env,
                                                stdout=log, stderr=log)
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 20
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/health") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert proc.returncode is None, (tmp_path / "bot.log").read_text()
                assert time.monotonic() < deadline, "the bot did not start listening"
                await asyncio.sleep(0.1)

            send = SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET, standin, http)
            answer = await send.ask("log Jane Doe when: 2 days ago notes: talked about SEO")
            assert "Logged your meeting with Jane Doe" in answer

            dm = (await standin.wait_for("chat.postMessage", lambda c: c.params["channel"] == "DU1"
                                         and "Time to thank Jane Doe" in c.blocks_text(), within=10))[0]
            done = next(e["action_id"] for b in dm.params["blocks"] if b["type"] == "actions"
                        for e in b["elements"] if e["action_id"].startswith("nudge:done:"))
            assert "nudge:snooze:" in dm.blocks_text() and "nudge:skip:" in dm.blocks_text()

            await send.press(done, message={"text": dm.params["text"], "blocks": dm.params["blocks"]}, channel="DU1")
            pressed = await standin.wait_for("response_url", lambda c: c.params.get("replace_original") is True)
            assert f"Done: #{done.rsplit(':', 1)[1]}" in json.dumps(pressed[0].params)

        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = await asyncio.wait_for(proc.wait(), 10)
        assert code == 0 and time.monotonic() - started < 10
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log.close()


async def test_a_half_configured_slack_stops_start_up_in_one_line(tmp_path):
    proc = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "bot", "run", cwd=tmp_path,
        env=clean_env(SLACK_BOT_TOKEN=TOKEN, RAPPORT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "SLACK_SIGNING_SECRET" in lines[0], err
