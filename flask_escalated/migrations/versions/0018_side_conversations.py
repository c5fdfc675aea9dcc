"""Side conversations on tickets and their replies.

Revision ID: 0018_side_conversations
Revises: 0017_ticket_relations
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

import flask_escalated.models.base

revision: str = '0018_side_conversations'
down_revision: str | None = '0017_ticket_relations'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
STAMP = flask_escalated.models.base.UTCDateTime
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
LONG = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb')
CONVERSATIONS = 'escalated_side_conversations'
REPLIES = 'escalated_side_conversation_replies'


def upgrade() -> None:
    op.create_table(CONVERSATIONS,
    sa.Column('id', ID, nullable=False),
    sa.Column('ticket_id', ID, nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('participants', JSON, nullable=False),
    sa.Column('to_email', sa.String(length=320), nullable=True),
    sa.Column('closed_at', STAMP(), nullable=True),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.Column('updated_at', STAMP(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['escalated_tickets.id'],
                            name=op.f('fk_escalated_side_conversations_ticket_id_escalated_tickets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_side_conversations')),
    )
    op.create_index('ix_escalated_side_conversations_ticket_id_id', CONVERSATIONS,
                    ['ticket_id', 'id'])
    op.create_table(REPLIES,
    sa.Column('id', ID, nullable=False),
    sa.Column('side_conversation_id', ID, nullable=False),
    sa.Column('author_type', sa.String(length=20), nullable=False),
    sa.Column('author_user_id', sa.String(length=64), nullable=True),
    sa.Column('author_email', sa.String(length=320), nullable=True),
    sa.Column('body', LONG, nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.ForeignKeyConstraint(
        ['side_conversation_id'], [CONVERSATIONS + '.id'],
        name='fk_escalated_scr_conversation',
        ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_side_conversation_replies')),
    )
    op.create_index('ix_escalated_scr_conversation_id', REPLIES,
                    ['side_conversation_id', 'id'])


def downgrade() -> None:
    op.drop_table(REPLIES)
    op.drop_table(CONVERSATIONS)
