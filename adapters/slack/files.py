"""Files members share with Rapport: a contacts file dropped into their DM with the app.

Slack tells the app with a ``message`` event (``message.im``, subtype ``file_share``) that
carries the file objects. Only files shared in the member's own DM with Rapport count
(``channel_type: im``; files in channels are none of Rapport's business). The size Slack
states is checked before anything is downloaded, and the download stops at the limit
whatever the file turns out to be.

The download carries the workspace's bot token (``Authorization: Bearer``), so it goes
only to Slack's file host (or the host of ``SLACK_API_URL``, where a stand-in serves
files): a file object pointing anywhere else is refused, never fetched with the token.
Without the ``files:read`` scope Slack answers a download with its HTML sign-in page; that
is told apart from a file and reported as the missing permission.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import aiohttp

from core.errors import UserError
from core.importing import MAX_FILE_BYTES, check_size

FILES_HOST = "files.slack.com"
MAX_FILES = 3  # files taken from one message
TIMEOUT = aiohttp.ClientTimeout(total=60)
CHUNK = 64 * 1024


class DownloadError(Exception):
    """The file couldn't be fetched; the message is one line for the member."""


def shared_in_dm(event: dict) -> list[dict]:
    """The files a member shared in their DM with the app, from a ``message`` event."""
    if event.get("type") != "message" or event.get("subtype") != "file_share":
        return []
    if event.get("channel_type") != "im" or event.get("bot_id") or not event.get("user"):
        return []
    files = [f for f in event.get("files") or [] if isinstance(f, dict) and f.get("id")]
    return files[:MAX_FILES]


def allowed(url: str, api_url: str) -> bool:
    """Whether the bot token may be sent to ``url``: Slack's file host over HTTPS, or the
    host (and scheme) of the configured Web API URL."""
    parts, api = urlsplit(url), urlsplit(api_url)
    if parts.scheme == "https" and parts.hostname == FILES_HOST:
        return True
    return bool(parts.hostname) and (parts.scheme, parts.hostname, parts.port) == (api.scheme, api.hostname, api.port)


def checked_size(file: dict) -> None:
    """UserError (one line) when Slack says the file is over the import limit."""
    try:
        size = int(file.get("size") or 0)
    except (TypeError, ValueError):
        size = 0
    check_size(size)


async def download(session: aiohttp.ClientSession, file: dict, token: str, api_url: str) -> bytes:
    """The file's bytes, at most the import limit (UserError beyond it)."""
    url = file.get("url_private_download") or file.get("url_private") or ""
    if not allowed(url, api_url):
        raise DownloadError("I can only read files shared here in Slack. Drop the file into this conversation again.")
    headers = {"Authorization": f"Bearer {token}"}
    async with session.get(url, headers=headers, timeout=TIMEOUT, allow_redirects=True, max_redirects=3) as resp:
        if resp.status != 200:
            raise DownloadError(f"Slack wouldn't give me the file just now (HTTP {resp.status}). Drop it here again in a minute.")
        if resp.content_type == "text/html" and "html" not in str(file.get("filetype") or "").lower():
            raise DownloadError(
                "I couldn't download the file: Rapport needs Slack's files:read permission. Ask an organizer to "
                "reinstall the app with the current manifest, then drop the file here again."
            )
        data = bytearray()
        async for chunk in resp.content.iter_chunked(CHUNK):
            data.extend(chunk)
            if len(data) > MAX_FILE_BYTES:
                check_size(len(data))  # raises: the same one line as for a stated size
        return bytes(data)


def one_line(err: Exception) -> str:
    return err.message if isinstance(err, UserError) else str(err)
