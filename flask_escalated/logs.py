"""Request ids and structured logs.

Every request to Escalated's routes gets an id: the caller's ``X-Request-Id`` when it is a
sane token (a load balancer's or a proxy's), else a new random one. It is sent back in the
response's ``X-Request-Id``, travels with every job the request enqueues (in the RQ job's
``meta``), and is set again in the worker while that job runs, so one id ties the request's
log lines to those of the webhook deliveries and mails it caused.

Logging stays the host's: Escalated only logs through ``logging.getLogger("flask_escalated...")``.
Two pieces let an operator see the id:

- :class:`RequestIdFilter` sets ``record.request_id`` (``-`` outside a request or job), for a
  plain format string such as ``"%(asctime)s %(levelname)s [%(request_id)s] %(message)s"``;
- :class:`JsonFormatter` writes one JSON object per line with the id, the job id and the
  exception, for log shippers.

:func:`configure_logging` installs either on the root logger; the worker and cron commands
and the production stack (``examples/stack``) call it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

#: The request or job's id (``None`` when there is none).
current_request_id: ContextVar[str | None] = ContextVar("escalated_request_id", default=None)
#: The RQ job's id while a worker runs one.
current_job_id: ContextVar[str | None] = ContextVar("escalated_job_id", default=None)

HEADER = "X-Request-Id"
#: What an incoming id may look like: a proxy's UUID, a hex trace id, a short token. Anything
#: else (too long, spaces, control characters, quotes) is replaced, so it can go into a log
#: line or a header without escaping.
_VALID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
#: The key under which enqueued jobs carry the id in their ``meta``.
JOB_META_KEY = "request_id"


def valid_request_id(value: str | None) -> str | None:
    """``value`` when it may be used as a request id as it is, else ``None``."""
    if value and _VALID.match(value):
        return value
    return None


def new_request_id() -> str:
    return uuid.uuid4().hex


def get_request_id() -> str | None:
    return current_request_id.get()


@contextlib.contextmanager
def bound(request_id: str | None, job_id: str | None = None) -> Iterator[None]:
    """Run the block with these ids set (a worker's job, a background thread)."""
    rid = current_request_id.set(request_id)
    jid = current_job_id.set(job_id)
    try:
        yield
    finally:
        current_job_id.reset(jid)
        current_request_id.reset(rid)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` and ``job_id`` to every record (``-`` when there is none).

    Put it on a handler (``handler.addFilter(RequestIdFilter())``) so that records from every
    logger going through that handler get them; it never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get() or "-"
        if not hasattr(record, "job_id"):
            record.job_id = current_job_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the request and
    job ids when set, the process id, and the formatted exception when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        request_id = getattr(record, "request_id", None) or current_request_id.get()
        if request_id and request_id != "-":
            entry["request_id"] = request_id
        job_id = getattr(record, "job_id", None) or current_job_id.get()
        if job_id and job_id != "-":
            entry["job_id"] = job_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure_logging(
    fmt: str = "text", level: int | str = logging.INFO, stream: Any = None
) -> logging.Handler:
    """Send the root logger's records to ``stream`` (stderr) as ``text`` or ``json`` lines,
    each with the request id. Returns the handler, which replaces any this function added
    before (calling it twice does not double the lines)."""
    if fmt not in ("text", "json"):
        raise ValueError(f"log format must be 'text' or 'json', not {fmt!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.set_name("escalated")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "escalated"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
