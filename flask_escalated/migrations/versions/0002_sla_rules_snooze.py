"""SLA policies, business schedules and holidays, escalation rules, automations, their firing
memory and logs; SLA clock, due, warning and breach columns and snooze columns on tickets; the
pauses_sla flag on custom statuses.

Revision ID: 0002_sla_rules
Revises: 0001_initial
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import flask_escalated.models.base

revision: str = '0002_sla_rules'
down_revision: str | None = '0001_initial'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('escalated_automations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('conditions', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('actions', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('last_run_at', flask_escalated.models.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_automations'))
    )
    op.create_table('escalated_business_schedules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('hours', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_business_schedules'))
    )
    op.create_table('escalated_escalation_rules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('conditions', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('actions', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('last_run_at', flask_escalated.models.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_escalation_rules'))
    )
    op.create_table('escalated_holidays',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('schedule_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('recurring', sa.Boolean(), nullable=False),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['schedule_id'], ['escalated_business_schedules.id'], name=op.f('fk_escalated_holidays_schedule_id_escalated_business_schedules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_holidays'))
    )
    with op.batch_alter_table('escalated_holidays', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_holidays_schedule_id_date'), ['schedule_id', 'date'], unique=False)

    op.create_table('escalated_sla_policies',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('conditions', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('targets', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('schedule_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('warning_minutes', sa.Integer(), nullable=False),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['schedule_id'], ['escalated_business_schedules.id'], name=op.f('fk_escalated_sla_policies_schedule_id_escalated_business_schedules'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_sla_policies'))
    )
    op.create_table('escalated_rule_firings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rule_kind', sa.String(length=20), nullable=False),
    sa.Column('rule_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('fired_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['escalated_tickets.id'], name=op.f('fk_escalated_rule_firings_ticket_id_escalated_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_rule_firings')),
    sa.UniqueConstraint('rule_kind', 'rule_id', 'ticket_id', name=op.f('uq_escalated_rule_firings_rule_kind_rule_id_ticket_id'))
    )
    with op.batch_alter_table('escalated_rule_firings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_rule_firings_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('escalated_rule_logs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rule_kind', sa.String(length=20), nullable=False),
    sa.Column('rule_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rule_name', sa.String(length=120), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('actions', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', flask_escalated.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['escalated_tickets.id'], name=op.f('fk_escalated_rule_logs_ticket_id_escalated_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalated_rule_logs'))
    )
    with op.batch_alter_table('escalated_rule_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalated_rule_logs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_rule_logs_rule_kind_rule_id_id'), ['rule_kind', 'rule_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalated_rule_logs_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('escalated_ticket_statuses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pauses_sla', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('escalated_tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snoozed_until', flask_escalated.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('snoozed_by_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sla_policy_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('sla_used_seconds', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('sla_clock_at', flask_escalated.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('sla_paused_at', flask_escalated.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('next_response_from_seconds', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('first_response_due_at', flask_escalated.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('next_response_due_at', flask_escalated.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolution_due_at', flask_escalated.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('first_response_warning_at', flask_escalated.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('next_response_warning_at', flask_escalated.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolution_warning_at', flask_escalated.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('first_response_warned_at', flask_escalated.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('next_response_warned_at', flask_escalated.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolution_warned_at', flask_escalated.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('first_response_breached_at', flask_escalated.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('next_response_breached_at', flask_escalated.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolution_breached_at', flask_escalated.models.base.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_escalated_tickets_snoozed_until'), ['snoozed_until'], unique=False)
        batch_op.create_index('ix_escalated_tickets_sweep_fr_breach', ['first_response_breached_at', 'first_response_due_at'], unique=False)
        batch_op.create_index('ix_escalated_tickets_sweep_fr_warn', ['first_response_warned_at', 'first_response_warning_at'], unique=False)
        batch_op.create_index('ix_escalated_tickets_sweep_nr_breach', ['next_response_breached_at', 'next_response_due_at'], unique=False)
        batch_op.create_index('ix_escalated_tickets_sweep_nr_warn', ['next_response_warned_at', 'next_response_warning_at'], unique=False)
        batch_op.create_index('ix_escalated_tickets_sweep_res_breach', ['resolution_breached_at', 'resolution_due_at'], unique=False)
        batch_op.create_index('ix_escalated_tickets_sweep_res_warn', ['resolution_warned_at', 'resolution_warning_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_escalated_tickets_sla_policy_id_escalated_sla_policies'), 'escalated_sla_policies', ['sla_policy_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('escalated_tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_escalated_tickets_sla_policy_id_escalated_sla_policies'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_escalated_tickets_snoozed_until'))
        batch_op.drop_index('ix_escalated_tickets_sweep_fr_breach')
        batch_op.drop_index('ix_escalated_tickets_sweep_fr_warn')
        batch_op.drop_index('ix_escalated_tickets_sweep_nr_breach')
        batch_op.drop_index('ix_escalated_tickets_sweep_nr_warn')
        batch_op.drop_index('ix_escalated_tickets_sweep_res_breach')
        batch_op.drop_index('ix_escalated_tickets_sweep_res_warn')
        batch_op.drop_column('resolution_breached_at')
        batch_op.drop_column('next_response_breached_at')
        batch_op.drop_column('first_response_breached_at')
        batch_op.drop_column('resolution_warned_at')
        batch_op.drop_column('next_response_warned_at')
        batch_op.drop_column('first_response_warned_at')
        batch_op.drop_column('resolution_warning_at')
        batch_op.drop_column('next_response_warning_at')
        batch_op.drop_column('first_response_warning_at')
        batch_op.drop_column('resolution_due_at')
        batch_op.drop_column('next_response_due_at')
        batch_op.drop_column('first_response_due_at')
        batch_op.drop_column('next_response_from_seconds')
        batch_op.drop_column('sla_paused_at')
        batch_op.drop_column('sla_clock_at')
        batch_op.drop_column('sla_used_seconds')
        batch_op.drop_column('sla_policy_id')
        batch_op.drop_column('snoozed_by_id')
        batch_op.drop_column('snoozed_until')

    with op.batch_alter_table('escalated_ticket_statuses', schema=None) as batch_op:
        batch_op.drop_column('pauses_sla')

    # Dropping the table drops its indexes (MariaDB refuses to drop an index a
    # foreign key still needs).
    op.drop_table('escalated_rule_logs')
    # Dropping the table drops its indexes (MariaDB refuses to drop an index a
    # foreign key still needs).
    op.drop_table('escalated_rule_firings')
    op.drop_table('escalated_sla_policies')
    # Dropping the table drops its indexes (MariaDB refuses to drop an index a
    # foreign key still needs).
    op.drop_table('escalated_holidays')
    op.drop_table('escalated_escalation_rules')
    op.drop_table('escalated_business_schedules')
    op.drop_table('escalated_automations')
