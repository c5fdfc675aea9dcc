"""JSON API v1: macros (an agent tool) and applying one to a ticket."""

from __future__ import annotations

from flask import Response, jsonify

from ...services import macros, tickets
from ..security import current_principal, load_ticket
from .base import route
from .commit import committed
from .schemas import parse_body
from .schemas.macros import MacroCreate, MacroEnvelope, MacroList, MacroUpdate
from .schemas.tickets import TicketEnvelope
from .tickets import detail_payload


@route("/macros", ["GET"], summary="Your macros and the shared ones", tag="Macros",
       permission="macro.view", response=MacroList)
def list_macros() -> Response:
    return jsonify({"data": [macros.serialize(m) for m in macros.visible(current_principal())]})


@route("/macros", ["POST"], summary="Create a macro", tag="Macros", permission="macro.create",
       body=MacroCreate, status=201, response=MacroEnvelope)
def create_macro() -> tuple[Response, int]:
    data = parse_body(MacroCreate).changes()
    with committed():
        row = macros.create(current_principal(), data)
    return jsonify({"data": macros.serialize(row)}), 201


@route("/macros/<int:macro_id>", ["GET"], summary="Show a macro", tag="Macros",
       permission="macro.view", response=MacroEnvelope)
def show_macro(macro_id: int) -> Response:
    return jsonify({"data": macros.serialize(macros.get(current_principal(), macro_id))})


@route("/macros/<int:macro_id>", ["PATCH"], summary="Update a macro", tag="Macros",
       permission="macro.create", body=MacroUpdate, response=MacroEnvelope)
def update_macro(macro_id: int) -> Response:
    data = parse_body(MacroUpdate).changes()
    with committed():
        row = macros.update(current_principal(), macro_id, data)
    return jsonify({"data": macros.serialize(row)})


@route("/macros/<int:macro_id>", ["DELETE"], summary="Delete a macro", tag="Macros",
       permission="macro.create", status=204)
def delete_macro(macro_id: int) -> tuple[str, int]:
    with committed():
        macros.remove(current_principal(), macro_id)
    return "", 204


@route("/tickets/<ident>/macros/<int:macro_id>", ["POST"], summary="Apply a macro to a ticket",
       tag="Macros", permission="macro.view", response=TicketEnvelope)
def apply_macro(ident: str, macro_id: int) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident)
    with committed():
        macros.apply(principal, macro_id, ticket)
    return detail_payload(tickets.get_ticket(ticket.id), principal)
