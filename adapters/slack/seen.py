"""Requests already handled, so a request Slack retries is processed once.

Slack retries an Events API request it thinks timed out (``X-Slack-Retry-Num``). Every
request claims a key in the ``seen_events`` table before it is handled: the event id for
events, else a hash of the body (a slash command's or an interaction's body carries a
one-time ``trigger_id``, so equal bodies mean the same request). The claim is an insert
that does nothing on conflict, so it holds across processes sharing the database. Keys
older than a day are pruned.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.clock import Clock
from core.models import SeenEvent

log = logging.getLogger(__name__)

KEEP = dt.timedelta(days=1)


def request_key(body: dict, raw_body: str) -> str:
    """``slack:ev:<event_id>`` for events, else ``slack:rq:<sha256 of the body>``."""
    event_id = body.get("event_id") if isinstance(body, dict) else None
    if event_id:
        return f"slack:ev:{event_id}"[:200]
    return "slack:rq:" + hashlib.sha256(raw_body.encode()).hexdigest()


class SeenRequests:
    """Claims request keys in ``seen_events``."""

    def __init__(self, sessionmaker: async_sessionmaker, clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock

    async def claim(self, key: str) -> bool:
        """True the first time ``key`` is claimed, False ever after (until pruned)."""
        async with self.sessionmaker() as session, session.begin():
            dialect = session.bind.dialect.name
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert
            result = await session.execute(
                insert(SeenEvent)
                .values(key=key, seen_at=self.clock.now())
                .on_conflict_do_nothing(index_elements=["key"])
            )
            return (result.rowcount or 0) == 1

    async def prune(self) -> int:
        async with self.sessionmaker() as session, session.begin():
            result = await session.execute(
                delete(SeenEvent).where(SeenEvent.key.like("slack:%"), SeenEvent.seen_at < self.clock.now() - KEEP)
            )
            return result.rowcount or 0
