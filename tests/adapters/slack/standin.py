"""A local stand-in for the Slack Web API (aiohttp, 127.0.0.1 only). It records every call.

Point the app at it with ``SLACK_API_URL=standin.api_url``. It answers the methods Rapport
uses: auth.test, users.info, conversations.open, chat.postMessage, chat.postEphemeral,
chat.update, views.open/push/update/publish, files.getUploadURLExternal + the upload URL +
files.completeUploadExternal, files.info, oauth.v2.access, apps.connections.open (with a Socket Mode
websocket), and it is also where ``response_url`` posts land (``standin.response_url()``). Files members
shared (``add_file``) are served at their ``url_private_download`` to a request carrying a
bot token of the file's workspace (``Authorization: Bearer``), as Slack does; any other
request gets Slack's HTML sign-in page.

Faults on demand, each optionally only for calls matching ``when`` (e.g. one channel):
``rate_limit(method, retry_after)`` answers the next call with a 429 and a Retry-After
header; ``fail(method, error, status=...)`` answers the next call with ``ok: false`` (and
that HTTP status); ``delay(method, seconds)`` holds the answers back (the call is recorded
when it is answered; ``in_flight`` lists the calls being held).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web


@dataclass
class Call:
    """One request the stand-in received."""

    method: str  # "chat.postMessage", or "response_url" / "upload" for the non-API URLs
    params: dict
    token: str | None = None
    team: str | None = None
    status: int = 200  # the HTTP status answered
    ok: bool = True  # False when the answer was an error (fault, bad token, unknown method)
    response: dict = field(default_factory=dict)  # what the stand-in answered (API methods)
    at: float = field(default_factory=time.monotonic)

    def blocks_text(self) -> str:
        """Everything readable in the call: text, blocks, view, as one JSON string."""
        return json.dumps(self.params, ensure_ascii=False)


def _decode(params: dict) -> dict:
    """Form fields that hold JSON (blocks, view, files) come back as objects."""
    out = dict(params)
    for key in ("blocks", "view", "files", "attachments"):
        value = out.get(key)
        if isinstance(value, str):
            try:
                out[key] = json.loads(value)
            except ValueError:
                pass
    return out


class SlackStandIn:
    """The stand-in server. ``await start()``, ``await stop()``."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.tokens: dict[str, str] = {}  # bot token -> team id
        self.users: dict[str, dict] = {}  # user id -> users.info "user"
        self.oauth_codes: dict[str, str] = {}  # code -> team id (oauth.v2.access)
        self.uploads: dict[str, bytes] = {}
        self.shared: dict[str, tuple[dict, bytes]] = {}  # file id -> (file object, content)
        self._faults: dict[str, list[tuple[int, dict, dict, Callable[[Call], bool] | None]]] = {}
        self._delays: dict[str, list[tuple[float, Callable[[Call], bool] | None]]] = {}
        self.in_flight: list[Call] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_replies: list[dict] = []
        self._changed = asyncio.Event()

    # -- set-up ----------------------------------------------------------------------------

    def add_team(self, team_id: str, token: str) -> None:
        self.tokens[token] = team_id

    def add_user(self, user_id: str, team_id: str, *, tz: str = "America/New_York", name: str | None = None,
                 is_admin: bool = False, is_owner: bool = False) -> dict:
        user = {
            "id": user_id,
            "team_id": team_id,
            "name": (name or user_id).lower().replace(" ", "."),
            "real_name": name or user_id,
            "tz": tz,
            "tz_offset": 0,
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_bot": False,
            "deleted": False,
            "profile": {"display_name": name or user_id, "real_name": name or user_id},
        }
        self.users[user_id] = user
        return user

    def add_file(self, team_id: str, user_id: str, name: str, content: bytes, *, size: int | None = None,
                 mimetype: str = "text/csv") -> dict:
        """A file ``user_id`` shared; returns its file object as events carry it."""
        file_id = f"F{next(self._ids)}"
        url = f"{self.base}/files-pri/{team_id}-{file_id}/download/{name}"
        file = {
            "id": file_id, "name": name, "title": name, "mimetype": mimetype, "filetype": name.rsplit(".", 1)[-1],
            "user": user_id, "size": len(content) if size is None else size, "mode": "hosted",
            "url_private": url.replace("/download/", "/"), "url_private_download": url, "is_external": False,
        }
        self.shared[file_id] = (dict(file, team=team_id), content)
        return file

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1,
                   when: Callable[[Call], bool] | None = None) -> None:
        """The next ``times`` calls of ``method`` (matching ``when``) get 429 with Retry-After."""
        for _ in range(times):
            self._faults.setdefault(method, []).append(
                (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}, when)
            )

    def fail(self, method: str, error: str, times: int = 1, status: int = 200,
             when: Callable[[Call], bool] | None = None) -> None:
        """The next ``times`` calls of ``method`` (matching ``when``) answer
        ``{"ok": false, "error": error}`` with HTTP ``status``."""
        for _ in range(times):
            self._faults.setdefault(method, []).append((status, {"ok": False, "error": error}, {}, when))

    def delay(self, method: str, seconds: float, when: Callable[[Call], bool] | None = None) -> None:
        """Every later call of ``method`` (matching ``when``) is answered ``seconds`` late."""
        self._delays.setdefault(method, []).append((seconds, when))

    def failed(self, method: str, pred: Callable[[Call], bool] | None = None) -> list[Call]:
        """Calls of ``method`` that were answered with an error."""
        return [c for c in self.calls if c.method == method and not c.ok and (pred is None or pred(c))]

    def _fault_for(self, call: Call) -> tuple[int, dict, dict] | None:
        faults = self._faults.get(call.method) or []
        for i, (status, body, headers, when) in enumerate(faults):
            if when is None or when(call):
                del faults[i]
                return status, body, headers
        return None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self) -> str:
        return f"{self.base}/respond/{uuid.uuid4().hex[:12]}"

    # -- reading what happened -------------------------------------------------------------

    def of(self, method: str, pred: Callable[[Call], bool] | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.ok and (pred is None or pred(c))]

    async def wait_for(self, method: str, pred: Callable[[Call], bool] | None = None,
                       within: float = 5.0, count: int = 1) -> list[Call]:
        """Polls until ``count`` successful calls of ``method`` match; fails after ``within`` seconds."""
        deadline = time.monotonic() + within
        while True:
            found = self.of(method, pred)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [(c.method, c.ok) for c in self.calls[-15:]]
                raise AssertionError(f"no {count}x {method} matching within {within}s; last calls: {seen}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), 0.05)
            except TimeoutError:
                pass

    async def wait_until(self, check: Callable[[], object], within: float = 5.0) -> object:
        """Polls ``check()`` (it looks at ``calls`` or ``in_flight``) until it is truthy."""
        deadline = time.monotonic() + within
        while not (result := check()):
            if time.monotonic() > deadline:
                raise AssertionError(f"not true within {within}s; last calls: {[(c.method, c.ok) for c in self.calls[-15:]]}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), 0.05)
            except TimeoutError:
                pass
        return result

    def _record(self, call: Call) -> Call:
        self.calls.append(call)
        self._changed.set()
        return call

    # -- server ----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files-pri/{key}/download/{name}", self._download)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> dict:
        params: dict = dict(request.query)
        raw = await request.read()
        if raw:
            ctype = request.content_type
            if ctype == "application/json":
                params.update(json.loads(raw))
            elif ctype == "application/x-www-form-urlencoded":
                params.update(parse_qsl(raw.decode(), keep_blank_values=True))
        return _decode(params)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() or params.get("token")
        call = Call(method, params, token, self.tokens.get(token or ""))
        wait = sum(seconds for seconds, when in self._delays.get(method, []) if when is None or when(call))
        if wait:
            self.in_flight.append(call)
            self._changed.set()
            try:
                await asyncio.sleep(wait)
            finally:
                self.in_flight.remove(call)
            call.at = time.monotonic()
        fault = self._fault_for(call)
        if fault is not None:
            status, body, headers = fault
            call.status, call.ok = status, False
            self._record(call)
            return web.json_response(body, status=status, headers=headers)
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if method.startswith(("oauth.", "apps.connections")):
            pass  # no bot token on these
        elif token not in self.tokens:
            call.ok = False
            self._record(call)
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if handler is None:
            call.ok = False
            self._record(call)
            return web.json_response({"ok": False, "error": "unknown_method"})
        body = handler(call)
        call.ok, call.response = bool(body.get("ok")), body
        self._record(call)
        return web.json_response(body)

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        self.uploads[file_id] = data
        self._record(Call("upload", {"file_id": file_id, "length": len(data)}))
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def _download(self, request: web.Request) -> web.Response:
        team_id, _, file_id = request.match_info["key"].partition("-")
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip() or None
        call = self._record(Call("download", {"file_id": file_id}, token, self.tokens.get(token or "")))
        found = self.shared.get(file_id)
        if found is None or found[0]["team"] != team_id or call.team != team_id:
            call.ok = False
            # What Slack answers a download without a token that may read the file.
            return web.Response(text="<!DOCTYPE html><html><title>Slack</title>Sign in</html>", content_type="text/html")
        return web.Response(body=found[1], content_type=found[0]["mimetype"])

    async def _respond(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self._record(Call("response_url", {"key": request.match_info["key"], **payload}))
        return web.Response(text="ok", content_type="text/plain")

    # -- methods ---------------------------------------------------------------------------

    def _ts(self) -> str:
        return f"{1_700_000_000 + next(self._ids)}.000100"

    def _m_auth_test(self, call: Call) -> dict:
        return {"ok": True, "url": "https://standin.slack.com/", "team": call.team, "user": "rapport",
                "team_id": call.team, "user_id": "UBOT", "bot_id": "BBOT", "is_enterprise_install": False}

    def _m_users_info(self, call: Call) -> dict:
        user = self.users.get(call.params.get("user", ""))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _m_conversations_open(self, call: Call) -> dict:
        users = [u for u in str(call.params.get("users", "")).split(",") if u]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        for u in users:
            if u not in self.users:
                return {"ok": False, "error": "user_not_found"}
        channel = "D" + users[0] if len(users) == 1 else "G" + "".join(sorted(users))[:20]
        return {"ok": True, "channel": {"id": channel}}

    def _m_chat_postMessage(self, call: Call) -> dict:
        if not call.params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": call.params["channel"], "ts": self._ts(),
                "message": {"text": call.params.get("text", ""), "blocks": call.params.get("blocks", [])}}

    def _m_chat_postEphemeral(self, call: Call) -> dict:
        return {"ok": True, "message_ts": self._ts()}

    def _m_chat_update(self, call: Call) -> dict:
        return {"ok": True, "channel": call.params.get("channel"), "ts": call.params.get("ts")}

    def _view(self, call: Call) -> dict:
        view = dict(call.params.get("view") or {})
        view.setdefault("id", f"V{next(self._ids)}")
        return {"ok": True, "view": view}

    _m_views_open = _view
    _m_views_push = _view
    _m_views_update = _view
    _m_views_publish = _view

    def _m_files_getUploadURLExternal(self, call: Call) -> dict:
        file_id = f"F{next(self._ids)}"
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, call: Call) -> dict:
        files = call.params.get("files") or []
        return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}

    def _m_files_info(self, call: Call) -> dict:
        found = self.shared.get(call.params.get("file", ""))
        if found is None or found[0]["team"] != call.team:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": {k: v for k, v in found[0].items() if k != "team"}}

    def _m_oauth_v2_access(self, call: Call) -> dict:
        team = self.oauth_codes.get(call.params.get("code", ""))
        if team is None:
            return {"ok": False, "error": "invalid_code"}
        token = f"xoxb-{team}-{uuid.uuid4().hex[:6]}"
        self.tokens[token] = team
        return {
            "ok": True, "app_id": "A0RAPPORT", "access_token": token, "token_type": "bot",
            "scope": "commands,chat:write", "bot_user_id": "UBOT", "team": {"id": team, "name": f"Team {team}"},
            "enterprise": None, "is_enterprise_install": False, "authed_user": {"id": "UINSTALLER"},
        }

    def _m_apps_connections_open(self, call: Call) -> dict:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    # -- Socket Mode -----------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0RAPPORT"}}))
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                self.socket_replies.append(json.loads(msg.data))
                self._changed.set()
        self.sockets.remove(ws)
        return ws

    async def push(self, envelope_type: str, payload: dict, *, within: float = 5.0) -> dict:
        """Sends a Socket Mode envelope to the connected app; returns its acknowledgement."""
        deadline = time.monotonic() + within
        while not self.sockets:
            if time.monotonic() > deadline:
                raise AssertionError("the app never connected over Socket Mode")
            await asyncio.sleep(0.02)
        envelope_id = uuid.uuid4().hex
        await self.sockets[-1].send_str(json.dumps({
            "envelope_id": envelope_id, "type": envelope_type, "payload": payload,
            "accepts_response_payload": envelope_type != "events_api", "retry_attempt": 0, "retry_reason": "",
        }))
        while True:
            for reply in self.socket_replies:
                if reply.get("envelope_id") == envelope_id:
                    return reply
            if time.monotonic() > deadline:
                raise AssertionError("no Socket Mode acknowledgement")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), 0.05)
            except TimeoutError:
                pass
