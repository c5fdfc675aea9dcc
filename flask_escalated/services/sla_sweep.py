"""The SLA sweep: record each warning and each breach exactly once, in set-based batches.

Due and warning instants are stored on the ticket (see :mod:`.sla`), so finding what is due is an
indexed range query per target. A batch is a fixed handful of statements whatever its size: for
each target and kind, one SELECT of ids (rows locked, others' locked rows skipped, on PostgreSQL
and MariaDB), one UPDATE that stamps them, one SELECT that loads them for the events, and one
multi-row INSERT of activity rows. Two workers sweeping at once therefore never take the same
ticket; on SQLite, which has no row locks, the batch first takes the database's write lock so
sweeps run one after the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text, update

from ..clock import now as clock_now
from ..events import Actor, record
from ..models import Activity, Ticket
from . import session
from .sla import TARGETS

SYSTEM = Actor.system()


@dataclass
class SweepResult:
    warnings: int = 0
    breaches: int = 0
    by_target: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.warnings + self.breaches


def lock_for_sweep(dialect: str) -> None:
    """On SQLite, take the write lock now so concurrent sweeps serialise (a no-op write)."""
    if dialect == "sqlite":
        session().execute(text("UPDATE escalated_tickets SET id = id WHERE 1 = 0"))


def skip_locked(query: Any, dialect: str) -> Any:
    if dialect in ("postgresql", "mysql"):
        return query.with_for_update(skip_locked=True)
    return query


def _stamp(kind: str, target: str, at: datetime, limit: int, dialect: str) -> list[Ticket]:
    due = getattr(Ticket, f"{target}_due_at")
    if kind == "breach":
        when, flag = due, getattr(Ticket, f"{target}_breached_at")
        extra = []
    else:
        when, flag = getattr(Ticket, f"{target}_warning_at"), getattr(Ticket, f"{target}_warned_at")
        # Past due already: the breach is what gets recorded, not a late warning.
        extra = [due > at, getattr(Ticket, f"{target}_breached_at").is_(None)]
    db = session()
    query = (
        select(Ticket.id)
        .where(when.is_not(None), when <= at, flag.is_(None), *extra)
        .order_by(when, Ticket.id)
        .limit(limit)
    )
    ids = list(db.execute(skip_locked(query, dialect)).scalars())
    if not ids:
        return []
    db.execute(
        update(Ticket).where(Ticket.id.in_(ids)).values({flag.key: at})
        .execution_options(synchronize_session=False)
    )
    tickets = list(db.execute(
        select(Ticket).where(Ticket.id.in_(ids)).execution_options(populate_existing=True)
    ).scalars())
    activity_type = "sla_breached" if kind == "breach" else "sla_warning"
    db.execute(insert(Activity), [
        {"ticket_id": t.id, "type": activity_type, "actor_type": SYSTEM.kind,
         "properties": {"target": target, "due_at": _iso(getattr(t, f"{target}_due_at"))},
         "created_at": at}
        for t in tickets
    ])
    for t in tickets:
        if kind == "breach":
            record(db, "sla_breached", actor=SYSTEM, ticket=t, breach_type=target)
        else:
            record(db, "sla_warning", actor=SYSTEM, ticket=t, warning_type=target,
                   due_at=getattr(t, f"{target}_due_at"))
    return tickets


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def sweep_batch(now: datetime | None = None, limit: int = 500,
                result: SweepResult | None = None) -> int:
    """Record up to ``limit`` due warnings and breaches; returns how many (0: nothing left).

    The caller commits after each call (``with escalated.unit_of_work(): ...``)."""
    at = now or clock_now()
    dialect = session().get_bind().dialect.name
    lock_for_sweep(dialect)
    handled = 0
    for kind in ("breach", "warning"):
        for target in TARGETS:
            if handled >= limit:
                return handled
            done = len(_stamp(kind, target, at, limit - handled, dialect))
            handled += done
            if result is not None and done:
                if kind == "breach":
                    result.breaches += done
                else:
                    result.warnings += done
                key = f"{target}_{kind}"
                result.by_target[key] = result.by_target.get(key, 0) + done
    return handled
