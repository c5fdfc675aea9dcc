"""The ticket lifecycle: birth, property changes, status moves, deletion.

``create_ticket`` is the single door every ticket comes through (API, portal, widget, e-mail,
split, import), so activity, SLA, assignment, rules and notifications apply to all of them.
Each function records its activity row and domain events exactly once and leaves the commit to
the caller.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..clock import now
from ..config import Config
from ..domain import (
    CHANNELS,
    CLOSED,
    CLOSED_CATEGORIES,
    ESCALATED,
    IN_PROGRESS,
    OPEN,
    PRIORITIES,
    PRIORITY_RANK,
    REOPENED,
    RESOLVED,
    TICKET_TYPES,
)
from ..events import Actor, record
from ..models import Contact, Department, Ticket
from . import (
    activity,
    attachments,
    audit,
    cache,
    contacts,
    custom_fields,
    deletion,
    session,
    sla,
    statuses,
    storage,
    timings,
)
from .errors import NotFound, StaleVersion, ValidationError
from .ids import parse_id

_REFERENCE = re.compile(r"^([A-Za-z][A-Za-z0-9]{0,9})-([0-9]{1,18})$")

#: Priorities a customer may choose; higher ones are for agents and rules.
CUSTOMER_PRIORITIES = ("low", "medium", "high")


@dataclass
class NewTicket:
    """Everything a ticket can be born with. Validated by :func:`create_ticket`."""

    subject: Any
    description: Any
    requester_user_id: str | None = None
    requester_email: str | None = None
    requester_name: str | None = None
    priority: Any = None
    department_id: Any = None
    ticket_type: Any = "question"
    channel: str = "web"
    tags: Sequence[str] = ()
    assignee_id: str | None = None
    metadata: dict[str, Any] | None = None
    uploads: list[attachments.Upload] = field(default_factory=list)
    created_at: datetime | None = None
    #: ``{key: value}`` of custom fields, checked by :func:`.custom_fields.validate_values`.
    custom_fields: dict[str, Any] | None = None
    #: The requester's contact when the caller already holds it (it looked the sender up for
    #: its actor): used instead of finding ``requester_email``'s contact again.
    contact: Contact | None = None


def _text(value: Any, name: str, max_len: int, errors: dict[str, str], *, required: bool) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[name] = "required"
        return ""
    if not isinstance(value, str):
        errors[name] = "must be a string"
        return ""
    if len(value) > max_len:
        errors[name] = f"at most {max_len} characters"
    return value.strip()


def _subject(value: Any, errors: dict[str, str]) -> str:
    subject = _text(value, "subject", 500, errors, required=True)
    # A subject is one line: CR/LF would leak into mail headers.
    return " ".join(subject.split())


def _department_id(value: Any, errors: dict[str, str]) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        errors["department_id"] = "must be an id"
        return None
    dept_id = parse_id(value)
    if dept_id is None:
        errors["department_id"] = "must be an id"
    return dept_id


def _department(value: Any, errors: dict[str, str]) -> Department | None:
    dept_id = _department_id(value, errors)
    if dept_id is None:
        return None
    dept = session().get(Department, dept_id)
    if dept is None or not dept.is_active:
        errors["department_id"] = "no such department"
        return None
    return dept


def _active_departments() -> dict[int, Department]:
    """Active departments by id, detached (read in a session of their own on the same
    connection): new tickets merge them into theirs without a query."""
    with Session(bind=session().connection(), expire_on_commit=False) as own:
        rows = {d.id: d for d in own.execute(
            select(Department).where(Department.is_active.is_(True))).scalars()}
        own.expunge_all()
    return rows


def _new_ticket_department(value: Any, errors: dict[str, str]) -> Department | None:
    dept_id = _department_id(value, errors)
    if dept_id is None:
        return None
    cached = cache.cached("departments:active", _active_departments).get(dept_id)
    if cached is None:
        errors["department_id"] = "no such department"
        return None
    return cache.attach(session(), cached)


def _message(default: str, errors: dict[str, str]) -> str:
    """Name the fields at fault, custom ones apart (pages without per-field slots and clients
    that read only the message see this alone)."""
    plain = [f"{k}: {v}" for k, v in errors.items() if not k.startswith("custom_fields.")]
    custom = [f"{k.split('.', 1)[1]}: {v}" for k, v in errors.items()
              if k.startswith("custom_fields.")]
    parts = [default]
    if plain:
        parts.append(f"{'; '.join(plain)}.")
    if custom:
        parts.append(f"Custom fields: {'; '.join(custom)}.")
    return " ".join(parts)


def _is_customer(actor: Actor) -> bool:
    return not actor.is_agent and actor.kind != "system"


def create_ticket(data: NewTicket, actor: Actor) -> Ticket:
    """Open a ticket. Every channel calls this."""
    cfg = current_app.config
    errors: dict[str, str] = {}
    subject = _subject(data.subject, errors)
    description = _text(
        data.description, "description", cfg[Config.MAX_BODY_LENGTH], errors, required=True
    )
    priority = data.priority or cfg[Config.DEFAULT_PRIORITY]
    if priority not in PRIORITIES:
        errors["priority"] = f"one of {', '.join(PRIORITIES)}"
    elif not actor.is_agent and actor.kind != "system" and priority not in CUSTOMER_PRIORITIES:
        errors["priority"] = f"customers may choose {', '.join(CUSTOMER_PRIORITIES)}"
    if data.ticket_type not in TICKET_TYPES:
        errors["ticket_type"] = f"one of {', '.join(TICKET_TYPES)}"
    if data.channel not in CHANNELS:
        errors["channel"] = f"one of {', '.join(CHANNELS)}"
    department = _new_ticket_department(data.department_id, errors)
    if data.metadata is not None and not isinstance(data.metadata, dict):
        errors["metadata"] = "must be an object"
    contact = None
    requester_user_id = data.requester_user_id
    if data.contact is not None:
        contact = data.contact
        requester_user_id = requester_user_id or contact.user_id
    elif data.requester_email is not None:
        try:
            contact = contacts.find_or_create(data.requester_email, data.requester_name)
        except ValidationError as exc:
            errors["requester_email"] = exc.fields.get("email", "invalid")
        else:
            requester_user_id = requester_user_id or contact.user_id
    if requester_user_id is None and contact is None:
        errors["requester"] = "a requester (host user or e-mail) is required"
    field_values: dict[str, Any] = {}
    # Doors without a form (e-mail, split, import) pass None: no fields, none required.
    if data.custom_fields is not None:
        try:
            field_values = custom_fields.validate_values(
                None, data.custom_fields, _is_customer(actor))
        except ValidationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationError(_message("The ticket could not be created.", errors), errors)

    from . import tags as tag_service

    ticket_tags = tag_service.ensure_tags(data.tags) if data.tags else []
    open_status = statuses.resolve(OPEN)
    stamp = data.created_at or now()
    ticket = Ticket(
        subject=subject,
        description=description,
        status=open_status.slug,
        status_category=open_status.category,
        priority=priority,
        priority_rank=PRIORITY_RANK[priority],
        ticket_type=data.ticket_type,
        channel=data.channel,
        requester_user_id=requester_user_id,
        contact=contact,
        department=department,
        metadata_=data.metadata,
        tags=ticket_tags,
        version=1,
        created_at=stamp,
        updated_at=stamp,
    )
    db = session()
    db.add(ticket)
    db.flush()
    activity.inserted(ticket)
    # The reference derives from the row id, so it is unique however many requests race.
    ticket.reference = f"{cfg[Config.TICKET_REFERENCE_PREFIX]}-{ticket.id:05d}"
    custom_fields.store(ticket, field_values)
    sla.on_created(ticket)
    activity.record(
        ticket, "created", actor, channel=data.channel, priority=priority,
        tags=[t.slug for t in ticket_tags],
    )
    record(db, "ticket_created", actor=actor, ticket=ticket, channel=data.channel)
    if data.uploads:
        attachments.add(ticket, data.uploads, actor)

    from . import assignment

    if data.assignee_id:
        assignment.assign(ticket, data.assignee_id, actor)
    elif department is not None and department.assignment_strategy != "manual":
        assignment.auto_assign(ticket, actor, strategy=department.assignment_strategy)
    return ticket


# ---------------------------------------------------------------------------- lookups
def get_ticket(ident: object, *, for_update: bool = False) -> Ticket:
    """A ticket by id (``42``) or reference (``ESC-00042``); ``NotFound`` otherwise."""
    ticket_id = parse_ident(ident)
    if ticket_id is None:
        raise NotFound(f"No ticket '{str(ident)[:40]}'.")
    query = select(Ticket).where(Ticket.id == ticket_id).options(selectinload(Ticket.tags))
    if for_update:
        # PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
        query = query.options(selectinload(Ticket.department), selectinload(Ticket.contact))
        query = query.with_for_update()
    else:
        query = query.options(joinedload(Ticket.department), joinedload(Ticket.contact))
    ticket = session().execute(query).scalar_one_or_none()
    if ticket is None:
        raise NotFound(f"No ticket '{str(ident)[:40]}'.")
    return ticket


def parse_ident(ident: object) -> int | None:
    """The row id a ticket identifier names. References are ``PREFIX-<id>``, so any prefix the
    desk has used resolves (a renamed prefix does not orphan old e-mails)."""
    if isinstance(ident, int) and not isinstance(ident, bool):
        return parse_id(ident)
    if not isinstance(ident, str):
        return None
    text = ident.strip()
    if text.isascii() and text.isdigit():
        return parse_id(text)
    match = _REFERENCE.match(text)
    return parse_id(match.group(2)) if match else None


# ---------------------------------------------------------------------------- changes
def check_version(ticket: Ticket, expected: object) -> None:
    """Refuse the change if the client's ``version`` is not the ticket's current one."""
    if expected is None:
        return
    if isinstance(expected, bool) or not isinstance(expected, int):
        raise ValidationError("version must be an integer.", {"version": "must be an integer"})
    if expected != ticket.version:
        raise StaleVersion(
            f"The ticket changed since you loaded it (you have version {expected}, "
            f"it is at {ticket.version}). Reload and try again.",
            {"version": ticket.version},
        )


def touch(ticket: Ticket) -> None:
    """Mark a property change: bump the optimistic-lock version and ``updated_at``."""
    ticket.version = (ticket.version or 0) + 1
    ticket.updated_at = now()


def update_ticket(
    ticket: Ticket, changes: dict[str, Any], actor: Actor, *, version: object = None
) -> Ticket:
    """Change subject, description, type, metadata or custom fields (``custom_fields``:
    ``{key: value}``); one activity row lists all fields."""
    check_version(ticket, version)
    errors: dict[str, str] = {}
    diff: dict[str, dict[str, Any]] = {}
    if "subject" in changes:
        value = _subject(changes["subject"], errors)
        if value and value != ticket.subject:
            diff["subject"] = {"old": ticket.subject, "new": value}
    if "description" in changes:
        value = _text(changes["description"], "description",
                      current_app.config[Config.MAX_BODY_LENGTH], errors, required=True)
        if value and value != ticket.description:
            diff["description"] = {"old": ticket.description, "new": value}
    if "ticket_type" in changes:
        if changes["ticket_type"] not in TICKET_TYPES:
            errors["ticket_type"] = f"one of {', '.join(TICKET_TYPES)}"
        elif changes["ticket_type"] != ticket.ticket_type:
            diff["ticket_type"] = {"old": ticket.ticket_type, "new": changes["ticket_type"]}
    if "metadata" in changes:
        if changes["metadata"] is not None and not isinstance(changes["metadata"], dict):
            errors["metadata"] = "must be an object"
        elif changes["metadata"] != ticket.metadata_:
            diff["metadata"] = {"old": ticket.metadata_, "new": changes["metadata"]}
    field_values: dict[str, Any] = {}
    if changes.get("custom_fields"):
        try:
            field_values = custom_fields.validate_values(
                custom_fields.custom_field_values(ticket), changes["custom_fields"],
                _is_customer(actor))
        except ValidationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationError(_message("The ticket could not be updated.", errors), errors)
    field_diff = custom_fields.store(ticket, field_values)
    if field_diff:
        diff["custom_fields"] = {"old": {k: c["old"] for k, c in field_diff.items()},
                                 "new": {k: c["new"] for k, c in field_diff.items()}}
    if not diff:
        return ticket
    for name, change in diff.items():
        if name != "custom_fields":
            setattr(ticket, "metadata_" if name == "metadata" else name, change["new"])
    touch(ticket)
    activity.record(ticket, "updated", actor, fields=sorted(diff))
    record(session(), "ticket_updated", actor=actor, ticket=ticket, changes=diff)
    return ticket


def change_status(
    ticket: Ticket, target: object, actor: Actor, *, version: object = None, auto: bool = False,
    reason: str = "status change",
) -> Ticket:
    """Move ``ticket`` to ``target`` if the transition table allows it.

    ``auto`` marks the built-in lifecycle moves (on assignment and replies), which follow the
    family's rules rather than the editable table.
    """
    check_version(ticket, version)
    if not isinstance(target, str):
        raise ValidationError("status must be a string.", {"status": "must be a string"})
    info = statuses.resolve(target) if auto else statuses.check_transition(ticket.status, target)
    if info.slug == ticket.status:
        return ticket
    old_status, old_category = ticket.status, ticket.status_category
    ticket.status, ticket.status_category = info.slug, info.category
    stamp = now()
    if info.category == RESOLVED:
        ticket.resolved_at = stamp
        timings.record_resolution(ticket)
    elif info.category == CLOSED:
        ticket.closed_at = stamp
        if ticket.resolved_at is None or ticket.resolution_seconds is None:
            ticket.resolved_at = ticket.resolved_at or stamp
            timings.record_resolution(ticket)
    elif old_category in CLOSED_CATEGORIES:
        ticket.resolved_at = None
        ticket.closed_at = None
        timings.record_resolution(ticket)  # a reopen clears the resolution timing
    touch(ticket)
    sla.reconsider(ticket)
    props: dict[str, Any] = {"from": old_status, "to": info.slug}
    if auto:
        props["auto"] = True
    activity.record(ticket, "status_changed", actor, **props)
    db = session()
    record(db, "ticket_status_changed", actor=actor, ticket=ticket,
           old_status=old_status, new_status=info.slug, automatic=auto)
    follow_up = {
        RESOLVED: "ticket_resolved", CLOSED: "ticket_closed", REOPENED: "ticket_reopened",
    }.get(info.category)
    if follow_up:
        record(db, follow_up, actor=actor, ticket=ticket)
    if info.category == ESCALATED:
        record(db, "ticket_escalated", actor=actor, ticket=ticket, reason=reason)
    return ticket


def change_priority(
    ticket: Ticket, priority: object, actor: Actor, *, version: object = None
) -> Ticket:
    check_version(ticket, version)
    if priority not in PRIORITIES:
        raise ValidationError(
            f"Unknown priority '{str(priority)[:20]}'.",
            {"priority": f"one of {', '.join(PRIORITIES)}"},
        )
    assert isinstance(priority, str)
    if priority == ticket.priority:
        return ticket
    old = ticket.priority
    ticket.priority, ticket.priority_rank = priority, PRIORITY_RANK[priority]
    touch(ticket)
    sla.reconsider(ticket)
    activity.record(ticket, "priority_changed", actor, **{"from": old, "to": priority})
    record(session(), "ticket_priority_changed", actor=actor, ticket=ticket,
           old_priority=old, new_priority=priority)
    return ticket


def change_department(
    ticket: Ticket, department_id: object, actor: Actor, *, version: object = None
) -> Ticket:
    check_version(ticket, version)
    errors: dict[str, str] = {}
    department = _department(department_id, errors)
    if errors:
        raise ValidationError("The department is not valid.", errors)
    new_id = department.id if department is not None else None
    if new_id == ticket.department_id:
        return ticket
    old_id = ticket.department_id
    ticket.department_id = new_id
    ticket.department = department
    touch(ticket)
    sla.reconsider(ticket)
    activity.record(ticket, "department_changed", actor, **{"from": old_id, "to": new_id})
    record(session(), "department_changed", actor=actor, ticket=ticket,
           old_department_id=old_id, new_department_id=new_id)
    return ticket


def delete_ticket(ticket: Ticket, actor: Actor) -> None:
    """Delete a ticket with its replies, activity and files (files after the commit)."""
    from ..models import Attachment

    db = session()
    keys = db.execute(
        select(Attachment.storage_key).where(Attachment.ticket_id == ticket.id)
    ).scalars()
    for key in keys:
        storage.delete_after_commit(db, key)
    audit.log(
        actor, "ticket.deleted", "ticket", ticket.id,
        old={"reference": ticket.reference, "subject": ticket.subject, "status": ticket.status},
    )
    deletion.delete_with_dependants(ticket)


def auto_status_after_assignment(ticket: Ticket, actor: Actor) -> None:
    """An ``open`` ticket that gets an assignee moves to ``in_progress``."""
    if ticket.status_category == OPEN:
        change_status(ticket, IN_PROGRESS, actor, auto=True)

