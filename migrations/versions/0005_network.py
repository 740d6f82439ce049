"""network: imported contacts, pending imports, calendar feeds, moved meetings, promised follow-ups

Revision ID: 0005
Revises: 0100
"""

import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime

revision = "0005"
down_revision = "0100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("linkedin_url", sa.String(200), nullable=True))
        batch.add_column(sa.Column("connected_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("source", sa.String(16), nullable=True))
        batch.add_column(sa.Column("imported_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("sequence", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("outreach") as batch:
        batch.add_column(sa.Column("follow_up_promised", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "pending_imports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ref", sa.String(32), nullable=False),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE", name="fk_pending_imports_member_id_members"),
            nullable=False,
        ),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("people", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pending_imports"),
    )
    op.create_index("ix_pending_imports_member_id", "pending_imports", ["member_id"])
    op.create_index("ix_pending_imports_expires", "pending_imports", ["expires_at"])
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "member_id",
            sa.Integer(),
            sa.ForeignKey("members.id", ondelete="CASCADE", name="fk_calendar_feeds_member_id_members"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_feeds"),
        sa.UniqueConstraint("member_id", name="uq_calendar_feeds_member_id"),
        sa.UniqueConstraint("token_hash", name="uq_calendar_feeds_token_hash"),
    )


def downgrade() -> None:
    op.drop_table("calendar_feeds")
    op.drop_index("ix_pending_imports_expires", table_name="pending_imports")
    op.drop_index("ix_pending_imports_member_id", table_name="pending_imports")
    op.drop_table("pending_imports")
    with op.batch_alter_table("outreach") as batch:
        batch.drop_column("follow_up_promised")
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("sequence")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("imported_at")
        batch.drop_column("source")
        batch.drop_column("connected_on")
        batch.drop_column("linkedin_url")
