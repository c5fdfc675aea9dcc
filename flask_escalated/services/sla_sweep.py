"""The SLA sweep: record each warning and each breach exactly once, in set-based batches.

Due and warning instants are stored on the ticket (see :mod:`.sla`), so finding what is due is an
indexed range query per target, on indexes led by the recorded-at column. A batch first asks
whether anything is due at all (one statement of six index probes, so a sweep with nothing to do
costs one round trip however many tickets are open; two on SQLite, which first takes its write
lock). Then, for each target and kind with
something due, it writes in two statements whatever the batch size:

- one ``UPDATE`` that stamps the due tickets and returns their ids (on PostgreSQL and SQLite
  ``UPDATE ... WHERE id IN (SELECT ... LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING``; MariaDB has
  no ``UPDATE ... RETURNING``, so there a ``SELECT ... FOR UPDATE SKIP LOCKED`` of the ids comes
  first and the ``UPDATE`` follows);
- one ``INSERT ... SELECT`` of the activity rows, built by the database from the tickets.

No ticket is loaded as an object: the events of a batch name their tickets by id and share one
:class:`~flask_escalated.events.TicketBatch`, which loads them in one query when a handler or
a signal receiver first reads one (see :func:`~flask_escalated.events.record_batch`).

Exactly once: the ``UPDATE`` stamps only unstamped rows, and the rows it picks are locked with
others' locked rows skipped (PostgreSQL, MariaDB), so two workers sweeping at once never take the
same ticket; on SQLite, which has no row locks, the batch first takes the database's write lock
so sweeps run one after the other. A breach also settles the target's warning (``warned_at``):
a warning that was not recorded before the breach is never recorded after it, and the warning
index no longer holds the row as pending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from typing import cast as typed

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    Table,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    text,
)
from sqlalchemy import insert as sa_insert
from sqlalchemy import update as sa_update

from ..clock import now as clock_now
from ..events import Actor, TicketBatch, record_batch
from ..models import Activity, Ticket
from . import session
from .sla import TARGETS

SYSTEM = Actor.system()
#: Rows recorded per batch (one transaction): each batch is the same few statements, so bigger
#: batches mean fewer round trips and commits, while a batch's row locks stay short-lived.
BATCH = 1000
KINDS = ("breach", "warning")
TICKETS = typed(Table, Ticket.__table__)
ACTIVITIES = typed(Table, Activity.__table__)


@dataclass
class SweepResult:
    warnings: int = 0
    breaches: int = 0
    by_target: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.warnings + self.breaches

    def add(self, kind: str, target: str, count: int) -> None:
        if kind == "breach":
            self.breaches += count
        else:
            self.warnings += count
        key = f"{target}_{kind}"
        self.by_target[key] = self.by_target.get(key, 0) + count


def lock_for_sweep(dialect: str) -> None:
    """On SQLite, take the write lock now so concurrent sweeps serialise (a no-op write)."""
    if dialect == "sqlite":
        session().execute(text("UPDATE escalated_tickets SET id = id WHERE 1 = 0"))


def skip_locked(query: Any, dialect: str) -> Any:
    if dialect in ("postgresql", "mysql"):
        return query.with_for_update(skip_locked=True)
    return query


def _col(name: str) -> Any:
    return TICKETS.c[name]


def _when(kind: str, target: str) -> Any:
    """The instant a target's ``kind`` falls due at."""
    return _col(f"{target}_due_at" if kind == "breach" else f"{target}_warning_at")


def _flag(kind: str, target: str) -> Any:
    """The column that records ``kind`` for ``target`` (NULL while not recorded)."""
    return _col(f"{target}_breached_at" if kind == "breach" else f"{target}_warned_at")


def _due(kind: str, target: str, at: datetime) -> list[ColumnElement[bool]]:
    """The rows whose ``kind`` for ``target`` is due and not recorded: a range on the index led
    by the recorded-at column."""
    when, flag = _when(kind, target), _flag(kind, target)
    clause = [flag.is_(None), when.is_not(None), when <= at]
    if kind == "warning":
        # Past due already: the breach is what gets recorded, not a late warning.
        clause += [_col(f"{target}_due_at") > at, _col(f"{target}_breached_at").is_(None)]
    return clause


