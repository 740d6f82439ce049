"""Prometheus metrics (``GET /metrics``): ``core.telemetry.Telemetry`` on prometheus-client.

Every process has its own registry (no module-level singletons), so tests can run several
apps in one interpreter. Labels are fixed vocabularies only (verb, platform, kind, outcome):

| metric | type | labels |
|---|---|---|
| ``rapport_commands_total`` | counter | verb, platform, outcome (ok, refused, error) |
| ``rapport_command_seconds`` | histogram | platform |
| ``rapport_nudges_total`` | counter | kind, platform, outcome (sent, retry, rate_limited, failed, deferred) |
| ``rapport_nudge_oldest_due_seconds`` | gauge | (none): age of the oldest due but unsent nudge, 0 when none |
| ``rapport_platform_rate_limited_total`` | counter | platform: 429 answers |
| ``rapport_platform_retries_total`` | counter | platform: calls tried again |
| ``rapport_sweep_seconds`` | histogram | (none): dispatcher sweep duration |
| ``rapport_ready`` | gauge | (none): 1 when /readyz would answer 200 |
| ``rapport_uptime_seconds`` | gauge | (none) |
| ``process_*`` | | prometheus-client's process collector (start time, memory, CPU) |

The oldest-due gauge is read from the database when ``/metrics`` is scraped (one indexed
query), so every process reports the same, shared figure.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
SWEEP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """Implements ``core.telemetry.Telemetry``; ``handler`` serves ``GET /metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        self.commands = Counter("rapport_commands", "Commands, buttons and forms run, by outcome.",
                                ["verb", "platform", "outcome"], registry=r)
        self.command_seconds = Histogram("rapport_command_seconds", "Time the core took to run a command.",
                                         ["platform"], buckets=LATENCY_BUCKETS, registry=r)
        self.nudges = Counter("rapport_nudges", "Nudge delivery attempts, by outcome.",
                              ["kind", "platform", "outcome"], registry=r)
        self.oldest_due = Gauge("rapport_nudge_oldest_due_seconds",
                                "Age of the oldest nudge that is due but not sent (0 when none).", registry=r)
        self.rate_limits = Counter("rapport_platform_rate_limited", "429 answers from a platform.", ["platform"], registry=r)
        self.retries = Counter("rapport_platform_retries", "Platform calls tried again.", ["platform"], registry=r)
        self.sweep_seconds = Histogram("rapport_sweep_seconds", "Dispatcher sweep duration.", buckets=SWEEP_BUCKETS, registry=r)
        self.ready = Gauge("rapport_ready", "1 when the process is ready for traffic (/readyz is 200).", registry=r)
        started = time.monotonic()
        uptime = Gauge("rapport_uptime_seconds", "Seconds since the process started.", registry=r)
        uptime.set_function(lambda: time.monotonic() - started)
        self._oldest_due_reader: Callable[[], Awaitable[float]] | None = None
        self._readiness: Callable[[], Awaitable[bool]] | None = None

    # -- core.telemetry.Telemetry ----------------------------------------------------------

    def command_finished(self, verb: str, platform: str, outcome: str, seconds: float) -> None:
        self.commands.labels(verb, platform, outcome).inc()
        self.command_seconds.labels(platform).observe(seconds)

    def nudge_finished(self, kind: str, platform: str, outcome: str) -> None:
        self.nudges.labels(kind, platform, outcome).inc()

    def rate_limited(self, platform: str) -> None:
        self.rate_limits.labels(platform).inc()

    def retried(self, platform: str) -> None:
        self.retries.labels(platform).inc()

    def sweep_finished(self, seconds: float, claimed: int) -> None:
        self.sweep_seconds.observe(seconds)

    # -- scraping --------------------------------------------------------------------------

    def read_oldest_due_with(self, reader: Callable[[], Awaitable[float]]) -> None:
        """``reader()`` gives the oldest-due age in seconds, read at every scrape."""
        self._oldest_due_reader = reader

    def read_readiness_with(self, reader: Callable[[], Awaitable[bool]]) -> None:
        self._readiness = reader

    async def handler(self, _request: web.Request) -> web.Response:
        if self._oldest_due_reader is not None:
            try:
                async with asyncio.timeout(2):
                    self.oldest_due.set(await self._oldest_due_reader())
            except Exception as err:  # the other figures are still worth serving
                log.warning("metrics: could not read the oldest due nudge (%s)", type(err).__name__)
        if self._readiness is not None:
            try:
                self.ready.set(1 if await self._readiness() else 0)
            except Exception:
                self.ready.set(0)
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/metrics", self.handler)]
