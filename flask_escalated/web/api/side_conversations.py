"""JSON API v1: side conversations on a ticket (agents who can see the ticket only; anyone
else, a customer's token included, gets a 404 as if there were none)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ...models import SideConversation, SideConversationReply, Ticket
from ...services import serializers
from ...services import side_conversations as sides
from ...services.errors import ValidationError
from ...services.permissions import Principal
from ...services.tickets import get_ticket
from ..security import current_principal
from .base import decode_cursor, encode_cursor, page_limit, route
from .commit import committed
from .schemas import parse_body
from .schemas.side_conversations import (
    SideConversationCreate,
    SideConversationEnvelope,
    SideConversationPage,
    SideReplyCreate,
)

TAG = "Side conversations"
BASE = "/tickets/<ident>/side-conversations"


def _ticket(ident: str, *, write: bool = False) -> tuple[Ticket, Principal]:
    principal = current_principal()
    ticket = get_ticket(ident)
    sides.check_access(principal, ticket, write=write)
    return ticket, principal


def payloads(rows: list[SideConversation]) -> list[dict[str, Any]]:
    """The conversations with their replies and people: three queries whatever the count."""
    replies = sides.replies_for(rows)
    ids: set[str | None] = set()
    for row in rows:
        ids.update([row.created_by, *(row.participants or [])])
        ids.update(r.author_user_id for r in replies[row.id])
    people = serializers.People(i for i in ids if i)
    return [{
        "id": row.id, "ticket_id": row.ticket_id, "subject": row.subject, "status": row.status,
        "created_by": people.user(row.created_by),
        "participants": [people.user(p) for p in row.participants or []],
        "to_email": row.to_email, "created_at": serializers.iso(row.created_at),
        "updated_at": serializers.iso(row.updated_at), "closed_at": serializers.iso(row.closed_at),
        "replies": [_reply(r, people) for r in replies[row.id]],
    } for row in rows]


def _reply(row: SideConversationReply, people: serializers.People) -> dict[str, Any]:
    return {"id": row.id, "author_type": row.author_type,
            "author": people.user(row.author_user_id), "author_email": row.author_email,
            "body": row.body, "channel": row.channel,
            "created_at": serializers.iso(row.created_at)}


def _one(row: SideConversation, status: int = 200) -> tuple[Response, int]:
    return jsonify({"data": payloads([row])[0]}), status


@route(BASE, ["GET"], summary="List a ticket's side conversations (keyset paged)", tag=TAG,
       permission="ticket.view", paged=True, response=SideConversationPage)
def list_side_conversations(ident: str) -> Response:
    ticket, _ = _ticket(ident)
    after = decode_cursor("side_conversations")
    if after is not None and (isinstance(after, bool) or not isinstance(after, int)):
        raise ValidationError("The cursor is not valid.", {"cursor": "invalid"})
    rows, next_after = sides.page_for_ticket(ticket, limit=page_limit(), after_id=after)
    return jsonify({"data": payloads(rows),
                    "next_cursor": encode_cursor("side_conversations", next_after)})


@route(BASE, ["POST"], summary="Start a side conversation", tag=TAG,
       permission="reply.create_internal", body=SideConversationCreate, status=201,
       response=SideConversationEnvelope)
def create_side_conversation(ident: str) -> tuple[Response, int]:
    ticket, principal = _ticket(ident, write=True)
    data = parse_body(SideConversationCreate)
    with committed():
        row = sides.start(ticket, principal.actor, subject=data.subject, body=data.body,
                          participants=data.participants, to_email=data.to_email)
    return _one(row, 201)


@route(BASE + "/<sc>", ["GET"], summary="Show a side conversation", tag=TAG,
       permission="ticket.view", response=SideConversationEnvelope)
def show_side_conversation(ident: str, sc: str) -> tuple[Response, int]:
    ticket, _ = _ticket(ident)
    return _one(sides.get(ticket, sc))


@route(BASE + "/<sc>/replies", ["POST"], summary="Reply in a side conversation", tag=TAG,
       permission="reply.create_internal", body=SideReplyCreate, status=201,
       response=SideConversationEnvelope)
def reply_side_conversation(ident: str, sc: str) -> tuple[Response, int]:
    ticket, principal = _ticket(ident, write=True)
    row = sides.get(ticket, sc)
    data = parse_body(SideReplyCreate)
    with committed():
        sides.reply(row, ticket, principal.actor, data.body)
    return _one(row, 201)


@route(BASE + "/<sc>/close", ["POST"], summary="Close a side conversation", tag=TAG,
       permission="reply.create_internal", response=SideConversationEnvelope)
def close_side_conversation(ident: str, sc: str) -> tuple[Response, int]:
    ticket, principal = _ticket(ident, write=True)
    row = sides.get(ticket, sc)
    with committed():
        sides.close(row, ticket, principal.actor)
    return _one(row)


@route(BASE + "/<sc>/reopen", ["POST"], summary="Reopen a side conversation", tag=TAG,
       permission="reply.create_internal", response=SideConversationEnvelope)
def reopen_side_conversation(ident: str, sc: str) -> tuple[Response, int]:
    ticket, principal = _ticket(ident, write=True)
    row = sides.get(ticket, sc)
    with committed():
        sides.reopen(row, ticket, principal.actor)
    return _one(row)
