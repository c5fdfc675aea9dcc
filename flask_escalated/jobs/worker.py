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

    def perform_job(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> bool:
        assert self.app is not None, "set the worker's app first"
        request_id = (job.meta or {}).get(logs.JOB_META_KEY)
        with self.app.app_context(), logs.bound(logs.valid_request_id(request_id), job.id):
            return super().perform_job(job, queue, *args, **kwargs)  # type: ignore[misc]


class EscalatedWorker(AppContextMixin, Worker):
    """Forking worker (the default for ``flask escalated worker``)."""


class EscalatedSimpleWorker(AppContextMixin, SimpleWorker):
    """Runs jobs in the worker's own process (tests, platforms without fork)."""


def worker_class(app: Flask, simple: bool = False) -> type[Worker]:
    cls: type[Any] = EscalatedSimpleWorker if simple else EscalatedWorker
    bound = type(cls.__name__, (cls,), {"app": app})
    return bound
