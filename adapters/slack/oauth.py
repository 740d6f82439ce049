"""Many workspaces: the OAuth install flow (``/slack/install``, ``/slack/oauth_redirect``).

Installations live in Rapport's own database, but this module doesn't know how: the
wiring (``bot/slack_store.py``) builds the installation and state stores on the process's
one database and hands them to :func:`start_slack <adapters.slack.runner.start_slack>`.
The installation store also answers ``bot_token(team_id)``, for the dispatcher, which has
no incoming request to authorize from.

Workspaces are told apart by team id (on Enterprise Grid too: each workspace of an org is
its own community).
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

# Exactly what the app uses (deploy/slack-manifest.yml lists the same; a test checks).
SCOPES = (
    "commands",  # /rapport
    "chat:write",  # DMs, replies, intro posts
    "chat:write.public",  # intro posts in a public channel the app wasn't invited to
    "im:write",  # conversations.open for a member's DM
    "mpim:write",  # conversations.open for an accepted intro's group DM
    "users:read",  # users.info: time zone, admin/owner, name, workspace; the user_change event
    "files:write",  # export, the network map, meeting.ics: the files go to the member's DM
    "files:read",  # import: download the contacts file a member drops into their DM with the app
    "im:history",  # import: the message.im event that says a file was dropped there
)
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600


class InstallationStore(AsyncInstallationStore):
    """What the install flow and the clients need of the installations: slack-sdk's
    ``AsyncInstallationStore``, and a bot token by team id alone."""

    async def bot_token(self, team_id: str) -> str | None:
        """The newest bot token installed for ``team_id``; None when there is none."""
        raise NotImplementedError


@dataclass(frozen=True)
class SlackStores:
    """The OAuth stores the wiring builds (``bot/slack_store.py``)."""

    installations: InstallationStore
    states: AsyncOAuthStateStore


def oauth_settings(client_id: str, client_secret: str, stores: SlackStores) -> AsyncOAuthSettings:
    """Bolt's OAuth settings on the stores the wiring built."""
    return AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(SCOPES),
        installation_store=stores.installations,
        state_store=stores.states,
        state_expiration_seconds=STATE_SECONDS,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
    )
