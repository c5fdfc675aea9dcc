"""An RQ worker that runs each job inside the Flask app's context."""

from __future__ import annotations

from typing import Any

from flask import Flask
from rq import SimpleWorker, Worker

from .. import logs


class AppContextMixin:
    """Push the app context around every job (set ``app`` before starting the worker), with
    the request id the job was enqueued under bound for its log lines."""

    app: Flask | None = None

    def subscribe(self) -> None:
        """Listen on RQ's command channel (stop, kill a job) with a one-second poll instead of
        RQ's sixty: a worker that ends (a burst worker, a stop) closes the channel while its
        listening thread may be waiting on it, and the close waits that wait out. A second
        poll is no work to speak of; a minute's wait on every stop is."""
        self.pubsub = self.connection.pubsub()  # type: ignore[attr-defined]
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})  # type: ignore[attr-defined]
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=1, daemon=True,
            exception_handler=self._pubsub_exception_handler)  # type: ignore[attr-defined]

    def perform_job(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> bool:
        assert self.app is not None, "set the worker's app first"
        request_id = (job.meta or {}).get(logs.JOB_META_KEY)
        with self.app.app_context(), logs.bound(logs.valid_request_id(request_id), job.id):
            return super().perform_job(job, queue, *args, **kwargs)  # type: ignore[misc]


class EscalatedWorker(AppContextMixin, Worker):
    """Forking worker (the default for ``flask escalated worker`` on the other queues)."""

    def main_work_horse(self, job: Any, queue: Any) -> None:
        """In the forked child, leave the parent's pooled database connections to the parent
        (a socket used by two processes corrupts both sides' protocol state): the child
        opens its own (SQLAlchemy's ``dispose(close=False)`` after a fork)."""
        assert self.app is not None, "set the worker's app first"
        with self.app.app_context():
            self.app.extensions["escalated"].session.get_bind().dispose(close=False)
        super().main_work_horse(job, queue)


class EscalatedSimpleWorker(AppContextMixin, SimpleWorker):
    """Runs jobs in the worker's own process (tests, platforms without fork)."""


def runs_in_process(queues: tuple[str, ...] | list[str]) -> bool:
    """Whether a worker on ``queues`` runs jobs in its own process unless told otherwise: a
    worker on the webhook queue alone does (a fork per job costs more than a batch of
    deliveries, and the process keeps its keep-alive connections); any other forks."""
    from .queues import WEBHOOK_QUEUE

    return tuple(queues) == (WEBHOOK_QUEUE,)


def worker_class(app: Flask, simple: bool = False) -> type[Worker]:
    cls: type[Any] = EscalatedSimpleWorker if simple else EscalatedWorker
    bound = type(cls.__name__, (cls,), {"app": app})
    return bound
