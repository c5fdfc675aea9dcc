"""Event-driven workflows and agents' macros.

Revision ID: 0006_workflows_macros
Revises: 0005_email_csat
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import flask_escalated.models.base

revision: str = '0006_workflows_macros'
down_revision: str | None = '0005_email_csat'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
STAMP = flask_escalated.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table('escalated_workflows',
    sa.Column('id', ID, nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('conditions', JSON, nullable=False),
    sa.Column('actions', JSON, nullable=False),
    sa.Column('last_run_at', STAMP(), nullable=True),
    sa.Column('trigger_events', JSON, nullable=False),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.Column('updated_at', STAMP(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_workflows'))
    )
    op.create_table('escalated_macros',
    sa.Column('id', ID, nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('actions', JSON, nullable=False),
    sa.Column('is_shared', sa.Boolean(), nullable=False),
    sa.Column('owner_user_id', sa.String(length=64), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.Column('updated_at', STAMP(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_macros'))
    )
    with op.batch_alter_table('escalated_macros', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_macros_owner_user_id'), ['owner_user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('escalated_macros')
    op.drop_table('escalated_workflows')
