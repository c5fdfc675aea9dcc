"""Is this process able to serve? The answer a load balancer polls and an operator reads.

``readiness()`` checks what a web process needs and reports what the workers are behind on:

* **database**: one ``SELECT 1`` through the app's session;
* **schema**: the revision in Escalated's own version table against the head of the migrations
  shipped in the package (read from the files once per process), so a process started before
  ``flask escalated db upgrade`` has run says so instead of failing on a missing column;
* **redis**: a ``PING`` and the length of each RQ queue, in one pipelined round trip (without
  ``ESCALATED_REDIS_URL`` jobs run inline and there is nothing to reach);
* **outbox**: how long the oldest webhook delivery and the oldest e-mail that are due have been
  waiting, from the ``(status, next_attempt_at)`` indexes (four index seeks in one statement).

The database and the schema decide readiness: without them no request can be answered. Redis
and the outbox only make the answer ``degraded``: every acknowledged write is in the database
(the outbox rows carry what a lost Redis held), and taking every web process out of a load
balancer because the shared Redis is down would turn a slower desk into no desk at all.

The whole check is two SQL statements and one Redis round trip, cheap enough to poll each second.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from ..clock import now
from ..models import OutboundEmail, WebhookDelivery
from . import session

#: Waiting rows: a delivery or an e-mail that is due and not yet sent.
WAITING = ("pending", "failed")
READY, DEGRADED, NOT_READY = "ready", "degraded", "not_ready"


@dataclass
class Check:
    """One part of the answer: whether it holds, how long asking took, and what was seen."""

    ok: bool
    ms: float
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Readiness:
    status: str
    at: datetime
    checks: dict[str, Check]

    @property
    def ready(self) -> bool:
        return self.status != NOT_READY

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "at": self.at.isoformat(),
            "checks": {name: asdict(check) for name, check in self.checks.items()},
        }


def _reason(exc: BaseException) -> str:
    """The first line of an error, without the statement or the driver's traceback."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}"[:300]


def _timed(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def shipped_head() -> str:
    """The head revision of the migrations in the package (see :mod:`flask_escalated.migrate`)."""
    from ..migrate import shipped_head as head

    return head()


def _database() -> tuple[Check, Check]:
    from ..migrate import VERSION_TABLE

    started = time.perf_counter()
    try:
        session().execute(text("SELECT 1")).scalar_one()
    except SQLAlchemyError as exc:
        session().rollback()
        failed = Check(ok=False, ms=_timed(started), error=_reason(exc))
        return failed, Check(ok=False, ms=0.0, error="the database cannot be reached")
    database = Check(ok=True, ms=_timed(started))
    started = time.perf_counter()
    head = shipped_head()
    try:
        rows = session().execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
        current = ",".join(sorted(rows)) or None
    except SQLAlchemyError:  # no version table: the tables were made without migrations
        session().rollback()
        current = None
    detail = {"current": current, "head": head}
    if current is None:
        return database, Check(ok=False, ms=_timed(started), detail=detail,
                               error="no migration has been recorded: run "
                                     "'flask escalated db upgrade'")
    if current != head:
        return database, Check(ok=False, ms=_timed(started), detail=detail,
                               error=f"the schema is at {current}, the code expects {head}: "
                                     "run 'flask escalated db upgrade'")
    return database, Check(ok=True, ms=_timed(started), detail=detail)


def _redis() -> Check:
    from ..jobs.queues import QUEUES, redis_connection

    started = time.perf_counter()
    conn = redis_connection()
    if conn is None:
        return Check(ok=True, ms=0.0, detail={"mode": "inline"})
    from redis.exceptions import RedisError
    from rq import Queue
    try:
        pipe = conn.pipeline(transaction=False)
        pipe.ping()
        for name in QUEUES:
            pipe.llen(Queue(name, connection=conn).key)
        _, *depths = pipe.execute()
    except RedisError as exc:
        return Check(ok=False, ms=_timed(started), detail={"mode": "redis"},
                     error=_reason(exc))
    queues = dict(zip(QUEUES, map(int, depths), strict=True))
    return Check(ok=True, ms=_timed(started), detail={"mode": "redis", "queues": queues})


def _outbox(at: datetime) -> Check:
    started = time.perf_counter()
    parts: dict[str, Any] = {"webhooks": WebhookDelivery, "mail": OutboundEmail}
    columns = [
        select(func.min(model.next_attempt_at))
        .where(model.status == status, model.next_attempt_at <= at).scalar_subquery()
        for model in parts.values() for status in WAITING
    ]
    try:
        row = session().execute(select(*columns)).one()
    except SQLAlchemyError as exc:
        session().rollback()
        return Check(ok=False, ms=_timed(started), error=_reason(exc))
    waited: dict[str, float | None] = {}
    for i, name in enumerate(parts):
        due = [d for d in row[2 * i: 2 * i + 2] if d is not None]
        oldest = min(due) if due else None
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=at.tzinfo)
        waited[name] = round((at - oldest).total_seconds(), 1) if oldest else None
    return Check(ok=True, ms=_timed(started), detail={"oldest_due_seconds": waited})


def readiness() -> Readiness:
    """Every check, and the status they add up to."""
    at = now()
    database, schema = _database()
    checks = {"database": database, "schema": schema, "redis": _redis()}
    checks["outbox"] = _outbox(at) if database.ok else Check(
        ok=False, ms=0.0, error="the database cannot be reached")
    if not (database.ok and schema.ok):
        status = NOT_READY
    elif not all(check.ok for check in checks.values()):
        status = DEGRADED
    else:
        status = READY
    return Readiness(status=status, at=at, checks=checks)
