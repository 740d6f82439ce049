"""Many workspaces: the OAuth install flow, with installations in Rapport's own database.

Choice: slack-sdk's *async* SQLAlchemy stores (``AsyncSQLAlchemyInstallationStore``,
``AsyncSQLAlchemyOAuthStateStore``) on the bot's own ``AsyncEngine``. They use the same
tables as the sync ``SQLAlchemyInstallationStore`` / ``SQLAlchemyOAuthStateStore``
(``slack_installations``, ``slack_bots``, ``slack_oauth_states``), created by our Alembic
migration ``0002_slack_oauth``, so there is no sync engine and no second database driver
(no psycopg), and the event loop never blocks on the database.

Workspaces are told apart by team id (on Enterprise Grid too: each workspace of an org is
its own community). ``bot_token(team_id)`` finds a workspace's token for the dispatcher,
which has no incoming request to authorize from.
"""

from __future__ import annotations

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import and_, desc, select
from sqlalchemy.ext.asyncio import AsyncEngine

# Exactly what the app uses (deploy/slack-manifest.yml lists the same; a test checks).
SCOPES = (
    "commands",  # /rapport
    "chat:write",  # DMs, replies, intro posts
    "chat:write.public",  # intro posts in a public channel the app wasn't invited to
    "im:write",  # conversations.open for a member's DM
    "mpim:write",  # conversations.open for an accepted intro's group DM
    "users:read",  # users.info: time zone, admin/owner, name; the user_change event
    "files:write",  # export: the files go to the member's DM
)
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600


class InstallationStore(AsyncSQLAlchemyInstallationStore):
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


def oauth_settings(client_id: str, client_secret: str, engine: AsyncEngine) -> tuple[AsyncOAuthSettings, InstallationStore]:
    """Bolt's OAuth settings on our database, and the installation store they use."""
    store = InstallationStore(client_id=client_id, engine=engine)
    state_store = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine)
    settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(SCOPES),
        installation_store=store,
        state_store=state_store,
        state_expiration_seconds=STATE_SECONDS,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
    )
    return settings, store
