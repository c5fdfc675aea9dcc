"""The audit log: every admin change and every destructive ticket change, old and new values.

The web layer puts the request's IP and user agent into :data:`request_info` (a context
variable) so services can write them without importing Flask's request.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from ..events import Actor
from ..models import AuditLog
from . import session

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
