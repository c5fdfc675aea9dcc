"""Custom roles, role grants (optionally per department) and agents' second factors.

Revision ID: 0004_roles_two_factor
Revises: 0003_webhooks
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import flask_escalated.models.base

revision: str = '0004_roles_two_factor'
down_revision: str | None = '0003_webhooks'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
STAMP = flask_escalated.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table('escalated_roles',
    sa.Column('id', ID, nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('permissions', JSON, nullable=False),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.Column('updated_at', STAMP(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_roles')),
    sa.UniqueConstraint('slug', name=op.f('uq_escalated_roles_slug'))
    )
    op.create_table('escalated_role_grants',
    sa.Column('id', ID, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('role_slug', sa.String(length=60), nullable=False),
    sa.Column('department_id', ID, nullable=True),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['escalated_departments.id'], name=op.f('fk_escalated_role_grants_department_id_escalated_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_role_grants'))
    )
    with op.batch_alter_table('escalated_role_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_role_grants_user_id_role_slug'), ['user_id', 'role_slug'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_role_grants_role_slug'), ['role_slug'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_role_grants_department_id'), ['department_id'], unique=False)
    op.create_table('escalated_two_factor',
    sa.Column('id', ID, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('confirmed_at', STAMP(), nullable=True),
    sa.Column('last_used_step', sa.BigInteger(), nullable=True),
    sa.Column('recovery_codes', JSON, nullable=False),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.Column('updated_at', STAMP(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_two_factor')),
    sa.UniqueConstraint('user_id', name=op.f('uq_escalated_two_factor_user_id'))
    )


def downgrade() -> None:
    op.drop_table('escalated_two_factor')
    op.drop_table('escalated_role_grants')
    op.drop_table('escalated_roles')
