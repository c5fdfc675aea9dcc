"""One inbound message from the webhook to its outcome, each step in its own transaction.

Storing the message commits first, so a parse error, a validation error or a crash later never
loses it: the row says what went wrong and an admin can reprocess it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
from typing import Any

from sqlalchemy.exc import DataError, InterfaceError, OperationalError, StatementError
from sqlalchemy.orm.attributes import set_committed_value

from ..events import Actor
from ..models import InboundEmail
from . import audit, ext, inbound
from .errors import Conflict, ServiceError
from .inbound_parse import (
    ParsedMail,
    SubscriptionConfirmation,
    UnreadableMail,
    check_storable,
    parse_mailgun,
    parse_mime,
    parse_postmark,
    parse_ses,
)

log = logging.getLogger("flask_escalated.inbound")


def mailgun_raw(form: dict[str, str], files: list[tuple[str, str, bytes]]) -> bytes:
    """Mailgun's form post kept as JSON (fields and base64 files), so it can be re-read."""
    return json.dumps({"form": form, "files": [
        {"name": n, "type": t, "data": base64.b64encode(b).decode()} for n, t, b in files
    ]}).encode()


def parse(adapter: str, raw: bytes) -> ParsedMail:
    """The adapter's parser, and bodies checked for what no database stores alike. Input
    nested too deeply for the parsers (JSON or MIME) is unreadable too."""
    try:
        return check_storable(_parse(adapter, raw))
    except RecursionError:
        raise UnreadableMail("The message is nested too deeply to read.") from None


def _parse(adapter: str, raw: bytes) -> ParsedMail:
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
        try:
            files = [(str(f.get("name", "")), str(f.get("type", "")),
                      base64.b64decode(str(f.get("data", ""))))
                     for f in data.get("files") or [] if isinstance(f, dict)]
        except (binascii.Error, ValueError):
            raise UnreadableMail("A Mailgun file is not base64.") from None
        return parse_mailgun(data["form"], files)
    raise UnreadableMail(f"Unknown adapter {adapter[:20]!r}.")


def run(adapter: str, raw: bytes) -> tuple[int, dict[str, Any]]:
    """Store, parse and apply one message; returns (HTTP status, response body).

    The stored row and the bytes in hand are applied as they are: reading both back from the
    database and the storage right after storing them would only repeat what is known."""
    escalated = ext()
    with escalated.unit_of_work():
        row = inbound.receive(adapter, raw)
        ident = row.id
    # The commit expired the row; its key is known, so the UPDATE that records the outcome
    # needs no SELECT to find it (nothing else of the row is read before it is written).
    set_committed_value(row, "id", ident)
    return apply(ident, stored=(row, adapter, raw))


def _failure(inbound_id: int, status: int, code: str, message: str, reason: str,
             outcome: str = "error") -> tuple[int, dict[str, Any]]:
    """Mark the stored message failed with ``reason`` and answer in the error envelope."""
    with ext().unit_of_work():
        inbound.fail(inbound.get(inbound_id), reason, outcome)
    return status, {"error": {"code": code, "message": message,
                              "fields": {"inbound_id": inbound_id}}}


def apply(inbound_id: int, stored: tuple[InboundEmail, str, bytes] | None = None
          ) -> tuple[int, dict[str, Any]]:
    """Parse and apply a stored message (also the admin's "reprocess").

    ``stored``: the row just committed by :func:`run`, its adapter and raw bytes, so they are
    not read back (the row is only written to, by primary key, and answered by ``inbound_id``).
    Whatever happens, the stored row ends with an outcome: input that cannot be read or
    stored is failed with the reason (422), and an unexpected error too (500, logged)."""
    escalated = ext()
    if stored is not None:
        fresh, adapter, raw = stored
    else:
        fresh = inbound.get(inbound_id)
        adapter, raw = fresh.adapter, inbound.raw_of(fresh)
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
        return _failure(inbound_id, 422, "unreadable_mail", str(exc), str(exc), "unreadable")
    except Exception as exc:  # a parser gave up in a way it does not name: still unreadable
        log.warning("inbound message %s could not be read", inbound_id, exc_info=True)
        reason = f"The message could not be read ({type(exc).__name__}: {exc})"[:2000]
        return _failure(inbound_id, 422, "unreadable_mail", reason, reason, "unreadable")
    try:
        with escalated.unit_of_work():
            outcome = inbound.process(fresh, parsed)
            body = outcome.as_dict(inbound_id)
    except inbound.DuplicateMessage:
        with escalated.unit_of_work():
            row = inbound.get(inbound_id)
            inbound.record_parsed(row, parsed)
            outcome = inbound.finish(row, inbound.Outcome("duplicate", "duplicate"))
            body = outcome.as_dict(inbound_id)
    except ServiceError as exc:
        with escalated.unit_of_work():
            inbound.fail(inbound.get(inbound_id), f"{exc.message} {exc.fields}")
        return 422, {"error": {"code": exc.code, "message": exc.message,
                               "fields": {**exc.fields, "inbound_id": inbound_id}}}
    except (OperationalError, InterfaceError) as exc:
        # The database went away (restart, failover, deadlock): not the message's fault. It
        # is marked failed if the database is back, and the 503 makes the provider send it
        # again; its Message-ID keeps the retry from being applied twice.
        with contextlib.suppress(Exception):
            _failure(inbound_id, 503, "unavailable", "", f"The database was unavailable: "
                     f"{exc.orig or exc}"[:2000])
        raise
    except (DataError, StatementError) as exc:  # a value the database refused
        reason = f"The database refused a value of this message: {exc.orig or exc}"[:2000]
        return _failure(inbound_id, 422, "unstorable_mail", "The message could not be stored.",
                        reason)
    except Exception as exc:
        log.exception("inbound message %s failed", inbound_id)
        return _failure(inbound_id, 500, "server_error", "Something went wrong on our side.",
                        f"{type(exc).__name__}: {exc}"[:2000])
    status = 201 if body["outcome"] == "ticket_created" else 200
    return status, body


def reprocess(actor: Actor, inbound_id: int) -> tuple[int, dict[str, Any]]:
    """An admin's "reprocess": apply a stored message again, unless it was already applied
    (409). The request is audited in a transaction of its own, before the message is applied,
    so it is on record whatever the outcome."""
    row = inbound.get(inbound_id)
    ident, before = row.id, {"status": row.status, "outcome": row.outcome}
    if row.status == "processed":
        raise Conflict("This message was already applied.", {"status": row.status})
    with ext().unit_of_work():
        audit.log(actor, "inbound_email.reprocessed", "inbound_email", ident, old=before)
    return apply(ident)


def read(row: Any) -> tuple[ParsedMail | None, str | None]:
    """A stored message as the pipeline reads it, for showing it (nothing is changed): the
    parsed mail, or ``None`` and why it cannot be read."""
    try:
        return parse(row.adapter, inbound.raw_of(row)), None
    except SubscriptionConfirmation:
        return None, "An SNS subscription confirmation, not a message."
    except Exception as exc:  # unreadable, or a parser that gave up: say so, never fail
        return None, str(exc)[:500] or type(exc).__name__
