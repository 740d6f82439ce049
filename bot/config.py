"""Settings, read once from the environment (and a ``.env`` file) at start-up."""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A RAPPORT_ADMINS entry: platform, community (team, server or "local") and user.
ADMIN_ENTRY = re.compile(r"(slack|discord|console):[^:\s]+:[^:\s]+")


class ConfigError(Exception):
    """A configuration problem; the message is one line naming the variable."""


class Settings(BaseSettings):
    """SPEC.md's configuration table."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = Field("sqlite+aiosqlite:///./rapport.db", alias="RAPPORT_DATABASE_URL")
    default_tz: str = Field("UTC", alias="RAPPORT_DEFAULT_TZ")
    dispatch_interval: float = Field(30.0, alias="RAPPORT_DISPATCH_INTERVAL", gt=0)
    http_host: str = Field("0.0.0.0", alias="RAPPORT_HTTP_HOST")
    http_port: int = Field(3000, alias="RAPPORT_HTTP_PORT")
    admins: str = Field("", alias="RAPPORT_ADMINS")
    public_url: str | None = Field(None, alias="RAPPORT_PUBLIC_URL")
    secret_key: str | None = Field(None, alias="RAPPORT_SECRET_KEY")
    # Old keys (comma-separated) still accepted for stored tokens until `rapport secrets rotate`.
    secret_key_old: str | None = Field(None, alias="RAPPORT_SECRET_KEY_OLD")
    log_format: Literal["text", "json"] = Field("text", alias="RAPPORT_LOG_FORMAT")
    # How long a claimed nudge stays this process's before another may claim it (a crash
    # between claim and mark). Short in the multi-process tests, minutes in production.
    dispatch_lease: float = Field(120.0, alias="RAPPORT_DISPATCH_LEASE", gt=0)
    # On SIGTERM, /readyz answers 503 this long before the listener closes, so a load
    # balancer's health checks take the process out before it stops answering.
    drain_seconds: float = Field(2.0, alias="RAPPORT_DRAIN_SECONDS", ge=0, le=5)

    slack_bot_token: str | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(None, alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(None, alias="SLACK_CLIENT_SECRET")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")

    discord_token: str | None = Field(None, alias="DISCORD_TOKEN")
    discord_api_url: str = Field("https://discord.com/api/v10", alias="DISCORD_API_URL")
    discord_gateway_url: str | None = Field(None, alias="DISCORD_GATEWAY_URL")
    discord_shard_count: int | None = Field(None, alias="RAPPORT_DISCORD_SHARD_COUNT", ge=1, le=4096)
    discord_shard_ids: str = Field("", alias="RAPPORT_DISCORD_SHARD_IDS")

    @field_validator("default_tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)") from None
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value):
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def shard_ids(self) -> tuple[int, ...] | None:
        """This process's Discord shards (``RAPPORT_DISCORD_SHARD_IDS``: ``0,2`` or ``0-3``);
        None means all of ``RAPPORT_DISCORD_SHARD_COUNT`` (or one shard when that is unset)."""
        return parse_shard_ids(self.discord_shard_ids) if self.discord_shard_ids.strip() else None

    @property
    def admin_ids(self) -> frozenset[str]:
        return frozenset(a.strip() for a in self.admins.split(",") if a.strip())

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """The keys for stored tokens: ``RAPPORT_SECRET_KEY`` (seals), then the old ones (open)."""
        from bot.vault import split_keys

        new = (self.secret_key or "").strip()
        return ((new,) if new else ()) + split_keys(self.secret_key_old)

    @property
    def slack_oauth(self) -> bool:
        return bool(self.slack_client_id or self.slack_client_secret)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token or self.slack_app_token or self.slack_oauth or self.slack_signing_secret)

    @property
    def discord_enabled(self) -> bool:
        return bool(self.discord_token)

    def check(self) -> None:
        """Stops a half-configured platform with a message naming what is missing."""
        for entry in sorted(self.admin_ids):
            if not ADMIN_ENTRY.fullmatch(entry):
                raise ConfigError(
                    f"RAPPORT_ADMINS: {entry!r} doesn't say which community; write slack:<team>:<user>, "
                    "discord:<server>:<user> or console:local:<user> (e.g. slack:T123:U456)."
                )
        if self.slack_enabled:
            if not self.slack_signing_secret and not self.slack_app_token:
                raise ConfigError(
                    "Slack is half-configured: set SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)."
                )
            if self.slack_oauth:
                for name, value in (
                    ("SLACK_CLIENT_ID", self.slack_client_id),
                    ("SLACK_CLIENT_SECRET", self.slack_client_secret),
                    ("SLACK_SIGNING_SECRET", self.slack_signing_secret),
                ):
                    if not value:
                        raise ConfigError(f"Slack OAuth is half-configured: {name} is missing.")
                if not (self.secret_key or "").strip():
                    raise ConfigError(
                        "Slack OAuth stores workspace tokens encrypted: set RAPPORT_SECRET_KEY (a long random string)."
                    )
            elif not self.slack_bot_token:
                raise ConfigError(
                    "Slack is half-configured: SLACK_BOT_TOKEN is missing "
                    "(or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for many workspaces)."
                )
            if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
                raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-.")
        if self.discord_shard_ids.strip():
            try:
                ids = self.shard_ids or ()
            except ValueError as err:
                raise ConfigError(f"RAPPORT_DISCORD_SHARD_IDS: {err}") from None
            if self.discord_shard_count is None:
                raise ConfigError("RAPPORT_DISCORD_SHARD_IDS needs RAPPORT_DISCORD_SHARD_COUNT (the shards of all processes).")
            wrong = [i for i in ids if i >= self.discord_shard_count]
            if wrong:
                raise ConfigError(
                    f"RAPPORT_DISCORD_SHARD_IDS: shard {wrong[0]} is out of range "
                    f"(RAPPORT_DISCORD_SHARD_COUNT={self.discord_shard_count}: ids 0 to {self.discord_shard_count - 1})."
                )


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """``"0,2"`` or ``"0-3"`` or ``"0-1, 4"`` as sorted, distinct shard ids."""
    ids: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        first, dash, last = part.partition("-")
        try:
            lo, hi = int(first), int(last) if dash else int(first)
        except ValueError:
            raise ValueError(f"{part!r} is not a shard id or a range like 0-3") from None
        if lo < 0 or hi < lo:
            raise ValueError(f"{part!r} is not a shard id or a range like 0-3")
        ids.update(range(lo, hi + 1))
    if not ids:
        raise ValueError("no shard ids given")
    return tuple(sorted(ids))


def load_settings(**overrides) -> Settings:
    """Reads the settings once; raises ConfigError with a one-line message."""
    from pydantic import ValidationError

    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err.get("loc") or ("?",)
        name = str(loc[0])
        alias = Settings.model_fields[name].alias if name in Settings.model_fields else name
        raise ConfigError(f"{alias or name}: {err.get('msg')}") from None
    settings.check()
    return settings
