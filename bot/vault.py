"""Secrets at rest: Slack OAuth tokens are stored encrypted (Fernet), never as they are.

The key comes from ``RAPPORT_SECRET_KEY``. A value that already is a Fernet key (32 bytes,
URL-safe base64) is used as it is; any other string is stretched into one with HKDF-SHA256
(with a label of its own, so the dashboard's cookie key, which ``core/dashboard.py`` derives
from the same value, is a different key).

Rotation: ``RAPPORT_SECRET_KEY`` is the new key and ``RAPPORT_SECRET_KEY_OLD`` the old one(s),
comma-separated. Tokens sealed with any of them are read (``MultiFernet``); new ones are
sealed with the new key; ``rapport secrets rotate`` re-seals every stored token with it.

Tokens stored as they were before encryption (they start with ``xox``) are still read, and
``rapport secrets rotate`` seals them.

Size: a sealed bot token (``xoxb-``, about 57 characters) is 164 characters, within the
``String(200)`` columns of slack-sdk's tables (migration 0002) for tokens up to 79
characters. Slack's token rotation (off in deploy/slack-manifest.yml) issues longer tokens;
turning it on needs wider columns first.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HKDF_INFO = b"rapport slack tokens v1"
PLAINTEXT_PREFIX = "xox"  # every Slack token (xoxb-, xoxp-, xoxe-, xoxe.xoxb-)


class VaultError(Exception):
    """A stored secret that none of the configured keys opens."""


def fernet_key(secret: str) -> bytes:
    """The Fernet key for ``secret``: itself when it is one, else derived with HKDF-SHA256."""
    raw = secret.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32 and len(raw) == 44:
            return raw
    except (binascii.Error, ValueError):
        pass
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(raw)
    return base64.urlsafe_b64encode(derived)


def split_keys(value: str | None) -> tuple[str, ...]:
    """``RAPPORT_SECRET_KEY_OLD``'s keys (comma-separated), blanks dropped."""
    return tuple(k.strip() for k in (value or "").split(",") if k.strip())


class Vault:
    """Seals and opens stored tokens. ``keys[0]`` seals; every key opens."""

    def __init__(self, keys: Iterable[str]) -> None:
        fernets = [Fernet(fernet_key(k)) for k in keys if k and k.strip()]
        if not fernets:
            raise ValueError("a vault needs a key (RAPPORT_SECRET_KEY)")
        self._fernet = MultiFernet(fernets)

    def seal(self, value: str | None) -> str | None:
        """``value`` encrypted with the newest key. Idempotent: a value this vault already
        opens is returned as it is (so a row saved twice is not sealed twice)."""
        if value is None or value == "":
            return value
        if not is_plaintext(value):
            try:
                self._fernet.decrypt(value.encode())
                return value
            except InvalidToken:
                pass
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, value: str | None) -> str | None:
        """The token in a stored value; a token stored before encryption comes back as is."""
        if value is None or value == "" or is_plaintext(value):
            return value
        try:
            return self._fernet.decrypt(value.encode()).decode()
        except InvalidToken:
            raise VaultError(
                "a stored Slack token can't be decrypted with RAPPORT_SECRET_KEY "
                "(after changing the key, put the old one in RAPPORT_SECRET_KEY_OLD)"
            ) from None

    def reseal(self, value: str | None) -> str | None:
        """``value`` sealed with the newest key (a plaintext token is sealed for the first time)."""
        if value is None or value == "":
            return value
        if is_plaintext(value):
            return self.seal(value)
        try:
            return self._fernet.rotate(value.encode()).decode()
        except InvalidToken:
            raise VaultError(
                "a stored Slack token can't be decrypted with RAPPORT_SECRET_KEY or RAPPORT_SECRET_KEY_OLD"
            ) from None


def is_plaintext(value: str) -> bool:
    return value.startswith(PLAINTEXT_PREFIX)
