"""The desk's health at a glance, for the admin console's overview.

Each figure is one grouped query (counts by ``CASE``, never a loop over rows), so the overview
costs the same with ten tickets or ten million:

* **tickets**: open tickets (every category but resolved and closed), how many of them are
  snoozed, and how many are past an SLA due time (:func:`.queries.sla_clause`, the agent
  queue's own ``breached`` filter);
* **webhooks**: active endpoints whose latest deliveries failed (``failure_count`` counts the
  failures since the last success), deliveries waiting for a retry, and deliveries given up
  on recently;
* **mail**: the outbox records every failure (``failed`` is waiting for a retry, ``dead`` was
  given up on, ``last_error`` says why); a ``pending`` row still unsent well after it was due
  means nothing is sending;
* **jobs**: with Redis, each RQ queue's failed-job registry and the jobs queued for longer
  than :data:`STUCK_AFTER` (no worker, or workers too slow); without Redis, work runs inline
  in the web process and there is no queue to get stuck.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import ColumnElement, and_, case, func, select

from ..clock import now
from ..domain import OPEN_CATEGORIES
from ..models import OutboundEmail, Ticket, Webhook, WebhookDelivery
from . import session
from .queries import sla_clause

#: Deliveries (mail, webhooks) given up on within this long are counted.
RECENT = timedelta(days=7)
#: A pending mail still unsent this long after it was due means no sender is running.
MAIL_STALLED_AFTER = timedelta(minutes=15)
#: A job queued for longer than this is stuck.
STUCK_AFTER = timedelta(minutes=15)
#: How many of a queue's oldest jobs are read to count the stuck ones (queues are FIFO, so the
#: count stops at the first young job; past this many, the figure is "at least").
STUCK_SCAN = 500
FIGURES = ("tickets", "webhooks", "mail", "jobs")


@dataclass(frozen=True)
class TicketHealth:
    open: int
    snoozed: int
    breached: int


@dataclass(frozen=True)
class WebhookHealth:
    failing_endpoints: int
    retrying: int
    dead: int


@dataclass(frozen=True)
class MailHealth:
    enabled: bool
    retrying: int
    dead: int
    stalled: int


@dataclass(frozen=True)
class QueueHealth:
    name: str
    queued: int
    failed: int
    #: Jobs queued for longer than :data:`STUCK_AFTER` (at least this many when ``capped``).
    stuck: int
    capped: bool = False


@dataclass(frozen=True)
class JobHealth:
    #: No Redis: jobs run inline (nothing can be stuck in a queue).
    inline: bool
    queues: list[QueueHealth] = field(default_factory=list)
    workers: int = 0
    #: Redis could not be reached (the reason).
    error: str | None = None

    @property
    def failed(self) -> int:
        return sum(q.failed for q in self.queues)

    @property
    def stuck(self) -> int:
        return sum(q.stuck for q in self.queues)


@dataclass(frozen=True)
class DeskHealth:
    at: datetime
    tickets: TicketHealth | None = None
    webhooks: WebhookHealth | None = None
    mail: MailHealth | None = None
    jobs: JobHealth | None = None


def desk_health(figures: Collection[str] = FIGURES, at: datetime | None = None) -> DeskHealth:
    """The figures named in ``figures`` (the others are ``None``: the caller may not see them);
    one SQL query each for tickets, webhooks and mail, none for jobs."""
    at = at or now()
    return DeskHealth(
        at=at,
        tickets=ticket_health(at) if "tickets" in figures else None,
        webhooks=webhook_health(at) if "webhooks" in figures else None,
        mail=mail_health(at) if "mail" in figures else None,
        jobs=job_health() if "jobs" in figures else None,
    )


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows of the query meet ``condition`` (0, not NULL, when none do)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def ticket_health(at: datetime) -> TicketHealth:
    row = session().execute(
        select(func.count(),
               _count_if(Ticket.snoozed_until > at),
               _count_if(sla_clause("breached", at)))
        .where(Ticket.status_category.in_(sorted(OPEN_CATEGORIES)))
    ).one()
    return TicketHealth(open=int(row[0]), snoozed=int(row[1]), breached=int(row[2]))


def webhook_health(at: datetime) -> WebhookHealth:
    failing = (select(func.count()).select_from(Webhook)
               .where(Webhook.is_active.is_(True), Webhook.failure_count > 0).scalar_subquery())
    row = session().execute(
        select(failing,
               _count_if(WebhookDelivery.status == "failed"),
               _count_if(and_(WebhookDelivery.status == "dead",
                              WebhookDelivery.created_at >= at - RECENT)))
        .where(WebhookDelivery.status.in_(("failed", "dead")))
    ).one()
    return WebhookHealth(failing_endpoints=int(row[0]), retrying=int(row[1]), dead=int(row[2]))


def mail_health(at: datetime) -> MailHealth:
    from .mail import enabled

    row = session().execute(
        select(_count_if(OutboundEmail.status == "failed"),
               _count_if(and_(OutboundEmail.status == "dead",
                              OutboundEmail.created_at >= at - RECENT)),
               _count_if(and_(OutboundEmail.status == "pending",
                              OutboundEmail.next_attempt_at <= at - MAIL_STALLED_AFTER)))
        .where(OutboundEmail.status.in_(("failed", "dead", "pending")))
    ).one()
    return MailHealth(enabled=enabled(), retrying=int(row[0]), dead=int(row[1]),
                      stalled=int(row[2]))


def job_health() -> JobHealth:
    """RQ's view of the queues (Redis round trips, no SQL); inline mode without Redis."""
    from redis.exceptions import RedisError
    from rq import Queue, Worker
    from rq.job import Job

    from ..jobs.queues import QUEUES, redis_connection

    conn = redis_connection()
    if conn is None:
        return JobHealth(inline=True)
    cutoff = datetime.now(timezone.utc) - STUCK_AFTER  # RQ stamps jobs with the wall clock
    out: list[QueueHealth] = []
    try:
        for name in QUEUES:
            queue = Queue(name, connection=conn)
            queued = queue.count
            stuck = 0
            ids = queue.get_job_ids(0, STUCK_SCAN) if queued else []
            for job in Job.fetch_many(ids, connection=conn):
                enqueued = job.enqueued_at if job is not None else None
                if enqueued is None:
                    continue
                if enqueued.tzinfo is None:
                    enqueued = enqueued.replace(tzinfo=timezone.utc)
                if enqueued >= cutoff:
                    break
                stuck += 1
            out.append(QueueHealth(name=name, queued=queued,
                                   failed=queue.failed_job_registry.count, stuck=stuck,
                                   capped=stuck >= STUCK_SCAN and queued > STUCK_SCAN))
        workers = Worker.count(connection=conn)
    except RedisError as exc:
        return JobHealth(inline=False, error=f"{type(exc).__name__}: {exc}"[:300])
    return JobHealth(inline=False, queues=out, workers=workers)
