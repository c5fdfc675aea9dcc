"""Skills routed from tags and departments, agents' skills, capacity per channel, availability
and the tickets automatic assignment could not place.

Revision ID: 0019_skills_capacity
Revises: 0018_side_conversations
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import flask_escalated.models.base

revision: str = '0019_skills_capacity'
down_revision: str | None = '0018_side_conversations'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
STAMP = flask_escalated.models.base.UTCDateTime
SKILLS = 'escalated_skills'
TAGS = 'escalated_skill_tags'
DEPARTMENTS = 'escalated_skill_departments'
AGENT_SKILLS = 'escalated_agent_skills'
CAPACITIES = 'escalated_agent_capacities'
UNROUTED = 'escalated_unrouted_tickets'


def _link(name: str, column: str, target: str) -> None:
    op.create_table(name,
    sa.Column('skill_id', ID, nullable=False),
    sa.Column(column, ID, nullable=False),
    sa.ForeignKeyConstraint(['skill_id'], [SKILLS + '.id'],
                            name=op.f(f'fk_{name}_skill_id_{SKILLS}'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint([column], [target + '.id'],
                            name=op.f(f'fk_{name}_{column}_{target}'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('skill_id', column, name=op.f(f'pk_{name}')),
    )
    op.create_index(f'ix_{name}_{column}_skill_id', name, [column, 'skill_id'])


def upgrade() -> None:
    op.create_table(SKILLS,
    sa.Column('id', ID, nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.Column('updated_at', STAMP(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_skills')),
    sa.UniqueConstraint('slug', name=op.f('uq_escalated_skills_slug')),
    )
    _link(TAGS, 'tag_id', 'escalated_tags')
    _link(DEPARTMENTS, 'department_id', 'escalated_departments')
    op.create_table(AGENT_SKILLS,
    sa.Column('id', ID, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('skill_id', ID, nullable=False),
    sa.Column('proficiency', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint('proficiency BETWEEN 1 AND 5',
                       name=op.f('ck_escalated_agent_skills_proficiency')),
    sa.ForeignKeyConstraint(['skill_id'], [SKILLS + '.id'],
                            name=op.f('fk_escalated_agent_skills_skill_id_escalated_skills'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_agent_skills')),
    sa.UniqueConstraint('user_id', 'skill_id',
                        name=op.f('uq_escalated_agent_skills_user_id_skill_id')),
    )
    op.create_index('ix_escalated_agent_skills_skill_id_user_id', AGENT_SKILLS,
                    ['skill_id', 'user_id'])
    op.create_table(CAPACITIES,
    sa.Column('id', ID, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('max_concurrent', sa.Integer(), nullable=False),
    sa.Column('created_at', STAMP(), nullable=False),
    sa.Column('updated_at', STAMP(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_agent_capacities')),
    sa.UniqueConstraint('user_id', 'channel',
                        name=op.f('uq_escalated_agent_capacities_user_id_channel')),
    )
    op.create_table(UNROUTED,
    sa.Column('ticket_id', ID, nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('at', STAMP(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['escalated_tickets.id'],
                            name=op.f('fk_escalated_unrouted_tickets_ticket_id_escalated_tickets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_escalated_unrouted_tickets')),
    )
    op.create_index('ix_escalated_unrouted_tickets_at', UNROUTED, ['at'])
    with op.batch_alter_table('escalated_agent_profiles') as batch:
        batch.add_column(sa.Column('availability', sa.String(length=10), nullable=False,
                                   server_default='online'))


def downgrade() -> None:
    with op.batch_alter_table('escalated_agent_profiles') as batch:
        batch.drop_column('availability')
    op.drop_table(UNROUTED)
    op.drop_table(CAPACITIES)
    op.drop_table(AGENT_SKILLS)
    op.drop_table(DEPARTMENTS)
    op.drop_table(TAGS)
    op.drop_table(SKILLS)
