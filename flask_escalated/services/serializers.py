"""Plain-dict shapes of tickets and their parts, shared by the JSON API and webhook payloads.

Host users are resolved through one bulk ``users_loader`` call per response (see
:class:`People`), never one call per row. Agent-only fields are left out for customers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..domain import STATUS_LABELS
from ..models import Activity, Attachment, Contact, Department, Reply, Tag, Ticket
from . import ext


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


class People:
    """Resolves host user ids to ``{id, name, email}`` with one bulk load."""

    def __init__(self, user_ids: Iterable[str | None]) -> None:
        self._users = ext().load_users(user_ids)

    def user(self, user_id: str | None) -> dict[str, Any] | None:
        if user_id is None:
            return None
        name, email = ext().display(self._users.get(user_id))
        return {"type": "user", "id": user_id, "name": name, "email": email}


def contact(row: Contact | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"type": "contact", "id": row.id, "name": row.name or row.email, "email": row.email}


def department(row: Department | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"id": row.id, "name": row.name, "slug": row.slug}


def department_full(row: Department) -> dict[str, Any]:
    return {
        **(department(row) or {}),
        "description": row.description,
        "is_active": row.is_active,
        "assignment_strategy": row.assignment_strategy,
        "agent_ids": row.agent_ids,
        "created_at": iso(row.created_at),
    }


def tag(row: Tag) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "slug": row.slug, "color": row.color}


def people_for(tickets: Iterable[Ticket]) -> People:
    ids: list[str | None] = []
    for t in tickets:
        ids += [t.requester_user_id, t.assignee_id]
    return People(ids)


def ticket(t: Ticket, people: People, *, for_agent: bool) -> dict[str, Any]:
    requester = people.user(t.requester_user_id) if t.requester_user_id else contact(t.contact)
    data: dict[str, Any] = {
        "id": t.id,
        "reference": t.reference,
        "subject": t.subject,
        "status": t.status,
        "status_category": t.status_category,
        "status_label": STATUS_LABELS.get(t.status, t.status.replace("_", " ").capitalize()),
        "priority": t.priority,
        "ticket_type": t.ticket_type,
        "channel": t.channel,
        "requester": requester,
        "assignee": people.user(t.assignee_id),
        "department": department(t.department),
        "reply_count": t.reply_count,
        "version": t.version,
        "created_at": iso(t.created_at),
        "updated_at": iso(t.updated_at),
        "last_reply_at": iso(t.last_reply_at),
        "first_response_at": iso(t.first_response_at),
        "resolved_at": iso(t.resolved_at),
        "closed_at": iso(t.closed_at),
        "snoozed_until": iso(t.snoozed_until),
    }
    if for_agent:
        # Tags are the team's own labels ("vip", "refund-risk"): never shown to the customer.
        data["tags"] = [tag(x) for x in t.tags]
        data["metadata"] = t.metadata_ or {}
        data["last_customer_reply_at"] = iso(t.last_customer_reply_at)
        data["last_agent_reply_at"] = iso(t.last_agent_reply_at)
    return data


def ticket_detail(t: Ticket, people: People, *, for_agent: bool) -> dict[str, Any]:
    from .csat import for_ticket
    from .custom_fields import custom_field_values
    from .relations import merged_into

    rating = for_ticket(t.id)
    live = merged_into(t)
    return {**ticket(t, people, for_agent=for_agent), "description": t.description,
            "merged_into": None if live is None else {"id": live.id,
                                                      "reference": live.reference},
            "custom_fields": custom_field_values(t, for_customer=not for_agent),
            "satisfaction": None if rating is None else {
                "rating": rating.rating, "comment": rating.comment,
                "rated_at": iso(rating.rated_at)}}


def attachment(row: Attachment) -> dict[str, Any]:
    return {
        "id": row.id,
        "filename": row.filename,
        "content_type": row.content_type,
        "size": row.size,
        "reply_id": row.reply_id,
        "is_internal": row.is_internal,
        "created_at": iso(row.created_at),
    }


def reply(r: Reply, people: People, contacts: dict[int, Contact] | None = None,
          attachments: list[Attachment] | None = None) -> dict[str, Any]:
    if r.author_user_id is not None:
        author = people.user(r.author_user_id)
    elif r.author_contact_id is not None and contacts is not None:
        author = contact(contacts.get(r.author_contact_id))
    else:
        author = None
    return {
        "id": r.id,
        "body": r.body,
        "author": author,
        "author_type": r.author_type,
        "is_internal": r.is_internal,
        "is_pinned": r.is_pinned,
        "channel": r.channel,
        "attachments": [attachment(a) for a in attachments or ()],
        "created_at": iso(r.created_at),
    }


def replies(rows: list[Reply], *, include_internal: bool) -> list[dict[str, Any]]:
    """Many replies with their authors and files: a fixed number of queries for any count."""
    from . import contacts as contact_service
    from . import replies as reply_service

    files = reply_service.attachments_by_reply(rows, include_internal=include_internal)
    authors = contact_service.by_ids({r.author_contact_id for r in rows if r.author_contact_id})
    people = People(r.author_user_id for r in rows)
    return [reply(r, people, authors, files.get(r.id)) for r in rows]


#: What a customer sees of each activity type they may see at all (see
#: ``queries.CUSTOMER_ACTIVITY_TYPES``): the properties named here, nothing else. Left out on
#: purpose: tags given at creation, the assignment strategy and previous assignee, internal flags.
CUSTOMER_ACTIVITY_PROPERTIES: dict[str, frozenset[str]] = {
    "created": frozenset({"channel", "priority"}),
    "reply_added": frozenset({"reply_id"}),
    "status_changed": frozenset({"from", "to"}),
    "priority_changed": frozenset({"from", "to"}),
    "department_changed": frozenset({"from", "to"}),
    "assigned": frozenset({"assignee_id"}),
    "unassigned": frozenset(),
    "attachment_added": frozenset({"attachment_id", "filename"}),
}


def activity(row: Activity, people: People, *, for_agent: bool) -> dict[str, Any]:
    properties = dict(row.properties or {})
    if not for_agent:
        allowed = CUSTOMER_ACTIVITY_PROPERTIES.get(row.type, frozenset())
        properties = {k: v for k, v in properties.items() if k in allowed}
    return {
        "id": row.id,
        "type": row.type,
        "actor": people.user(row.actor_user_id) if row.actor_user_id else (
            {"type": row.actor_type, "id": row.actor_contact_id} if row.actor_contact_id
            else {"type": row.actor_type}
        ),
        "properties": properties,
        "created_at": iso(row.created_at),
    }
