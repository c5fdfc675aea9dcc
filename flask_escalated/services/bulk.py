"""Bulk actions on many tickets: assign, status, priority, add a tag, department, merge.

Each ticket goes through the same per-ticket service an agent would use by hand (so activity,
SLA, events and the transition table apply unchanged) inside its own SAVEPOINT, all within the
caller's one unit of work. A ticket that fails (a forbidden transition, no permission in its
department, not found) rolls back to its savepoint and is reported; the others stand, and its
domain events are dropped with it (see :mod:`flask_escalated.events`).

Why one transaction rather than one per ticket: it keeps the services' rule that the caller
commits (a bulk call composes with other changes like any service call), it is one commit and
one event dispatch for the batch, and the savepoints already isolate each ticket's failure.
Batches are capped at :data:`MAX_TICKETS` (a queue page), so the row locks it holds until the
commit are few and brief.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..domain import CLOSED_CATEGORIES
from ..models import Ticket
from . import assignment, relations, savepoint, session, statuses, tags, tickets
from .errors import PermissionDenied, ServiceError, ValidationError
from .ids import parse_id
from .permissions import Principal, can_act_on_ticket, can_view_ticket

ACTIONS = ("assign", "status", "priority", "add_tag", "department", "merge")
MAX_TICKETS = 100


@dataclass
class BulkResult:
    """What happened: the ids changed (or already so) and, per failed id, why."""

    action: str
    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    references: dict[int, str] = field(default_factory=dict)

    def label(self, ticket_id: int) -> str:
        return self.references.get(ticket_id, f"#{ticket_id}")


def parse_ids(raw: Iterable[object]) -> list[int]:
    """Ticket ids from form values, de-duplicated in order; a bad value is a 422."""
    ids: list[int] = []
    for value in raw:
        ident = parse_id(str(value))
        if ident is None:
            raise ValidationError("Ticket ids are positive integers.", {"ids": "invalid"})
        if ident not in ids:
            ids.append(ident)
    if not ids:
        raise ValidationError("Select at least one ticket.", {"ids": "required"})
    if len(ids) > MAX_TICKETS:
        raise ValidationError(f"Select at most {MAX_TICKETS} tickets at once.",
                              {"ids": f"at most {MAX_TICKETS}"})
    return ids


def _permission(action: str, value: Any) -> str:
    if action == "assign":
        return "ticket.assign"
    if action == "merge":
        return "ticket.merge"
    if action == "status" and isinstance(value, str):
        try:
            if statuses.category_of(value) in CLOSED_CATEGORIES:
                return "ticket.close"
        except ValidationError:
            pass
    return "ticket.edit"


def _check_value(action: str, value: Any) -> None:
    """Refuse a value that would fail for every ticket once, before touching any."""
    if action not in ACTIONS:
        raise ValidationError("Unknown bulk action.", {"action": f"one of {', '.join(ACTIONS)}"})
    if action == "status":
        if not isinstance(value, str) or not value:
            raise ValidationError("Choose a status.", {"status": "required"})
        statuses.resolve(value)
    elif action == "add_tag":
        if not isinstance(value, str) or not value.strip():
            raise ValidationError("Name the tag to add.", {"tag": "required"})
    elif action == "assign" and (value is None or value == ""):
        raise ValidationError("Choose an agent (or 'unassigned').", {"assignee": "required"})
    elif action == "merge" and (not isinstance(value, str) or not value.strip()):
        raise ValidationError("Name the ticket to merge into (reference or id).",
                              {"into": "required"})


def _apply_one(ticket: Ticket, action: str, value: Any, principal: Principal,
               assignee: str | None) -> None:
    actor = principal.actor
    if action == "assign":
        if assignee is None:
            assignment.unassign(ticket, actor)
        else:
            assignment.assign(ticket, assignee, actor)
    elif action == "status":
        if value != ticket.status:
            tickets.change_status(ticket, value, actor)
    elif action == "priority":
        tickets.change_priority(ticket, value, actor)
    elif action == "add_tag":
        tags.add_tags(ticket, [value], actor)
    elif action == "merge":
        relations.merge(principal, ticket, value)
    else:
        tickets.change_department(ticket, value or None, actor)


def apply(principal: Principal, ticket_ids: list[int], action: str, value: Any) -> BulkResult:
    """Apply ``action`` with ``value`` to each ticket; the caller commits.

    ``value``: an agent's user id, ``"me"`` or ``"none"`` for ``assign``; a status slug; a
    priority; a tag name; a department id or ``""`` (no department); for ``merge``, the
    target's reference or id: each selected ticket is merged into it in turn, in selection
    order (the target itself, when selected, is reported and left alone).
    """
    _check_value(action, value)
    if len(ticket_ids) > MAX_TICKETS:
        raise ValidationError(f"Select at most {MAX_TICKETS} tickets at once.",
                              {"ids": f"at most {MAX_TICKETS}"})
    assignee: str | None = None
    if action == "assign" and value != "none":
        assignee = principal.user_id if value == "me" else str(value)
    permission = _permission(action, value)
    db = session()
    rows = db.execute(
        select(Ticket).where(Ticket.id.in_(ticket_ids))
        .options(selectinload(Ticket.tags), selectinload(Ticket.department))
    ).scalars()
    found = {t.id: t for t in rows}
    result = BulkResult(action)
    for ticket_id in ticket_ids:
        ticket = found.get(ticket_id)
        if ticket is None or not can_view_ticket(principal, ticket):
            result.failed[ticket_id] = "No such ticket."
            continue
        result.references[ticket_id] = ticket.reference or f"#{ticket_id}"
        try:
            if not can_act_on_ticket(principal, ticket, permission):
                raise PermissionDenied(f"You need the '{permission}' permission for this.")
            with savepoint():
                _apply_one(ticket, action, value, principal, assignee)
        except ServiceError as exc:
            result.failed[ticket_id] = exc.message
        except StaleDataError:
            result.failed[ticket_id] = "Someone else changed it at the same moment; try again."
        else:
            result.done.append(ticket_id)
    return result
