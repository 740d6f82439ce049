"""Slash command latency: Rapport beside a bare slack-bolt app, in the same run.

    python -m bench.slack_latency [--concurrency 50] [--rounds 6] [--database URL]
                                  [--text "nudges" --text "log Jane Doe when: ..."]

Both apps run as their own processes, as in production: Rapport is ``python -m bot run``
(HTTP mode, SQLite in a temp directory unless --database is given); the bare app is a
slack-bolt ``AsyncApp`` on the same aiohttp server set-up that acks the same command with a
fixed text. This process hosts the Slack Web API stand-in (tests/adapters/slack/standin.py)
and sends ``--concurrency`` signed slash commands at once, from as many different users,
``--rounds`` times per app. Fairness: before every round both apps are idle (their
processes use no CPU for a moment and the stand-in has had no call for a second: the
thank-you DMs a `log` round causes are all out), and the order alternates (Rapport first in
even rounds, the bare app first in odd ones). A round of warm-up first fills each app's
caches (users.info, Bolt's auth.test, new members); it is shown but not counted. Each
``--text`` (default: a reading command and a writing one) is measured in turn.

Time to response: from sending the request until the ephemeral answer exists, i.e. the
HTTP ack when it carries the answer, or the post at the command's response_url when the
app answers there (Rapport does when the core takes longer than its 2 s ack budget).

Target: Rapport's p99 within 2x the bare app's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

DEFAULT_TEXTS = ("nudges", "log Jane Doe when: yesterday 3pm notes: talked about pricing pages and the PMM role")
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
TEAM = "TBENCH"


# --- the bare app (run as a child process) ------------------------------------------------


async def serve_bare(port: int, api_url: str) -> None:
    """A bare Bolt app: verifies the signature, acks the command with a fixed text."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.app.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    session = aiohttp.ClientSession()
    bolt = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=api_url, session=session), signing_secret=SECRET)

    @bolt.command("/rapport")
    async def answer(ack):
        await ack(response_type="ephemeral", text="Goal set: product marketing at a B2B SaaS company")

    async def events(request):
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def health(_request):
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/health", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


# --- the load ---------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def figures(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"p50 {statistics.median(ms):7.1f} ms   p99 {percentile(ms, 99):7.1f} ms   max {max(ms):7.1f} ms"


async def one_command(sender, standin, text: str, user: str, *, team: str = TEAM, within: float = 30) -> float:
    """Seconds from sending one signed slash command until its answer exists: the HTTP ack
    when it carries the answer, else the post at its response_url (bench.scale uses it too)."""
    body, response_url = sender.command_body(text, user=user, team=team)
    started = time.monotonic()
    answer = await sender.post(body, "application/x-www-form-urlencoded", response_url=response_url)
    if answer.status != 200:
        raise RuntimeError(f"HTTP {answer.status}: {answer.body[:200]}")
    data = answer.json
    if data and (data.get("text") or data.get("blocks")):
        return time.monotonic() - started
    key = response_url.rsplit("/", 1)[1]
    calls = await standin.wait_for("response_url", lambda c: c.params["key"] == key, within=within)
    return calls[0].at - started


