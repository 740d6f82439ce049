"""Discord at scale: processes split the shards (RAPPORT_DISCORD_SHARD_COUNT / _IDS), each
identifies with its own shard, only shard 0's process pushes the command definitions, and
/readyz says whether this process's shards are connected."""

from __future__ import annotations

from adapters.discord.client import ShardedRapportClient
from adapters.discord.runner import start_discord
from bot.app import App
from bot.config import Settings
from tests.adapters.discord.conftest import TOKEN


async def test_two_processes_split_the_shards_and_sync_once(standin, engine, discord_clock, monkeypatch):
    monkeypatch.setattr("bot.app.make_engine", lambda url, **kwargs: engine)
    started = []
    try:
        for ids in ("0", "1"):
            settings = Settings(
                _env_file=None, RAPPORT_DATABASE_URL="sqlite+aiosqlite:///unused.db", RAPPORT_DISPATCH_INTERVAL=5,
                DISCORD_TOKEN=TOKEN, DISCORD_API_URL=standin.api_url, DISCORD_GATEWAY_URL=standin.gateway_url,
                RAPPORT_DISCORD_SHARD_COUNT=2, RAPPORT_DISCORD_SHARD_IDS=ids,
            )
            app = App(settings, discord_clock)
            await app.open()
            runner = await start_discord(app)
            started.append((app, runner))
            assert isinstance(runner.client, ShardedRapportClient)
        await standin.until(lambda: len(standin.identify_payloads) >= 2, what="both processes to identify")
        shards = sorted(tuple(p["shard"]) for p in standin.identify_payloads)
        assert shards == [(0, 2), (1, 2)]
        assert [app_runner[1].client.synced for app_runner in started] == [True, False]
        assert len(standin.calls_to("PUT", r".*/applications/\d+/commands")) == 1
        for app, runner in started:
            await standin.until(lambda r=runner: r.client.is_ready(), within=10, what="READY")
            ready, checks = await app.web.readiness()
            assert ready and checks["discord"] == "ok", checks
        await started[1][1].client.close()
        app = started[1][0]
        app.web.ready_cache = 0
        ready, checks = await app.web.readiness()
        assert not ready and checks["discord"] == "disconnected"
    finally:
        for app, runner in reversed(started):
            await runner.stop()
            await app.close()
