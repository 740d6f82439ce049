"""The organizers' dashboard over HTTP: aiohttp routes on the bot's one listener.

Routes (all under ``/dashboard``):

- ``GET  /dashboard/login/<token>``: a page with a Sign in button. It never uses the link up
  and signs no one in, so a chat platform's link preview (a GET) is harmless. It sets a
  short-lived ``rapport_login`` cookie whose value the form echoes (a double-submit check,
  so another site can't sign a browser in to someone else's session).
- ``POST /dashboard/login/<token>``: uses the link (once) and starts a session: the
  ``rapport_session`` cookie (HttpOnly; SameSite=Lax; Secure when the public URL is https;
  Path=/dashboard), then 303 to ``/dashboard``.
- ``GET  /dashboard?period=30d|90d|year|all``: the page. ``GET /dashboard/<table>.csv`` the
  CSV of one of its tables.
- ``POST /dashboard/logout``: ends the session (the form carries the session's CSRF token).
- ``GET  /dashboard/assets/dashboard-<hash>.css``: the stylesheet, served by the bot.

Why SameSite=Lax and not Strict: every request that changes something is a POST, which Lax
never sends cross-site, and which carries a token besides; the pages only read. Strict would
make a link to the dashboard from chat or a bookmark manager arrive signed out, a cost with
nothing bought in return.

Every response carries a Content-Security-Policy with no outside source (and no script at
all), ``Referrer-Policy: no-referrer`` (the sign-in token is in a URL), ``X-Frame-Options:
DENY`` with ``frame-ancestors 'none'``, ``nosniff``, and ``Cache-Control: no-store`` except
on the content-hashed stylesheet.

The routes call an object with the dashboard's methods (:class:`DashboardService`,
implemented by :class:`core.dashboard.Dashboard`); they never touch the database.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web

from adapters.web.page import ASK_FOR_A_LINK, dashboard_page, login_page, message_page
from adapters.web.style import CSS_BYTES, CSS_PATH
from adapters.web.tables import TABLE_IDS, all_tables, to_csv
from core.dashboard import LINK_MESSAGES, LinkState, SignedIn, SignInRefused, Viewer
from core.stats import DashboardData

log = logging.getLogger(__name__)

SESSION_COOKIE = "rapport_session"
LOGIN_COOKIE = "rapport_login"
SESSION_PATH = "/dashboard"
LOGIN_PATH = "/dashboard/login"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class DashboardService(Protocol):
    """What the routes need from the core (``core.dashboard.Dashboard``)."""

    async def link_state(self, token: str) -> LinkState: ...

    async def sign_in(self, token: str) -> SignedIn: ...

    async def viewer(self, cookie: str | None) -> Viewer | None: ...

    async def sign_out(self, cookie: str | None, csrf: str) -> bool: ...

    async def data(self, viewer: Viewer, period_key: str | None) -> DashboardData: ...


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _html(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def _secured(handler: Handler) -> Handler:
    """Adds the security headers, and turns a bug into a short apology page (logged)."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("dashboard request failed (%s %s)", request.method, request.path.split("/login/")[0])
            response = _html(
                message_page(
                    "Something went wrong",
                    "The dashboard couldn't load just now; nothing was changed. Please try again in a minute.",
                ),
                status=500,
            )
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return wrapped


REFUSAL_TITLES: dict[LinkState, str] = {
    "valid": "Sign in",
    "used": "This link has been used",
    "expired": "This link has expired",
    "unknown": "This link doesn't work",
}


def refusal_page(state: LinkState) -> web.Response:
    """A used, expired or unknown link: says so, and how to get a fresh one."""
    message = LINK_MESSAGES[state].replace("`/rapport admin dashboard`", "<code>/rapport admin dashboard</code>")
    return _html(message_page(REFUSAL_TITLES[state], message), status=404 if state == "unknown" else 410)


def not_signed_in() -> web.Response:
    return _html(
        message_page("You're not signed in", "Your session has ended, or this browser hasn't signed in yet. " + ASK_FOR_A_LINK),
        status=401,
    )