async def round_of(http, sender, standin, text: str, users: list[str]) -> list[float]:
    return list(await asyncio.gather(*(one_command(sender, standin, text, u) for u in users)))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def idle(standin, pids: list[int], quiet: float = 1.0, within: float = 60.0) -> None:
    """Waits until no process in ``pids`` used more than 2% of a core over the last 0.5 s and
    the stand-in had no call for ``quiet`` seconds (or ``within`` seconds pass)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        before = [cpu_seconds(p) for p in pids]
        await asyncio.sleep(0.5)
        busy = any(cpu_seconds(p) - b > 0.01 for p, b in zip(pids, before, strict=True))
        last = standin.calls[-1].at if standin.calls else 0.0
        if not busy and time.monotonic() - last >= quiet:
            return


async def wait_healthy(http, port: int, proc: asyncio.subprocess.Process, name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
        try:
            async with http.get(f"http://127.0.0.1:{port}/health") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{name} did not start")


async def fresh_postgres(url: str) -> tuple[str, str]:
    """A new, empty database on the server ``url`` points at: (its name, its URL)."""
    import uuid

    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    name = f"rapport_bench_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return name, make_url(url).set(database=name).render_as_string(hide_password=False)


async def drop_postgres(url: str, name: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    admin = create_async_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main(args) -> None:
    from tests.adapters.slack.slackreq import SlackSender
    from tests.adapters.slack.standin import SlackStandIn

    standin = SlackStandIn()
    await standin.start()
    standin.add_team(TEAM, TOKEN)
    users = [f"UB{i:03d}" for i in range(args.concurrency)]
    for user in users:
        standin.add_user(user, TEAM, tz="America/New_York", name=f"Bench User {user}")

    tmp = tempfile.TemporaryDirectory(prefix="rapport-bench-")
    fresh_db = None
    if args.database and args.database.startswith("postgresql"):
        fresh_db, args.database = await fresh_postgres(args.database)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAPPORT_", "SLACK_", "DISCORD_"))}
    rapport_port, bare_port = free_port(), free_port()
    rapport_env = dict(
        env,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=standin.api_url,
        RAPPORT_DATABASE_URL=args.database or f"sqlite+aiosqlite:///{Path(tmp.name) / 'rapport.db'}",
        RAPPORT_HTTP_HOST="127.0.0.1",
        RAPPORT_HTTP_PORT=str(rapport_port),
    )
    devnull = asyncio.subprocess.DEVNULL
    rapport = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=tmp.name,
                                                   env=rapport_env, stdout=devnull, stderr=devnull)
    bare = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.slack_latency", "--serve-bare",
                                                str(bare_port), "--api-url", standin.api_url,
                                                env=env, stdout=devnull, stderr=devnull)
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            await wait_healthy(http, rapport_port, rapport, "Rapport")
            await wait_healthy(http, bare_port, bare, "the bare app")
            apps = {
                "Rapport": SlackSender(f"http://127.0.0.1:{rapport_port}/slack/events", SECRET, standin, http),
                "bare Bolt": SlackSender(f"http://127.0.0.1:{bare_port}/slack/events", SECRET, standin, http),
            }
            pids = {"Rapport": rapport.pid, "bare Bolt": bare.pid}
            database = "PostgreSQL" if args.database and "postgres" in args.database else "SQLite"
            for text in args.text or DEFAULT_TEXTS:
                warm = {}
                for name, sender in apps.items():
                    await idle(standin, list(pids.values()))
                    warm[name] = await round_of(http, sender, standin, text, users)
                samples: dict[str, list[float]] = {name: [] for name in apps}
                for r in range(args.rounds):
                    order = list(apps) if r % 2 == 0 else list(reversed(apps))
                    for name in order:
                        await idle(standin, list(pids.values()))
                        samples[name].extend(await round_of(http, apps[name], standin, text, users))
                print(f"{args.concurrency} concurrent signed `/rapport {text}`, {args.rounds} rounds per app "
                      f"({args.concurrency * args.rounds} samples each); database: {database}")
                for name in apps:
                    print(f"  {name:<10} warm-up round: {figures(warm[name])}")
                for name in apps:
                    print(f"  {name:<10} {figures(samples[name])}")
                ratio = percentile(samples["Rapport"], 99) / percentile(samples["bare Bolt"], 99)
                print(f"  p99 ratio Rapport / bare: {ratio:.2f}x (target <= 2x): {'met' if ratio <= 2 else 'NOT met'}")
    finally:
        for proc in (rapport, bare):
            if proc.returncode is None:
                proc.terminate()
        for proc in (rapport, bare):
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
        await standin.stop()
        tmp.cleanup()
        if fresh_db:
            await drop_postgres(args.database, fresh_db)


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.slack_latency", description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--text", action="append", help="a command to measure (repeatable; default: a reading and a writing one)")
    parser.add_argument("--database", default=None,
                        help="Rapport's database: a PostgreSQL server URL (a fresh database is made on it and dropped after); default: temp SQLite")
    parser.add_argument("--serve-bare", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare is not None:
        asyncio.run(serve_bare(args.serve_bare, args.api_url))
        return
    asyncio.run(main(args))


if __name__ == "__main__":
    cli()
