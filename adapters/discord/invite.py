"""The invite URL: exactly the scopes and permissions the bot uses (``rapport discord invite-url``)."""

from __future__ import annotations

import base64
import binascii
from typing import Protocol
from urllib.parse import urlencode

import discord

AUTHORIZE_URL = "https://discord.com/oauth2/authorize"
SCOPES = ("bot", "applications.commands")
PLACEHOLDER_ID = "YOUR_APPLICATION_ID"


class TokenSettings(Protocol):
    """Anything with the bot token (the program's settings)."""

    discord_token: str | None


def permissions() -> discord.Permissions:
    """What the bot does in a server's channels, and nothing more.

    View Channel and Send Messages: intro requests in the intro channel. Embed Links: every
    message is an embed. Attach Files: `/rapport export` answers with files.
    Create Private Threads and Send Messages in Threads: the private thread an accepted
    intro opens. (It never reads history, manages anything or needs a privileged intent;
    DMs and replies to commands need no server permission.)
    """
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        embed_links=True,
        attach_files=True,
        create_private_threads=True,
        send_messages_in_threads=True,
    )


def application_id_from_token(token: str) -> str | None:
    """A bot token's first segment is the bot's user id (= the application id) in base64."""
    head = token.strip().split(".", 1)[0]
    if not head:
        return None
    padded = head + "=" * (-len(head) % 4)
    try:
        decoded = base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_")).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return decoded if decoded.isdigit() else None


def invite_url(settings: TokenSettings) -> str:
    """The URL a server admin opens to add the bot; a template when no token is configured."""
    app_id = application_id_from_token(settings.discord_token) if settings.discord_token else None
    query = urlencode(
        {
            "client_id": app_id or PLACEHOLDER_ID,
            "scope": " ".join(SCOPES),
            "permissions": str(permissions().value),
            "integration_type": "0",
        },
        safe="_",
    ).replace("+", "%20")
    return f"{AUTHORIZE_URL}?{query}"
