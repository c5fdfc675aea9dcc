"""JSON API v1: canned responses (personal and shared), and one rendered for a ticket."""

from __future__ import annotations

from flask import Response, jsonify

from ...services import canned
from ..security import current_principal, load_ticket
from .base import decode_cursor, encode_cursor, page_limit, route
from .commit import committed
from .schemas import parse_body, parse_query
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


@route(
    "/canned-responses",
    ["POST"],
    summary="Create a canned response (shared ones need canned.manage)",
    tag=TAG,
    permission="canned.create",
    body=CannedCreate,
    status=201,
    response=CannedEnvelope,
)
def create_canned_response() -> tuple[Response, int]:
    data = parse_body(CannedCreate).changes()
    with committed():
        row = canned.create(current_principal(), data)
    return jsonify({"data": canned.serialize(row)}), 201


@route(
    "/canned-responses/<int:canned_id>",
    ["GET"],
    summary="Show a canned response",
    tag=TAG,
    permission="canned.view",
    response=CannedEnvelope,
)
def show_canned_response(canned_id: int) -> Response:
    return jsonify({"data": canned.serialize(canned.get(current_principal(), canned_id))})


@route(
    "/canned-responses/<int:canned_id>",
    ["PATCH"],
    summary="Update a canned response (your own, or a shared one with canned.manage)",
    tag=TAG,
    permission="canned.create",
    body=CannedUpdate,
    response=CannedEnvelope,
)
def update_canned_response(canned_id: int) -> Response:
    data = parse_body(CannedUpdate).changes()
    with committed():
        row = canned.update(current_principal(), canned_id, data)
    return jsonify({"data": canned.serialize(row)})


@route(
    "/canned-responses/<int:canned_id>",
    ["DELETE"],
    summary="Delete a canned response",
    tag=TAG,
    permission="canned.create",
    status=204,
)
def delete_canned_response(canned_id: int) -> tuple[str, int]:
    with committed():
        canned.remove(current_principal(), canned_id)
    return "", 204


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
