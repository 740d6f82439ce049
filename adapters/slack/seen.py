"""Requests already handled, so a request Slack retries is processed once.

Slack retries an Events API request it thinks timed out, with ``X-Slack-Retry-Num``. A
request's key is its event id for events, else a hash of its body (a slash command's or an
interaction's body carries a one-time ``trigger_id``, so equal bodies mean one request).

- Every request's key is remembered in this process at once and recorded through the core
  (``Rapport.note_events``) in batches a moment later, off the path of the answer: one small
  transaction per batch instead of one per request.
- A request that says it is a retry claims its key through the core
  (``Rapport.claim_event``: an insert that does nothing on conflict). Slack retries after its
  3-second timeout at the earliest, by which time the original's key is recorded, so the
  claim holds across processes sharing the database.

Keys older than a day are forgotten (``Rapport.forget_events``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time

from core.service import Rapport

log = logging.getLogger(__name__)

PREFIX = "slack:"
KEEP = dt.timedelta(days=1)
FLUSH_EVERY = 0.1  # seconds between batch writes of new keys
REMEMBER = 600.0  # seconds a key stays in this process's memory


def request_key(body: dict, raw_body: str) -> str:
    """``slack:ev:<event_id>`` for events, else ``slack:rq:<sha256 of the body>``."""
    event_id = body.get("event_id") if isinstance(body, dict) else None
    if event_id:
        return f"{PREFIX}ev:{event_id}"[:200]
    return f"{PREFIX}rq:" + hashlib.sha256(raw_body.encode()).hexdigest()


class SeenRequests:
    """Remembers request keys (memory now, the core's record soon) and claims retried ones."""

    def __init__(self, core: Rapport) -> None:
        self.core = core
        self._recent: dict[str, float] = {}
        self._pending: list[str] = []
        self._flusher: asyncio.Task | None = None

    def seen_here(self, key: str) -> bool:
        """True if this process handled ``key`` in the last ``REMEMBER`` seconds."""
        at = self._recent.get(key)
        return at is not None and time.monotonic() - at < REMEMBER

    def note(self, key: str) -> None:
        """Remembers a first delivery; it is recorded within ``FLUSH_EVERY``."""
        self._recent[key] = time.monotonic()
        self._pending.append(key)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush_soon())

    async def claim(self, key: str) -> bool:
        """For a retry: True if nobody has handled ``key`` (it is now ours), else False."""
        if self.seen_here(key):
            return False
        self._recent.pop(key, None)  # re-inserted at the end: the order stays by time
        self._recent[key] = time.monotonic()
        return await self.core.claim_event(key)

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_EVERY)
        await self.flush()

    def _forget_old(self) -> None:
        # Keys are in the order they were seen: drop from the front while they're old.
        cutoff = time.monotonic() - REMEMBER
        while self._recent:
            key = next(iter(self._recent))
            if self._recent[key] >= cutoff:
                break
            del self._recent[key]

    async def flush(self) -> None:
        """Records the remembered keys not recorded yet."""
        self._forget_old()
        keys, self._pending = self._pending, []
        if not keys:
            return
        try:
            await self.core.note_events(keys)
        except Exception:
            log.exception("recording %d Slack request keys failed", len(keys))

    async def prune(self) -> int:
        """Forgets recorded Slack keys older than ``KEEP``."""
        return await self.core.forget_events(PREFIX, KEEP)

    async def close(self) -> None:
        """Records what is pending. A flush under way is awaited, never cancelled: cancelling
        a database call midway leaves its connection to be torn down after the engine."""
        if self._flusher is not None and not self._flusher.done():
            await asyncio.wait({self._flusher}, timeout=5)
        await self.flush()