def _index_order(kind: str, target: str) -> tuple[Any, Any]:
    """Oldest due first, spelled as the sweep index's columns: every row wanted has the
    recorded-at column NULL, so this is the due order, but only in this spelling does
    PostgreSQL see that the index yields it (``IS NULL`` is no equality to its planner) and
    walk the index rather than sort every unstamped row."""
    return _flag(kind, target), _when(kind, target)


def pending(at: datetime) -> list[tuple[str, str]]:
    """The ``(kind, target)`` pairs to work on, in one statement of index probes: the breaches
    found due and, when none is, the warnings found due; when breaches are due, every warning
    pair (they come after the breaches and are tried only if the batch has room).

    The warning probes are asked only when no breach is due: while breaches wait, the warning
    index still holds their rows (past due, not yet stamped), and walking past them would cost
    every batch of a large backlog a scan of it."""

    # The first due row in index order rather than EXISTS: for EXISTS the planner expects a
    # match among the many unstamped rows and would scan the table for one; the index order
    # with LIMIT 1 walks the index, which stops at once when nothing is due.
    def probe(kind: str, target: str) -> Any:
        return (
            select(TICKETS.c.id)
            .where(*_due(kind, target, at))
            .order_by(*_index_order(kind, target))
            .limit(1)
            .scalar_subquery()
        )

    breaches = [probe("breach", t) for t in TARGETS]
    none_due = and_(*(b.is_(None) for b in breaches))
    warnings = [case((none_due, probe("warning", t)), else_=None) for t in TARGETS]
    row = session().execute(select(*breaches, *warnings)).one()
    found = [("breach", t) for t, first in zip(TARGETS, row[:3], strict=True) if first is not None]
    if found:
        return found + [("warning", t) for t in TARGETS]
    return [("warning", t) for t, first in zip(TARGETS, row[3:], strict=True) if first is not None]


def _stamps(kind: str, target: str, at: datetime) -> dict[str, Any]:
    stamp = literal(at, _flag(kind, target).type)
    values: dict[str, Any] = {_flag(kind, target).key: stamp}
    if kind == "breach":
        # The breach settles the warning: none is recorded after it (see the module notes).
        warned = _flag("warning", target)
        values[warned.key] = func.coalesce(warned, stamp)
    return values


def _stamp(
    kind: str, target: str, at: datetime, limit: int, dialect: str
) -> list[tuple[int, datetime | None]]:
    """Stamp up to ``limit`` due rows; returns their ``(id, due time)``, oldest due first."""
    flag, due = _flag(kind, target), _col(f"{target}_due_at")
    pick = select(TICKETS.c.id).where(*_due(kind, target, at)).order_by(*_index_order(kind, target))
    db = session()
    stamp = sa_update(TICKETS).values(_stamps(kind, target, at))
    if dialect == "mysql":
        # No UPDATE ... RETURNING, and no LIMIT in an IN subquery on the updated table.
        picked = db.execute(skip_locked(pick.add_columns(due).limit(limit), dialect)).all()
        rows = [(r[0], r[1]) for r in picked]
        if rows:
            db.execute(stamp.where(TICKETS.c.id.in_([r[0] for r in rows])))
    else:
        # A CTE, evaluated once: as a plain IN subquery PostgreSQL may run the locking SELECT
        # again while updating, and the rows it has just stamped are then skipped as locked,
        # so the LIMIT would admit further rows.
        chosen = skip_locked(pick.limit(limit), dialect).cte("picked")
        if dialect == "postgresql":
            chosen = chosen.prefix_with("MATERIALIZED")
        returned = db.execute(
            stamp.where(TICKETS.c.id.in_(select(chosen.c.id)), flag.is_(None)).returning(
                TICKETS.c.id, due
            )
        ).all()
        rows = [(r[0], r[1]) for r in returned]
    rows.sort(key=lambda r: (r[1] is None, r[1] or at, r[0]))
    return rows


