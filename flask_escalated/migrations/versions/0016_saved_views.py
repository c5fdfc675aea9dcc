"""Saved views: named queue filters, shared with departments, and each agent's default.

Revision ID: 0016_saved_views
Revises: 0015_agent_report_facts
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import flask_escalated.models.base

revision: str = '0016_saved_views'
down_revision: str | None = '0015_agent_report_facts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
STAMP = flask_escalated.models.base.UTCDateTime
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
VIEWS = 'escalated_saved_views'
LINKS = 'escalated_saved_view_departments'
DEFAULTS = 'escalated_saved_view_defaults'


def upgrade() -> None:
    op.create_table(VIEWS,
    sa.Column('id', ID, nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('filters', JSON, nullable=False),
    sa.Column('sort', sa.String(length=20), nullable=True),
    sa.Column('owner_user_id', sa.String(length=64), nullable=True),
    sa.Column('is_shared', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.Column('updated_at', STAMP(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_saved_views')),
    )
    op.create_index('ix_escalated_saved_views_owner_user_id_position_id', VIEWS,
                    ['owner_user_id', 'position', 'id'])
    op.create_index('ix_escalated_saved_views_is_shared_position_id', VIEWS,
                    ['is_shared', 'position', 'id'])
    op.create_table(LINKS,
    sa.Column('view_id', ID, nullable=False),
    sa.Column('department_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['view_id'], [VIEWS + '.id'],
                            name=op.f('fk_escalated_saved_view_departments_view_id_escalated_saved_views'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['escalated_departments.id'],
                            name=op.f('fk_escalated_saved_view_departments_department_id_escalated_departments'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('view_id', 'department_id',
                            name=op.f('pk_escalated_saved_view_departments')),
    )
    op.create_index('ix_escalated_saved_view_departments_department_id_view_id', LINKS,
                    ['department_id', 'view_id'])
    op.create_table(DEFAULTS,
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('view_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['view_id'], [VIEWS + '.id'],
                            name=op.f('fk_escalated_saved_view_defaults_view_id_escalated_saved_views'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_escalated_saved_view_defaults')),
    )


def downgrade() -> None:
    op.drop_table(DEFAULTS)
    op.drop_table(LINKS)
    op.drop_table(VIEWS)
