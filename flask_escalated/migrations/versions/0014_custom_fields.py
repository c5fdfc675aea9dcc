"""Custom fields: the field catalogue and the typed value table with its filter indexes.

Revision ID: 0014_custom_fields
Revises: 0013_canned_responses
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import flask_escalated.models.base

revision: str = '0014_custom_fields'
down_revision: str | None = '0013_canned_responses'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), 'postgresql')
VALUES = 'escalated_custom_field_values'
INDEXES = (
    ('ix_escalated_cfv_field_text', ['field_id', 'value_text', 'ticket_id']),
    ('ix_escalated_cfv_field_number', ['field_id', 'value_number', 'ticket_id']),
    ('ix_escalated_cfv_field_date', ['field_id', 'value_date', 'ticket_id']),
    ('ix_escalated_cfv_ticket_field', ['ticket_id', 'field_id']),
)


def upgrade() -> None:
    op.create_table(
        'escalated_custom_fields',
        sa.Column('id', _ID, nullable=False),
        sa.Column('context', sa.String(length=20), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('label', sa.String(length=120), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('type', sa.String(length=20), nullable=False),
        sa.Column('options', _JSON, nullable=False),
        sa.Column('required', sa.Boolean(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('customer_visible', sa.Boolean(), nullable=False),
        sa.Column('customer_editable', sa.Boolean(), nullable=False),
        sa.Column('conditions', _JSON, nullable=False),
        sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
        sa.Column('updated_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_custom_fields')),
        sa.UniqueConstraint('context', 'key',
                            name=op.f('uq_escalated_custom_fields_context_key')),
    )
    op.create_table(
        VALUES,
        sa.Column('id', _ID, nullable=False),
        sa.Column('ticket_id', _ID, nullable=False),
        sa.Column('field_id', _ID, nullable=False),
        sa.Column('value_text', sa.String(length=255), nullable=True),
        sa.Column('value_long', sa.Text(), nullable=True),
        sa.Column('value_number', sa.Double(), nullable=True),
        sa.Column('value_date', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ['ticket_id'], ['escalated_tickets.id'], ondelete='CASCADE',
            name='fk_escalated_cfv_ticket'),
        sa.ForeignKeyConstraint(
            ['field_id'], ['escalated_custom_fields.id'], ondelete='CASCADE',
            name='fk_escalated_cfv_field'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_custom_field_values')),
    )
    for name, columns in INDEXES:
        op.create_index(name, VALUES, columns, unique=False)


def downgrade() -> None:
    # Dropping the table drops its indexes (MariaDB refuses to drop the ones its foreign keys
    # use one by one).
    op.drop_table(VALUES)
    op.drop_table('escalated_custom_fields')
