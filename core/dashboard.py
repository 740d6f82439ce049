"""Organizers' dashboard: password-free sign-in and sessions, platform-neutral.

How an organizer gets in:

1. ``admin dashboard`` (organizers only) calls :func:`issue_link` in its transaction: a
   single-use link ``/dashboard/login/<token>``. The token is 256 random bits; only its
   SHA-256 is stored, with the organizer, their community and an expiry (10 minutes).
2. Opening the link shows a page with a Sign in button. Looking at it never uses it up
   (chat platforms fetch links to preview them). :meth:`Dashboard.link_state` says whether
   it is still good.
3. The button posts back; :meth:`Dashboard.sign_in` uses the link with one conditional
   ``UPDATE ... WHERE used_at IS NULL AND expires_at > now``, so of two clicks at once
   exactly one wins, and starts a session: a random id (only its SHA-256 stored), scoped to
   that organizer and community, good for 24 hours.
4. The browser keeps ``<session id>.<HMAC-SHA256 signature>`` in a cookie;
   :meth:`Dashboard.viewer` checks the signature, then the stored session (not ended, not
   expired). Logging out (the page's button, or ``admin dashboard logout`` in chat, which
   ends all of that organizer's sessions in that community) sets ``ended_at``.

The signing key: derived from ``RAPPORT_SECRET_KEY`` when it is set. Otherwise one is
generated the first time it is needed and kept in the ``meta`` table
(``dashboard_signing_key``), so every process on the same database signs and checks alike
and sessions survive restarts. Setting (or changing) ``RAPPORT_SECRET_KEY`` later signs
everyone out once, harmlessly.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import stats
from core.clock import Clock
from core.db import Database
from core.models import DashboardLink, DashboardSession, Meta

LINK_TTL = dt.timedelta(minutes=10)
SESSION_TTL = dt.timedelta(hours=24)
PURGE_AFTER = dt.timedelta(days=1)  # expired links and sessions are deleted a day later
CACHE_TTL = dt.timedelta(minutes=1)  # how long a page's numbers are reused (CSV, period picker)
CACHE_MAX = 256  # communities x periods kept at most
LOGIN_PATH = "/dashboard/login/"
SIGNING_KEY_META = "dashboard_signing_key"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")

LinkState = Literal["valid", "used", "expired", "unknown"]

#: What the sign-in page says for each state of a link; warm, short, and what to do next.
LINK_MESSAGES: dict[LinkState, str] = {
    "valid": "This link signs you in to your community's dashboard.",
    "used": "This sign-in link has already been used. Links work once; type `/rapport admin dashboard` "
    "in chat for a fresh one.",
    "expired": "This sign-in link has expired: links last ten minutes. Type `/rapport admin dashboard` "
    "in chat for a fresh one.",
    "unknown": "This sign-in link isn't one I know. Type `/rapport admin dashboard` in chat for a fresh one.",
}


@dataclass(frozen=True)
class Organizer:
    """An organizer in one community, as the platform names them."""

    platform: str
    workspace_id: str
    user_id: str

    @property
    def community(self) -> stats.CommunityKey:
        return stats.CommunityKey(self.platform, self.workspace_id)


@dataclass(frozen=True)
class IssuedLink:
    """A fresh sign-in link: ``path`` goes after the bot's public URL."""

    token: str
    path: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Viewer:
    """Whoever holds a valid session cookie: which organizer, until when, and the token
    that the page's forms must carry (CSRF)."""

    organizer: Organizer
    expires_at: dt.datetime
    csrf: str


@dataclass(frozen=True)
class SignedIn:
    """A new session: put ``cookie`` in the browser for ``max_age`` seconds."""

    cookie: str
    viewer: Viewer
    max_age: int


class SignInRefused(Exception):
    """The link can't sign anyone in; ``state`` says why and ``message`` says it kindly."""

    def __init__(self, state: LinkState) -> None:
        super().__init__(LINK_MESSAGES[state])
        self.state: LinkState = state
        self.message = LINK_MESSAGES[state]


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def well_formed(token: str) -> bool:
    """Could ``token`` be one of ours? (Anything else is refused without a database trip.)"""
    return bool(_TOKEN.match(token))


async def issue_link(session: AsyncSession, organizer: Organizer, now: dt.datetime, ttl: dt.timedelta = LINK_TTL) -> IssuedLink:
    """Adds a single-use sign-in link for ``organizer`` in the caller's transaction.

    The caller checks that the actor is an organizer. Links and sessions that expired over
    a day ago are deleted on the way, so the tables stay small."""
    await session.execute(delete(DashboardLink).where(DashboardLink.expires_at < now - PURGE_AFTER))
    await session.execute(delete(DashboardSession).where(DashboardSession.expires_at < now - PURGE_AFTER))
    token = secrets.token_urlsafe(32)
    expires = now + ttl
    session.add(
        DashboardLink(
            token_hash=_sha256(token),
            platform=organizer.platform,
            workspace_id=organizer.workspace_id,
            user_id=organizer.user_id,
            created_at=now,
            expires_at=expires,
        )
    )
    await session.flush()
    return IssuedLink(token=token, path=LOGIN_PATH + token, expires_at=expires)


