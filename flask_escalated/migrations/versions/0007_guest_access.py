"""Guest access tokens and mailbox-proof challenges.

Revision ID: 0007_guest_access
Revises: 0006_workflows_macros
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import flask_escalated.models.base

revision: str = '0007_guest_access'
down_revision: str | None = '0006_workflows_macros'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
STAMP = flask_escalated.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table('escalated_guest_tokens',
    sa.Column('id', ID, nullable=False),
    sa.Column('ticket_id', ID, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', STAMP(), nullable=False),
    sa.Column('last_used_at', STAMP(), nullable=True),
    sa.Column('revoked_at', STAMP(), nullable=True),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['escalated_tickets.id'], name=op.f('fk_escalated_guest_tokens_ticket_id_escalated_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_guest_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_escalated_guest_tokens_token_hash'))
    )
    with op.batch_alter_table('escalated_guest_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_guest_tokens_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_guest_tokens_expires_at'), ['expires_at'], unique=False)
    op.create_table('escalated_guest_challenges',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', STAMP(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('consumed_at', STAMP(), nullable=True),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_guest_challenges'))
    )
    with op.batch_alter_table('escalated_guest_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_guest_challenges_email_hash_created_at'), ['email_hash', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('escalated_guest_challenges')
    op.drop_table('escalated_guest_tokens')
