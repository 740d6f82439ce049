"""Starts Rapport on Slack inside the running program (``bot.app.run`` calls ``start_slack``).

Modes:

- **Socket Mode** when ``SLACK_APP_TOKEN`` is set: Bolt's aiohttp ``AsyncSocketModeHandler``;
  nothing needs to reach the bot from outside.
- **HTTP mode** otherwise: ``POST /slack/events`` on ``RAPPORT_HTTP_HOST:RAPPORT_HTTP_PORT``.
  Bolt verifies every request's signature and rejects timestamps more than five minutes
  old with 401 before anything runs; a timestamp that is not a number gets 401 here, before
  Bolt (whose verifier would fail on it with a 500). A signed request replayed within the
  five minutes runs once, in any process: ``SlackListeners.dedupe`` claims its fingerprint
  in the database (``adapters/slack/seen.py``).

The routes go on the bot's one HTTP listener (``bot/web.py``, which also answers health
checks): events in HTTP mode and, with ``SLACK_CLIENT_ID`` and ``SLACK_CLIENT_SECRET``, the
install flow (``/slack/install``, ``/slack/oauth_redirect``) for many workspaces. Where
installations are kept is the wiring's business: it hands over the stores
(``host.slack_stores()``). ``SLACK_API_URL`` points the Web API client elsewhere (the tests'
stand-in).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp

from adapters.slack import PLATFORM
from adapters.slack.clients import Clients, make_client
from adapters.slack.directory import Directory
from adapters.slack.listeners import SlackListeners
from adapters.slack.oauth import INSTALL_PATH, REDIRECT_PATH, SlackStores, oauth_settings
from adapters.slack.platform import SlackPlatform
from adapters.slack.seen import SeenRequests
from core.ports import Platform
from core.service import Rapport

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
TIMESTAMP = re.compile(r"[0-9]{1,15}")  # seconds since 1970, as Slack sends them (ASCII digits only)
PRUNE_EVERY = 3600.0


class _BoltNoise(logging.Filter):
    """Drops Bolt's start-up warning that the SLACK_BOT_TOKEN it finds in the environment
    is unused: we hand Bolt a client built with that very token (and SLACK_API_URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


def bolt_logger() -> logging.Logger:
    logger = logging.getLogger("adapters.slack.bolt")
    if not any(isinstance(f, _BoltNoise) for f in logger.filters):
        logger.addFilter(_BoltNoise())
    return logger


class Host(Protocol):
    """What ``start_slack`` needs from the program that runs it (``bot.app.App``)."""

    settings: Any  # the SLACK_* settings (bot.config.Settings)
    core: Rapport
    web: Any  # the bot's one HTTP listener: add_routes() before it starts

    def add_platform(self, name: str, platform: Platform) -> None: ...

    def slack_stores(self) -> SlackStores: ...


def build_bolt(host: Host, session: aiohttp.ClientSession) -> tuple[AsyncApp, Clients]:
    """The Bolt app and the per-workspace clients, for one token or for OAuth installs."""
    s = host.settings
    common = {
        "logger": bolt_logger(),
        "signing_secret": s.slack_signing_secret or "",
        # Socket Mode needs no signing secret; HTTP mode always verifies (Settings.check
        # refuses HTTP mode without one).
        "request_verification_enabled": bool(s.slack_signing_secret),
        # The answer goes out when a listener returns (no polling for ack()); our
        # listeners return within Slack's 3 s and spawn what takes longer.
        "process_before_response": True,
    }
    telemetry = getattr(host, "metrics", None)  # 429s and retries, for /metrics
    if s.slack_oauth:
        stores = host.slack_stores()
        clients = Clients(session, s.slack_api_url, lookup=stores.installations, telemetry=telemetry)
        bolt = AsyncApp(client=make_client(session, s.slack_api_url, telemetry=telemetry),
                        oauth_settings=oauth_settings(s.slack_client_id, s.slack_client_secret, stores), **common)
    else:
        clients = Clients(session, s.slack_api_url, bot_token=s.slack_bot_token, telemetry=telemetry)
        bolt = AsyncApp(client=clients.default, **common)
    return bolt, clients


class SlackRunner:
    """What ``start_slack`` returns; ``stop()`` ends it in order within a few seconds."""

    def __init__(self, bolt: AsyncApp, listeners: SlackListeners, session: aiohttp.ClientSession) -> None:
        self.bolt = bolt
        self.listeners = listeners
        self.session = session
        self.socket_mode = None
        self._prune: asyncio.Task | None = None

    def routes(self, *, events: bool, oauth: bool) -> list[web.RouteDef]:
        """Slack's routes on the bot's HTTP listener: events (HTTP mode) and the install flow."""
        routes = []
        if events:
            routes.append(web.post(EVENTS_PATH, self.events))
        if oauth:
            routes.append(web.get(INSTALL_PATH, self.install))
            routes.append(web.get(REDIRECT_PATH, self.oauth_redirect))
        return routes

    async def events(self, request: web.Request) -> web.Response:
        if not TIMESTAMP.fullmatch(request.headers.get("X-Slack-Request-Timestamp", "")):
            return web.json_response({"error": "invalid request"}, status=401)  # as Bolt answers a bad signature
        return await to_aiohttp_response(await self.bolt.async_dispatch(await to_bolt_request(request)))

    async def install(self, request: web.Request) -> web.Response:
        flow = self.bolt.oauth_flow
        return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

    async def oauth_redirect(self, request: web.Request) -> web.Response:
        flow = self.bolt.oauth_flow
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    def start_pruning(self) -> None:
        async def loop():
            while True:
                try:
                    await self.listeners.seen.prune()
                except Exception:
                    log.exception("pruning seen Slack requests failed")
                await asyncio.sleep(PRUNE_EVERY)

        self._prune = asyncio.ensure_future(loop())

    async def ready(self) -> str | None:
        """For ``/readyz``: in Socket Mode, None while the socket is connected. (In HTTP mode
        Slack comes to us: the listener answering is all there is to check.)"""
        if self.socket_mode is None:
            return None
        return None if await self.socket_mode.client.is_connected() else "Socket Mode disconnected"

    async def stop(self) -> None:
        """Stops taking requests, lets in-flight work finish (a few seconds), closes."""
        if self.socket_mode is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.socket_mode.close_async(), 2)
        await self.listeners.drain(grace=3.0)
        if self._prune is not None:
            self._prune.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prune
        await self.session.close()


async def start_slack(host: Host) -> SlackRunner:
    """Starts Slack for ``host`` (``bot.app.App`` after ``open()``): registers the Slack
    platform for DMs, channel posts and group DMs, then listens (HTTP or Socket Mode)."""
    s = host.settings
    session = aiohttp.ClientSession()
    bolt, clients = build_bolt(host, session)
    platform = SlackPlatform(clients)
    listeners = SlackListeners(host.core, clients, Directory(), platform, SeenRequests(host.core), session)
    listeners.register(bolt, oauth=s.slack_oauth)
    host.add_platform(PLATFORM, platform)

    runner = SlackRunner(bolt, listeners, session)
    try:
        socket_mode = bool(s.slack_app_token)
        host.web.add_routes(runner.routes(events=not socket_mode, oauth=s.slack_oauth))
        if socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            runner.socket_mode = AsyncSocketModeHandler(bolt, s.slack_app_token, web_client=bolt.client)
            await runner.socket_mode.connect_async()
            log.info("Slack Socket Mode connected")
            host.web.add_check("slack", runner.ready)
        runner.start_pruning()
    except BaseException:
        await runner.stop()
        raise
    return runner
