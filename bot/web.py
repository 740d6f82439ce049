"""The bot's one HTTP listener, in every mode (Slack HTTP mode, Socket Mode, Discord, console).

Whatever needs HTTP adds its routes before :meth:`WebServer.start`: Slack's events and
install flow, health and readiness, metrics, the calendar feed, the organizers' dashboard.
It listens on ``RAPPORT_HTTP_HOST:RAPPORT_HTTP_PORT`` (port 0 picks a free one, which the
tests use); ``public_url`` is the base URL members are sent links with
(``RAPPORT_PUBLIC_URL``, else ``http://localhost:<port>``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiohttp import web

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"


class WebServer:
    """One aiohttp application; routes are added before ``start()``."""

    def __init__(self, host: str, port: int, public_url: str | None = None) -> None:
        self.host = host
        self.port = port
        self._public_url = public_url.rstrip("/") if public_url else None
        self.app = web.Application(client_max_size=12 * 1024 * 1024)
        self.app.router.add_get(HEALTH_PATH, self.healthz)
        self.app.router.add_get("/health", self.healthz)  # the name earlier versions used
        self._runner: web.AppRunner | None = None

    def add_routes(self, routes: Iterable[web.AbstractRouteDef]) -> None:
        """Adds routes; only before ``start()`` (aiohttp freezes the router then)."""
        self.app.router.add_routes(list(routes))

    @property
    def started(self) -> bool:
        return self._runner is not None

    @property
    def public_url(self) -> str:
        """Where members reach this listener: ``RAPPORT_PUBLIC_URL`` or ``http://localhost:<port>``."""
        return self._public_url or f"http://localhost:{self.port}"

    async def healthz(self, _request: web.Request) -> web.Response:
        """The process is up (readiness is ``/readyz``)."""
        return web.json_response({"ok": True})

    async def start(self) -> None:
        """Binds and serves; ``self.port`` is the real port afterwards (also for port 0)."""
        # In-flight requests get 3 s to finish on stop (Slack waits 3 s for an ack anyway).
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=3.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        paths = sorted({r.resource.canonical for r in self.app.router.routes() if r.resource is not None})
        log.info("HTTP listener on %s:%s (%s)", self.host, self.port, ", ".join(paths))

    async def stop(self) -> None:
        """Stops accepting connections and lets requests in flight finish (3 s at most)."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
