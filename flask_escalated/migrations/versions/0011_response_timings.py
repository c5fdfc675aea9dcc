"""Stored response timings: calendar and business seconds to first response and to resolution
on each ticket, filled in for existing tickets, and covering indexes for the reports (tickets
answered or resolved in a period with their timings, department and assignee; agents' replies
in a period with their author and ticket).

The backfill is set-based: the business schedules' intervals over the tickets' span are laid
out once in a scratch table with a running total (``before``), so a ticket's business time is
``F(end) - F(start)`` where ``F(t)`` is one indexed lookup; then one ``UPDATE`` per batch of
ids and schedule. Business time counts on the schedule of the ticket's SLA policy when it names
one, else on the desk's (the default business schedule, else ``ESCALATED_SLA``'s hours), as
``services.timings`` does for new events.

Revision ID: 0011_response_timings
Revises: 0010_reports
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from flask_escalated.config import DEFAULT_SLA, Config
from flask_escalated.services import business_hours as bh
from flask_escalated.services.sla import config_schedule
from flask_escalated.services.timings import BusinessClock

revision: str = '0011_response_timings'
down_revision: str | None = '0010_reports'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TICKETS = 'escalated_tickets'
COLUMNS = ('first_response_seconds', 'first_response_business_seconds', 'resolution_seconds',
           'resolution_business_seconds')
NEW_INDEXES = (
    ('escalated_replies', 'ix_escalated_replies_report',
     ['created_at', 'author_type', 'is_internal', 'author_user_id', 'ticket_id']),
    (TICKETS, 'ix_escalated_tickets_report_first_response',
     ['first_response_at', 'department_id', 'assignee_id', 'first_response_seconds',
      'first_response_business_seconds']),
    (TICKETS, 'ix_escalated_tickets_report_resolution',
     ['resolved_at', 'department_id', 'assignee_id', 'resolution_seconds',
      'resolution_business_seconds']),
)
OLD_INDEXES = (
    ('escalated_replies', 'ix_escalated_replies_created_at', ['created_at']),
    (TICKETS, 'ix_escalated_tickets_first_response_at', ['first_response_at']),
    (TICKETS, 'ix_escalated_tickets_resolved_at', ['resolved_at']),
)
SCRATCH = 'escalated_tmp_timing_intervals'
#: Tickets per UPDATE.
BATCH = 20_000
#: The desk's schedule in the scratch table (policy schedules use their own id, from 1).
DESK = 0
#: The instant each pair of columns measures up to.
TARGETS = (('first_response_at', 'first_response_seconds', 'first_response_business_seconds'),
           ('resolved_at', 'resolution_seconds', 'resolution_business_seconds'))

tickets = sa.table(
    TICKETS, sa.column('id', sa.BigInteger), sa.column('sla_policy_id', sa.BigInteger),
    sa.column('created_at', sa.DateTime), sa.column('first_response_at', sa.DateTime),
    sa.column('resolved_at', sa.DateTime),
    *(sa.column(name, sa.Integer) for name in COLUMNS))
policies = sa.table('escalated_sla_policies', sa.column('id', sa.BigInteger),
                    sa.column('schedule_id', sa.BigInteger))
schedules = sa.table('escalated_business_schedules', sa.column('id', sa.BigInteger),
                     sa.column('timezone', sa.String), sa.column('hours', sa.JSON),
                     sa.column('is_default', sa.Boolean))
holidays = sa.table('escalated_holidays', sa.column('schedule_id', sa.BigInteger),
                    sa.column('date', sa.Date), sa.column('recurring', sa.Boolean))


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column(TICKETS, sa.Column(name, sa.Integer(), nullable=True))
    backfill(op.get_bind())
    for table, name, _ in OLD_INDEXES:
        op.drop_index(name, table_name=table)
    for table, name, columns in NEW_INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _ in NEW_INDEXES:
        op.drop_index(name, table_name=table)
    for table, name, columns in OLD_INDEXES:
        op.create_index(name, table, columns, unique=False)
    with op.batch_alter_table(TICKETS) as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)


# ---------------------------------------------------------------------------- schedules
def _schedule(conn: sa.Connection, row: Any) -> bh.Schedule:
    days = conn.execute(sa.select(holidays.c.date, holidays.c.recurring)
                        .where(holidays.c.schedule_id == row.id)).all()
    return bh.Schedule(bh.zone(row.timezone), bh.parse_week(row.hours or {}),
                       frozenset(d for d, recurring in days if not recurring),
                       frozenset((d.month, d.day) for d, recurring in days if recurring))


def _desk(conn: sa.Connection) -> bh.Schedule:
    row = conn.execute(sa.select(schedules).where(schedules.c.is_default.is_(True))
                       .order_by(schedules.c.id).limit(1)).first()
    if row is not None:
        return _schedule(conn, row)
    app = context.config.attributes.get('flask_app')
    sla = app.config.get(Config.SLA, DEFAULT_SLA) if app is not None else DEFAULT_SLA
    return config_schedule(sla.get('business_hours', DEFAULT_SLA['business_hours']))


def _groups(conn: sa.Connection) -> dict[int, tuple[bh.Schedule, Any]]:
    """Scratch-table key -> (schedule, the condition selecting its tickets)."""
    by_schedule: dict[int, list[int]] = {}
    for pid, sid in conn.execute(sa.select(policies.c.id, policies.c.schedule_id)
                                 .where(policies.c.schedule_id.is_not(None))):
        by_schedule.setdefault(int(sid), []).append(int(pid))
    own = [pid for ids in by_schedule.values() for pid in ids]
    desk_tickets = (sa.or_(tickets.c.sla_policy_id.is_(None),
                           tickets.c.sla_policy_id.not_in(own)) if own else sa.true())
    groups: dict[int, tuple[bh.Schedule, Any]] = {DESK: (_desk(conn), desk_tickets)}
    for row in conn.execute(sa.select(schedules).where(schedules.c.id.in_(list(by_schedule)))):
        groups[int(row.id)] = (_schedule(conn, row), tickets.c.sla_policy_id.in_(
            by_schedule[int(row.id)]))
    return groups


# ---------------------------------------------------------------------------- SQL pieces
def _epoch(conn: sa.Connection, column: Any) -> Any:
    """Seconds since 1970 of a naive UTC timestamp column."""
    name = conn.dialect.name
    if name == 'sqlite':
        return (sa.func.julianday(column) - 2440587.5) * 86400.0
    if name == 'postgresql':
        return sa.cast(sa.extract('epoch', column), sa.Float)
    return sa.func.timestampdiff(sa.literal_column('MICROSECOND'),
                                 sa.literal_column("'1970-01-01 00:00:00'"), column) / 1_000_000.0


def _whole(value: Any) -> Any:
    return sa.cast(sa.func.round(value), sa.Integer)


def _floor(conn: sa.Connection, value: Any) -> Any:
    """Whole seconds (epochs after 1970 are positive: SQLite's truncation is the floor)."""
    if conn.dialect.name == 'sqlite':
        return sa.cast(value, sa.Integer)
    return sa.cast(sa.func.floor(value), sa.BigInteger)


def _business_before(conn: sa.Connection, scratch: sa.Table, key: int, t: Any) -> Any:
    """``F(t)``: business seconds of schedule ``key`` before instant ``t``. The interval is
    found by whole seconds (integers on both sides, so the primary key serves the lookup)."""
    into = t - scratch.c.starts
    length = scratch.c.ends - scratch.c.starts
    found = (sa.select(scratch.c.running + sa.case((into < length, into), else_=length))
             .where(scratch.c.schedule_key == key, scratch.c.starts <= _floor(conn, t))
             .order_by(scratch.c.starts.desc()).limit(1).scalar_subquery())
    return sa.func.coalesce(found, 0)


def _timing(conn: sa.Connection, scratch: sa.Table, key: int, at: Any, calendar: str,
            business: str) -> dict[str, Any]:
    """SET clauses for one pair of columns: NULL while ``at`` is, else seconds since creation
    (0 when ``at`` is not after it)."""
    created, ended = _epoch(conn, tickets.c.created_at), _epoch(conn, at)
    worked = (_business_before(conn, scratch, key, ended)
              - _business_before(conn, scratch, key, created))
    return {name: sa.case((at.is_(None), sa.null()), (ended > created, _whole(value)), else_=0)
            for name, value in ((calendar, ended - created), (business, worked))}


def backfill(conn: sa.Connection) -> None:
    """Fill the four columns of every ticket answered or resolved before this revision."""
    lo, hi, first, *ends = conn.execute(sa.select(
        sa.func.min(tickets.c.id), sa.func.max(tickets.c.id), sa.func.min(tickets.c.created_at),
        sa.func.max(tickets.c.first_response_at), sa.func.max(tickets.c.resolved_at))).one()
    ends = [_to_epoch(v) for v in ends if v is not None]
    if lo is None or not ends:
        return
    span = (_to_epoch(first) - 86400, max(ends) + 86400)
    scratch = sa.Table(SCRATCH, sa.MetaData(),
                       sa.Column('schedule_key', sa.BigInteger, primary_key=True),
                       sa.Column('starts', sa.BigInteger, primary_key=True),
                       sa.Column('ends', sa.BigInteger, nullable=False),
                       sa.Column('running', sa.BigInteger, nullable=False))
    scratch.create(conn)
    try:
        groups = _groups(conn)
        for key, (schedule, _) in groups.items():
            rows = [{'schedule_key': key, 'starts': int(a), 'ends': int(b), 'running': int(f)}
                    for a, b, f in BusinessClock(schedule, *span).intervals()]
            for i in range(0, len(rows), 5000):
                conn.execute(scratch.insert(), rows[i:i + 5000])
        for key, (_, selects) in groups.items():
            values = {}
            for at, calendar, business in TARGETS:
                values.update(_timing(conn, scratch, key, tickets.c[at], calendar, business))
            for start in range(int(lo) - 1, int(hi), BATCH):
                conn.execute(tickets.update()
                             .where(tickets.c.id > start, tickets.c.id <= start + BATCH,
                                    sa.or_(*(tickets.c[at].is_not(None) for at, _, _ in TARGETS)),
                                    selects)
                             .values(values))
    finally:
        scratch.drop(conn)


def _to_epoch(value: Any) -> float:
    """A naive UTC datetime (or SQLite's text) from a bare column read, as epoch seconds."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value.replace(tzinfo=timezone.utc).timestamp()
