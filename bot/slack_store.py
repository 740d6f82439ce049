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

Tokens are stored encrypted (:class:`bot.vault.Vault`, keyed by ``RAPPORT_SECRET_KEY``):
:class:`SQLInstallationStore` seals the bot, user and refresh tokens of an installation
before slack-sdk writes its rows and opens them in what it reads back, so neither the rows
nor a database dump hold a usable token. :func:`rotate_tokens` re-seals every stored token
with the newest key (``rapport secrets rotate``).

The adapter never sees any of this (``adapters/`` imports no SQLAlchemy): ``start_slack``
gets the stores from :meth:`bot.app.App.slack_stores`.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import Table, and_, desc, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.slack.oauth import STATE_SECONDS, InstallationStore, SlackStores
from bot.vault import Vault
from core.db import TXN_OPTION, Database

# The columns of slack-sdk's tables that hold tokens.
INSTALLATION_SECRETS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
BOT_SECRETS = ("bot_token", "bot_refresh_token")
_Row = TypeVar("_Row", Installation, Bot)


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
    """slack-sdk's async SQLAlchemy store, tokens sealed at rest, plus a bot token lookup by
    team id alone."""

    def __init__(self, *, client_id: str, engine: Any, vault: Vault) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self.vault = vault

    def _sealed(self, obj: _Row, names: tuple[str, ...]) -> _Row:
        out = copy.copy(obj)
        for name in names:
            setattr(out, name, self.vault.seal(getattr(obj, name)))
        return out

    def _opened(self, obj: _Row | None, names: tuple[str, ...]) -> _Row | None:
        if obj is not None:
            for name in names:
                setattr(obj, name, self.vault.open(getattr(obj, name)))
        return obj

    async def async_save(self, installation: Installation) -> None:
        # slack-sdk saves the bot row from the (already sealed) installation through
        # async_save_bot, whose sealing leaves sealed values as they are.
        await super().async_save(self._sealed(installation, INSTALLATION_SECRETS))

    async def async_save_bot(self, bot: Bot) -> None:
        await super().async_save_bot(self._sealed(bot, BOT_SECRETS))

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        found = await super().async_find_bot(enterprise_id=enterprise_id, team_id=team_id,
                                             is_enterprise_install=is_enterprise_install)
        return self._opened(found, BOT_SECRETS)

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                      user_id: str | None = None,
                                      is_enterprise_install: bool | None = False) -> Installation | None:
        # When slack-sdk falls back to the newest bot row it takes that row's tokens from
        # async_find_bot, already opened; opening leaves an opened token as it is.
        found = await super().async_find_installation(enterprise_id=enterprise_id, team_id=team_id,
                                                      user_id=user_id, is_enterprise_install=is_enterprise_install)
        return self._opened(found, INSTALLATION_SECRETS)

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
                return self.vault.open(token)
            org_wide = (
                await conn.execute(
                    select(c.bot_token, c.enterprise_id)
                    .where(and_(c.client_id == self.client_id, c.is_enterprise_install.is_(True), c.bot_token.is_not(None)))
                    .order_by(desc(c.installed_at))
                )
            ).all()
        enterprises = {row.enterprise_id for row in org_wide}
        return self.vault.open(org_wide[0].bot_token) if len(enterprises) == 1 else None


def slack_stores(db: Database, client_id: str, keys: tuple[str, ...]) -> SlackStores:
    """The installation and OAuth state stores on ``db`` (its write gate, its read
    transactions), sealing tokens with ``keys[0]`` and opening them with any of ``keys``."""
    engine = GatedEngine(db)
    return SlackStores(
        installations=SQLInstallationStore(client_id=client_id, engine=engine, vault=Vault(keys)),
        states=AsyncSQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine),  # type: ignore[arg-type]
    )


async def rotate_tokens(db: Database, keys: tuple[str, ...]) -> int:
    """Re-seals every stored Slack token with ``keys[0]`` (tokens sealed with any of ``keys``,
    and tokens stored before encryption); returns how many values changed. One transaction:
    a token no key opens stops it with nothing changed."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from sqlalchemy import MetaData

    vault = Vault(keys)
    metadata = MetaData()
    tables: tuple[tuple[Table, tuple[str, ...]], ...] = (
        (SQLAlchemyInstallationStore.build_installations_table(metadata, "slack_installations"), INSTALLATION_SECRETS),
        (SQLAlchemyInstallationStore.build_bots_table(metadata, "slack_bots"), BOT_SECRETS),
    )
    changed = 0
    async with db.write() as session:
        for table, names in tables:
            rows = (await session.execute(select(table.c.id, *(table.c[n] for n in names)))).all()
            for row in rows:
                values = {n: vault.reseal(getattr(row, n)) for n in names}
                values = {n: v for n, v in values.items() if v != getattr(row, n)}
                if values:
                    await session.execute(update(table).where(table.c.id == row.id).values(**values))
                    changed += len(values)
    return changed
