"""What a request wrote for the tickets it created, so its response does not read it back.

A ticket created in this request has only the followers, links, ratings and custom-field
values the request itself added. The session's flushes are watched: a ticket inserted in this
app context (a request has its own), and each tracked row written for it, are noted in ``g``.
:func:`nothing_written` then answers "no such row can exist" without a query. Rows written by
other means (core statements, other sessions) are never assumed absent for tickets they did not
create: those tickets were not born in this request.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from flask import g, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction

from ..models import Ticket

_G = "_escalated_born_tickets"
#: Rows whose absence a response may take for granted on a ticket born in the request.
TRACKED = frozenset({"TicketFollower", "TicketLink", "SatisfactionRating", "CustomFieldValue"})


def _after_flush(db: Session, _flush: UOWTransaction) -> None:
    if not has_app_context():
        return
    born: dict[int, set[str]] = g.setdefault(_G, {})
    for obj in db.new:
        if isinstance(obj, Ticket):
            born.setdefault(obj.id, set())
    if not born:
        return
    for obj in chain(db.new, db.dirty, db.deleted):
        name = type(obj).__name__
        if name in TRACKED:
            for ticket_id in (getattr(obj, "ticket_id", None),
                              getattr(obj, "linked_ticket_id", None)):
                if ticket_id in born:
                    born[ticket_id].add(name)


def nothing_written(ticket_id: int | None, model: str) -> bool:
    """True when ``ticket_id`` was created in this request and no ``model`` row was written
    for it since: the table holds none."""
    if ticket_id is None or not has_app_context():
        return False
    written: set[str] | None = g.get(_G, {}).get(ticket_id)
    return written is not None and model not in written


def _after_rollback(db: Session, _previous: Any) -> None:
    # A rolled-back ticket's id may come back (SQLite reuses row ids): forget everything.
    if has_app_context():
        g.pop(_G, None)


def install(session_factory: Any) -> None:
    """Attach the flush and rollback listeners to a (scoped) session factory, once."""
    if not event.contains(session_factory, "after_flush", _after_flush):
        event.listen(session_factory, "after_flush", _after_flush)
        event.listen(session_factory, "after_soft_rollback", _after_rollback)
