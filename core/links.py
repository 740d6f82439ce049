"""Links to the bot's HTTP listener that members open from a message, and mailto: drafts.

A link that shows private things is either a long random token the member was given (the
calendar feed, ``core.calendar``) or signed here: an HMAC of what it opens (and, for the
map picture, until when), with a key kept in the database (``meta``, made once). Nothing
can be opened by guessing ids, and changing one character of a link makes it a 404.

The "Open in email" button is such a link (``/mail/<nudge>/<signature>``): the listener
answers with a redirect to the ``mailto:`` URL, built when it is opened. A link button
straight to ``mailto:`` would be simpler, but Discord refuses any link button that isn't
http(s) (a 400 for the whole message), so the nudge would not be delivered at all.

Pure: the key and base URL come in; nothing here reads the clock or the database.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

KEY_NAME = "links.signing-key"  # the meta row holding the key (hex)
MAILTO_MAX = 1800  # mail clients and browsers cut mailto: URLs much longer than this
SIGNATURE_CHARS = 32  # hex: 128 bits of an HMAC-SHA256


@dataclass
class Links:
    """The listener's public base URL (``RAPPORT_PUBLIC_URL``, else where it listens) and
    the signing key (loaded by :meth:`core.service.Rapport.prepare_links`). One object,
    shared by the core and the dispatcher; the wiring sets ``base_url`` once it knows the
    port. Without a key, no signed link is made (a button is left out, not broken)."""

    base_url: str = "http://localhost:3000"
    key: bytes = b""

    @property
    def ready(self) -> bool:
        return bool(self.key)

    @property
    def domain(self) -> str:
        """The host of the public URL: the right-hand side of calendar UIDs."""
        return urlsplit(self.base_url).hostname or "localhost"

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def sign(self, *parts: object) -> str:
        message = "\x1f".join(str(p) for p in parts).encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()[:SIGNATURE_CHARS]

    def verify(self, signature: str, *parts: object) -> bool:
        return self.ready and hmac.compare_digest(self.sign(*parts), signature or "")

    # -- the links ---------------------------------------------------------------------------

    def mail_url(self, nudge_id: int) -> str:
        """The "Open in email" link of a nudge's draft."""
        return self.url(f"/mail/{nudge_id}/{self.sign('mail', nudge_id)}")

    def map_url(self, member_id: int, expires: int) -> str:
        """The member's network map as a picture, until ``expires`` (Unix seconds)."""
        return self.url(f"/map/{member_id}/{expires}/{self.sign('map', member_id, expires)}.png")

    def calendar_url(self, token: str) -> str:
        return self.url(f"/calendar/{token}.ics")


def mailto(to: str, subject: str, body: str, limit: int = MAILTO_MAX) -> str:
    """A ``mailto:`` URL with the subject and body filled in (RFC 6068: UTF-8, percent-encoded,
    line breaks as ``%0D%0A``). When it would be longer than ``limit`` the body is left out
    (a cut draft would be worse than none: the member pastes it from the message instead),
    and if even the subject is too long, it goes too."""
    address = quote(to.strip(), safe="@.+-_")
    subject_q = quote(subject, safe="")
    body_q = quote("\r\n".join(body.splitlines()), safe="")
    for candidate in (
        f"mailto:{address}?subject={subject_q}&body={body_q}",
        f"mailto:{address}?subject={subject_q}",
    ):
        if len(candidate) <= limit:
            return candidate
    return f"mailto:{address}"
