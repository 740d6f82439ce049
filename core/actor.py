"""Who is acting."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the adapter knows them (the platform told it)."""

    platform: str
    workspace_id: str
    user_id: str
    display_name: str | None = None
    tz: str | None = None  # the platform's time zone for the user, where it has one
    is_organizer: bool = False
