"""Slack OAuth installations in Rapport's database: the wiring's half of the Slack adapter.

slack-sdk's async SQLAlchemy stores (``AsyncSQLAlchemyInstallationStore``,
``AsyncSQLAlchemyOAuthStateStore``) on the process's one :class:`~core.db.Database`. They
use the tables of slack-sdk's sync stores (``slack_installations``, ``slack_bots``,
``slack_oauth_states``), created by the Alembic migration ``0002_slack_oauth``, so there is
no sync engine and no second database driver.

The stores only know an engine's ``begin()`` (they write) and ``connect()`` (they read).
They get :class:`GatedEngine` instead of the engine itself:

- ``begin()`` takes the process's write gate first, like every other writer (an install,
  an uninstall, an OAuth state issued or consumed), so on SQLite it queues with commands
  and sweeps instead of in SQLite's busy handler;
- ``connect()`` is a read transaction (a deferred ``BEGIN`` on SQLite, see ``core/db.py``):
  finding a workspace's bot token never waits for a writer.

The adapter never sees any of this (``adapters/`` imports no SQLAlchemy): ``start_slack``
gets the stores from :meth:`bot.app.App.slack_stores`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import and_, desc, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.slack.oauth import STATE_SECONDS, InstallationStore, SlackStores
from core.db import TXN_OPTION, Database


class GatedEngine:
    """The engine as slack-sdk's stores use it: writes through the write gate, reads in a
    read transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._reader = db.engine.execution_options(**{TXN_OPTION: "read"})

    @property
    def dialect(self):
        return self.db.engine.dialect

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        async with self.db.gate, self.db.engine.begin() as conn:
            yield conn

    def connect(self):
        return self._reader.connect()


class SQLInstallationStore(AsyncSQLAlchemyInstallationStore, InstallationStore):
    """slack-sdk's async SQLAlchemy store, plus a bot token lookup by team id alone."""

    async def bot_token(self, team_id: str) -> str | None:
        """The newest bot token installed for ``team_id`` (a workspace install, within an
        Enterprise Grid org or not); else the org-wide install when there is exactly one."""
        c = self.bots.c
        query = (
            select(c.bot_token)
            .where(and_(c.client_id == self.client_id, c.team_id == team_id, c.bot_token.is_not(None)))
            .order_by(desc(c.installed_at))
            .limit(1)
        )
        async with self.engine.connect() as conn:
            token = (await conn.execute(query)).scalar()
            if token:
                return token
            org_wide = (
                await conn.execute(
                    select(c.bot_token, c.enterprise_id)
                    .where(and_(c.client_id == self.client_id, c.is_enterprise_install.is_(True), c.bot_token.is_not(None)))
                    .order_by(desc(c.installed_at))
                )
            ).all()
        enterprises = {row.enterprise_id for row in org_wide}
        return org_wide[0].bot_token if len(enterprises) == 1 else None


def slack_stores(db: Database, client_id: str) -> SlackStores:
    """The installation and OAuth state stores on ``db`` (its write gate, its read transactions)."""
    engine = GatedEngine(db)
    return SlackStores(
        installations=SQLInstallationStore(client_id=client_id, engine=engine),  # type: ignore[arg-type]
        states=AsyncSQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine),  # type: ignore[arg-type]
    )
