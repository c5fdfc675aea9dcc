"""One inbound message from the webhook to its outcome, each step in its own transaction.

Storing the message commits first, so a parse error, a validation error or a crash later never
loses it: the row says what went wrong and an admin can reprocess it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from . import ext, inbound
from .errors import ServiceError
from .inbound_parse import (
    ParsedMail,
    SubscriptionConfirmation,
    UnreadableMail,
    parse_mailgun,
    parse_mime,
    parse_postmark,
    parse_ses,
)


def mailgun_raw(form: dict[str, str], files: list[tuple[str, str, bytes]]) -> bytes:
    """Mailgun's form post kept as JSON (fields and base64 files), so it can be re-read."""
    return json.dumps({"form": form, "files": [
        {"name": n, "type": t, "data": base64.b64encode(b).decode()} for n, t, b in files
    ]}).encode()


def parse(adapter: str, raw: bytes) -> ParsedMail:
    if adapter == "raw":
        return parse_mime(raw)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise UnreadableMail("The body is not valid JSON.") from None
    if adapter == "postmark":
        return parse_postmark(data)
    if adapter == "ses":
        return parse_ses(data)
    if adapter == "mailgun":
        if not isinstance(data, dict) or not isinstance(data.get("form"), dict):
            raise UnreadableMail("Not a Mailgun form post.")
        files = [(f.get("name", ""), f.get("type", ""), base64.b64decode(f.get("data", "")))
                 for f in data.get("files") or [] if isinstance(f, dict)]
        return parse_mailgun(data["form"], files)
    raise UnreadableMail(f"Unknown adapter {adapter[:20]!r}.")


def run(adapter: str, raw: bytes) -> tuple[int, dict[str, Any]]:
    """Store, parse and apply one message; returns (HTTP status, response body)."""
    escalated = ext()
    with escalated.unit_of_work():
        row = inbound.receive(adapter, raw)
    return apply(row.id)


def apply(inbound_id: int) -> tuple[int, dict[str, Any]]:
    """Parse and apply a stored message (also the admin's "reprocess")."""
    escalated = ext()
    row = inbound.get(inbound_id)
    adapter, raw = row.adapter, inbound.raw_of(row)
    try:
        parsed = parse(adapter, raw)
    except SubscriptionConfirmation as note:
        with escalated.unit_of_work():
            row = inbound.get(inbound_id)
            row.status, row.outcome = "ignored", "sns_subscription"
            row.error = (f"SNS subscription for {note.topic_arn}: confirm it by opening "
                         f"{note.subscribe_url} (Escalated never fetches it itself).")
        return 200, {"inbound_id": inbound_id, "status": "ignored",
                     "outcome": "sns_subscription"}
    except UnreadableMail as exc:
        with escalated.unit_of_work():
            inbound.fail(inbound.get(inbound_id), str(exc), "unreadable")
        return 422, {"error": {"code": "unreadable_mail", "message": str(exc),
                               "fields": {"inbound_id": inbound_id}}}
    try:
        with escalated.unit_of_work():
            row = inbound.get(inbound_id)
            outcome = inbound.process(row, parsed)
            body = outcome.as_dict(row)
    except inbound.DuplicateMessage:
        with escalated.unit_of_work():
            row = inbound.get(inbound_id)
            inbound.record_parsed(row, parsed)
            outcome = inbound.finish(row, inbound.Outcome("duplicate", "duplicate"))
            body = outcome.as_dict(row)
    except ServiceError as exc:
        with escalated.unit_of_work():
            inbound.fail(inbound.get(inbound_id), f"{exc.message} {exc.fields}")
        return 422, {"error": {"code": exc.code, "message": exc.message,
                               "fields": {**exc.fields, "inbound_id": inbound_id}}}
    status = 201 if body["outcome"] == "ticket_created" else 200
    return status, body
