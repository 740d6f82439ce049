"""``core.ports.Platform`` for Slack: DMs for nudges, channel posts, group DMs.

Only the dispatcher calls these (after the command that asked has committed), and the
listeners' own DMs of a member's replies go through :meth:`SlackPlatform.post`.

Errors become the core's delivery errors, so the dispatcher knows what to do:

- a 429 that the client's retry handler did not wait out → ``RateLimited(retry_after)``;
- the user or channel is gone, DMs are closed, the workspace's token is dead →
  ``PermanentError`` (the nudge is marked failed, visible to organizers);
- network trouble, timeouts, 5xx and anything unknown → ``TransientError`` (retried with
  backoff by the dispatcher).

Sends to one workspace are throttled (a token bucket per workspace) to stay under Slack's
workspace-wide message limits; workspaces don't wait for each other.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from adapters.slack.clients import Clients, retry_after
from core.ports import DeliveryError, PermanentError, RateLimited, TransientError
from core.ui import Attachment, Message, Reply

log = logging.getLogger(__name__)

PERMANENT = frozenset(
    {
        "user_not_found",
        "users_not_found",
        "user_not_visible",
        "account_inactive",
        "cannot_dm_bot",
        "user_disabled",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "app_uninstalled",
        "team_not_found",
        "team_access_not_granted",
        "missing_scope",
        "not_allowed_token_type",
        "no_permission",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_non_threadable_channel",
        "ekm_access_denied",
        "messages_tab_disabled",
        "cant_update_message",
        "message_not_found",
        "edit_window_closed",
    }
)
# A stale cached DM channel: open the conversation again once before giving up.
STALE_CHANNEL = frozenset({"channel_not_found", "is_archived", "not_in_channel"})
# Our blocks were refused: send the plain text rather than nothing.
BAD_BLOCKS = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_too_long"})


def slack_error(err: SlackApiError) -> str:
    response = err.response
    try:
        return str(response.get("error") or "")
    except Exception:
        return ""


def classify(err: Exception) -> DeliveryError:
    """A Slack client error as the core's delivery error."""
    if isinstance(err, DeliveryError):
        return err
    if isinstance(err, SlackApiError):
        status = getattr(err.response, "status_code", 200)
        code = slack_error(err)
        if status == 429:
            wait = retry_after(getattr(err.response, "headers", None))
            return RateLimited(wait if wait is not None else 30.0, f"Slack rate limit ({code or status})")
        if code in PERMANENT:
            return PermanentError(f"Slack: {code}")
        # Slack's own trouble (internal_error, fatal_error, service_unavailable,
        # request_timeout), 5xx, and codes we don't know: the dispatcher retries with
        # backoff and gives up after a few attempts, so an unknown code can't loop forever.
        return TransientError(f"Slack: {code or status}")
    # Network trouble, timeouts (aiohttp.ClientError, OSError, TimeoutError) and the rest.
    return TransientError(f"{type(err).__name__}: {err}")


