"""JSON API v1: merge a ticket into another, split replies into a new ticket, typed links."""

from __future__ import annotations

from flask import Response, jsonify

from ...services import relations, tickets
from ..security import load_ticket
from .base import decode_cursor, encode_cursor, page_limit, route
from .commit import committed
from .schemas import parse_body
from .schemas.relations import LinkCreate, LinkEnvelope, LinkPage, MergeRequest, SplitRequest
from .schemas.tickets import TicketEnvelope
from .tickets import detail_payload


@route("/tickets/<ident>/merge", ["POST"], summary="Merge this ticket into another (its "
       "replies, notes, files, followers and tags move; it is closed and forwards there)",
       tag="Relations", permission="ticket.merge", body=MergeRequest, response=TicketEnvelope)
def merge_ticket(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.merge")
    data = parse_body(MergeRequest)
    with committed():
        target = relations.merge(principal, ticket, data.into)
        target_id = target.id
    return detail_payload(tickets.get_ticket(target_id), principal)


@route("/tickets/<ident>/split", ["POST"], summary="Split replies into a new ticket",
       tag="Relations", permission="ticket.split", body=SplitRequest, status=201,
       response=TicketEnvelope)
def split_ticket(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.split")
    data = parse_body(SplitRequest)
    with committed():
        new = relations.split(principal, ticket, data.reply_ids, data.subject)
        new_id = new.id
    return detail_payload(tickets.get_ticket(new_id), principal, 201)


@route("/tickets/<ident>/links", ["GET"], summary="List a ticket's links (keyset paged)",
       tag="Relations", permission="ticket.view", paged=True, response=LinkPage)
def list_ticket_links(ident: str) -> Response:
    ticket, principal = load_ticket(ident)
    limit = page_limit()
    cursor = decode_cursor("links")
    after = cursor if isinstance(cursor, int) and not isinstance(cursor, bool) else None
    rows = relations.list_links(ticket, principal, limit=limit + 1, after=after)
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify({"data": [r.as_dict() for r in rows],
                    "next_cursor": encode_cursor("links", rows[-1].id if more else None)})


@route("/tickets/<ident>/links", ["POST"], summary="Link this ticket to another",
       tag="Relations", permission="ticket.edit", body=LinkCreate, status=201,
       response=LinkEnvelope)
def create_ticket_link(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    data = parse_body(LinkCreate)
    with committed():
        view = relations.link(principal, ticket, data.ticket, data.type)
        body = view.as_dict()
    return jsonify({"data": body}), 201


@route("/tickets/<ident>/links/<int:link_id>", ["DELETE"], summary="Remove a link",
       tag="Relations", permission="ticket.edit", status=204)
def delete_ticket_link(ident: str, link_id: int) -> tuple[str, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    with committed():
        relations.unlink(principal, ticket, link_id)
    return "", 204
