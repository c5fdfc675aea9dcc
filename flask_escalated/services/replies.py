"""Replies and internal notes, and the lifecycle moves a reply causes."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from ..clock import now
from ..config import Config
from ..domain import (
    ACTOR_SYSTEM,
    CLOSED,
    IN_PROGRESS,
    OPEN,
    REOPENED,
    RESOLVED,
    WAITING_ON_AGENT,
    WAITING_ON_CUSTOMER,
)
from ..events import Actor, record
from ..models import Attachment, Reply, Ticket
from . import activity, attachments, session, sla, tickets, timings
from .errors import Conflict, NotFound, ValidationError
from .ids import parse_id

#: After an agent's public reply the ticket waits on the customer.
_AGENT_REPLY_MOVES = frozenset({OPEN, IN_PROGRESS, WAITING_ON_AGENT, REOPENED})


def _body(value: object) -> str:
    limit = current_app.config[Config.MAX_BODY_LENGTH]
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("The message is empty.", {"body": "required"})
    if len(value) > limit:
        raise ValidationError(
            f"The message is longer than {limit} characters.", {"body": f"at most {limit}"}
        )
    return value.strip()


def add_reply(
    ticket: Ticket,
    body: object,
    actor: Actor,
    *,
    internal: bool = False,
    uploads: list[attachments.Upload] | None = None,
    channel: str = "web",
    metadata: dict[str, Any] | None = None,
) -> Reply:
    """Add a public reply (or, with ``internal``, a note) and apply the automatic moves.
    ``metadata``: stored with the reply (e-mail replies keep their message's headers)."""
    text = _body(body)
    if internal and not actor.is_agent and actor.kind != ACTOR_SYSTEM:
        raise ValidationError("Only agents write internal notes.", {"internal": "agents only"})
    if not internal and ticket.status_category == CLOSED and not actor.is_agent:
        raise Conflict(
            "This ticket is closed; open a new ticket instead.", {"ticket": "closed"}
        )
    author_type = "agent" if actor.is_agent else actor.kind
    reply = Reply(
        ticket_id=ticket.id,
        author_user_id=actor.user_id,
        author_contact_id=actor.contact_id,
        author_type=author_type,
        body=text,
        is_internal=internal,
        channel=channel,
        department_id=ticket.department_id,
        metadata_=metadata,
    )
    db = session()
    db.add(reply)
    db.flush()
    if uploads:
        attachments.add(ticket, uploads, actor, reply=reply, is_internal=internal)
    if internal:
        activity.record(ticket, "note_added", actor, reply_id=reply.id)
        record(db, "internal_note_added", actor=actor, ticket=ticket, reply=reply)
        return reply

    stamp = now()
    ticket.reply_count = (ticket.reply_count or 0) + 1
    ticket.last_reply_at = stamp
    if actor.is_agent:
        ticket.last_agent_reply_at = stamp
        if ticket.first_response_at is None:
            ticket.first_response_at = stamp
            timings.record_first_response(ticket)
        sla.on_agent_reply(ticket)
    else:
        ticket.last_customer_reply_at = stamp
        if ticket.snoozed_until is not None:
            from . import snooze

            snooze.unsnooze(ticket, actor, reason="customer reply")
        sla.on_customer_reply(ticket)
    activity.record(ticket, "reply_added", actor, reply_id=reply.id)
    record(db, "reply_created", actor=actor, ticket=ticket, reply=reply)
    _auto_move(ticket, actor)
    return reply


def _auto_move(ticket: Ticket, actor: Actor) -> None:
    category = ticket.status_category
    if actor.is_agent:
        if category in _AGENT_REPLY_MOVES:
            tickets.change_status(ticket, WAITING_ON_CUSTOMER, actor, auto=True)
    elif actor.kind != ACTOR_SYSTEM:
        if category == WAITING_ON_CUSTOMER:
            tickets.change_status(ticket, WAITING_ON_AGENT, actor, auto=True)
        elif category == RESOLVED:
            tickets.change_status(ticket, REOPENED, actor, auto=True)


def set_pinned(ticket: Ticket, reply_id: object, pinned: bool, actor: Actor) -> Reply:
    """Pin or unpin an internal note."""
    reply = get_reply(ticket, reply_id)
    if not reply.is_internal:
        raise ValidationError("Only internal notes can be pinned.", {"reply": "not a note"})
    if reply.is_pinned == pinned:
        return reply
    reply.is_pinned = pinned
    activity.record(ticket, "note_pinned" if pinned else "note_unpinned", actor, reply_id=reply.id)
    return reply


def get_reply(ticket: Ticket, reply_id: object) -> Reply:
    rid = parse_id(str(reply_id))
    if rid is None:
        raise NotFound("No such reply.")
    reply = session().execute(
        select(Reply).where(Reply.id == rid, Reply.ticket_id == ticket.id)
    ).scalar_one_or_none()
    if reply is None:
        raise NotFound("No such reply.")
    return reply


def list_replies(ticket: Ticket, *, include_internal: bool) -> list[Reply]:
    """The conversation in order; internal notes only when asked for."""
    query = select(Reply).where(Reply.ticket_id == ticket.id)
    if not include_internal:
        query = query.where(Reply.is_internal.is_(False))
    return list(session().execute(query.order_by(Reply.created_at, Reply.id)).scalars())


def attachments_by_reply(rows: list[Reply], *, include_internal: bool
                         ) -> dict[int, list[Attachment]]:
    """The files of many replies in one query."""
    found: dict[int, list[Attachment]] = {}
    ids = [r.id for r in rows]
    if ids:
        query = select(Attachment).where(Attachment.reply_id.in_(ids)).order_by(Attachment.id)
        if not include_internal:
            query = query.where(Attachment.is_internal.is_(False))
        for a in session().execute(query).scalars():
            found.setdefault(a.reply_id or 0, []).append(a)
    return found