class DashboardRoutes:
    """The dashboard's routes over ``service``. ``secure``: the public URL is https, so
    cookies are marked Secure."""

    def __init__(self, service: DashboardService, *, secure: bool = False) -> None:
        self.service = service
        self.secure = secure

    def routes(self) -> list[web.RouteDef]:
        """Add these to the bot's listener before it starts."""
        return [
            web.get(CSS_PATH, self.stylesheet),
            web.get(SESSION_PATH, _secured(self.page)),
            web.get(SESSION_PATH + "/", _secured(self.page)),
            web.get(LOGIN_PATH + "/{token}", _secured(self.login_form)),
            web.post(LOGIN_PATH + "/{token}", _secured(self.login_submit)),
            web.post(SESSION_PATH + "/logout", _secured(self.logout)),
            web.get(SESSION_PATH + "/{table:[a-z-]{1,40}}.csv", _secured(self.csv)),
            web.get(SESSION_PATH + "/{tail:.*}", _secured(self.not_found)),
        ]

    # -- sign-in ------------------------------------------------------------------------

    async def login_form(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        state = await self.service.link_state(token)
        if state != "valid":
            return refusal_page(state)
        return self._login_page(token)

    def _login_page(self, token: str, note: str = "", status: int = 200) -> web.Response:
        nonce = secrets.token_urlsafe(24)
        response = _html(login_page(token, nonce, note=note), status=status)
        response.set_cookie(
            LOGIN_COOKIE, nonce, max_age=900, path=LOGIN_PATH, httponly=True, samesite="Lax", secure=self.secure
        )
        return response

    async def login_submit(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        form = await request.post()
        nonce = str(form.get("nonce") or "")
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not nonce or not expected or not hmac.compare_digest(nonce, expected):
            state = await self.service.link_state(token)
            if state != "valid":
                return refusal_page(state)
            return self._login_page(
                token, "That didn't go through. Press Sign in once more (this page needs cookies turned on).", status=400
            )
        try:
            signed = await self.service.sign_in(token)
        except SignInRefused as refused:
            return refusal_page(refused.state)
        response = web.Response(status=303, headers={"Location": SESSION_PATH})
        response.set_cookie(
            SESSION_COOKIE,
            signed.cookie,
            max_age=signed.max_age,
            path=SESSION_PATH,
            httponly=True,
            samesite="Lax",
            secure=self.secure,
        )
        response.del_cookie(LOGIN_COOKIE, path=LOGIN_PATH)
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        cookie = request.cookies.get(SESSION_COOKIE)
        ended = await self.service.sign_out(cookie, str(form.get("csrf") or ""))
        if not ended and await self.service.viewer(cookie) is not None:
            # A live session but the wrong token: a forged or stale form. Not signed out.
            return _html(
                message_page(
                    "You're still signed in",
                    "That didn't go through. Go back to the dashboard, reload it, and press Log out again.",
                    action_html='<p><a href="/dashboard">Back to the dashboard</a></p>',
                ),
                status=403,
            )
        response = _html(message_page("You're signed out", "See you next time. " + ASK_FOR_A_LINK))
        response.del_cookie(SESSION_COOKIE, path=SESSION_PATH)
        return response

    # -- the page and its tables ----------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        viewer = await self.service.viewer(request.cookies.get(SESSION_COOKIE))
        if viewer is None:
            return not_signed_in()
        data = await self.service.data(viewer, request.query.get("period"))
        return _html(dashboard_page(data, viewer, data.period.end))

    async def csv(self, request: web.Request) -> web.StreamResponse:
        table_id = request.match_info["table"]
        if table_id not in TABLE_IDS:
            return await self.not_found(request)
        viewer = await self.service.viewer(request.cookies.get(SESSION_COOKIE))
        if viewer is None:
            return not_signed_in()
        data = await self.service.data(viewer, request.query.get("period"))
        table = all_tables(data)[table_id]
        filename = f"rapport-{table_id}-{data.period.key or 'period'}.csv"
        return web.Response(
            text=to_csv(table),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    async def not_found(self, request: web.Request) -> web.StreamResponse:
        return _html(
            message_page(
                "Nothing here",
                "There's no such page on the dashboard.",
                action_html='<p><a href="/dashboard">Go to the dashboard</a></p>',
            ),
            status=404,
        )

    async def stylesheet(self, request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=CSS_BYTES,
            content_type="text/css",
            charset="utf-8",
            headers={
                "Cache-Control": "public, max-age=31536000, immutable",
                "X-Content-Type-Options": "nosniff",
            },
        )
