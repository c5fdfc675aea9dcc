"""The periodic jobs. Each loops one service batch at a time, one unit of work per batch.

They expect an app context (the Escalated worker pushes one per job; the inline scheduler and
the CLI have one already).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from flask import current_app

from ..config import Config
from ..services import ext
from .queues import redis_connection

LOCK_PREFIX = "escalated:lock:"


@contextlib.contextmanager
def single_run(name: str, ttl: int) -> Iterator[bool]:
    """A short Redis lock so a slow run of ``name`` is never stacked with the next one; yields
    whether this run may go ahead (always, without Redis)."""
    conn = redis_connection()
    if conn is None:
        yield True
        return
    key = LOCK_PREFIX + name
    got = bool(conn.set(key, "1", nx=True, ex=max(ttl, 1)))
    try:
        yield got
    finally:
        if got:
            conn.delete(key)


def drain(step: Callable[[], int], *, max_batches: int = 10_000) -> int:
    """Run ``step`` in a unit of work at a time until it reports nothing left."""
    total = 0
    for _ in range(max_batches):
        with ext().unit_of_work():
            done = step()
        if not done:
            break
        total += done
    return total


def _periodic(name: str, step: Callable[[], int], ttl: int = 600) -> dict[str, Any]:
    with single_run(name, ttl) as go:
        if not go:
            return {"task": name, "skipped": "another run is in progress"}
        return {"task": name, "processed": drain(step)}


def check_sla(batch_size: int | None = None) -> dict[str, Any]:
    from ..services import sla_sweep

    limit = batch_size or sla_sweep.BATCH
    return _periodic("check-sla", lambda: sla_sweep.sweep_batch(limit=limit))


def wake_snoozed(batch_size: int = 500) -> dict[str, Any]:
    from ..services import snooze

    return _periodic("wake-snoozed", lambda: snooze.wake_batch(limit=batch_size))


def close_resolved(batch_size: int = 500) -> dict[str, Any]:
    from ..services import lifecycle

    days = int(current_app.config[Config.AUTO_CLOSE_RESOLVED_AFTER_DAYS])
    return _periodic("close-resolved",
                     lambda: lifecycle.close_resolved_batch(days=days, limit=batch_size))


def purge_activities(batch_size: int = 5000) -> dict[str, Any]:
    from ..services import lifecycle

    days = int(current_app.config[Config.PURGE_ACTIVITIES_AFTER_DAYS])
    return _periodic("purge-activities",
                     lambda: lifecycle.purge_activities_batch(days=days, limit=batch_size),
                     ttl=3600)


def evaluate_escalations(batch_size: int = 500) -> dict[str, Any]:
    from ..services import escalation

    return _periodic("evaluate-escalations", lambda: escalation.evaluate(limit=batch_size))


def run_automations(batch_size: int = 500) -> dict[str, Any]:
    from ..services import automations

    return _periodic("run-automations", lambda: automations.run(limit=batch_size))


def deliver_webhook(delivery_id: int) -> str:
    """Send one webhook delivery (queued right after the change that caused it commits)."""
    from ..services import webhooks

    return webhooks.deliver(delivery_id)


def deliver_pending() -> dict[str, Any]:
    """Send the deliveries handed over since the last run, in batches (one job per burst)."""
    from ..services import webhook_sender

    return {"task": "deliver-pending", "processed": webhook_sender.drain_pending()}


def deliver_webhooks(batch_size: int = 50) -> dict[str, Any]:
    """Sweep the outbox: send every delivery that is due (new, or waiting for a retry), a
    claimed batch at a time."""
    from ..services import webhook_sender

    with single_run("deliver-webhooks", 600) as go:
        if not go:
            return {"task": "deliver-webhooks", "skipped": "another run is in progress"}
        total = 0
        for _ in range(10_000):
            claimed = webhook_sender.deliver_due(batch_size)
            if not claimed:
                break
            total += claimed
        return {"task": "deliver-webhooks", "processed": total}


def deliver_mail(mail_id: int) -> str:
    """Send one outbound e-mail (queued right after the change that caused it commits)."""
    from ..services import mail

    return mail.deliver(mail_id)


def deliver_mails(batch_size: int = 200) -> dict[str, Any]:
    """Sweep the mail outbox: send every message that is due (new, or waiting for a retry)."""
    from ..services import mail

    return _sweep_outbox("deliver-mail", mail.due_ids, mail.deliver, batch_size)


def _sweep_outbox(name: str, due: Callable[..., list[int]], send: Callable[[int], str],
                  batch_size: int) -> dict[str, Any]:
    """Send what ``due`` offers, batch after batch, one sweeper at a time."""
    with single_run(name, 600) as go:
        if not go:
            return {"task": name, "skipped": "another run is in progress"}
        total = 0
        for _ in range(1000):
            ids = due(limit=batch_size)
            if not ids:
                break
            for item in ids:
                send(item)
            total += len(ids)
        return {"task": name, "processed": total}


def flush_kb_views(batch_size: int = 1000) -> dict[str, Any]:
    """Fold buffered knowledge-base page views into ``view_count`` (see ``services.kb_views``).

    This process's in-memory views are spilled first, so the inline scheduler and the CLI
    fold everything counted here; an RQ worker folds what the web processes spilled.
    """
    from ..services import kb_views

    with ext().unit_of_work():
        kb_views.spill(in_session=True)
    return _periodic("flush-kb-views", lambda: kb_views.fold_batch(limit=batch_size))
