"""Queue names, the Redis connection, and enqueueing (or running inline without Redis)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from .. import logs
from ..config import Config

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue

# redis and rq are imported when a queue is first used: a process without
# ESCALATED_REDIS_URL never loads them (about 12 MB).

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
        from redis import Redis

        conn = extras["redis"] = Redis.from_url(url)
    return conn  # type: ignore[no-any-return]


@cache
def queue_class() -> type[Queue]:
    """An RQ queue whose jobs carry the request id they were enqueued under (``meta``), so a
    worker's log lines for them name the request that caused them."""
    from rq import Queue

    class EscalatedQueue(Queue):
        def create_job(self, *args: Any, **kwargs: Any) -> Any:
            request_id = logs.get_request_id()
            if request_id:
                kwargs["meta"] = {logs.JOB_META_KEY: request_id, **(kwargs.get("meta") or {})}
            return super().create_job(*args, **kwargs)

    return EscalatedQueue


def queue(name: str = DEFAULT_QUEUE) -> Queue:
    conn = redis_connection()
    if conn is None:
        raise RuntimeError(f"{Config.REDIS_URL} is not set; there is no RQ queue to use.")
    return queue_class()(name, connection=conn)


def enqueue(task: Callable[..., Any], *args: Any, queue_name: str = DEFAULT_QUEUE,
            **kwargs: Any) -> Any:
    """Put ``task`` on its RQ queue; with no Redis, run it right away in this process.

    Call it after the commit that makes the work necessary (it is how after-commit handlers
    hand work over), so an inline run sees the committed data.
    """
    if redis_connection() is None:
        return task(*args, **kwargs)
    return queue(queue_name).enqueue(task, *args, **kwargs)


def run_in_background(app: Flask, name: str, work: Callable[[int], Any], ids: list[int]) -> None:
    """Without Redis, run ``work(id)`` for each id in a daemon thread of this process.

    The request that made the work never waits for it. Threads are remembered on the app's
    state so :meth:`Escalated.wait_for_background` can let them finish (tests, shutdown).
    """
    request_id = logs.get_request_id()

    def run() -> None:
        with app.app_context(), logs.bound(request_id):
            for item in ids:
                try:
                    work(item)
                except Exception:
                    log.exception("%s %s failed", name, item)

    threads: set[threading.Thread] = app.extensions["escalated"].state_for(app).extras \
        .setdefault("threads", set())
    thread = threading.Thread(target=run, daemon=True, name=f"escalated-{name}")
    threads.add(thread)
    thread.start()


def wait_for_background(app: Flask, timeout: float = 10.0) -> bool:
    """Join this app's background threads; ``True`` when none is left running."""
    threads: set[threading.Thread] = app.extensions["escalated"].state_for(app).extras \
        .get("threads", set())
    deadline = time.monotonic() + timeout
    for thread in list(threads):
        thread.join(max(deadline - time.monotonic(), 0))
        if not thread.is_alive():
            threads.discard(thread)
    return not threads
