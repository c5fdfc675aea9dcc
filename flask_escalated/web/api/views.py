"""JSON API v1: saved views (named ticket list filters), their tickets and their counts."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from werkzeug.datastructures import MultiDict

from ...services import serializers, ticket_search, views
from ...services.errors import ServiceError, ValidationError
from ..security import current_principal
from .base import decode_cursor, encode_cursor, page_limit, route
from .commit import committed
from .owned import OwnedResource, add_owned_routes
from .schemas import parse_body, parse_query
from .schemas._base import Empty, from_text, validate
from .schemas.tickets import TicketList, TicketPage
from .schemas.views import (
    ViewCounts,
    ViewCreate,
    ViewEnvelope,
    ViewList,
    ViewTickets,
    ViewUpdate,
)

TAG = "Saved views"
#: The same cursor family as GET /tickets: a view's page is a ticket list page.
CURSOR = "tickets"


def _check_filters(data: dict[str, Any]) -> dict[str, Any]:
    """``filters`` through the ticket list's own query schema (``cf.<key>`` aside, as there);
    a refusal names ``filters.<key>``."""
    filters = data.get("filters")
    if not filters:
        return data
    plain = MultiDict(
        [
            (k, v)
            for k, value in filters.items()
            if not k.startswith("cf.")
            for v in (value if isinstance(value, list) else [value])
        ]
    )
    try:
        for key in ("limit", "cursor", "sort"):
            if key in plain:
                raise ValidationError("Not a filter.", {key: "not a filter (sort is apart)"})
        validate(TicketList, from_text(TicketList, plain))
    except ServiceError as exc:
        raise ValidationError(
            "The view's filters are not valid.",
            {f"filters.{k.split('[')[0]}": v for k, v in (exc.fields or {}).items()},
        ) from None
    return data


def _out(rows: list[Any]) -> list[dict[str, Any]]:
    principal = current_principal()
    depts = views.department_ids(rows)
    known = views.known_for(rows)
    default = views.default_view_id(principal)
    return [
        views.serialize(r, depts[r.id], views.to_filter(r, known)[1], is_default=r.id == default)
        for r in rows
    ]


@route(
    "/views",
    ["GET"],
    summary="The saved views you see, in navigation order",
    tag=TAG,
    permission="ticket.view",
    response=ViewList,
)
def list_views() -> Response:
    return jsonify({"data": _out(views.list_views(current_principal()))})


@route(
    "/views/counts",
    ["GET"],
    summary="Every visible view's ticket count (one query)",
    tag=TAG,
    permission="ticket.view",
    response=ViewCounts,
)
def view_counts() -> Response:
    found = views.counts(current_principal())
    return jsonify({"data": [{"id": k, "count": v} for k, v in found.items()]})


add_owned_routes(
    OwnedResource(
        path="/views",
        id_name="view_id",
        noun="view",
        tag=TAG,
        service=views,
        out=lambda row: _out([row])[0],
        create_body=ViewCreate,
        update_body=ViewUpdate,
        envelope=ViewEnvelope,
        read_permission="ticket.view",
        write_permission="ticket.view",
        summaries={
            "create": "Save a view (shared ones need view.manage)",
            "show": "Show a saved view",
            "update": "Change a saved view (your own, or a shared one with view.manage)",
            "delete": "Delete a saved view",
        },
        check=_check_filters,
    )
)


@route(
    "/views/<int:view_id>/tickets",
    ["GET"],
    summary="A view's tickets, keyset paged like GET /tickets",
    tag=TAG,
    permission="ticket.view",
    paged=True,
    query=ViewTickets,
    response=TicketPage,
)
def view_tickets(view_id: int) -> Response:
    parse_query(ViewTickets)
    principal = current_principal()
    view = views.get(principal, view_id)
    rows, next_cursor, flt, _ = views.tickets(view, principal, decode_cursor(CURSOR), page_limit())
    people = serializers.people_for(rows)
    data = [serializers.ticket(t, people, for_agent=principal.is_agent) for t in rows]
    if flt.q:
        found = ticket_search.snippets(
            [t.id for t in rows], flt.q, include_notes=principal.is_agent
        )
        for item in data:
            item["search_snippet"] = found.get(item["id"])
    return jsonify({"data": data, "next_cursor": encode_cursor(CURSOR, next_cursor)})


@route(
    "/views/<int:view_id>/default",
    ["POST"],
    summary="Make a view you see your default (the queue opens on it)",
    tag=TAG,
    permission="ticket.view",
    body=Empty,
    response=ViewEnvelope,
)
def make_default_view(view_id: int) -> Response:
    parse_body(Empty)
    principal = current_principal()
    with committed():
        views.set_default(principal, view_id)
    return jsonify({"data": _out([views.get(principal, view_id)])[0]})
