"""effects: platform side effects as durable rows (the outbox), and an intro's conversation

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "effects",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id", ondelete="CASCADE", name="fk_effects_member_id_members"), nullable=True),
        sa.Column(
            "intro_request_id",
            sa.Integer(),
            sa.ForeignKey("intro_requests.id", ondelete="CASCADE", name="fk_effects_intro_request_id_intro_requests"),
            nullable=True,
        ),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("result", sa.String(100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_effects"),
    )
    op.create_index("ix_effects_due", "effects", ["status", "due_at"])
    op.create_index("ix_effects_intro_request_id", "effects", ["intro_request_id"])
    with op.batch_alter_table("intro_requests") as batch:
        batch.add_column(sa.Column("conversation_ref", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("intro_requests") as batch:
        batch.drop_column("conversation_ref")
    op.drop_index("ix_effects_intro_request_id", table_name="effects")
    op.drop_index("ix_effects_due", table_name="effects")
    op.drop_table("effects")
