"""The activity timeline. This is the only place activity rows are written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect as sa_inspect

from ..events import Actor
from ..models import Activity, Ticket
from . import session


def record(ticket: Ticket, type_: str, actor: Actor, **properties: Any) -> Activity:
    """Append one timeline row for ``ticket``, stamped with the ticket's department at this
    moment (reports count events where they happened) and, for ``assigned`` rows, the new
    assignee as a column."""
    row = Activity(
        ticket_id=ticket.id,
        department_id=ticket.department_id,
        assignee_id=properties.get("assignee_id") if type_ == "assigned" else None,
        type=type_,
        actor_type=actor.kind,
        actor_user_id=actor.user_id,
        actor_contact_id=actor.contact_id,
        properties=properties or None,
    )
    db = session()
    state = sa_inspect(ticket)
    if state.persistent and state.modified:
        # Write the ticket's UPDATE first: the timeline row's foreign-key check takes a shared
        # lock on the ticket row, and two writers of one ticket holding it would deadlock on
        # their UPDATEs (MariaDB/MySQL). With the row locked first, the second writer queues
        # and then fails its version check. Same statements, in that order.
        db.flush()
    db.add(row)
    return row
