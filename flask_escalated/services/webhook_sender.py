"""Sending webhook deliveries in batches: claim many rows at once, POST each over a pooled
keep-alive connection, write every outcome of the batch in one transaction.

**One sender at a time.** A batch is claimed in one short transaction: the candidate rows are
read ``FOR UPDATE SKIP LOCKED`` (PostgreSQL, MariaDB; rows another sender is claiming are
skipped, not waited for), then ``claimed_until`` is set on exactly those rows with the
claimability re-checked. If the update touched fewer rows than were read (SQLite, where the
read takes no lock and another sender committed in between), the transaction is rolled back
and the rows are claimed one by one, each ``UPDATE``'s row count saying whose it is. No
transaction is open while a receiver answers. A batch stops sending before its claim could
run out (``SEND_BUDGET``); what it did not send is released, never sent by two senders at once.

**From the queue.** After a commit the new delivery ids are pushed on a Redis list and one
``deliver_pending`` job is queued unless one is already waiting or running (a short-lived
marker key). The job pops the list a batch at a time until it is empty, so a busy desk costs
one RQ job per burst instead of one per delivery; with a long backlog it queues one helper so
other workers join in. A lost list or job loses nothing: the rows are in the outbox, and
``deliver-webhooks`` sweeps them up.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import Connection, Engine, Select, and_, bindparam, insert, or_, select, update

from ..clock import now
from ..config import Config
from ..models import Webhook, WebhookAttempt, WebhookDelivery
from . import outbound, session

CLAIM = timedelta(seconds=90)
SEND_BUDGET = 60.0  # seconds a batch may send for before it releases the rest (< CLAIM)
BATCH = 50
BASE_DELAY = 30  # seconds before the second attempt; doubles each time
MAX_DELAY = 6 * 3600

PENDING_KEY = "escalated:webhooks:pending"
DRAINER_KEY = "escalated:webhooks:drainer"
HELPER_KEY = "escalated:webhooks:helper"
DRAINER_TTL = 60  # seconds; a lost drainer job stops blocking new ones after this
HELPER_TTL = 5
JOB_BUDGET = 60.0  # seconds a drain job runs before it hands the rest to a fresh job


def backoff(attempts: int) -> timedelta:
    """Delay after ``attempts`` failed tries: 30 s, 60 s, 120 s ... capped, with ±20 % jitter."""
    import random

    delay = min(BASE_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)
    return timedelta(seconds=delay * random.uniform(0.8, 1.2))


def _engine() -> Engine:
    return cast(Engine, session().get_bind())


def _claimable(at: datetime) -> Any:
    return and_(
        WebhookDelivery.status.in_(("pending", "failed")),
        or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < at),
    )


def _take(conn: Connection, ids: Sequence[int], at: datetime) -> int:
    return conn.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids), _claimable(at))
        .values(claimed_until=at + CLAIM)
    ).rowcount


class _Contended(Exception):
    """Another sender claimed some of the candidates between the read and the update."""


def claim(candidates: Select[Any], at: datetime | None = None) -> list[Any]:
    """Claim the rows ``candidates`` (a select of delivery ids) offers; returns what to send.

    Each returned row has ``id``, ``body``, ``event``, ``uid``, ``attempts``, ``webhook_id``,
    ``url`` and ``secret``; rows another sender holds are left out.
    """
    at = at or now()
    engine = _engine()
    try:
        with engine.begin() as conn:
            ids = list(conn.execute(candidates.with_for_update(skip_locked=True)).scalars())
            if not ids:
                return []
            if _take(conn, ids, at) != len(ids):
                raise _Contended
            return _rows(conn, ids)
    except _Contended:
        pass
    with engine.begin() as conn:  # one at a time: each row count says whose the row is
        owned = [i for i in ids if _take(conn, [i], at)]
        return _rows(conn, owned) if owned else []


def _rows(conn: Connection, ids: list[int]) -> list[Any]:
    return list(
        conn.execute(
            select(
                WebhookDelivery.id,
                WebhookDelivery.body,
                WebhookDelivery.event,
                WebhookDelivery.uid,
                WebhookDelivery.attempts,
                Webhook.id.label("webhook_id"),
                Webhook.url,
                Webhook.secret,
            )
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.id.in_(ids))
            .order_by(WebhookDelivery.id)
        )
    )


def given(ids: Sequence[int], at: datetime) -> Select[Any]:
    """Candidates: these deliveries, if claimable (due or not: they were just handed over)."""
    return (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.id.in_(list(ids)), _claimable(at))
        .order_by(WebhookDelivery.id)
    )


def due(limit: int, at: datetime) -> Select[Any]:
    """Candidates: the deliveries due now, oldest due first."""
    return (
        select(WebhookDelivery.id)
        .where(_claimable(at), WebhookDelivery.next_attempt_at <= at)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )


@dataclass
class _Outcome:
    row: Any
    result: outbound.Response
    stamp: datetime


def send(rows: list[Any]) -> dict[int, str]:
    """POST each claimed row once and record every outcome in one transaction; returns the
    status of each delivery (``"released"`` for rows left unsent when the budget ran out)."""
    from .webhooks import sign

    started = time.monotonic()
    outcomes: list[_Outcome] = []
    unsent: list[int] = []
    for row in rows:
        if time.monotonic() - started > SEND_BUDGET:
            unsent.append(row.id)
            continue
        body = row.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "flask-escalated-webhooks",
            "X-Escalated-Event": row.event,
            "X-Escalated-Delivery": row.uid,
            "X-Escalated-Signature": sign(body, row.secret),
        }
        outcomes.append(_Outcome(row, outbound.post(row.url, body, headers), now()))
    statuses = _record(outcomes, unsent)
    statuses.update(dict.fromkeys(unsent, "released"))
    return statuses


def _record(outcomes: list[_Outcome], unsent: list[int]) -> dict[int, str]:
    """Write the batch's delivery rows, webhook health and attempt log in one transaction."""
    max_attempts = int(current_app.config[Config.WEBHOOK_MAX_ATTEMPTS])
    delivered: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    health: dict[int, dict[str, Any]] = {}  # per webhook, in delivery order
    statuses: dict[int, str] = {}
    for o in outcomes:
        number = o.row.attempts + 1
        result = o.result
        error = None if result.ok else (result.error or f"HTTP {result.status}")[:500]
        common = {"b_id": o.row.id, "b_attempts": number, "b_code": result.status, "b_error": error}
        hook = health.setdefault(o.row.webhook_id, {"ok_at": None, "failures": 0})
        if result.ok:
            statuses[o.row.id] = "delivered"
            delivered.append({**common, "b_at": o.stamp})
            hook.update(ok_at=o.stamp, failures=0)
        else:
            dead = number >= max_attempts
            statuses[o.row.id] = "dead" if dead else "failed"
            failed.append(
                {
                    **common,
                    "b_status": statuses[o.row.id],
                    "b_next": None if dead else o.stamp + backoff(number),
                }
            )
            hook["failures"] += 1
        attempts.append(
            {
                "delivery_id": o.row.id,
                "number": number,
                "status_code": result.status,
                "duration_ms": result.duration_ms,
                "response_excerpt": result.body[:500] or None,
                "error": error,
                "created_at": o.stamp,
            }
        )
    row = WebhookDelivery.id == bindparam("b_id")
    outcome: dict[str, Any] = {
        "attempts": bindparam("b_attempts"),
        "last_status_code": bindparam("b_code"),
        "last_error": bindparam("b_error"),
        "claimed_until": None,
    }
    with _engine().begin() as conn:
        if delivered:
            conn.execute(
                update(WebhookDelivery)
                .where(row)
                .values(
                    status="delivered",
                    delivered_at=bindparam("b_at"),
                    next_attempt_at=None,
                    **outcome,
                ),
                delivered,
            )
        if failed:
            conn.execute(
                update(WebhookDelivery)
                .where(row)
                .values(
                    status=bindparam("b_status"), next_attempt_at=bindparam("b_next"), **outcome
                ),
                failed,
            )
        if unsent:
            conn.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(unsent))
                .values(claimed_until=None)
            )
        for webhook_id, seen in health.items():
            values: dict[str, Any] = (
                {"failure_count": seen["failures"], "last_delivered_at": seen["ok_at"]}
                if seen["ok_at"] is not None
                else {"failure_count": Webhook.failure_count + seen["failures"]}
            )
            conn.execute(update(Webhook).where(Webhook.id == webhook_id).values(values))
        if attempts:
            conn.execute(insert(WebhookAttempt), attempts)
    return statuses


