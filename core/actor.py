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
    #: A name to use until the member picks one with `settings name:`, where the platform
    #: gives none (the console: the computer's user name). Never overwrites a name.
    fallback_name: str | None = None
    is_organizer: bool = False
