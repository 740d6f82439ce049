"""Storage: SQLAlchemy 2.0 typed models. All times are stored in UTC.

Every member-owned row hangs off ``members`` (scoped by platform + workspace + user) and
is deleted with it (``forget-me``). The hot paths have indexes: due nudges
(``status, due_at``) and a member's contacts by name (``member_id, name_key``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Community(Base):
    """A Slack workspace, a Discord server, or the console's local community."""

    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("platform", "workspace_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(64))
    intro_channel_id: Mapped[str | None] = mapped_column(String(64))
    intro_channel_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Member(Base):
    """A person in a community, with their settings."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(100))
    goal: Mapped[str | None] = mapped_column(String(300))
    tz: Mapped[str | None] = mapped_column(String(64))  # chosen with `settings tz:`
    platform_tz: Mapped[str | None] = mapped_column(String(64))  # from the platform (Slack)
    quiet_start: Mapped[str] = mapped_column(String(5), default="21:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="08:00")
    stay_in_touch_days: Mapped[int] = mapped_column(Integer, default=90)
    digest: Mapped[bool] = mapped_column(Boolean, default=True)
    dm_channel_id: Mapped[str | None] = mapped_column(String(64))
    dm_failed_notice: Mapped[bool] = mapped_column(Boolean, default=False)
    landed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    landed_text: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ContactRow(Base):
    """Someone a member networks with. ``referred_by_*`` is the referral chain."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_member_name", "member_id", "name_key"),
        Index("ix_contacts_referred_by", "referred_by_contact_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    company: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(200))
    field: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="new")
    referred_by_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    referred_by_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    linked_user_id: Mapped[str | None] = mapped_column(String(64))  # a community member
    referrals_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    last_touch_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Brought in from a contacts file (``import``): where from ("linkedin", "vcard") and when.
    # An imported contact the member hasn't acted on is still "new" with no last touch.
    linkedin_url: Mapped[str | None] = mapped_column(String(200))
    connected_on: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(16))
    imported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    referred_by: Mapped[ContactRow | None] = relationship(
        remote_side="ContactRow.id", foreign_keys=[referred_by_contact_id], lazy="raise"
    )


class Meeting(Base):
    """A meeting: ``scheduled`` (upcoming) or ``held`` (logged)."""

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_member_at", "member_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="held")
    where: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    opportunities: Mapped[str | None] = mapped_column(Text)
    thanked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Grows each time the meeting moves: a calendar that has the meeting's .ics replaces its
    # event when it sees the same UID with a higher SEQUENCE.
    sequence: Mapped[int] = mapped_column(Integer, default=0)


class Outreach(Base):
    """A message or call to a contact, waiting for (or having got) a reply."""

    __tablename__ = "outreach"
    __table_args__ = (Index("ix_outreach_member_at", "member_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    via: Mapped[str | None] = mapped_column(String(200))
    follow_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    follow_up_promised: Mapped[bool] = mapped_column(Boolean, default=False)  # `follow-up:` was given


class Nudge(Base):
    """A DM due at a time: a row, so it survives restarts and is sent once.

    ``status``: pending -> sending (claimed under a lease) -> sent; a member ends it with
    done / skipped; doing the thing cancels it; permanent errors make it failed.
    """

    __tablename__ = "nudges"
    __table_args__ = (
        Index("ix_nudges_due", "status", "due_at"),
        Index("ix_nudges_member", "member_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    outreach_id: Mapped[int | None] = mapped_column(ForeignKey("outreach.id", ondelete="CASCADE"))
    intro_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("intro_requests.id", ondelete="CASCADE")
    )
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class IntroRequest(Base):
    """A request for an introduction: open (to the channel) or to one member (double opt-in)."""

    __tablename__ = "intro_requests"
    __table_args__ = (Index("ix_intro_requests_member", "member_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    what: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    target_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(12), default="open")
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_ref: Mapped[str | None] = mapped_column(String(64))
    conversation_ref: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    first_offer_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class IntroOffer(Base):
    """A helper's answer to an open request: glad to chat, or someone they know."""

    __tablename__ = "intro_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("intro_requests.id", ondelete="CASCADE"))
    helper_member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class HelperOffer(Base):
    """A member's entry in the helper directory."""

    __tablename__ = "helper_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), unique=True
    )
    fields: Mapped[str | None] = mapped_column(String(300))
    companies: Mapped[str | None] = mapped_column(String(300))
    per_month: Mapped[int] = mapped_column(Integer, default=2)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_asked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Meta(Base):
    """Small key/value facts the program keeps (e.g. the hash of synced Discord commands)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SeenEvent(Base):
    """Platform event ids already processed, so a retried delivery is handled once."""

    __tablename__ = "seen_events"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Effect(Base):
    """Something a command asked of a platform (a channel post, an update of one, opening a
    conversation), written in the command's transaction and carried out after it commits
    by the dispatcher, under a lease, with retries: the transactional outbox.

    ``status``: pending -> sending (claimed) -> done | failed. ``result`` is what the
    platform gave back (a post's reference, a conversation's id). ``member_id`` is who
    asked: a permanent failure is told to them.
    """

    __tablename__ = "effects"
    __table_args__ = (Index("ix_effects_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    intro_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("intro_requests.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

# --- Organizers' dashboard (issue 14) -------------------------------------------------------
# Sign-in links and sessions for the web dashboard, and the indexes its aggregates use.
# Created by migrations/versions/0100_dashboard.py. Links and sessions name their community
# and organizer by platform ids (not member rows): an organizer needs no member row to sign in.


class DashboardLink(Base):
    """A single-use sign-in link. Only the SHA-256 of its token is stored; ``used_at`` is set
    by a conditional UPDATE, so of two clicks at once exactly one signs in."""

    __tablename__ = "dashboard_links"
    __table_args__ = (Index("ix_dashboard_links_expires", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DashboardSession(Base):
    """A signed-in browser: one organizer, one community, until ``expires_at`` or logout
    (``ended_at``). Only the SHA-256 of the session id is stored."""

    __tablename__ = "dashboard_sessions"
    __table_args__ = (
        Index("ix_dashboard_sessions_expires", "expires_at"),
        Index("ix_dashboard_sessions_owner", "platform", "workspace_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


# Indexes on existing tables for the dashboard's aggregates (core/stats.py): requests of a
# community by date, offers of a request, meetings with a contact (the funnel's "met" step),
# and the dates that a period's scans range over (active members, meetings, thank-yous).
Index("ix_intro_requests_community_created", IntroRequest.community_id, IntroRequest.created_at)
Index("ix_intro_offers_request", IntroOffer.request_id)
Index("ix_meetings_contact", Meeting.contact_id)
Index("ix_meetings_at", Meeting.at)
Index("ix_meetings_created", Meeting.created_at)
Index("ix_contacts_created", ContactRow.created_at)
Index("ix_outreach_at", Outreach.at)

class PendingImport(Base):
    """A contacts file read and previewed, waiting for the member to confirm (``import``).

    ``people`` holds what was read (compact dicts, see ``core.handlers.network``); the plan
    is made again on confirmation, against the contacts as they are then, so nothing is
    duplicated whatever happened in between. A member has at most one; it expires.
    """

    __tablename__ = "pending_imports"
    __table_args__ = (Index("ix_pending_imports_expires", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # In the buttons with the id: a stale button (its preview replaced, and SQLite reusing
    # the id) never confirms another file.
    ref: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))  # "linkedin" or "vcard"
    people: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CalendarFeed(Base):
    """A member's private calendar subscription: only the SHA-256 of its token is kept, so
    the address can't be read back from the database (``calendar reset`` replaces it)."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
