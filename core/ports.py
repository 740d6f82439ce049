"""What the core asks of a platform. Adapters implement these; the core never imports them.

``Deliverer`` DMs a member (nudges, news). ``Platform`` adds what introductions need:
posting to and updating a channel message, and opening a conversation between members.
Only the dispatcher calls these, after the command that asked has committed (handlers
write effect rows instead). Errors are the ``DeliveryError`` family below.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from core.ui import Message, Reply


class DeliveryError(Exception):
    """Base of what a Deliverer or Platform may raise."""


class TransientError(DeliveryError):
    """Try again later (network trouble, a 5xx)."""


class PermanentError(DeliveryError):
    """Never going to work (user gone, DMs closed, channel not found)."""


class RateLimited(DeliveryError):
    """The platform asked us to wait ``retry_after`` seconds."""

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(message)
        self.retry_after = retry_after


@runtime_checkable
class Deliverer(Protocol):
    """One platform's way to DM a member. Returns the DM channel id to cache, if any.

    ``message.recipient.dm_channel_id`` is the cached id from an earlier delivery (or None).
    """

    async def deliver(self, message: Message) -> str | None: ...


@runtime_checkable
class Platform(Deliverer, Protocol):
    """Everything the core may ask of a platform beyond DMs."""

    async def post_channel(self, workspace_id: str, channel_id: str, reply: Reply) -> str:
        """Posts ``reply`` in a channel; returns a reference to update it later."""
        ...

    async def update_channel_post(self, workspace_id: str, channel_id: str, message_ref: str, reply: Reply) -> None:
        """Replaces a post made by ``post_channel``."""
        ...

    async def open_conversation(self, workspace_id: str, user_ids: list[str], reply: Reply, channel_id: str | None = None) -> str:
        """Opens a conversation between members (Slack: a group DM; Discord: a private
        thread in ``channel_id`` with them added) and posts ``reply`` as its first message.
        Returns the conversation's id."""
        ...