def deliver_ids(ids: Sequence[int], batch_size: int = BATCH) -> dict[int, str]:
    """Send these deliveries (those not taken by another sender), a batch at a time."""
    statuses: dict[int, str] = {}
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        statuses.update(send(claim(given(chunk, now()))))
    return statuses


def deliver_due(batch_size: int = BATCH) -> int:
    """Claim and send one batch of due deliveries; returns how many were claimed."""
    rows = claim(due(batch_size, now()))
    if rows:
        send(rows)
    return len(rows)


# ---------------------------------------------------------------------------- the queue
def hand_over(ids: list[int]) -> None:
    """Push new delivery ids for the webhook queue; queue a drain job unless one is pending."""
    from ..jobs.queues import WEBHOOK_QUEUE, queue, redis_connection
    from ..jobs.tasks import deliver_pending

    conn = redis_connection()
    assert conn is not None
    conn.rpush(PENDING_KEY, *ids)
    if conn.set(DRAINER_KEY, "1", nx=True, ex=DRAINER_TTL):
        queue(WEBHOOK_QUEUE).enqueue(deliver_pending)


def drain_pending(batch_size: int = BATCH, budget: float = JOB_BUDGET) -> int:
    """Send what was handed over, a batch at a time, until the list is empty (or ``budget``
    seconds passed: then a fresh job takes the rest, so no job outlives RQ's timeout)."""
    from ..jobs.queues import WEBHOOK_QUEUE, queue, redis_connection
    from ..jobs.tasks import deliver_pending

    conn = redis_connection()
    assert conn is not None
    started = time.monotonic()
    total = 0
    while True:
        popped = cast("list[bytes] | None", conn.lpop(PENDING_KEY, batch_size))
        if not popped:
            conn.delete(DRAINER_KEY)
            # Ids pushed between the empty pop and the delete queued no job: take them too.
            popped = cast("list[bytes] | None", conn.lpop(PENDING_KEY, batch_size))
            if not popped:
                return total
        if (
            len(popped) == batch_size
            and conn.llen(PENDING_KEY) >= batch_size
            and conn.set(HELPER_KEY, "1", nx=True, ex=HELPER_TTL)
        ):
            queue(WEBHOOK_QUEUE).enqueue(deliver_pending)  # a long backlog: let others help
        total += len(deliver_ids([int(i) for i in popped], batch_size))
        if time.monotonic() - started > budget:
            if conn.llen(PENDING_KEY):
                queue(WEBHOOK_QUEUE).enqueue(deliver_pending)
            return total