def _iso_utc(column: Any, dialect: str) -> ColumnElement[str]:
    """SQL for ``value.isoformat()`` of a stored naive-UTC datetime, as Python writes it for
    an aware UTC value (``2026-06-01T09:30:00+00:00``, with ``.ffffff`` only when non-zero)."""
    if dialect == "postgresql":
        whole = func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS', type_=String)
        micro = cast(func.date_part("microseconds", column), BigInteger) % 1_000_000
        fraction = case((micro == 0, ""), else_=func.to_char(column, ".US", type_=String))
    elif dialect == "mysql":
        whole = func.date_format(column, "%Y-%m-%dT%H:%i:%s", type_=String)
        fraction = case(
            (func.microsecond(column) == 0, ""),
            else_=func.concat(".", func.lpad(func.microsecond(column), 6, "0")),
        )
    else:  # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff"
        whole = func.replace(func.substr(column, 1, 19, type_=String), " ", "T", type_=String)
        digits = func.substr(column, 21, 6, type_=String)
        fraction = case(
            (func.coalesce(digits, "").in_(("", "000000")), ""), else_=literal(".", String) + digits
        )
    return case(
        (column.is_(None), None), else_=whole + cast(fraction, String) + literal("+00:00", String)
    )


def _json_object(dialect: str, **pairs: Any) -> ColumnElement[Any]:
    build = func.jsonb_build_object if dialect == "postgresql" else func.json_object
    args: list[Any] = []
    for key, value in pairs.items():
        args += [cast(literal(key), String), value]
    return build(*args)


def _write_activities(kind: str, target: str, at: datetime, ids: list[int], dialect: str) -> None:
    """One ``INSERT ... SELECT`` of the batch's timeline rows, stamped with each ticket's
    department (as :func:`.activity.record` does)."""
    activity_type = "sla_breached" if kind == "breach" else "sla_warning"
    properties = _json_object(
        dialect,
        target=cast(literal(target), String),
        due_at=_iso_utc(_col(f"{target}_due_at"), dialect),
    )
    rows = select(
        TICKETS.c.id,
        TICKETS.c.department_id,
        cast(literal(activity_type), String),
        cast(literal(SYSTEM.kind), String),
        properties,
        literal(at, ACTIVITIES.c.created_at.type),
    ).where(TICKETS.c.id.in_(ids))
    session().execute(
        sa_insert(ACTIVITIES).from_select(
            ["ticket_id", "department_id", "type", "actor_type", "properties", "created_at"], rows
        )
    )


def _record_events(kind: str, target: str, rows: list[tuple[int, datetime | None]]) -> None:
    db = session()
    batch = TicketBatch(db, [r[0] for r in rows])
    if kind == "breach":
        record_batch(
            db,
            "sla_breached",
            actor=SYSTEM,
            batch=batch,
            items=((tid, {"breach_type": target}) for tid, _ in rows),
        )
    else:
        record_batch(
            db,
            "sla_warning",
            actor=SYSTEM,
            batch=batch,
            items=((tid, {"warning_type": target, "due_at": due}) for tid, due in rows),
        )


def sweep_batch(
    now: datetime | None = None, limit: int = BATCH, result: SweepResult | None = None
) -> int:
    """Record up to ``limit`` due warnings and breaches; returns how many (0: nothing left).

    The caller commits after each call (``with escalated.unit_of_work(): ...``)."""
    at = now or clock_now()
    dialect = session().get_bind().dialect.name
    # SQLite: the write lock comes before the first read, or a sweep that read first could
    # not upgrade its snapshot after another sweep's commit.
    lock_for_sweep(dialect)
    due = pending(at)
    handled = 0
    for kind, target in due:
        if handled >= limit:
            break
        rows = _stamp(kind, target, at, limit - handled, dialect)
        if not rows:
            continue  # another sweep took them meanwhile
        _write_activities(kind, target, at, [r[0] for r in rows], dialect)
        _record_events(kind, target, rows)
        handled += len(rows)
        if result is not None:
            result.add(kind, target, len(rows))
    return handled
