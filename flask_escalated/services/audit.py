"""The audit log: every admin change and every destructive ticket change, old and new values.

The web layer puts the request's IP and user agent into :data:`request_info` (a context
variable) so services can write them without importing Flask's request.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from ..events import Actor
from ..models import AuditLog
from . import session
from .errors import ValidationError

#: (ip, user_agent) of the request being served, set by the web layer.
request_info: contextvars.ContextVar[tuple[str | None, str | None]] = contextvars.ContextVar(
    "escalated_request_info", default=(None, None)
)

#: Keys never written to the log, whatever the entity.
SECRET_KEYS = frozenset({"secret", "token", "token_hash", "password", "recovery_codes"})


@contextlib.contextmanager
def requested_by(ip: str | None, user_agent: str | None) -> Iterator[None]:
    token = request_info.set((ip, (user_agent or "")[:255] or None))
    try:
        yield
    finally:
        request_info.reset(token)


def _scrub(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: ("[redacted]" if k in SECRET_KEYS else v) for k, v in values.items()}


def log(
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object,
    *,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> AuditLog:
    ip, agent = request_info.get()
    row = AuditLog(
        actor_user_id=actor.user_id,
        actor_type=actor.kind,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        old_values=_scrub(old),
        new_values=_scrub(new),
        ip_address=ip,
        user_agent=agent,
    )
    session().add(row)
    return row


# ---------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class Filters:
    """What a reader narrows the log to; ``None`` means any. ``first`` and ``last`` are
    calendar days in the desk's time zone (the one reports count days in), both included."""

    entity_type: str | None = None
    entity_id: str | None = None
    actor_user_id: str | None = None
    action: str | None = None
    first: date | None = None
    last: date | None = None


def list_entries(filters: Filters, *, limit: int, before: int | None = None) -> list[AuditLog]:
    """Entries newest first, a keyset page: ``before`` is the last id of the previous page."""
    if filters.first is not None and filters.last is not None and filters.first > filters.last:
        raise ValidationError("'from' must not be after 'to'.", {"from": "after 'to'"})
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    for column in ("entity_type", "entity_id", "actor_user_id", "action"):
        value = getattr(filters, column)
        if value is not None:
            query = query.where(getattr(AuditLog, column) == value)
    if filters.first is not None or filters.last is not None:
        from .reports.window import Window, desk_schedule

        tz = desk_schedule().tz
        if filters.first is not None:
            query = query.where(AuditLog.created_at >= Window(filters.first, filters.first,
                                                              tz).start)
        if filters.last is not None:
            query = query.where(AuditLog.created_at < Window(filters.last, filters.last,
                                                             tz).end)
    if before is not None:
        query = query.where(AuditLog.id < before)
    return list(session().execute(query).scalars())
