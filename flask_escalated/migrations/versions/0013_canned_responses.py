"""Canned responses: personal and shared reply texts with placeholders.

Revision ID: 0013_canned_responses
Revises: 0012_ticket_search
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import flask_escalated.models.base

revision: str = '0013_canned_responses'
down_revision: str | None = '0012_ticket_search'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
STAMP = flask_escalated.models.base.UTCDateTime
LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb')
TABLE = 'escalated_canned_responses'
INDEXES = (
    ('ix_escalated_canned_responses_owner_user_id_is_shared_title_id',
     ['owner_user_id', 'is_shared', 'title', 'id']),
    ('ix_escalated_canned_responses_is_shared_department_id_title_id',
     ['is_shared', 'department_id', 'title', 'id']),
    ('ix_escalated_canned_responses_title', ['title']),
    ('ix_escalated_canned_responses_shortcut', ['shortcut']),
)


def upgrade() -> None:
    op.create_table(TABLE,
    sa.Column('id', ID, nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', LONG_TEXT, nullable=False),
    sa.Column('shortcut', sa.String(length=40), nullable=True),
    sa.Column('department_id', ID, nullable=True),
    sa.Column('is_shared', sa.Boolean(), nullable=False),
    sa.Column('owner_user_id', sa.String(length=64), nullable=True),
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.Column('updated_at', STAMP(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['escalated_departments.id'], name='fk_escalated_canned_responses_department_id', ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_canned_responses')),
    sa.UniqueConstraint('scope', 'shortcut', name=op.f('uq_escalated_canned_responses_scope_shortcut'))
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for name, columns in INDEXES:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    op.drop_table(TABLE)
