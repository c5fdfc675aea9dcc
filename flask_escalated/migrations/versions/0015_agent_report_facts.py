"""Agent report facts: the department (and, for assignments, the assignee) stored on the rows
the agents report counts, with indexes that answer it alone.

- timeline rows: ``department_id`` (the ticket's department when the event happened) and
  ``assignee_id`` (``assigned`` rows: the new assignee, so far only inside ``properties``);
  ``ix_escalated_activities_report (type, created_at, department_id, assignee_id)`` replaces
  ``(type, created_at)``;
- replies and satisfaction ratings: ``department_id``; the replies' report index gains it, and
  ratings get ``(rated_at, department_id, agent_id, rating)``.

The backfill is set-based, one ``UPDATE`` per table and batch of ids: the assignee comes out of
the JSON properties, the department is the ticket's current one (the history of earlier moves
is not rebuilt), so the reports give the same figures right after the upgrade as before it.

Revision ID: 0015_agent_report_facts
Revises: 0014_custom_fields
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015_agent_report_facts'
down_revision: str | None = '0014_custom_fields'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVITIES = 'escalated_activities'
REPLIES = 'escalated_replies'
RATINGS = 'escalated_satisfaction_ratings'
#: Rows per UPDATE.
BATCH = 50_000
#: (table, name, old columns or None, new columns).
INDEXES = (
    (ACTIVITIES, ('ix_escalated_activities_type_created_at', ['type', 'created_at']),
     ('ix_escalated_activities_report', ['type', 'created_at', 'department_id', 'assignee_id'])),
    (REPLIES, ('ix_escalated_replies_report',
               ['created_at', 'author_type', 'is_internal', 'author_user_id', 'ticket_id']),
     ('ix_escalated_replies_report',
      ['created_at', 'author_type', 'is_internal', 'department_id', 'author_user_id',
       'ticket_id'])),
    (RATINGS, None,
     ('ix_escalated_satisfaction_ratings_report',
      ['rated_at', 'department_id', 'agent_id', 'rating'])),
)

tickets = sa.table('escalated_tickets', sa.column('id', sa.BigInteger),
                   sa.column('department_id', sa.BigInteger))


def _facts(name: str, *extra: sa.ColumnClause) -> sa.TableClause:
    return sa.table(name, sa.column('id', sa.BigInteger), sa.column('ticket_id', sa.BigInteger),
                    sa.column('department_id', sa.BigInteger), *extra)


def upgrade() -> None:
    op.add_column(ACTIVITIES, sa.Column('department_id', sa.BigInteger().with_variant(
        sa.Integer(), 'sqlite'), nullable=True))
    op.add_column(ACTIVITIES, sa.Column('assignee_id', sa.String(64), nullable=True))
    for name in (REPLIES, RATINGS):
        op.add_column(name, sa.Column('department_id', sa.BigInteger().with_variant(
            sa.Integer(), 'sqlite'), nullable=True))
    # The indexes being replaced go first: the backfill then has fewer to keep up to date.
    for table, old, _ in INDEXES:
        if old is not None:
            op.drop_index(old[0], table_name=table)
    backfill(op.get_bind())
    for table, _, (name, columns) in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, old, (name, _) in INDEXES:
        op.drop_index(name, table_name=table)
        if old is not None:
            op.create_index(old[0], table, old[1], unique=False)
    for name in (RATINGS, REPLIES):
        with op.batch_alter_table(name) as batch:
            batch.drop_column('department_id')
    with op.batch_alter_table(ACTIVITIES) as batch:
        batch.drop_column('assignee_id')
        batch.drop_column('department_id')


def backfill(conn: sa.Connection) -> None:
    """Stamp every existing row with its ticket's department, and every ``assigned`` row with
    the assignee its properties name."""
    activities = _facts(ACTIVITIES, sa.column('type', sa.String),
                        sa.column('properties', sa.JSON), sa.column('assignee_id', sa.String))
    department = (sa.select(tickets.c.department_id)
                  .where(tickets.c.id == activities.c.ticket_id).scalar_subquery())
    _in_batches(conn, activities, {'department_id': department})
    _in_batches(conn, activities,
                {'assignee_id': activities.c.properties['assignee_id'].as_string()},
                activities.c.type == 'assigned')
    for name in (REPLIES, RATINGS):
        rows = _facts(name)
        _in_batches(conn, rows, {'department_id': sa.select(tickets.c.department_id)
                                 .where(tickets.c.id == rows.c.ticket_id).scalar_subquery()})


def _in_batches(conn: sa.Connection, rows: sa.TableClause, values: dict[str, object],
                *where: sa.ColumnElement[bool]) -> None:
    lo, hi = conn.execute(sa.select(sa.func.min(rows.c.id), sa.func.max(rows.c.id))).one()
    if lo is None:
        return
    for start in range(int(lo) - 1, int(hi), BATCH):
        conn.execute(rows.update()
                     .where(rows.c.id > start, rows.c.id <= start + BATCH, *where)
                     .values(values))
