"""Queue names, the Redis connection, and enqueueing (or running inline without Redis)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import current_app
from redis import Redis
from rq import Queue

from ..config import Config

log = logging.getLogger("flask_escalated.jobs")

DEFAULT_QUEUE = "escalated"
WEBHOOK_QUEUE = "escalated-webhooks"
MAIL_QUEUE = "escalated-mail"
QUEUES = (DEFAULT_QUEUE, WEBHOOK_QUEUE, MAIL_QUEUE)


def redis_connection() -> Redis | None:
    """The app's Redis connection (``ESCALATED_REDIS_URL``), or ``None`` for inline mode."""
    url = current_app.config[Config.REDIS_URL]
    if not url:
        return None
    extras = current_app.extensions["escalated"].state.extras
    conn = extras.get("redis")
    if conn is None:
        conn = extras["redis"] = Redis.from_url(url)
    return conn  # type: ignore[no-any-return]


def queue(name: str = DEFAULT_QUEUE) -> Queue:
    conn = redis_connection()
    if conn is None:
        raise RuntimeError(f"{Config.REDIS_URL} is not set; there is no RQ queue to use.")
    return Queue(name, connection=conn)


def enqueue(task: Callable[..., Any], *args: Any, queue_name: str = DEFAULT_QUEUE,
            **kwargs: Any) -> Any:
    """Put ``task`` on its RQ queue; with no Redis, run it right away in this process.

    Call it after the commit that makes the work necessary (it is how after-commit handlers
    hand work over), so an inline run sees the committed data.
    """
    if redis_connection() is None:
        return task(*args, **kwargs)
    return queue(queue_name).enqueue(task, *args, **kwargs)
