"""The activity timeline. This is the only place activity rows are written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect as sa_inspect

from ..events import Actor
from ..models import Activity, Ticket
from . import plain_session, session

#: Attribute a ticket carries naming the transaction that inserted its row.
_INSERTED_BY = "_escalated_inserted_by"


def inserted(ticket: Ticket) -> None:
    """Note that ``ticket``'s row was inserted by the current transaction (after its flush):
    the row is then already locked by us alone, so its later changes need no early flush."""
    setattr(ticket, _INSERTED_BY, plain_session().get_transaction())


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
    if (state.persistent and state.modified
            and getattr(ticket, _INSERTED_BY, None) is not plain_session().get_transaction()):
        # Write the ticket's UPDATE first: the timeline row's foreign-key check takes a shared
        # lock on the ticket row, and two writers of one ticket holding it would deadlock on
        # their UPDATEs (MariaDB/MySQL). With the row locked first, the second writer queues
        # and then fails its version check. Same statements, in that order. A row this
        # transaction inserted is locked by it alone: its UPDATE waits for the commit's flush.
        db.flush()
    db.add(row)
    return row
