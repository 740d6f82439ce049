"""Platform events and requests already handled, so a retried one runs once in any process.

Keys live in ``seen_events``; a claim is an insert that does nothing on conflict, so two
processes racing for one key can't both win.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from core.db import Database, rowcount
from core.models import SeenEvent

KEY_MAX = 200


def _insert(db: Database) -> Any:
    dialect = postgresql if db.dialect == "postgresql" else sqlite
    return dialect.insert(SeenEvent)


async def claim(db: Database, key: str, now: dt.datetime) -> bool:
    """True if nobody has recorded ``key`` yet (it is now recorded), else False."""
    async with db.write() as session:
        result = await session.execute(
            _insert(db).values(key=key[:KEY_MAX], seen_at=now).on_conflict_do_nothing(index_elements=["key"])
        )
        return rowcount(result) == 1


async def prune(db: Database, prefix: str, before: dt.datetime) -> int:
    """Forgets keys with ``prefix`` recorded before ``before``."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    async with db.write() as session:
        result = await session.execute(
            delete(SeenEvent).where(SeenEvent.key.like(f"{escaped}%", escape="\\"), SeenEvent.seen_at < before)
        )
        return rowcount(result)
