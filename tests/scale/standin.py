"""The Slack stand-in, plus what the multi-process tests need: who sent each nudge, and a
way to freeze one process mid-delivery.

- ``nudge_posts()``: for every chat.postMessage that carried a nudge's buttons and was
  answered ``ok``, the nudge id and the token (so the process) that sent it.
- ``hold_after(n)``: once some process has had ``n`` nudge DMs answered, every later Web API
  call with that process's token is held without an answer (never delivered) until
  ``release()``: the process is stuck mid-batch, with nudges claimed and calls in flight,
  which is when the test kills it.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter

from aiohttp import web

from tests.adapters.slack.standin import Call, SlackStandIn

NUDGE_ID = re.compile(r'"nudge:done:(\d+)"')


def nudge_id(call: Call) -> int | None:
    """The nudge a chat.postMessage delivered (from its Done button), if any."""
    match = NUDGE_ID.search(call.blocks_text())
    return int(match.group(1)) if match else None


class ScaleStandIn(SlackStandIn):
    def __init__(self) -> None:
        super().__init__()
        self._hold_after: int | None = None
        self.held_token: str | None = None
        self.held_calls = 0
        self.held_nudges: list[int] = []  # nudges whose DM was in flight, held, never delivered
        self.victim_chosen = asyncio.Event()
        self._release = asyncio.Event()
        self._answered: Counter[str] = Counter()

    def hold_after(self, n: int) -> None:
        self._hold_after = n

    def release(self) -> None:
        self._release.set()

    def nudge_posts(self) -> list[tuple[int, str]]:
        """(nudge id, token) for each nudge DM answered ok, in order."""
        out = []
        for call in self.calls:
            if call.method == "chat.postMessage" and call.ok:
                nid = nudge_id(call)
                if nid is not None:
                    out.append((nid, call.token or ""))
        return out

    async def _api(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip()
        if self.held_token is not None and token == self.held_token:
            self.held_calls += 1
            held = Call(request.match_info["method"], await self._params(request), token)
            if held.method == "chat.postMessage" and nudge_id(held) is not None:
                self.held_nudges.append(nudge_id(held))
            await self._release.wait()
            return web.json_response({"ok": False, "error": "service_unavailable"}, status=503)
        response = await super()._api(request)
        if self._hold_after is not None and request.match_info["method"] == "chat.postMessage":
            call = self.calls[-1]
            if call.ok and nudge_id(call) is not None:
                self._answered[token] += 1
                if self.held_token is None and self._answered[token] >= self._hold_after:
                    self.held_token = token
                    self.victim_chosen.set()
        return response

    async def stop(self) -> None:
        self._release.set()
        await super().stop()
