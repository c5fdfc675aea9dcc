"""The composer's canned-response picker, without JavaScript.

The picker is a select inside the reply form with an "Insert" button whose ``formaction`` posts
the whole form here: the response is rendered for the ticket and appended to the typed draft,
and the ticket page comes back with the composer holding both (nothing is sent or saved).
``agent.js`` does the same in place, at the cursor, through the API's preview.
"""

from __future__ import annotations

from flask import Blueprint

from ..services import canned
from ..services.errors import ServiceError
from ..services.ids import parse_id
from .security import load_ticket, requires


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/tickets/<ident>/canned", "canned_insert", insert_canned, methods=["POST"])


def appended(draft: str, text: str) -> str:
    """``text`` after the draft, a blank line between them (a new paragraph in Markdown)."""
    draft = draft.replace("\r\n", "\n")
    return f"{draft.rstrip()}\n\n{text}" if draft.strip() else text


@requires("canned.view")
def insert_canned(ident: str) -> tuple[str, int]:
    from flask import request

    from .agent import REPLY_KINDS, _render_ticket

    ticket, principal = load_ticket(ident)
    body = request.form.get("body") or ""
    kind = request.form.get("kind")
    draft = {"body": body, "kind": kind if kind in REPLY_KINDS else "reply"}
    try:
        raw = request.form.get("canned_id") or ""
        if parse_id(raw) is None:
            from ..services.errors import ValidationError

            raise ValidationError(
                "Choose a canned response to insert.", {"canned_id": "choose one"}
            )
        text = canned.preview(principal, raw, ticket)
    except ServiceError as exc:
        return _render_ticket(ticket, principal, status=exc.status, error=exc.message, draft=draft)
    draft["body"] = appended(body, text)
    return _render_ticket(ticket, principal, draft=draft)
