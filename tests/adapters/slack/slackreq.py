"""Requests as Slack sends them, signed as Slack signs them, sent over HTTP to the app.

Signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing secret,
in ``X-Slack-Signature``, and the timestamp in ``X-Slack-Request-Timestamp``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp

from tests.adapters.slack.standin import SlackStandIn


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Answer:
    """The app's HTTP answer, and where the command's response_url points."""

    status: int
    body: str
    response_url: str | None = None

    @property
    def json(self) -> dict | None:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


class SlackSender:
    """Sends signed requests to the app's ``/slack/events``."""

    def __init__(self, url: str, secret: str, standin: SlackStandIn, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.secret = secret
        self.standin = standin
        self.session = session

    async def post(self, body: str, content_type: str, *, timestamp: int | None = None,
                   secret: str | None = None, retry: int | None = None, response_url: str | None = None) -> Answer:
        headers = {"Content-Type": content_type, **sign(secret or self.secret, body, timestamp)}
        if retry is not None:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        async with self.session.post(self.url, data=body.encode(), headers=headers) as resp:
            return Answer(resp.status, await resp.text(), response_url)

    # -- slash commands --------------------------------------------------------------------

    def command_body(self, text: str, user: str = "U1", team: str = "T1", channel: str = "C1") -> tuple[str, str]:
        response_url = self.standin.response_url()
        body = urlencode({
            "token": "legacy", "team_id": team, "team_domain": team.lower(), "channel_id": channel,
            "channel_name": "general", "user_id": user, "user_name": user.lower(), "command": "/rapport",
            "text": text, "api_app_id": "A0RAPPORT", "is_enterprise_install": "false",
            "response_url": response_url, "trigger_id": f"{uuid.uuid4().int % 10**12}.1.{uuid.uuid4().hex[:8]}",
        })
        return body, response_url

    async def command(self, text: str, user: str = "U1", team: str = "T1", **kw) -> Answer:
        body, response_url = self.command_body(text, user, team)
        return await self.post(body, "application/x-www-form-urlencoded", response_url=response_url, **kw)

    async def ask(self, text: str, user: str = "U1", team: str = "T1", within: float = 5.0) -> str:
        """Runs a command; returns the ephemeral answer (ack body or response_url post) as JSON text."""
        answer = await self.command(text, user, team)
        assert answer.status == 200, answer
        return await self.reply_of(answer, within)

    async def reply_of(self, answer: Answer, within: float = 5.0) -> str:
        data = answer.json
        if data and (data.get("blocks") or data.get("text")):
            return answer.body
        calls = await self.standin.wait_for("response_url", lambda c: answer.response_url.endswith(c.params["key"]), within)
        return calls[0].blocks_text()

    # -- interactions ----------------------------------------------------------------------

    async def interact(self, payload: dict, **kw) -> Answer:
        return await self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", **kw)

    async def press(self, action_id: str, user: str = "U1", team: str = "T1", *, message: dict | None = None,
                    channel: str | None = None, view: dict | None = None, block_id: str | None = None,
                    ephemeral: bool = False) -> Answer:
        """A button click in a message (``message``/``channel``) or in a view (``view``)."""
        response_url = self.standin.response_url() if view is None else None
        if block_id is None and message is not None:
            for block in message.get("blocks", []):
                if block.get("type") == "actions" and any(e.get("action_id") == action_id for e in block.get("elements", [])):
                    block_id = block.get("block_id")
        payload = {
            "type": "block_actions", "api_app_id": "A0RAPPORT", "token": "legacy",
            "team": {"id": team, "domain": team.lower()}, "user": {"id": user, "team_id": team, "name": user.lower()},
            "trigger_id": f"{uuid.uuid4().int % 10**12}.1.{uuid.uuid4().hex[:8]}",
            "actions": [{"type": "button", "action_id": action_id, "block_id": block_id or "b1",
                         "value": action_id, "action_ts": f"{time.time():.6f}", "text": {"type": "plain_text", "text": "x"}}],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id", "V1")}
            payload["view"] = view
        else:
            channel = channel or f"D{user}"
            payload["container"] = {"type": "message", "channel_id": channel, "is_ephemeral": ephemeral,
                                    "message_ts": "1700000000.000100"}
            payload["channel"] = {"id": channel, "name": "directmessage"}
            payload["response_url"] = response_url
            if message is not None and not ephemeral:
                payload["message"] = {"type": "message", "ts": "1700000000.000100", **message}
        return await self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded",
                               response_url=response_url)

    async def submit(self, view: dict, values: dict[str, str], user: str = "U1", team: str = "T1") -> Answer:
        """Submits a modal the app opened (``view`` as sent to views.open) with ``values``."""
        state: dict = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                continue
            element = block["element"]
            value = values.get(block["block_id"])
            if element["type"] == "static_select":
                entry = {"type": "static_select", "selected_option":
                         ({"text": {"type": "plain_text", "text": value}, "value": value} if value else None)}
            elif element["type"] == "checkboxes":
                entry = {"type": "checkboxes", "selected_options": [{"value": "yes"}] if value == "yes" else []}
            else:
                entry = {"type": element["type"], "value": value}
            state[block["block_id"]] = {element["action_id"]: entry}
        payload = {
            "type": "view_submission", "api_app_id": "A0RAPPORT", "token": "legacy",
            "team": {"id": team, "domain": team.lower()}, "user": {"id": user, "team_id": team, "name": user.lower()},
            "trigger_id": f"{uuid.uuid4().int % 10**12}.1.{uuid.uuid4().hex[:8]}",
            "view": {**view, "id": view.get("id", "V1"), "team_id": team, "state": {"values": state},
                     "hash": uuid.uuid4().hex[:10], "app_id": "A0RAPPORT"},
        }
        return await self.interact(payload)

    # -- events ----------------------------------------------------------------------------

    def event_body(self, event: dict, team: str = "T1", event_id: str | None = None) -> str:
        return json.dumps({
            "token": "legacy", "team_id": team, "api_app_id": "A0RAPPORT", "event": event,
            "type": "event_callback", "event_id": event_id or f"Ev{uuid.uuid4().hex[:10]}",
            "event_time": int(time.time()), "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True}],
        })

    async def event(self, event: dict, team: str = "T1", event_id: str | None = None, **kw) -> Answer:
        return await self.post(self.event_body(event, team, event_id), "application/json", **kw)

    async def share_file(self, file: dict, user: str = "U1", team: str = "T1", channel_type: str = "im",
                         channel: str | None = None, **extra) -> Answer:
        """A file dropped into a conversation: the ``message`` event (subtype ``file_share``)."""
        event = {
            "type": "message", "subtype": "file_share", "text": "", "files": [file], "user": user, "upload": False,
            "ts": f"{time.time():.6f}", "channel": channel or f"D{user}", "channel_type": channel_type,
            "event_ts": f"{time.time():.6f}", **extra,
        }
        return await self.event(event, team)

    async def open_home(self, user: str = "U1", team: str = "T1", **kw) -> Answer:
        return await self.event({"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home",
                                 "event_ts": f"{time.time():.6f}"}, team, **kw)