class Throttle:
    """A token bucket per workspace: ``rate`` sends a second, bursts of ``burst``."""

    def __init__(self, rate: float = 4.0, burst: int = 8, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # team -> (tokens, at)
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, team_id: str) -> None:
        lock = self._locks.setdefault(team_id, asyncio.Lock())
        async with lock:
            now = self._clock()
            tokens, at = self._buckets.get(team_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if tokens < 1.0:
                await asyncio.sleep((1.0 - tokens) / self.rate)
                now = self._clock()
                tokens = 1.0
            self._buckets[team_id] = (tokens - 1.0, now)


class SlackPlatform:
    """Implements ``core.ports.Platform`` (and so ``Deliverer``) on the Slack Web API."""

    def __init__(self, clients: Clients, throttle: Throttle | None = None) -> None:
        self.clients = clients
        self.throttle = throttle or Throttle()
        self._dm_channels: dict[tuple[str, str], str] = {}

    # -- Deliverer --------------------------------------------------------------------

    async def deliver(self, message: Message) -> str | None:
        """DMs the member; returns the DM channel id for the dispatcher to cache."""
        to = message.recipient
        try:
            client = await self.clients.for_team(to.workspace_id)
            await self.throttle.wait(to.workspace_id)
            channel = to.dm_channel_id or await self.dm_channel(client, to.workspace_id, to.user_id)
            try:
                await self.post(client, channel, message.reply)
            except SlackApiError as err:
                if slack_error(err) not in STALE_CHANNEL or not to.dm_channel_id:
                    raise
                # The cached DM channel is gone (e.g. the app was reinstalled): open it afresh.
                self._dm_channels.pop((to.workspace_id, to.user_id), None)
                channel = await self.dm_channel(client, to.workspace_id, to.user_id, fresh=True)
                await self.post(client, channel, message.reply)
            if message.reply.files:
                await self.send_files(client, channel, message.reply.files, message.reply.title or "Files")
            return channel
        except Exception as err:
            raise classify(err) from err

    async def dm_channel(self, client: AsyncWebClient, team_id: str, user_id: str, *, fresh: bool = False) -> str:
        """The app's DM channel with a user (conversations.open), cached."""
        key = (team_id, user_id)
        if not fresh and key in self._dm_channels:
            return self._dm_channels[key]
        response = await client.conversations_open(users=user_id)
        channel = response["channel"]["id"]
        self._dm_channels[key] = channel
        return channel

    async def post(self, client: AsyncWebClient, channel: str, reply: Reply, **extra) -> str:
        """Posts ``reply`` (never with link previews); returns the message's ts."""
        content = render.post(reply)
        try:
            response = await client.chat_postMessage(channel=channel, **content, **extra)
        except SlackApiError as err:
            if slack_error(err) not in BAD_BLOCKS:
                raise
            log.error("Slack refused our blocks (%s); sending plain text", slack_error(err))
            response = await client.chat_postMessage(channel=channel, text=content["text"], **render.NO_UNFURL, **extra)
        return response["ts"]

    # -- Platform ---------------------------------------------------------------------

    async def post_channel(self, workspace_id: str, channel_id: str, reply: Reply) -> str:
        """Posts in a channel; the reference is ``channel:ts``'s ts (what chat.update needs)."""
        try:
            client = await self.clients.for_team(workspace_id)
            await self.throttle.wait(workspace_id)
            return await self.post(client, channel_id, reply)
        except Exception as err:
            raise classify(err) from err

    async def update_channel_post(self, workspace_id: str, channel_id: str, message_ref: str, reply: Reply) -> None:
        try:
            client = await self.clients.for_team(workspace_id)
            await self.throttle.wait(workspace_id)
            await client.chat_update(channel=channel_id, ts=message_ref, **render.message(reply))
        except Exception as err:
            raise classify(err) from err

    async def open_conversation(
        self, workspace_id: str, user_ids: list[str], reply: Reply, channel_id: str | None = None
    ) -> str:
        """A group DM of the members and the app, with ``reply`` as its first message."""
        try:
            client = await self.clients.for_team(workspace_id)
            response = await client.conversations_open(users=",".join(user_ids))
            channel = response["channel"]["id"]
            await self.throttle.wait(workspace_id)
            await self.post(client, channel, reply)
            return channel
        except Exception as err:
            raise classify(err) from err

    # -- files ------------------------------------------------------------------------

    async def send_files(self, client: AsyncWebClient, channel: str, files: tuple[Attachment, ...], title: str) -> None:
        """Uploads files into a conversation (files.getUploadURLExternal, the upload URL,
        files.completeUploadExternal). Where uploads aren't allowed (no files:write, or an
        API without them), the text files are posted inline instead, so nothing is lost."""
        try:
            await client.files_upload_v2(
                file_uploads=[{"content": f.content, "filename": f.filename, "title": f.filename} for f in files],
                channel=channel,
                initial_comment=render.escape(title),
            )
        except (SlackApiError, SlackClientError) as err:
            if isinstance(err, SlackApiError) and getattr(err.response, "status_code", 200) == 429:
                raise
            log.warning("file upload failed (%s); sending the files inline", err)
            for f in files:
                await client.chat_postMessage(channel=channel, **inline_file(f))


def inline_file(f: Attachment, limit: int = 2900) -> dict:
    """A text file as a message (the upload fallback); long files are cut with a note."""
    try:
        text = f.content.decode()
    except UnicodeDecodeError:  # a picture (the network map) can't be shown as text
        name = render.escape(f.filename)
        return {"text": f"*{name}*: I couldn't upload this file here. Slack may not allow Rapport to upload files "
                        "(the files:write permission); ask an organizer to reinstall the app.", **render.NO_UNFURL}
    if f.mime_type == "application/json":
        try:
            text = json.dumps(json.loads(text), indent=1, ensure_ascii=False)
        except ValueError:
            pass
    body = render.escape(text)
    note = ""
    if len(body) > limit:
        body = render.clip(body, limit)
        note = "\n_Cut short here; run `/rapport export` again once file uploads are allowed for the whole file._"
    name = render.escape(f.filename)
    return {"text": f"*{name}*\n```{body}```{note}", **render.NO_UNFURL}
