"""Initial schema: tickets, replies, attachments, activity, people, statuses, settings,
audit log and API tokens.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import flask_escalated.models.base

revision: str = '0001_initial'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ('escalated',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('escalated_agent_profiles',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('max_open_tickets', sa.Integer(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.Text(), nullable=True),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_agent_profiles')),
    sa.UniqueConstraint('user_id', name=op.f('uq_escalated_agent_profiles_user_id'))
    )
    op.create_table('escalated_api_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_prefix', sa.String(length=12), nullable=False),
    sa.Column('abilities', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('expires_at', flask_escalated.models.base.UTCDateTime(), nullable=True),
    sa.Column('last_used_at', flask_escalated.models.base.UTCDateTime(), nullable=True),
    sa.Column('last_used_ip', sa.String(length=45), nullable=True),
    sa.Column('revoked_at', flask_escalated.models.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_escalated_api_tokens_token_hash'))
    )
    with op.batch_alter_table('escalated_api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('escalated_audit_logs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('actor_user_id', sa.String(length=64), nullable=True),
    sa.Column('actor_type', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('entity_type', sa.String(length=60), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('old_values', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('new_values', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_audit_logs'))
    )
    with op.batch_alter_table('escalated_audit_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_audit_logs_actor_user_id'), ['actor_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_audit_logs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_audit_logs_entity_type_entity_id'), ['entity_type', 'entity_id'], unique=False)

    op.create_table('escalated_contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('metadata', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_contacts')),
    sa.UniqueConstraint('email', name=op.f('uq_escalated_contacts_email'))
    )
    with op.batch_alter_table('escalated_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_contacts_user_id'), ['user_id'], unique=False)

    op.create_table('escalated_departments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('assignment_strategy', sa.String(length=20), nullable=False),
    sa.Column('last_assigned_user_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_departments')),
    sa.UniqueConstraint('slug', name=op.f('uq_escalated_departments_slug'))
    )
    op.create_table('escalated_settings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('value', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_settings')),
    sa.UniqueConstraint('key', name=op.f('uq_escalated_settings_key'))
    )
    op.create_table('escalated_tags',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('color', sa.String(length=16), nullable=False),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_tags')),
    sa.UniqueConstraint('slug', name=op.f('uq_escalated_tags_slug'))
    )
    op.create_table('escalated_ticket_statuses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('color', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_ticket_statuses')),
    sa.UniqueConstraint('slug', name=op.f('uq_escalated_ticket_statuses_slug'))
    )
    op.create_table('escalated_department_members',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('department_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['escalated_departments.id'], name=op.f('fk_escalated_department_members_department_id_escalated_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_department_members')),
    sa.UniqueConstraint('department_id', 'user_id', name=op.f('uq_escalated_department_members_department_id_user_id'))
    )
    with op.batch_alter_table('escalated_department_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_department_members_user_id'), ['user_id'], unique=False)

    op.create_table('escalated_tickets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=True),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('status_category', sa.String(length=30), nullable=False),
    sa.Column('priority', sa.String(length=20), nullable=False),
    sa.Column('priority_rank', sa.SmallInteger(), nullable=False),
    sa.Column('ticket_type', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('requester_user_id', sa.String(length=64), nullable=True),
    sa.Column('contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('assignee_id', sa.String(length=64), nullable=True),
    sa.Column('department_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reply_count', sa.Integer(), nullable=False),
    sa.Column('first_response_at', flask_escalated.models.base.UTCDateTime(), nullable=True),
    sa.Column('last_reply_at', flask_escalated.models.base.UTCDateTime(), nullable=True),
    sa.Column('last_customer_reply_at', flask_escalated.models.base.UTCDateTime(), nullable=True),
    sa.Column('last_agent_reply_at', flask_escalated.models.base.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', flask_escalated.models.base.UTCDateTime(), nullable=True),
    sa.Column('closed_at', flask_escalated.models.base.UTCDateTime(), nullable=True),
    sa.Column('metadata', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['escalated_contacts.id'], name=op.f('fk_escalated_tickets_contact_id_escalated_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['department_id'], ['escalated_departments.id'], name=op.f('fk_escalated_tickets_department_id_escalated_departments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['escalated_tickets.id'], name=op.f('fk_escalated_tickets_merged_into_id_escalated_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_tickets')),
    sa.UniqueConstraint('reference', name=op.f('uq_escalated_tickets_reference'))
    )
    with op.batch_alter_table('escalated_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_tickets_assignee_id_status_category_updated_at_id'), ['assignee_id', 'status_category', 'updated_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_tickets_contact_id_created_at_id'), ['contact_id', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_tickets_created_at_id'), ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_tickets_department_id_status_category_updated_at_id'), ['department_id', 'status_category', 'updated_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_tickets_priority_rank_id'), ['priority_rank', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_tickets_requester_user_id_created_at_id'), ['requester_user_id', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_tickets_status_category_updated_at_id'), ['status_category', 'updated_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_tickets_updated_at_id'), ['updated_at', 'id'], unique=False)

    op.create_table('escalated_activities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('actor_type', sa.String(length=20), nullable=False),
    sa.Column('actor_user_id', sa.String(length=64), nullable=True),
    sa.Column('actor_contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('properties', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['escalated_tickets.id'], name=op.f('fk_escalated_activities_ticket_id_escalated_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_activities'))
    )
    with op.batch_alter_table('escalated_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_activities_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_activities_ticket_id_id'), ['ticket_id', 'id'], unique=False)

    op.create_table('escalated_replies',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('author_user_id', sa.String(length=64), nullable=True),
    sa.Column('author_contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('author_type', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('is_internal', sa.Boolean(), nullable=False),
    sa.Column('is_pinned', sa.Boolean(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('metadata', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_contact_id'], ['escalated_contacts.id'], name=op.f('fk_escalated_replies_author_contact_id_escalated_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['escalated_tickets.id'], name=op.f('fk_escalated_replies_ticket_id_escalated_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_replies'))
    )
    with op.batch_alter_table('escalated_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_replies_ticket_id_created_at_id'), ['ticket_id', 'created_at', 'id'], unique=False)

    op.create_table('escalated_ticket_followers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['escalated_tickets.id'], name=op.f('fk_escalated_ticket_followers_ticket_id_escalated_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_ticket_followers')),
    sa.UniqueConstraint('ticket_id', 'user_id', name=op.f('uq_escalated_ticket_followers_ticket_id_user_id'))
    )
    with op.batch_alter_table('escalated_ticket_followers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_ticket_followers_user_id'), ['user_id'], unique=False)

    op.create_table('escalated_ticket_tags',
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['tag_id'], ['escalated_tags.id'], name=op.f('fk_escalated_ticket_tags_tag_id_escalated_tags'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['escalated_tickets.id'], name=op.f('fk_escalated_ticket_tags_ticket_id_escalated_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', 'tag_id', name=op.f('pk_escalated_ticket_tags'))
    )
    with op.batch_alter_table('escalated_ticket_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_ticket_tags_tag_id_ticket_id'), ['tag_id', 'ticket_id'], unique=False)

    op.create_table('escalated_attachments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reply_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=127), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('uploaded_by_user_id', sa.String(length=64), nullable=True),
    sa.Column('uploaded_by_contact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('is_internal', sa.Boolean(), nullable=False),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reply_id'], ['escalated_replies.id'], name=op.f('fk_escalated_attachments_reply_id_escalated_replies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['escalated_tickets.id'], name=op.f('fk_escalated_attachments_ticket_id_escalated_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_contact_id'], ['escalated_contacts.id'], name=op.f('fk_escalated_attachments_uploaded_by_contact_id_escalated_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_attachments'))
    )
    with op.batch_alter_table('escalated_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_attachments_reply_id'), ['reply_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_attachments_ticket_id_id'), ['ticket_id', 'id'], unique=False)



def downgrade() -> None:
    # Dropping the table drops its indexes (MariaDB refuses to drop an index a
    # foreign key still needs).
    op.drop_table('escalated_attachments')
    # Dropping the table drops its indexes (MariaDB refuses to drop an index a
    # foreign key still needs).
    op.drop_table('escalated_ticket_tags')
    # Dropping the table drops its indexes (MariaDB refuses to drop an index a
    # foreign key still needs).
    op.drop_table('escalated_ticket_followers')
    # Dropping the table drops its indexes (MariaDB refuses to drop an index a
    # foreign key still needs).
    op.drop_table('escalated_replies')
    # Dropping the table drops its indexes (MariaDB refuses to drop an index a
    # foreign key still needs).
    op.drop_table('escalated_activities')
    # Dropping the table drops its indexes (MariaDB refuses to drop an index a
    # foreign key still needs).
    op.drop_table('escalated_tickets')
    # Dropping the table drops its indexes (MariaDB refuses to drop an index a
    # foreign key still needs).
    op.drop_table('escalated_department_members')
    op.drop_table('escalated_ticket_statuses')
    op.drop_table('escalated_tags')
    op.drop_table('escalated_settings')
    op.drop_table('escalated_departments')
    # Dropping the table drops its indexes (MariaDB refuses to drop an index a
    # foreign key still needs).
    op.drop_table('escalated_contacts')
    # Dropping the table drops its indexes (MariaDB refuses to drop an index a
    # foreign key still needs).
    op.drop_table('escalated_audit_logs')
    # Dropping the table drops its indexes (MariaDB refuses to drop an index a
    # foreign key still needs).
    op.drop_table('escalated_api_tokens')
    op.drop_table('escalated_agent_profiles')