async def end_sessions(session: AsyncSession, organizer: Organizer, now: dt.datetime) -> int:
    """Ends every open session of ``organizer`` in their community (``admin dashboard
    logout``); returns how many there were."""
    result = await session.execute(
        update(DashboardSession)
        .where(
            DashboardSession.platform == organizer.platform,
            DashboardSession.workspace_id == organizer.workspace_id,
            DashboardSession.user_id == organizer.user_id,
            DashboardSession.ended_at.is_(None),
            DashboardSession.expires_at > now,
        )
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


class Dashboard:
    """What the web adapter calls: link states, sign-in, sessions, logout and the numbers.

    Every method opens its own transaction on ``db`` (reads through ``Database.read()``,
    changes through ``Database.write()``) and reads the time from ``clock``.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        secret_key: str | None = None,
        *,
        session_ttl: dt.timedelta = SESSION_TTL,
        cache_ttl: dt.timedelta = CACHE_TTL,
    ) -> None:
        self.db = db
        self.clock = clock
        self.session_ttl = session_ttl
        self.cache_ttl = cache_ttl
        self._secret_key = secret_key or None
        self._key: bytes | None = None
        self._cache: dict[tuple[str, str, str], stats.DashboardData] = {}

    # -- the signing key ----------------------------------------------------------------

    async def signing_key(self) -> bytes:
        """The HMAC key for cookies: from ``RAPPORT_SECRET_KEY``, else kept in ``meta``."""
        if self._key is not None:
            return self._key
        if self._secret_key:
            # A key of its own, derived, so the dashboard never signs with the key that
            # encrypts stored tokens.
            self._key = hmac.new(self._secret_key.encode(), b"rapport dashboard cookies v1", hashlib.sha256).digest()
            return self._key
        stored = await self._stored_key()
        if stored is None:
            try:
                async with self.db.write() as session:
                    if await session.get(Meta, SIGNING_KEY_META) is None:
                        session.add(Meta(key=SIGNING_KEY_META, value=secrets.token_urlsafe(48)))
            except IntegrityError:
                pass  # another process stored one first; use theirs
            stored = await self._stored_key()
        assert stored is not None
        self._key = stored.encode()
        return self._key

    async def _stored_key(self) -> str | None:
        async with self.db.read() as session:
            return await session.scalar(select(Meta.value).where(Meta.key == SIGNING_KEY_META))

    def _sign(self, key: bytes, value: str) -> str:
        digest = hmac.new(key, value.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def _csrf(self, key: bytes, session_id: str) -> str:
        return self._sign(key, "csrf:" + session_id)

    async def _session_id(self, cookie: str | None) -> str | None:
        """The session id in a cookie whose signature is ours, else None."""
        if not cookie or cookie.count(".") != 1:
            return None
        session_id, signature = cookie.split(".")
        if not well_formed(session_id):
            return None
        expected = self._sign(await self.signing_key(), session_id)
        return session_id if hmac.compare_digest(expected, signature) else None

    # -- links ----------------------------------------------------------------------------

    async def create_link(self, organizer: Organizer) -> IssuedLink:
        """:func:`issue_link` in a transaction of its own (tools and tests)."""
        async with self.db.write() as session:
            return await issue_link(session, organizer, self.clock.now())

    async def link_state(self, token: str) -> LinkState:
        """Whether a link would sign in now; looking never uses it up."""
        if not well_formed(token):
            return "unknown"
        now = self.clock.now()
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(DashboardLink.used_at, DashboardLink.expires_at).where(DashboardLink.token_hash == _sha256(token))
                )
            ).first()
        return _state(row, now)

    async def sign_in(self, token: str) -> SignedIn:
        """Uses the link (once, atomically) and starts a session; raises
        :class:`SignInRefused` for a used, expired or unknown link."""
        if not well_formed(token):
            raise SignInRefused("unknown")
        key = await self.signing_key()
        now = self.clock.now()
        token_hash = _sha256(token)
        async with self.db.write() as session:
            won = (
                await session.execute(
                    update(DashboardLink)
                    .where(
                        DashboardLink.token_hash == token_hash,
                        DashboardLink.used_at.is_(None),
                        DashboardLink.expires_at > now,
                    )
                    .values(used_at=now)
                    .returning(DashboardLink.platform, DashboardLink.workspace_id, DashboardLink.user_id)
                    .execution_options(synchronize_session=False)
                )
            ).first()
            if won is None:
                row = (
                    await session.execute(
                        select(DashboardLink.used_at, DashboardLink.expires_at).where(DashboardLink.token_hash == token_hash)
                    )
                ).first()
                state = _state(row, now)
                raise SignInRefused(state if state != "valid" else "used")
            organizer = Organizer(won[0], won[1], won[2])
            session_id = secrets.token_urlsafe(32)
            expires = now + self.session_ttl
            session.add(
                DashboardSession(
                    session_hash=_sha256(session_id),
                    platform=organizer.platform,
                    workspace_id=organizer.workspace_id,
                    user_id=organizer.user_id,
                    created_at=now,
                    expires_at=expires,
                )
            )
        viewer = Viewer(organizer=organizer, expires_at=expires, csrf=self._csrf(key, session_id))
        return SignedIn(
            cookie=f"{session_id}.{self._sign(key, session_id)}",
            viewer=viewer,
            max_age=int(self.session_ttl.total_seconds()),
        )

    # -- sessions -------------------------------------------------------------------------

    async def viewer(self, cookie: str | None) -> Viewer | None:
        """The organizer a session cookie belongs to, or None (no cookie, a forged or
        stale one, an ended or expired session)."""
        session_id = await self._session_id(cookie)
        if session_id is None:
            return None
        now = self.clock.now()
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(
                        DashboardSession.platform,
                        DashboardSession.workspace_id,
                        DashboardSession.user_id,
                        DashboardSession.expires_at,
                    ).where(
                        DashboardSession.session_hash == _sha256(session_id),
                        DashboardSession.ended_at.is_(None),
                        DashboardSession.expires_at > now,
                    )
                )
            ).first()
        if row is None:
            return None
        return Viewer(
            organizer=Organizer(row[0], row[1], row[2]),
            expires_at=row[3],
            csrf=self._csrf(await self.signing_key(), session_id),
        )

    async def sign_out(self, cookie: str | None, csrf: str) -> bool:
        """Ends the cookie's session if ``csrf`` is its token; True when one was ended."""
        session_id = await self._session_id(cookie)
        if session_id is None or not hmac.compare_digest(self._csrf(await self.signing_key(), session_id), csrf or ""):
            return False
        async with self.db.write() as session:
            result = await session.execute(
                update(DashboardSession)
                .where(DashboardSession.session_hash == _sha256(session_id), DashboardSession.ended_at.is_(None))
                .values(ended_at=self.clock.now())
                .execution_options(synchronize_session=False)
            )
        return bool(getattr(result, "rowcount", 0))

    async def end_sessions(self, organizer: Organizer) -> int:
        """:func:`end_sessions` in a transaction of its own."""
        async with self.db.write() as session:
            return await end_sessions(session, organizer, self.clock.now())

    # -- the numbers ----------------------------------------------------------------------

    async def data(self, viewer: Viewer, period_key: str | None) -> stats.DashboardData:
        """Everything the page shows, for the viewer's community only.

        Kept for ``cache_ttl`` (a minute) per community and period, in this process: a CSV
        download or a step back through the period picker reuses what the page just read
        (the page says when its numbers were read)."""
        now = self.clock.now()
        period = stats.period_for(period_key, now)
        community = viewer.organizer.community
        key = (community.platform, community.workspace_id, period.key)
        cached = self._cache.get(key)
        if cached is not None and now - cached.period.end < self.cache_ttl:
            return cached
        data = await self._read(community, period, now)
        if self.cache_ttl > dt.timedelta(0):
            if len(self._cache) >= CACHE_MAX:
                self._cache.pop(min(self._cache, key=lambda k: self._cache[k].period.end))
            self._cache[key] = data
        return data

    async def _read(self, community: stats.CommunityKey, period: stats.Period, now: dt.datetime) -> stats.DashboardData:
        if self.db.dialect != "postgresql":
            async with self.db.read() as session:
                return await stats.dashboard_data(session, community, period, now)

        # On PostgreSQL the parts run side by side, each in a read transaction of its own
        # (a snapshot each, taken within milliseconds of one another: fine for aggregates).
        async def run(part: stats.Part) -> object:
            async with self.db.read() as session:
                # Room for a long period's distinct (member, week) pairs to hash in memory
                # rather than spill to disk; this transaction only.
                await session.execute(text("SET LOCAL work_mem = '32MB'"))
                return await part(session, community, period, now)

        results = await asyncio.gather(*(run(part) for part in stats.PARTS))
        return stats.assemble(community, period, results)


def _state(row: Any, now: dt.datetime) -> LinkState:
    """A link's state from its (used_at, expires_at) row, or None for no such link."""
    if row is None:
        return "unknown"
    used_at: dt.datetime | None = row[0]
    expires_at: dt.datetime = row[1]
    if used_at is not None:
        return "used"
    if expires_at <= now:
        return "expired"
    return "valid"
