"""JSON API v1: the inbound mail log (what arrived, what became of it) and reprocessing."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ...models import InboundEmail
from ...services import inbound, inbound_pipeline
from ...services.serializers import iso
from ..security import current_principal
from .base import keyset_page, route
from .schemas import parse_query
from .schemas.mail import InboundEnvelope, InboundList, InboundPage, ReprocessEnvelope


def _row(row: InboundEmail, *, raw: bool = False) -> dict[str, Any]:
    out = {"id": row.id, "adapter": row.adapter, "status": row.status, "outcome": row.outcome,
           "matched_by": row.matched_by, "message_id": row.message_id,
           "from_email": row.from_email, "from_name": row.from_name, "to": row.to_email,
           "subject": row.subject, "ticket_id": row.ticket_id, "reply_id": row.reply_id,
           "error": row.error, "raw_size": row.raw_size, "created_at": iso(row.created_at),
           "processed_at": iso(row.processed_at)}
    if raw:
        out["raw_excerpt"] = inbound.raw_of(row)[:20_000].decode("utf-8", "replace")
    return out


@route("/inbound-emails", ["GET"], summary="The inbound mail log, newest first", tag="E-mail",
       permission="inbound_email.view", paged=True,
       query=InboundList, response=InboundPage)
def list_inbound() -> Response:
    args = parse_query(InboundList)
    return keyset_page("inbound", lambda before, limit: inbound.list_messages(
        before=before, limit=limit, status=args.status, ticket_id=args.ticket_id,
        q=args.q or None), _row)


@route("/inbound-emails/<int:inbound_id>", ["GET"], summary="One inbound message, with the raw "
       "text", tag="E-mail", permission="inbound_email.view",
       response=InboundEnvelope)
def show_inbound(inbound_id: int) -> Response:
    return jsonify({"data": _row(inbound.get(inbound_id), raw=True)})


@route("/inbound-emails/<int:inbound_id>/reprocess", ["POST"],
       summary="Parse and apply a stored message again", tag="E-mail",
       permission="inbound_email.manage", response=ReprocessEnvelope)
def reprocess_inbound(inbound_id: int) -> tuple[Response, int]:
    status, body = inbound_pipeline.reprocess(current_principal().actor, inbound_id)
    if status >= 400:
        return jsonify(body), status
    return jsonify({"data": body}), 200
