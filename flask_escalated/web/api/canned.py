"""JSON API v1: canned responses (personal and shared), and one rendered for a ticket."""

from __future__ import annotations

from flask import Response, jsonify

from ...services import canned
from ..security import current_principal, load_ticket
from .base import decode_cursor, encode_cursor, page_limit, route
from .owned import OwnedResource, add_owned_routes
from .schemas import parse_query
from .schemas.canned import (
    CannedCreate,
    CannedEnvelope,
    CannedList,
    CannedPage,
    CannedUpdate,
    RenderedEnvelope,
)

TAG = "Canned responses"
CURSOR = "canned"


@route(
    "/canned-responses",
    ["GET"],
    summary="Your canned responses and the shared ones you may use, by title",
    tag=TAG,
    permission="canned.view",
    paged=True,
    query=CannedList,
    response=CannedPage,
)
def list_canned_responses() -> Response:
    args = parse_query(CannedList)
    rows, more = canned.list_page(
        current_principal(),
        limit=page_limit(),
        after=canned.read_cursor(decode_cursor(CURSOR)),
        q=args.q,
        shared=args.shared,
        department_id=args.department_id,
    )
    return jsonify(
        {
            "data": [canned.serialize(r) for r in rows],
            "next_cursor": encode_cursor(
                CURSOR, canned.cursor_of(rows[-1]) if more and rows else None
            ),
        }
    )


add_owned_routes(
    OwnedResource(
        path="/canned-responses",
        id_name="canned_id",
        noun="canned_response",
        tag=TAG,
        service=canned,
        out=canned.serialize,
        create_body=CannedCreate,
        update_body=CannedUpdate,
        envelope=CannedEnvelope,
        read_permission="canned.view",
        write_permission="canned.create",
        summaries={
            "create": "Create a canned response (shared ones need canned.manage)",
            "show": "Show a canned response",
            "update": "Update a canned response (your own, or a shared one with canned.manage)",
            "delete": "Delete a canned response",
        },
    )
)


@route(
    "/tickets/<ident>/canned-responses/<int:canned_id>/preview",
    ["GET"],
    summary="A canned response rendered for a ticket",
    tag=TAG,
    permission="canned.view",
    response=RenderedEnvelope,
)
def preview_canned_response(ident: str, canned_id: int) -> Response:
    """The body with the ticket's placeholders filled in, as plain text: a value is inserted
    literally (never read as a placeholder again) and unknown placeholders stay as written."""
    ticket, principal = load_ticket(ident)
    return jsonify({"data": {"body": canned.preview(principal, canned_id, ticket)}})
