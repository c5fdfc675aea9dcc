"""Outbound mail outbox, the inbound message log, and satisfaction ratings.

Revision ID: 0005_email_csat
Revises: 0004_roles_two_factor
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import flask_escalated.models.base

revision: str = '0005_email_csat'
down_revision: str | None = '0004_roles_two_factor'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
STAMP = flask_escalated.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table('escalated_outbound_emails',
    sa.Column('id', ID, nullable=False),
    sa.Column('ticket_id', ID, nullable=True),
    sa.Column('reply_id', ID, nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('to_email', sa.String(length=320), nullable=False),
    sa.Column('to_name', sa.String(length=255), nullable=True),
    sa.Column('to_user_id', sa.String(length=64), nullable=True),
    sa.Column('from_name', sa.String(length=255), nullable=True),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=False),
    sa.Column('headers', JSON, nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('next_attempt_at', STAMP(), nullable=True),
    sa.Column('claimed_until', STAMP(), nullable=True),
    sa.Column('sent_at', STAMP(), nullable=True),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.ForeignKeyConstraint(['reply_id'], ['escalated_replies.id'], name=op.f('fk_escalated_outbound_emails_reply_id_escalated_replies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['escalated_tickets.id'], name=op.f('fk_escalated_outbound_emails_ticket_id_escalated_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_outbound_emails'))
    )
    with op.batch_alter_table('escalated_outbound_emails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_outbound_emails_status_next_attempt_at'), ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_outbound_emails_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_outbound_emails_message_id'), ['message_id'], unique=False)
    op.create_table('escalated_inbound_emails',
    sa.Column('id', ID, nullable=False),
    sa.Column('adapter', sa.String(length=20), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=True),
    sa.Column('dedupe_key', sa.String(length=64), nullable=True),
    sa.Column('from_email', sa.String(length=320), nullable=True),
    sa.Column('from_name', sa.String(length=255), nullable=True),
    sa.Column('to_email', sa.String(length=320), nullable=True),
    sa.Column('subject', sa.String(length=500), nullable=True),
    sa.Column('in_reply_to', sa.String(length=255), nullable=True),
    sa.Column('reference_ids', sa.Text(), nullable=True),
    sa.Column('raw_key', sa.String(length=80), nullable=True),
    sa.Column('raw_size', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.Column('matched_by', sa.String(length=30), nullable=True),
    sa.Column('ticket_id', ID, nullable=True),
    sa.Column('reply_id', ID, nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.Column('processed_at', STAMP(), nullable=True),
    sa.ForeignKeyConstraint(['reply_id'], ['escalated_replies.id'], name=op.f('fk_escalated_inbound_emails_reply_id_escalated_replies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['escalated_tickets.id'], name=op.f('fk_escalated_inbound_emails_ticket_id_escalated_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_inbound_emails')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_escalated_inbound_emails_dedupe_key'))
    )
    with op.batch_alter_table('escalated_inbound_emails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_inbound_emails_status_id'), ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_inbound_emails_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_inbound_emails_from_email'), ['from_email'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_inbound_emails_ticket_id'), ['ticket_id'], unique=False)
    op.create_table('escalated_satisfaction_ratings',
    sa.Column('id', ID, nullable=False),
    sa.Column('ticket_id', ID, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('token_expires_at', STAMP(), nullable=True),
    sa.Column('agent_id', sa.String(length=64), nullable=True),
    sa.Column('requester_user_id', sa.String(length=64), nullable=True),
    sa.Column('contact_id', ID, nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('rated_at', STAMP(), nullable=True),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['escalated_contacts.id'], name=op.f('fk_escalated_satisfaction_ratings_contact_id_escalated_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['escalated_tickets.id'], name=op.f('fk_escalated_satisfaction_ratings_ticket_id_escalated_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_satisfaction_ratings')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_escalated_satisfaction_ratings_ticket_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_escalated_satisfaction_ratings_token_hash'))
    )
    with op.batch_alter_table('escalated_satisfaction_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_satisfaction_ratings_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_satisfaction_ratings_rated_at'), ['rated_at'], unique=False)


def downgrade() -> None:
    op.drop_table('escalated_satisfaction_ratings')
    op.drop_table('escalated_inbound_emails')
    op.drop_table('escalated_outbound_emails')
