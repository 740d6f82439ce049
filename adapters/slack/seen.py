"""Requests already handled, so a request Slack retries, or anyone replays, runs once.

Slack retries an Events API request it thinks timed out, with ``X-Slack-Retry-Num``; anyone
who captured a signed request can send it again, unchanged, for as long as Slack's five
minutes allow its timestamp (``adapters/slack/runner.py`` refuses it after that). A request's
key is its event id for events (a retry is re-signed, but the event id stays), else a hash of
its body (a slash command's or an interaction's body carries a one-time ``trigger_id``, so
equal bodies mean one request, however it is signed).

Every request, after its signature is checked, claims its key through the core
(``Rapport.claim_event``: an insert into ``seen_events`` that does nothing on conflict)
before anything runs. The first claim wins in any process sharing the database, also when
copies arrive at the same moment; the rest are acked with an empty 200. Keys this process
handled are also remembered for ``REMEMBER`` seconds, which answers a repeat here without
asking the database.

Keys older than a day are forgotten (``Rapport.forget_events``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time

from core.service import Rapport

log = logging.getLogger(__name__)

PREFIX = "slack:"
KEEP = dt.timedelta(days=1)
REMEMBER = 600.0  # seconds a key stays in this process's memory: longer than Slack's 5-minute window


def request_key(body: dict, raw_body: str) -> str:
    """``slack:ev:<event_id>`` for events, else ``slack:rq:<sha256 of the body>``."""
    event_id = body.get("event_id") if isinstance(body, dict) else None
    if event_id:
        return f"{PREFIX}ev:{event_id}"[:200]
    return f"{PREFIX}rq:" + hashlib.sha256(raw_body.encode()).hexdigest()


class SeenRequests:
    """Claims request keys in the database, remembering the ones this process has seen."""

    def __init__(self, core: Rapport) -> None:
        self.core = core
        self._recent: dict[str, float] = {}

    def seen_here(self, key: str) -> bool:
        """True if this process handled ``key`` in the last ``REMEMBER`` seconds."""
        at = self._recent.get(key)
        return at is not None and time.monotonic() - at < REMEMBER

    async def claim(self, key: str) -> bool:
        """True if no process has handled ``key`` (it is now ours, recorded), else False.
        A failing database raises: the caller decides."""
        if self.seen_here(key):
            return False
        self._forget_old()
        self._recent[key] = time.monotonic()  # before the await: a copy arriving meanwhile waits for nothing
        return await self.core.claim_event(key)

    def _forget_old(self) -> None:
        # Keys are in the order they were seen: drop from the front while they're old.
        cutoff = time.monotonic() - REMEMBER
        while self._recent:
            key = next(iter(self._recent))
            if self._recent[key] >= cutoff:
                break
            del self._recent[key]

    async def prune(self) -> int:
        """Forgets recorded Slack keys older than ``KEEP``."""
        return await self.core.forget_events(PREFIX, KEEP)

    async def close(self) -> None:
        """Nothing is left to record: every claim was written before its request ran."""
