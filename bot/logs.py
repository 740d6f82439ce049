"""Logging set-up: plain text (the default) or one JSON object per line (``RAPPORT_LOG_FORMAT=json``).

A JSON line carries ``ts``, ``level``, ``logger``, ``message`` and, when known, the ``verb``,
``platform``, ``workspace`` and ``request_id`` of the work in hand (from
``core.telemetry.LOG_FIELDS``, set by the HTTP listener, the adapters and the core), plus
``exc`` for a traceback.

What never reaches a log line, in either format: tokens and secrets (Slack ``xox…-``/``xapp-``
tokens, Discord bot tokens, ``Bearer`` and ``Bot`` authorization values, signing secrets are
masked wherever they appear, tracebacks included), and member text: the code logs verbs and
ids, not notes or drafts, and SQL errors are logged without their parameters (the engine is
made with ``hide_parameters=True``) or the values PostgreSQL and asyncpg quote back in them
(``core.db.scrub_error`` takes out ``DETAIL: Failing row contains (...)`` and the like before
any handler sees the error). ``tests/ops/test_logs_private.py`` makes a command fail in the
database with marked text and looks for the marks in every log format.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from typing import Any

from core.telemetry import LOG_FIELDS

# Slack tokens, app tokens, Discord bot tokens, and authorization headers.
SECRET_PATTERNS = [
    re.compile(r"\bxox[abeoprs]-[A-Za-z0-9-]{6,}"),
    re.compile(r"\bxapp-[A-Za-z0-9-]{6,}"),
    re.compile(r"\b[MNO][A-Za-z0-9_-]{22,28}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}\b"),
    re.compile(r"(?i)\b(Bearer|Bot)\s+[A-Za-z0-9._~+/=-]{8,}"),
]
MASK = "[secret]"
CONTEXT_KEYS = ("verb", "platform", "workspace", "request_id")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with tokens (and the given secret values) masked."""
    for value in secrets:
        if value and len(value) >= 6 and value in text:
            text = text.replace(value, MASK)
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)} {MASK}" if m.re.groups else MASK, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage(), self.secrets),
        }
        fields = LOG_FIELDS.get()
        for key in CONTEXT_KEYS:
            value = fields.get(key)
            if value:
                line[key] = value
        if record.exc_info:
            line["exc"] = redact(self.formatException(record.exc_info), self.secrets)
        elif record.exc_text:
            line["exc"] = redact(record.exc_text, self.secrets)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The plain format, with the context in brackets and secrets masked."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = LOG_FIELDS.get()
        context = " ".join(f"{k}={fields[k]}" for k in CONTEXT_KEYS if fields.get(k))
        if context:
            head, sep, rest = text.partition(": ")
            text = f"{head} [{context}]{sep}{rest}"
        return redact(text, self.secrets)


def configure(fmt: str = "text", level: int = logging.INFO, secrets: tuple[str | None, ...] = (), stream=None) -> None:
    """Sets up the root logger once for the process (``rapport`` calls this at start)."""
    values = tuple(s for s in secrets if s)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(values) if fmt == "json" else TextFormatter(values))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
