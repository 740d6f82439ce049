"""Several ``python -m bot run`` processes on one PostgreSQL database, in Slack HTTP mode.

Used by the multi-process test and by ``bench/scale.py``. Each process gets its own port and
its own Slack bot token (all tokens belong to one team in the stand-in), so the stand-in can
tell which process made each Web API call.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

SECRET = "scale-signing-secret-0123456789ab"
PYTHON = sys.executable
ROOT = Path(__file__).resolve().parents[2]


def token_of(index: int) -> str:
    return f"xoxb-scale-p{index}"


async def create_database(admin_url: str, prefix: str = "rapport_scale") -> tuple[str, str]:
    """A fresh, empty database next to ``admin_url``'s; returns (name, url)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return name, make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(admin_url: str, name: str) -> None:
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAPPORT_", "SLACK_", "DISCORD_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@dataclass
class BotProcess:
    index: int
    port: int
    log_path: Path
    proc: asyncio.subprocess.Process | None = None
    exit_code: int | None = None
    _log: object = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return f"bot{self.index}"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return token_of(self.index)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None


class Cluster:
    """N bot processes. ``await start()``; ``metrics(i)``; ``kill(i)``; ``terminate(i)``; ``await stop()``."""

    def __init__(self, n: int, database_url: str, api_url: str, workdir: Path, **settings: str) -> None:
        from tests.scale.haproxy import free_port

        self.database_url = database_url
        self.api_url = api_url
        self.workdir = workdir
        self.settings = settings
        self.bots = [BotProcess(i, free_port(), workdir / f"bot{i}.log") for i in range(n)]

    def env(self, bot: BotProcess) -> dict[str, str]:
        return clean_env(
            SLACK_BOT_TOKEN=bot.token,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=self.api_url,
            RAPPORT_DATABASE_URL=self.database_url,
            RAPPORT_HTTP_HOST="127.0.0.1",
            RAPPORT_HTTP_PORT=str(bot.port),
            **self.settings,
        )

    async def start(self, within: float = 60.0) -> None:
        """Starts every process at once (so their start-up migrations race) and waits until
        each answers /readyz with 200."""
        for bot in self.bots:
            bot._log = bot.log_path.open("wb")
            bot.proc = await asyncio.create_subprocess_exec(
                PYTHON, "-m", "bot", "run", cwd=self.workdir, env=self.env(bot), stdout=bot._log, stderr=bot._log,
            )
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(self.wait_ready(http, bot, within) for bot in self.bots))

    async def wait_ready(self, http: aiohttp.ClientSession, bot: BotProcess, within: float) -> None:
        deadline = time.monotonic() + within
        while True:
            try:
                async with http.get(f"{bot.base}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if not bot.alive:
                raise AssertionError(f"{bot.name} exited: {bot.log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{bot.name} not ready within {within}s: {bot.log_path.read_text()[-3000:]}")
            await asyncio.sleep(0.1)

    async def metrics(self, http: aiohttp.ClientSession, bot: BotProcess) -> dict[tuple[str, tuple], float]:
        """The process's /metrics as {(sample name, sorted labels): value}."""
        async with http.get(f"{bot.base}/metrics") as resp:
            assert resp.status == 200
            body = await resp.text()
        out: dict[tuple[str, tuple], float] = {}
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return out

    def kill(self, bot: BotProcess) -> None:
        assert bot.proc is not None
        bot.proc.send_signal(signal.SIGKILL)

    def terminate(self, bot: BotProcess) -> None:
        assert bot.proc is not None
        bot.proc.send_signal(signal.SIGTERM)

    async def wait_exit(self, bot: BotProcess, within: float) -> int:
        assert bot.proc is not None
        bot.exit_code = await asyncio.wait_for(bot.proc.wait(), within)
        return bot.exit_code

    async def stop(self) -> None:
        for bot in self.bots:
            if bot.alive:
                bot.proc.send_signal(signal.SIGTERM)
        for bot in self.bots:
            if bot.proc is not None:
                try:
                    await asyncio.wait_for(bot.proc.wait(), 12)
                except TimeoutError:
                    bot.proc.kill()
                    await bot.proc.wait()
            if bot._log is not None:
                bot._log.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric_sum(samples: dict[tuple[str, tuple], float], name: str, **labels: str) -> float:
    """Sum of a metric's samples whose labels include ``labels``."""
    total = 0.0
    for (sample, sample_labels), value in samples.items():
        if sample != name:
            continue
        have = dict(sample_labels)
        if all(have.get(k) == v for k, v in labels.items()):
            total += value
    return total
