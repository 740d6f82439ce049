"""Fixtures for the Discord adapter's tests: the stand-in, and the real app wired to it."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from dataclasses import dataclass

import pytest
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord.runner import DiscordRunner, start_discord
from bot.app import App
from bot.config import Settings
from core.clock import FakeClock
from tests.adapters.discord.standin import DiscordStandIn

APPLICATION_ID = 900000000000000001
TOKEN = base64.b64encode(str(APPLICATION_ID).encode()).decode().rstrip("=") + ".GStand.in-token"


def text_of(message: dict) -> str:
    """Everything a member reads in a message: content, and the embeds' text."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds", []):
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for item in embed.get("fields", []):
            parts += [item["name"], item["value"]]
        parts.append((embed.get("footer") or {}).get("text", ""))
    return "\n".join(p for p in parts if p)


def buttons_of(message: dict) -> dict[str, str]:
    """label -> custom id (a link button's URL), for every button on the message."""
    return {
        b["label"]: b.get("custom_id") or b.get("url")
        for row in message.get("components", [])
        for b in row.get("components", [])
        if b.get("type") == 2
    }


async def channel_post(standin, channel: dict, within: float = 8.0) -> dict:
    """The bot's first message in ``channel``. Channel posts are effects carried out by the
    dispatcher after the command commits, so this waits for a sweep."""
    return await standin.until(
        lambda: next((m for m in standin.messages.values() if m["channel_id"] == channel["id"]), None),
        within=within,
        what=f"a post in #{channel.get('name', channel['id'])}",
    )


async def eventually(probe, within: float = 5.0, what: str = "condition"):
    """Awaits ``probe()`` every 50 ms until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await probe()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass
class Bot:
    app: App
    runner: DiscordRunner
    stopped: bool = False

    @property
    def client(self):
        return self.runner.client

    async def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            await self.runner.stop()
            await self.app.close()


@pytest.fixture
async def standin():
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    server = DiscordStandIn(TOKEN, APPLICATION_ID)
    await server.start()
    yield server
    await server.stop()
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved[0], yarl.URL(str(saved[1]))


@pytest.fixture
def discord_clock():
    # A Wednesday afternoon: nothing falls in quiet hours.
    return FakeClock(dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.UTC))


@pytest.fixture
async def start_bot(standin, engine, discord_clock, monkeypatch):
    """Starts the real App with start_discord on the test database; stops what it started."""
    # App.open() builds its engine from the URL; hand it the fixture's (SQLite or PostgreSQL).
    monkeypatch.setattr("bot.app.make_engine", lambda url, **kwargs: engine)
    started: list[Bot] = []

    async def start(interval: float = 0.2, dispatch: bool = True, connect: bool = True) -> Bot:
        settings = Settings(
            _env_file=None,
            RAPPORT_DATABASE_URL="sqlite+aiosqlite:///unused.db",
            RAPPORT_DISPATCH_INTERVAL=interval,
            DISCORD_TOKEN=TOKEN,
            DISCORD_API_URL=standin.api_url,
            DISCORD_GATEWAY_URL=standin.gateway_url,
        )
        app = App(settings, discord_clock)
        await app.open()
        runner = await start_discord(app)
        bot = Bot(app, runner)
        started.append(bot)
        if dispatch:
            app.start_dispatch()
        if connect:
            # Not wait_until_ready(): discord.py holds READY back ~2 s for late guilds.
            connections = len(standin.connections)
            await standin.until(
                lambda: len(standin.connections) > connections and standin.connections[-1].ready.is_set(),
                what="the bot to identify",
            )
        return bot

    yield start
    for bot in started:
        await bot.stop()


@pytest.fixture
async def running(start_bot):
    """A bot, started; stopped after the test."""
    return await start_bot()
