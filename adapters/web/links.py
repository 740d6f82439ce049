"""Members' private links on the HTTP listener: the calendar feed, the network map, and
the "Open in email" redirect.

- ``GET /calendar/<token>.ics``: the member's subscription feed (``Rapport.calendar_feed``).
- ``GET /map/<member>/<expires>/<signature>.png``: their current map (``Rapport.map_image``),
  the App Home's link.
- ``GET /mail/<nudge>/<signature>``: a redirect to the ``mailto:`` URL of a nudge's draft
  (``Rapport.email_link``).

Anything that doesn't open (a wrong token or signature, an expired link, a deleted member)
is a plain 404 that says nothing about why. Nothing here is logged with its URL: the paths
carry secrets. Answers are never cached by anyone in between (``Cache-Control: private,
no-store``), and never indexed.
"""

from __future__ import annotations

import html
import logging
import re

from aiohttp import web

from core.service import Rapport

log = logging.getLogger(__name__)

PRIVATE = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "no-referrer"}
_NUMBER = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^[0-9a-f]{16,64}$")


def _not_found() -> web.Response:
    return web.Response(status=404, text="Not found", headers=PRIVATE)


class MemberLinks:
    """The routes, on one core."""

    def __init__(self, core: Rapport) -> None:
        self.core = core

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/calendar/{token}.ics", self.calendar),
            web.get("/map/{member}/{expires}/{signature}.png", self.map),
            web.get("/mail/{nudge}/{signature}", self.mail),
        ]

    async def calendar(self, request: web.Request) -> web.Response:
        body = await self.core.calendar_feed(request.match_info["token"])
        if body is None:
            return _not_found()
        return web.Response(
            body=body,
            content_type="text/calendar",
            charset="utf-8",
            headers={**PRIVATE, "Content-Disposition": 'inline; filename="rapport.ics"'},
        )

    async def map(self, request: web.Request) -> web.Response:
        member, expires, signature = (request.match_info[k] for k in ("member", "expires", "signature"))
        if not (_NUMBER.match(member) and _NUMBER.match(expires) and _SIGNATURE.match(signature)):
            return _not_found()
        png = await self.core.map_image(int(member), int(expires), signature)
        if png is None:
            return _not_found()
        return web.Response(body=png, content_type="image/png", headers=PRIVATE)

    async def mail(self, request: web.Request) -> web.Response:
        nudge, signature = request.match_info["nudge"], request.match_info["signature"]
        if not (_NUMBER.match(nudge) and _SIGNATURE.match(signature)):
            return _not_found()
        url = await self.core.email_link(int(nudge), signature)
        if url is None:
            return _not_found()
        # The redirect opens the mail program; the page is for a browser that doesn't follow it.
        page = (
            '<!doctype html><meta charset="utf-8"><title>Open in email</title>'
            f'<p><a href="{html.escape(url, quote=True)}">Open the draft in your email program</a></p>'
        )
        return web.Response(status=302, text=page, content_type="text/html", headers={**PRIVATE, "Location": url})


def member_link_routes(core: Rapport) -> list[web.RouteDef]:
    """The routes to add to the listener before it starts."""
    return MemberLinks(core).routes()
