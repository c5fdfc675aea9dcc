"""Indexes for the reports: tickets by first response and resolution time, replies and
activity rows by time (activity also by type).

Revision ID: 0010_reports
Revises: 0009_knowledge_base
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0010_reports'
down_revision: str | None = '0009_knowledge_base'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ('escalated_tickets', 'ix_escalated_tickets_first_response_at', ['first_response_at']),
    ('escalated_tickets', 'ix_escalated_tickets_resolved_at', ['resolved_at']),
    ('escalated_replies', 'ix_escalated_replies_created_at', ['created_at']),
    ('escalated_activities', 'ix_escalated_activities_type_created_at', ['type', 'created_at']),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
