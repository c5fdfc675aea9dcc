"""Webhook endpoints, the delivery outbox and the attempt log.

Revision ID: 0003_webhooks
Revises: 0002_sla_rules
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import flask_escalated.models.base

revision: str = '0003_webhooks'
down_revision: str | None = '0002_sla_rules'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('escalated_webhooks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('events', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('failure_count', sa.Integer(), nullable=False),
    sa.Column('last_delivered_at', flask_escalated.models.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_webhooks'))
    )
    op.create_table('escalated_webhook_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('webhook_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event', sa.String(length=60), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', flask_escalated.models.base.UTCDateTime(), nullable=True),
    sa.Column('claimed_until', flask_escalated.models.base.UTCDateTime(), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('delivered_at', flask_escalated.models.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['webhook_id'], ['escalated_webhooks.id'], name=op.f('fk_escalated_webhook_deliveries_webhook_id_escalated_webhooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_webhook_deliveries')),
    sa.UniqueConstraint('uid', name=op.f('uq_escalated_webhook_deliveries_uid'))
    )
    with op.batch_alter_table('escalated_webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_webhook_deliveries_status_next_attempt_at'), ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_webhook_deliveries_webhook_id_id'), ['webhook_id', 'id'], unique=False)

    op.create_table('escalated_webhook_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delivery_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('response_excerpt', sa.String(length=500), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['escalated_webhook_deliveries.id'], name=op.f('fk_escalated_webhook_attempts_delivery_id_escalated_webhook_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_webhook_attempts'))
    )
    with op.batch_alter_table('escalated_webhook_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_webhook_attempts_delivery_id_id'), ['delivery_id', 'id'], unique=False)



def downgrade() -> None:
    op.drop_table('escalated_webhook_attempts')
    op.drop_table('escalated_webhook_deliveries')
    op.drop_table('escalated_webhooks')
