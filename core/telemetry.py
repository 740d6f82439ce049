"""What the core and the dispatcher tell an observer, and the fields every log line carries.

The core reports outcomes through a :class:`Telemetry` it is handed (``bot/metrics.py``
implements it with prometheus-client; :class:`NoTelemetry` is the default). Labels are
fixed vocabularies only: a verb from the grammar, a platform name, a nudge kind, an outcome.
Never member text or ids.

``log_fields`` puts the verb, platform, workspace and request id of the work in hand into
a context variable that the log formatter reads (``bot/logs.py``), so a log line says what it
was about without anyone passing those along.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

# Command outcomes
OK = "ok"  # the command did what was asked
REFUSED = "refused"  # a bad input or a refusal, answered in one line
ERROR = "error"  # a bug: the generic answer, nothing saved

# Nudge outcomes
SENT = "sent"
RETRY = "retry"  # a transient error: tried again with backoff
RATE_LIMITED = "rate_limited"  # the platform said wait: tried again after Retry-After
FAILED = "failed"  # permanent, or out of attempts
DEFERRED = "deferred"  # quiet hours began since it was planned


class Telemetry(Protocol):
    """An observer of the core's work. Calls must be cheap and must never raise."""

    def command_finished(self, verb: str, platform: str, outcome: str, seconds: float) -> None:
        """A command, button or form finished; ``seconds`` is measured on a monotonic timer."""
        ...

    def nudge_finished(self, kind: str, platform: str, outcome: str) -> None:
        """One delivery attempt of a nudge ended with ``outcome`` (SENT, RETRY, ...)."""
        ...

    def rate_limited(self, platform: str) -> None:
        """A platform answered 429 (whether waited out in the call or passed to the dispatcher)."""
        ...

    def retried(self, platform: str) -> None:
        """A platform call was tried again (after a 429, a reset connection or a 5xx)."""
        ...

    def sweep_finished(self, seconds: float, claimed: int) -> None:
        """A dispatcher sweep ended after ``seconds``, having claimed ``claimed`` nudges."""
        ...


class NoTelemetry:
    """Observes nothing (tests, the console, and anything not wired to metrics)."""

    def command_finished(self, verb: str, platform: str, outcome: str, seconds: float) -> None:
        pass

    def nudge_finished(self, kind: str, platform: str, outcome: str) -> None:
        pass

    def rate_limited(self, platform: str) -> None:
        pass

    def retried(self, platform: str) -> None:
        pass

    def sweep_finished(self, seconds: float, claimed: int) -> None:
        pass


LOG_FIELDS: ContextVar[Mapping[str, str]] = ContextVar("rapport_log_fields", default={})  # noqa: B039 - never mutated


@contextmanager
def log_fields(**fields: str | None) -> Iterator[None]:
    """Adds ``fields`` (verb, platform, workspace, request_id) to log lines within the block.

    Only identifiers and fixed words belong here, never member text."""
    merged = {**LOG_FIELDS.get(), **{k: v for k, v in fields.items() if v}}
    token = LOG_FIELDS.set(merged)
    try:
        yield
    finally:
        LOG_FIELDS.reset(token)


def set_log_fields(**fields: str | None) -> None:
    """Like ``log_fields`` for the rest of the current task (a request handler's task)."""
    LOG_FIELDS.set({**LOG_FIELDS.get(), **{k: v for k, v in fields.items() if v}})
