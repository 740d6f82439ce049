"""organizers' dashboard: sign-in links, sessions, and indexes for the aggregates

The dashboard's own tables (``dashboard_links``, ``dashboard_sessions``) and the indexes
that ``core/stats.py`` leans on (see the block at the end of ``core/models.py``). Kept in a file of its own so it can be re-chained when
merged; the signing key, when ``RAPPORT_SECRET_KEY`` is not set, lives in ``meta``.

Revision ID: 0100
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import core.models

revision = "0100"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_dashboard_links_token_hash")),
    )
    op.create_index("ix_dashboard_links_expires", "dashboard_links", ["expires_at"])
    op.create_table(
        "dashboard_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_sessions")),
        sa.UniqueConstraint("session_hash", name=op.f("uq_dashboard_sessions_session_hash")),
    )
    op.create_index("ix_dashboard_sessions_expires", "dashboard_sessions", ["expires_at"])
    op.create_index("ix_dashboard_sessions_owner", "dashboard_sessions", ["platform", "workspace_id", "user_id"])
    op.create_index("ix_intro_requests_community_created", "intro_requests", ["community_id", "created_at"])
    op.create_index("ix_intro_offers_request", "intro_offers", ["request_id"])
    op.create_index("ix_meetings_contact", "meetings", ["contact_id"])
    op.create_index("ix_meetings_at", "meetings", ["at"])
    op.create_index("ix_meetings_created", "meetings", ["created_at"])
    op.create_index("ix_contacts_created", "contacts", ["created_at"])
    op.create_index("ix_outreach_at", "outreach", ["at"])


def downgrade() -> None:
    op.drop_index("ix_outreach_at", table_name="outreach")
    op.drop_index("ix_contacts_created", table_name="contacts")
    op.drop_index("ix_meetings_created", table_name="meetings")
    op.drop_index("ix_meetings_at", table_name="meetings")
    op.drop_index("ix_meetings_contact", table_name="meetings")
    op.drop_index("ix_intro_offers_request", table_name="intro_offers")
    op.drop_index("ix_intro_requests_community_created", table_name="intro_requests")
    op.drop_index("ix_dashboard_sessions_owner", table_name="dashboard_sessions")
    op.drop_index("ix_dashboard_sessions_expires", table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
    op.drop_index("ix_dashboard_links_expires", table_name="dashboard_links")
    op.drop_table("dashboard_links")
