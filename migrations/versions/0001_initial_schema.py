"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 03:08:42.504170
"""

import sqlalchemy as sa
from alembic import op

import core.models


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('communities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('intro_channel_id', sa.String(length=64), nullable=True),
    sa.Column('intro_channel_name', sa.String(length=100), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communities')),
    sa.UniqueConstraint('platform', 'workspace_id', name=op.f('uq_communities_platform'))
    )
    op.create_table('members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=True),
    sa.Column('goal', sa.String(length=300), nullable=True),
    sa.Column('tz', sa.String(length=64), nullable=True),
    sa.Column('platform_tz', sa.String(length=64), nullable=True),
    sa.Column('quiet_start', sa.String(length=5), nullable=False),
    sa.Column('quiet_end', sa.String(length=5), nullable=False),
    sa.Column('stay_in_touch_days', sa.Integer(), nullable=False),
    sa.Column('digest', sa.Boolean(), nullable=False),
    sa.Column('dm_channel_id', sa.String(length=64), nullable=True),
    sa.Column('dm_failed_notice', sa.Boolean(), nullable=False),
    sa.Column('landed_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('landed_text', sa.String(length=300), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('platform', 'workspace_id', 'user_id', name=op.f('uq_members_platform'))
    )
    op.create_table('meta',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_meta'))
    )
    op.create_table('seen_events',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('seen_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_seen_events'))
    )
    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_key', sa.String(length=100), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=True),
    sa.Column('role', sa.String(length=200), nullable=True),
    sa.Column('field', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=200), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('referred_by_contact_id', sa.Integer(), nullable=True),
    sa.Column('referred_by_member_id', sa.Integer(), nullable=True),
    sa.Column('linked_user_id', sa.String(length=64), nullable=True),
    sa.Column('referrals_pending', sa.Boolean(), nullable=False),
    sa.Column('last_touch_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_contacts_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['referred_by_contact_id'], ['contacts.id'], name=op.f('fk_contacts_referred_by_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['referred_by_member_id'], ['members.id'], name=op.f('fk_contacts_referred_by_member_id_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_member_name', ['member_id', 'name_key'], unique=False)
        batch_op.create_index('ix_contacts_referred_by', ['referred_by_contact_id'], unique=False)

    op.create_table('helper_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('fields', sa.String(length=300), nullable=True),
    sa.Column('companies', sa.String(length=300), nullable=True),
    sa.Column('per_month', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_asked_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_helper_offers_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_helper_offers')),
    sa.UniqueConstraint('member_id', name=op.f('uq_helper_offers_member_id'))
    )
    op.create_table('intro_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('what', sa.String(length=300), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('target_member_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('channel_id', sa.String(length=64), nullable=True),
    sa.Column('message_ref', sa.String(length=64), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('first_offer_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_intro_requests_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_intro_requests_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_member_id'], ['members.id'], name=op.f('fk_intro_requests_target_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intro_requests'))
    )
    with op.batch_alter_table('intro_requests', schema=None) as batch_op:
        batch_op.create_index('ix_intro_requests_member', ['member_id', 'status'], unique=False)

    op.create_table('intro_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('helper_member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_intro_offers_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['helper_member_id'], ['members.id'], name=op.f('fk_intro_offers_helper_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['intro_requests.id'], name=op.f('fk_intro_offers_request_id_intro_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intro_offers'))
    )
    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('where', sa.String(length=200), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('opportunities', sa.Text(), nullable=True),
    sa.Column('thanked_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_meetings_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_meetings_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings'))
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index('ix_meetings_member_at', ['member_id', 'at'], unique=False)

    op.create_table('outreach',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('via', sa.String(length=200), nullable=True),
    sa.Column('follow_up_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('replied_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_outreach_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_outreach_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach'))
    )
    with op.batch_alter_table('outreach', schema=None) as batch_op:
        batch_op.create_index('ix_outreach_member_at', ['member_id', 'at'], unique=False)

    op.create_table('nudges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('due_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('lease_until', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('outreach_id', sa.Integer(), nullable=True),
    sa.Column('intro_request_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_nudges_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['intro_request_id'], ['intro_requests.id'], name=op.f('fk_nudges_intro_request_id_intro_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_nudges_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_nudges_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outreach_id'], ['outreach.id'], name=op.f('fk_nudges_outreach_id_outreach'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nudges'))
    )
    with op.batch_alter_table('nudges', schema=None) as batch_op:
        batch_op.create_index('ix_nudges_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_nudges_member', ['member_id', 'status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('nudges', schema=None) as batch_op:
        batch_op.drop_index('ix_nudges_member')
        batch_op.drop_index('ix_nudges_due')

    op.drop_table('nudges')
    with op.batch_alter_table('outreach', schema=None) as batch_op:
        batch_op.drop_index('ix_outreach_member_at')

    op.drop_table('outreach')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_meetings_member_at')

    op.drop_table('meetings')
    op.drop_table('intro_offers')
    with op.batch_alter_table('intro_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_intro_requests_member')

    op.drop_table('intro_requests')
    op.drop_table('helper_offers')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_referred_by')
        batch_op.drop_index('ix_contacts_member_name')

    op.drop_table('contacts')
    op.drop_table('seen_events')
    op.drop_table('meta')
    op.drop_table('members')
    op.drop_table('communities')
