"""The bot's one HTTP listener, in every mode (Slack HTTP mode, Socket Mode, Discord, console).

Whatever needs HTTP adds its routes before :meth:`WebServer.start`: Slack's events and
install flow, health and readiness, metrics, the calendar feed, the organizers' dashboard.
It listens on ``RAPPORT_HTTP_HOST:RAPPORT_HTTP_PORT`` (port 0 picks a free one, which the
tests use); ``public_url`` is the base URL members are sent links with
(``RAPPORT_PUBLIC_URL``, else ``http://localhost:<port>``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from core.telemetry import log_fields

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
CHECK_TIMEOUT = 2.0  # seconds one readiness check may take before it counts as failed
READY_CACHE = 0.5  # seconds a readiness result is reused
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

# A readiness check: returns None when fine, else a short reason (no secrets, no member data).
Check = Callable[[], Awaitable[str | None]]


class WebServer:
    """One aiohttp application; routes are added before ``start()``."""

    def __init__(self, host: str, port: int, public_url: str | None = None) -> None:
        self.host = host
        self.port = port
        self._public_url = public_url.rstrip("/") if public_url else None
        self.app = web.Application(client_max_size=12 * 1024 * 1024, middlewares=[request_ids])
        self.app.router.add_get(HEALTH_PATH, self.healthz)
        self.app.router.add_get("/health", self.healthz)  # the name earlier versions used
        self.app.router.add_get(READY_PATH, self.readyz)
        self._runner: web.AppRunner | None = None
        self._checks: dict[str, Check] = {}
        self.ready_cache = READY_CACHE
        self._last: tuple[float, tuple[bool, dict[str, str]]] | None = None
        self._running: asyncio.Future | None = None
        self.draining = False

    def add_check(self, name: str, check: Check) -> None:
        """Adds a readiness check (``database``, ``migrations``, ``slack``, ``discord``...)."""
        self._checks[name] = check

    def drain(self) -> None:
        """From now on ``/readyz`` answers 503: a load balancer stops sending work here."""
        self.draining = True

    async def readiness(self) -> tuple[bool, dict[str, str]]:
        """Runs every check at once: ``(ready, {name: "ok" or the reason})``. Concurrent asks
        share one run, and a result is reused for ``READY_CACHE`` seconds, so a load
        balancer's health checks from several places cost one round of checks."""
        if self.draining:  # answered at once: no check can make a leaving process ready
            return False, {"draining": "shutting down"}
        loop = asyncio.get_running_loop()
        if self._last is not None and loop.time() - self._last[0] < self.ready_cache:
            return self._last[1]
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._run_checks())
        result = await asyncio.shield(self._running)
        self._last = (loop.time(), result)
        return result

    async def _run_checks(self) -> tuple[bool, dict[str, str]]:
        async def run(check: Check) -> str | None:
            try:
                async with asyncio.timeout(CHECK_TIMEOUT):
                    return await check()
            except TimeoutError:
                return "timed out"
            except Exception as err:
                return f"failed ({type(err).__name__})"

        names = list(self._checks)
        results = await asyncio.gather(*(run(self._checks[n]) for n in names))
        report = {name: reason or "ok" for name, reason in zip(names, results, strict=True)}
        return all(r is None for r in results), report

    async def readyz(self, _request: web.Request) -> web.Response:
        """200 when the database is reachable, migrations are at head and every configured
        platform is connected; 503 otherwise, and from the moment shutdown begins."""
        ready, report = await self.readiness()
        return web.json_response({"ready": ready, "checks": report}, status=200 if ready else 503)

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


@web.middleware
async def request_ids(request: web.Request, handler):
    """Every request gets an id (the load balancer's ``X-Request-ID`` when it sends a sane
    one), carried by the log lines about it and echoed in the answer."""
    given = request.headers.get("X-Request-ID", "")
    rid = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex[:16]
    with log_fields(request_id=rid):
        response = await handler(request)
    if isinstance(response, web.StreamResponse) and not response.prepared:
        response.headers["X-Request-ID"] = rid
    return response
