"""A local stand-in for Discord: REST under ``/api/v10`` and a gateway websocket.

Started by the tests on 127.0.0.1; the bot reaches it through ``DISCORD_API_URL`` and
``DISCORD_GATEWAY_URL``. It records every REST call (method, path, query, body, status),
keeps the messages it was asked to create, and sends interactions the way Discord does
(the payload fields discord.py 2.7 needs: ``version``, ``attachment_size_limit``, a
``channel`` with ``type``, the message a button sits on ...). Faults (429s, 5xx) can be
injected per route; members can have their DMs closed.

Facts it respects (ARCHITECTURE.md): JSON answers carry ``Content-Type: application/json``
exactly; interaction callbacks answer ``?with_response=1`` with the interaction and the
created message; a 429 has a ``Via`` header and a JSON body.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

CALL: web.RequestKey = web.RequestKey("call", object)

JSON = "application/json"
EPHEMERAL = 64
MANAGE_GUILD = 1 << 5
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16)  # view, send, embed, attach, history
APP_PERMISSIONS = MEMBER_PERMISSIONS | (1 << 36) | (1 << 38)
OPTION_TYPES = {"sub": 1, "group": 2, "string": 3, "integer": 4, "boolean": 5, "user": 6, "channel": 7, "attachment": 11}


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def answer(data: Any = None, status: int = 200, headers: dict | None = None) -> web.Response:
    if status == 204:
        return web.Response(status=204, headers=headers)
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": JSON, **(headers or {})})


@dataclass
class User:
    id: int
    name: str
    nick: str | None = None
    bot: bool = False

    def payload(self) -> dict:
        data = {
            "id": str(self.id),
            "username": self.name.lower().replace(" ", ""),
            "global_name": self.name,
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class Guild:
    id: int
    name: str
    members: dict[int, tuple[User, int]] = field(default_factory=dict)  # user id -> (user, permissions)
    channels: list[dict] = field(default_factory=list)

    def channel(self, name: str) -> dict:
        return next(c for c in self.channels if c["name"] == name)

    def member_payload(self, user: User, with_permissions: bool = False) -> dict:
        data = {
            "user": user.payload(),
            "nick": user.nick,
            "roles": [],
            "joined_at": now_iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "avatar": None,
        }
        if with_permissions:
            data["permissions"] = str(self.members[user.id][1])
        return data

    def payload(self, owner_id: int) -> dict:
        members = [self.member_payload(u) for u, _ in self.members.values()]
        return {
            "id": str(self.id),
            "name": self.name,
            "owner_id": str(owner_id),
            "icon": None,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [
                {
                    "id": str(self.id),
                    "name": "@everyone",
                    "permissions": str(MEMBER_PERMISSIONS),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "member_count": len(members),  # equal to the members sent: the guild counts as loaded
            "members": members,
            "channels": self.channels,
            "threads": [],
            "voice_states": [],
            "presences": [],
            "large": False,
            "unavailable": False,
            "joined_at": now_iso(),
            "preferred_locale": "en-US",
        }


@dataclass
class Call:
    method: str
    path: str  # without the /api/v10 prefix
    query: dict
    body: Any
    status: int = 0
    files: list[str] = field(default_factory=list)


@dataclass
class Fault:
    method: str
    pattern: re.Pattern
    status: int
    body: Any
    headers: dict
    times: int


@dataclass
class Sent:
    """An interaction the stand-in sent, and what the bot answered."""

    id: int
    token: str
    type: int
    user: User
    guild: Guild | None
    channel_id: int
    callbacks: list[dict] = field(default_factory=list)
    message_id: int | None = None  # the response message, or the message a pressed button is on
    source_message_id: int | None = None  # the message a pressed button is on
    edited: bool = False  # the bot edited message_id through the webhook
    followups: list[int] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    sent_at: float = 0.0  # loop time the interaction went out
    first_callback_at: float | None = None  # loop time of the bot's initial response


@dataclass
class Answer:
    kind: str  # "message" (a new one), "update" (of the pressed button's message), "modal", "choices"
    message: dict | None = None
    modal: dict | None = None
    choices: list[dict] | None = None


class Connection:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.seq = 0
        self.ready = asyncio.Event()

    async def send(self, op: int, data: Any, event: str | None = None) -> None:
        frame: dict = {"op": op, "d": data, "s": None, "t": event}
        if op == 0:
            self.seq += 1
            frame["s"] = self.seq
        await self.ws.send_str(json.dumps(frame))


class DiscordStandIn:
    """Discord, as far as Rapport's adapter can tell. ``await start()``, ``await stop()``."""

    def __init__(self, token: str, application_id: int = 900000000000000001) -> None:
        self.token = token
        self.application_id = application_id
        self.bot = User(application_id, "Rapport")
        self._ids = itertools.count(1_200_000_000_000_000_000)
        self.users: dict[int, User] = {self.bot.id: self.bot}
        self.guilds: list[Guild] = []
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.commands: list[dict] = []
        self.messages: dict[int, dict] = {}
        self.channels: dict[int, dict] = {}
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self.thread_members: dict[int, set[int]] = {}
        self.dms_closed: set[int] = set()
        self.sent: dict[str, Sent] = {}
        self.modals: dict[str, dict] = {}  # custom id -> the modal last opened with it
        self.cdn: dict[str, bytes] = {}  # attachment id -> the bytes a member attached
        self.connections: list[Connection] = []
        self.identifies = 0
        self.identify_payloads: list[dict] = []  # what each IDENTIFY said (shard, intents...)
        self.activity = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- set-up ----------------------------------------------------------------------------

    def next_id(self) -> int:
        return next(self._ids)

    def user(self, name: str, nick: str | None = None, bot: bool = False) -> User:
        user = User(self.next_id(), name, nick, bot)
        self.users[user.id] = user
        return user

    def guild(self, name: str, members: list[User], organizers: tuple[User, ...] = ()) -> Guild:
        guild = Guild(self.next_id(), name)
        for user in members:
            guild.members[user.id] = (user, MEMBER_PERMISSIONS | (MANAGE_GUILD if user in organizers else 0))
        for position, channel_name in enumerate(("general", "intros")):
            channel = {
                "id": str(self.next_id()),
                "guild_id": str(guild.id),
                "name": channel_name,
                "type": 0,
                "position": position,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                "topic": None,
                "rate_limit_per_user": 0,
                "last_message_id": None,
                "flags": 0,
            }
            guild.channels.append(channel)
            self.channels[int(channel["id"])] = channel
        self.guilds.append(guild)
        return guild

    def attachment(self, filename: str, content: bytes, *, size: int | None = None, content_type: str = "text/csv") -> dict:
        """A file a member attaches to a command option, served from the stand-in's "CDN"
        (no token needed, as on Discord's)."""
        attachment_id = str(self.next_id())
        self.cdn[attachment_id] = content
        url = f"http://127.0.0.1:{self.port}/attachments/{attachment_id}/{filename}"
        return {
            "id": attachment_id, "filename": filename, "size": len(content) if size is None else size,
            "url": url, "proxy_url": url, "content_type": content_type, "ephemeral": True,
        }

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{id}/{filename}", self._cdn)
        api = "/api/v10"
        routes = [
            ("GET", "/oauth2/applications/@me", self._application),
            ("GET", "/users/@me", self._me),
            ("GET", "/gateway", self._gateway_info),
            ("GET", "/gateway/bot", self._gateway_info),
            ("PUT", "/applications/{app}/commands", self._put_commands),
            ("GET", "/applications/{app}/commands", self._get_commands),
            ("POST", "/users/@me/channels", self._open_dm),
            ("GET", "/channels/{channel}", self._get_channel),
            ("POST", "/channels/{channel}/messages", self._create_message),
            ("PATCH", "/channels/{channel}/messages/{message}", self._edit_message),
            ("POST", "/channels/{channel}/threads", self._create_thread),
            ("PUT", "/channels/{channel}/thread-members/{user}", self._add_thread_member),
            ("GET", "/guilds/{guild}/members/{user}", self._get_member),
            ("POST", "/interactions/{id}/{token}/callback", self._callback),
            ("POST", "/webhooks/{app}/{token}", self._followup),
            ("PATCH", "/webhooks/{app}/{token}/messages/{message}", self._edit_webhook_message),
            ("DELETE", "/webhooks/{app}/{token}/messages/{message}", self._delete_webhook_message),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, api + path, handler)
        app.router.add_route("*", api + "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for connection in list(self.connections):
            await connection.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- looking at what happened -------------------------------------------------------------

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        regex = re.compile(pattern)
        return [c for c in self.calls if c.method == method and regex.fullmatch(c.path)]

    def dm_messages(self, user: User) -> list[dict]:
        channel = self.dm_channels.get(user.id)
        return [m for m in self.messages.values() if channel is not None and int(m["channel_id"]) == channel]

    async def until(self, predicate, within: float = 5.0, what: str = "condition"):
        """Polls ``predicate`` (on every change, and every 50 ms) until it returns something truthy."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            result = predicate()
            if result:
                return result
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}")
            self.activity.clear()
            try:
                await asyncio.wait_for(self.activity.wait(), min(left, 0.05))
            except TimeoutError:
                pass

    def fail(self, method: str, pattern: str, status: int, body: Any, headers: dict | None = None, times: int = 1) -> None:
        """The next ``times`` calls matching answer ``status`` with ``body``."""
        self.faults.append(Fault(method, re.compile(pattern), status, body, headers or {}, times))

    def rate_limit(self, method: str, pattern: str, retry_after: float) -> None:
        """A 429 as Discord sends it (``Via`` header, JSON body), so discord.py waits it out."""
        self.fail(
            method,
            pattern,
            429,
            {"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
            {
                "Via": "1.1 google",
                "Retry-After": str(max(1, round(retry_after))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": str(retry_after),
                "X-RateLimit-Bucket": "standin-bucket",
                "X-RateLimit-Scope": "user",
            },
        )

    # -- sending interactions ---------------------------------------------------------------

    async def connected(self, within: float = 5.0) -> Connection:
        """The newest connection that has identified (READY and GUILD_CREATEs sent)."""
        return await self.until(
            lambda: next((c for c in reversed(self.connections) if c.ready.is_set() and not c.ws.closed), None),
            within,
            "the bot to connect to the gateway",
        )

    async def command(
        self,
        user: User,
        guild: Guild | None,
        verb: str,
        options: dict[str, Any] | None = None,
        focused: str | None = None,
        resolve: tuple[User, ...] = (),
    ) -> Sent:
        """``/rapport <verb>`` (``"admin stats"`` for the group) with typed options; with
        ``focused``, an autocomplete request for that option instead.

        As Discord does, a user option's user is resolved as a user, and also as a member
        only when they are a member of ``guild``. ``resolve`` adds users to the resolved
        data the same way (as Discord may for mentions typed into a string option)."""
        words = verb.split()
        schema = next(c for c in self.commands if c["name"] == "rapport")
        node = schema
        chain: list[dict] = []
        for word in words:
            node = next(o for o in node.get("options", []) if o["name"] == word)
            chain.append(node)
        resolved: dict = {}
        leaf_options = []
        for name, value in (options or {}).items():
            spec = next((o for o in node.get("options", []) if o["name"] == name), None)
            if spec is None:
                raise KeyError(f"{verb} has no option {name}")
            option: dict = {"name": name, "type": spec["type"]}
            if spec["type"] == OPTION_TYPES["user"]:
                option["value"] = str(value.id)
                self._resolve(resolved, value, guild)
            elif spec["type"] == OPTION_TYPES["attachment"]:
                option["value"] = value["id"]
                resolved.setdefault("attachments", {})[value["id"]] = value
            elif spec["type"] == OPTION_TYPES["channel"]:
                option["value"] = value["id"]
                resolved.setdefault("channels", {})[value["id"]] = {
                    "id": value["id"], "name": value["name"], "type": value["type"], "permissions": str(APP_PERMISSIONS),
                    "guild_id": value.get("guild_id"), "flags": 0,
                }
            else:
                option["value"] = value
            if name == focused:
                option["focused"] = True
            leaf_options.append(option)
        for mentioned in resolve:
            self._resolve(resolved, mentioned, guild)
        tree_options = leaf_options
        for node in reversed(chain):
            tree_options = [{"name": node["name"], "type": node["type"], "options": tree_options}]
        data = {"id": schema["id"], "name": "rapport", "type": 1, "options": tree_options}
        if resolved:
            data["resolved"] = resolved
        return await self._interact(4 if focused else 2, user, guild, data)

    @staticmethod
    def _resolve(resolved: dict, user: User, guild: Guild | None) -> None:
        resolved.setdefault("users", {})[str(user.id)] = user.payload()
        if guild is not None and user.id in guild.members:
            member = guild.member_payload(user, with_permissions=True)
            member.pop("user")
            resolved.setdefault("members", {})[str(user.id)] = member

    async def press(self, user: User, message: dict, custom_id: str) -> Sent:
        """Presses the button ``custom_id`` on ``message`` (a message the bot sent)."""
        channel = self.channels.get(int(message["channel_id"]), {})
        guild = next((g for g in self.guilds if str(g.id) == channel.get("guild_id")), None)
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._interact(3, user, guild, data, message=message, channel_id=int(message["channel_id"]))

    async def submit(self, user: User, guild: Guild | None, custom_id: str, values: dict[str, str], channel_id: int | None = None) -> Sent:
        """Submits the modal last opened as ``custom_id``, filled with ``values`` by field."""
        modal = self.modals.get(custom_id, {"components": []})

        def filled(component: dict) -> dict:
            if component.get("type") == 1:
                return {"type": 1, "components": [filled(c) for c in component.get("components", [])]}
            if component.get("type") == 18:
                return {"type": 18, "id": component.get("id", 0), "component": filled(component["component"])}
            key = component.get("custom_id")
            if component.get("type") == 4:
                return {"type": 4, "custom_id": key, "value": values.get(key, "")}
            value = values.get(key)
            return {"type": component.get("type"), "custom_id": key, "values": [value] if value else []}

        data = {"custom_id": custom_id, "components": [filled(c) for c in modal.get("components", [])]}
        return await self._interact(5, user, guild, data, channel_id=channel_id)

    async def answer_to(self, sent: Sent, within: float = 5.0) -> Answer:
        """The bot's final answer: a message (after a deferral, its edit), a modal, or choices."""

        def final() -> Answer | None:
            for callback in sent.callbacks:
                if callback["type"] == 9:
                    return Answer("modal", modal=callback["data"])
                if callback["type"] == 8:
                    return Answer("choices", choices=callback["data"]["choices"])
                if callback["type"] == 4:
                    return Answer("message", message=self.messages[sent.message_id])
                if callback["type"] == 7:
                    return Answer("update", message=self.messages[sent.message_id])
                if callback["type"] == 6 and sent.followups:
                    return Answer("message", message=self.messages[sent.followups[0]])
                if callback["type"] == 6 and sent.edited:
                    return Answer("update", message=self.messages[sent.message_id])
                if callback["type"] == 5 and sent.message_id is not None:
                    message = self.messages[sent.message_id]
                    if not message.get("_loading"):
                        return Answer("message", message=message)
            return None

        return await self.until(final, within, f"an answer to interaction {sent.id}")

    async def _interact(self, kind: int, user: User, guild: Guild | None, data: dict, *, message: dict | None = None, channel_id: int | None = None) -> Sent:
        connection = await self.connected()
        payload: dict = {
            "id": str(self.next_id()),
            "application_id": str(self.application_id),
            "type": kind,
            "token": secrets.token_hex(16),
            "version": 1,
            "data": data,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 26214400,
            "app_permissions": str(APP_PERMISSIONS),
        }
        if guild is not None:
            channel = self.channels.get(channel_id) if channel_id else guild.channel("general")
            payload.update(
                guild_id=str(guild.id),
                guild_locale="en-US",
                channel_id=channel["id"],
                channel=channel,
                member=guild.member_payload(user, with_permissions=True),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            dm = channel_id or await self._dm_channel_for(user)
            payload.update(
                channel_id=str(dm),
                channel={"id": str(dm), "type": 1, "recipients": [user.payload()], "flags": 0},
                user=user.payload(),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        if message is not None:
            payload["message"] = {k: v for k, v in message.items() if not k.startswith("_")}
        sent = Sent(int(payload["id"]), payload["token"], kind, user, guild, int(payload["channel_id"]))
        if message is not None:
            sent.source_message_id = int(message["id"])
        self.sent[sent.token] = sent
        sent.sent_at = asyncio.get_running_loop().time()
        await connection.send(0, payload, "INTERACTION_CREATE")
        return sent

    # -- REST -----------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        if request.path == "/gateway":
            return await handler(request)
        path = request.path.removeprefix("/api/v10")
        body: Any = None
        files: list[str] = []
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            body = json.loads(form.get("payload_json", "{}"))  # type: ignore[arg-type]
            files = [v.filename for k, v in form.items() if k.startswith("files[")]  # type: ignore[union-attr]
        elif request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw else None
        call = Call(request.method, path, dict(request.query), body, files=files)
        request[CALL] = call
        self.calls.append(call)
        try:
            for fault in self.faults:
                if fault.times > 0 and fault.method == request.method and fault.pattern.fullmatch(path):
                    fault.times -= 1
                    response = answer(fault.body, fault.status, fault.headers)
                    break
            else:
                public = path.startswith(("/interactions/", "/webhooks/", "/attachments/"))
                if not public and request.headers.get("Authorization") != f"Bot {self.token}":
                    response = answer({"message": "401: Unauthorized", "code": 0}, 401)
                else:
                    response = await handler(request)
        except web.HTTPException as err:
            response = answer({"message": err.reason, "code": 0}, err.status)
        call.status = response.status
        self.activity.set()
        return response

    async def _cdn(self, request: web.Request) -> web.Response:
        content = self.cdn.get(request.match_info["id"])
        if content is None:
            return answer({"message": "404: Not Found", "code": 0}, 404)
        return web.Response(body=content, content_type="application/octet-stream")

    async def _unknown(self, request: web.Request) -> web.Response:
        return answer({"message": "404: Not Found", "code": 0}, 404)

    async def _application(self, request: web.Request) -> web.Response:
        return answer(
            {
                "id": str(self.application_id),
                "name": "Rapport",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": self.bot.payload(),
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
            }
        )

    async def _me(self, request: web.Request) -> web.Response:
        return answer({**self.bot.payload(), "bot": True, "verified": True, "mfa_enabled": False, "flags": 0})

    async def _gateway_info(self, request: web.Request) -> web.Response:
        return answer({"url": self.gateway_url, "shards": 1, "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})

    async def _put_commands(self, request: web.Request) -> web.Response:
        self.commands = []
        for command in request[CALL].body:
            self.commands.append({**command, "id": str(self.next_id()), "application_id": str(self.application_id), "version": str(self.next_id())})
        return answer(self.commands)

    async def _get_commands(self, request: web.Request) -> web.Response:
        return answer(self.commands)

    async def _dm_channel_for(self, user: User) -> int:
        if user.id not in self.dm_channels:
            channel_id = self.next_id()
            self.dm_channels[user.id] = channel_id
            self.channels[channel_id] = {"id": str(channel_id), "type": 1, "recipients": [user.payload()], "last_message_id": None, "flags": 0}
        return self.dm_channels[user.id]

    async def _open_dm(self, request: web.Request) -> web.Response:
        user = self.users.get(int(request[CALL].body["recipient_id"]))
        if user is None:
            return answer({"message": "Unknown User", "code": 10013}, 404)
        return answer(self.channels[await self._dm_channel_for(user)])

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self.channels.get(int(request.match_info["channel"]))
        return answer(channel) if channel else answer({"message": "Unknown Channel", "code": 10003}, 404)

    def _store(self, channel_id: int, body: dict, *, flags: int = 0, loading: bool = False, files: list[str] = ()) -> dict:
        message_id = self.next_id()
        message = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": {**self.bot.payload(), "bot": True},
            "content": body.get("content") or "",
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self._attachments(files),
            "embeds": body.get("embeds") or [],
            "pinned": False,
            "type": 0,
            "flags": flags | (body.get("flags") or 0),
            "components": body.get("components") or [],
            "_allowed_mentions": body.get("allowed_mentions"),
            "_loading": loading,
        }
        channel = self.channels.get(channel_id, {})
        if channel.get("guild_id"):
            message["guild_id"] = channel["guild_id"]
        self.messages[message_id] = message
        return message

    def _update(self, message: dict, body: dict, files: list[str]) -> None:
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = body[key] if body[key] is not None else ("" if key == "content" else [])
        if "allowed_mentions" in body:
            message["_allowed_mentions"] = body["allowed_mentions"]
        if files or "attachments" in body:
            message["attachments"] = self._attachments(files)
        message["edited_timestamp"] = now_iso()

    def _attachments(self, files) -> list[dict]:
        return [{"id": str(self.next_id()), "filename": f, "size": 1, "url": "", "proxy_url": ""} for f in files]

    def _public(self, message: dict) -> dict:
        return {k: v for k, v in message.items() if not k.startswith("_")}

    async def _create_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel"])
        channel = self.channels.get(channel_id)
        if channel is None:
            return answer({"message": "Unknown Channel", "code": 10003}, 404)
        if channel["type"] == 1 and int(channel["recipients"][0]["id"]) in self.dms_closed:
            return answer({"message": "Cannot send messages to this user", "code": 50007}, 403)
        call: Call = request[CALL]
        message = self._store(channel_id, call.body or {}, files=call.files)
        return answer(self._public(message))

    async def _edit_message(self, request: web.Request) -> web.Response:
        message = self.messages.get(int(request.match_info["message"]))
        if message is None:
            return answer({"message": "Unknown Message", "code": 10008}, 404)
        self._update(message, request[CALL].body or {}, request[CALL].files)
        return answer(self._public(message))

    async def _create_thread(self, request: web.Request) -> web.Response:
        parent = self.channels.get(int(request.match_info["channel"]))
        if parent is None:
            return answer({"message": "Unknown Channel", "code": 10003}, 404)
        body = request[CALL].body
        thread_id = self.next_id()
        thread = {
            "id": str(thread_id),
            "guild_id": parent["guild_id"],
            "parent_id": parent["id"],
            "owner_id": str(self.bot.id),
            "name": body["name"],
            "type": body.get("type", 12),
            "last_message_id": None,
            "message_count": 0,
            "member_count": 0,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration", 1440),
                "archive_timestamp": now_iso(),
                "locked": False,
                "invitable": body.get("invitable", True),
                "create_timestamp": now_iso(),
            },
        }
        self.channels[thread_id] = thread
        self.thread_members[thread_id] = set()
        return answer(thread, 201)

    async def _add_thread_member(self, request: web.Request) -> web.Response:
        self.thread_members.setdefault(int(request.match_info["channel"]), set()).add(int(request.match_info["user"]))
        return answer(status=204)

    async def _get_member(self, request: web.Request) -> web.Response:
        guild = next((g for g in self.guilds if g.id == int(request.match_info["guild"])), None)
        user_id = int(request.match_info["user"])
        if guild is None or user_id not in guild.members:
            return answer({"message": "Unknown Member", "code": 10007}, 404)
        return answer(guild.member_payload(guild.members[user_id][0]))

    async def _callback(self, request: web.Request) -> web.Response:
        sent = self.sent.get(request.match_info["token"])
        if sent is None or str(sent.id) != request.match_info["id"]:
            return answer({"message": "Unknown interaction", "code": 10062}, 404)
        if sent.callbacks:
            return answer({"message": "Interaction has already been acknowledged.", "code": 40060}, 400)
        body = request[CALL].body
        sent.callbacks.append(body)
        sent.first_callback_at = asyncio.get_running_loop().time()
        data = body.get("data") or {}
        kind = body["type"]
        interaction: dict = {"id": str(sent.id), "type": sent.type}
        resource: dict = {"type": kind}
        if kind in (4, 5):
            message = self._store(
                sent.channel_id, data if kind == 4 else {}, flags=data.get("flags", 0), loading=kind == 5, files=request[CALL].files
            )
            sent.message_id = int(message["id"])
            interaction.update(
                response_message_id=message["id"],
                response_message_loading=kind == 5,
                response_message_ephemeral=bool(message["flags"] & EPHEMERAL),
            )
            resource["message"] = self._public(message)
        elif kind in (6, 7):
            sent.message_id = sent.source_message_id
            if kind == 7:
                message = self.messages[sent.source_message_id]
                self._update(message, data, request[CALL].files)
                resource["message"] = self._public(message)
        elif kind == 9:
            self.modals[data["custom_id"]] = data
        sent.changed.set()
        return answer({"interaction": interaction, "resource": resource})

    def _sent_by_token(self, request: web.Request) -> Sent | None:
        sent = self.sent.get(request.match_info["token"])
        return sent if sent is not None and request.match_info["app"] == str(self.application_id) else None

    async def _followup(self, request: web.Request) -> web.Response:
        sent = self._sent_by_token(request)
        if sent is None:
            return answer({"message": "Unknown Webhook", "code": 10015}, 404)
        body = request[CALL].body or {}
        message = self._store(sent.channel_id, body, files=request[CALL].files)
        sent.followups.append(int(message["id"]))
        return answer(self._public(message))

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        sent = self._sent_by_token(request)
        ref = request.match_info["message"]
        message_id = sent.message_id if sent is not None and ref == "@original" else (int(ref) if ref.isdigit() else None)
        message = self.messages.get(message_id) if message_id else None
        if sent is None or message is None:
            return answer({"message": "Unknown Message", "code": 10008}, 404)
        self._update(message, request[CALL].body or {}, request[CALL].files)
        message["_loading"] = False
        sent.edited = True
        sent.changed.set()
        return answer(self._public(message))

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        return answer(status=204)

    # -- gateway ---------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        connection = Connection(ws)
        self.connections.append(connection)
        await connection.send(10, {"heartbeat_interval": 41250})
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            op = message.get("op")
            if op == 1:
                await connection.send(11, None)
            elif op == 2:
                await self._identify(connection, message["d"])
            elif op == 6:
                # No sessions to resume here: tell the client to identify afresh.
                await connection.send(9, False)
        self.activity.set()
        return ws

    async def _identify(self, connection: Connection, data: dict) -> None:
        if data.get("token") != self.token:
            await connection.ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identifies += 1
        self.identify_payloads.append({k: v for k, v in data.items() if k != "token"})
        await connection.send(
            0,
            {
                "v": 10,
                "user": {**self.bot.payload(), "bot": True, "verified": True, "mfa_enabled": False, "flags": 0},
                "guilds": [{"id": str(g.id), "unavailable": True} for g in self.guilds],
                "session_id": secrets.token_hex(8),
                "resume_gateway_url": self.gateway_url,
                "shard": [0, 1],
                "application": {"id": str(self.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
            },
            "READY",
        )
        for guild in self.guilds:
            await connection.send(0, guild.payload(self.bot.id), "GUILD_CREATE")
        connection.ready.set()
        self.activity.set()
