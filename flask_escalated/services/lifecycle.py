"""Housekeeping sweeps: close long-resolved tickets, purge old activity rows."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from ..clock import now
from ..events import Actor
from ..models import Activity, Ticket
from . import session, tickets
from .sla_sweep import lock_for_sweep, skip_locked


def close_resolved_batch(at: datetime | None = None, days: int = 7, limit: int = 500) -> int:
    """Close up to ``limit`` tickets resolved more than ``days`` days ago."""
    at = at or now()
    dialect = session().get_bind().dialect.name
    lock_for_sweep(dialect)
    query = (select(Ticket).where(Ticket.status_category == "resolved",
                                  Ticket.resolved_at <= at - timedelta(days=days))
             .order_by(Ticket.resolved_at, Ticket.id).limit(limit))
    rows = list(session().execute(skip_locked(query, dialect)).scalars())
    for ticket in rows:
        tickets.change_status(ticket, "closed", Actor.system(), auto=True)
    return len(rows)


def purge_activities_batch(at: datetime | None = None, days: int = 365,
                           limit: int = 5000) -> int:
    """Delete up to ``limit`` activity rows older than ``days`` days (ids first: MariaDB
    refuses a DELETE whose subquery reads the same table)."""
    at = at or now()
    ids = list(session().execute(
        select(Activity.id).where(Activity.created_at < at - timedelta(days=days))
        .order_by(Activity.id).limit(limit)
    ).scalars())
    if ids:
        session().execute(delete(Activity).where(Activity.id.in_(ids)))
    return len(ids)
