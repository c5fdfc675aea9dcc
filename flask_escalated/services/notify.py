"""The notify actions of escalation rules: an e-mail or a webhook call, sent after commit.

Notifications are collected on the session while a rule acts and handed to the job queue only
once the transaction has committed (a rolled-back evaluation notifies nobody). E-mail goes
through the host's Flask-Mail connection when it is set up, every header written as data by
:func:`.mail.build_message`; with no mail configured it is logged and skipped. Webhook calls
refuse URLs that are not http(s) or that point at loopback, private or link-local addresses,
unless the host is listed in ``ESCALATED_WEBHOOK_ALLOWED_HOSTS``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from ..config import Config
from ..models import Ticket
from . import ext, outbound, session
from .contacts import normalize_email
from .errors import ValidationError

log = logging.getLogger("flask_escalated.notify")
_PENDING = "escalated.notifications"
TIMEOUT = 5


def validate(kind: str, value: dict[str, Any]) -> dict[str, Any]:
    if kind == "notify_webhook":
        return {"url": outbound.check_url(value.get("url"), "actions")}
    to = value.get("to", "assignee")
    if to != "assignee":
        to = normalize_email(to)
    subject, body = value.get("subject", ""), value.get("body", "")
    if not isinstance(subject, str) or not isinstance(body, str) or "\n" in subject \
            or "\r" in subject or len(subject) > 200 or len(body) > 20_000:
        raise ValidationError("notify_email needs a one-line subject and a body.",
                              {"actions": "subject/body"})
    return {"to": to, "subject": subject, "body": body}


def queue(kind: str, value: dict[str, Any], ticket: Ticket, rule_name: str) -> None:
    """Remember a notification; it is sent after the commit."""
    payload = {"kind": kind, "value": value, "ticket_id": ticket.id,
               "reference": ticket.reference, "subject": ticket.subject,
               "assignee_id": ticket.assignee_id, "rule": rule_name}
    session().info.setdefault(_PENDING, []).append(payload)


def install(session_factory: Any) -> None:
    if sa_event.contains(session_factory, "after_commit", _after_commit):
        return
    sa_event.listen(session_factory, "after_commit", _after_commit)
    sa_event.listen(session_factory, "after_rollback", _after_rollback)


def _after_rollback(db: Session) -> None:
    if not db.in_nested_transaction():
        db.info.pop(_PENDING, None)


def _after_commit(db: Session) -> None:
    if db.in_nested_transaction():  # a SAVEPOINT released: wait for the real commit
        return
    pending = db.info.pop(_PENDING, None)
    if not pending:
        return
    from ..jobs import enqueue

    for payload in pending:
        try:
            enqueue(send, payload)
        except Exception:
            log.exception("could not queue notification %s", payload.get("kind"))


def send(payload: dict[str, Any]) -> str:
    """Job: deliver one notification; returns what happened (never raises)."""
    try:
        if payload["kind"] == "notify_webhook":
            return _post(payload)
        return _mail(payload)
    except Exception as exc:
        log.warning("notification for %s failed: %s", payload.get("reference"), exc)
        return f"failed: {exc}"


def _mail(payload: dict[str, Any]) -> str:
    mail = current_app.extensions.get("mail")
    if mail is None:
        log.info("no Flask-Mail set up; e-mail for %s skipped", payload["reference"])
        return "skipped: no mail"
    to = payload["value"]["to"]
    if to == "assignee":
        user = ext().load_user(payload["assignee_id"])
        to = ext().display(user)[1] if user is not None else None
        if not to:
            return "skipped: no assignee e-mail"
    from email.utils import parseaddr

    from . import mail

    subject = payload["value"]["subject"] or f"[{payload['reference']}] escalated"
    body = payload["value"]["body"] or (
        f"Ticket {payload['reference']} ({payload['subject']}) matched the escalation rule "
        f"'{payload['rule']}'.")
    sender = current_app.config[Config.MAIL_FROM] or current_app.config.get("MAIL_DEFAULT_SENDER")
    name, address = sender if isinstance(sender, tuple) else parseaddr(str(sender or ""))
    mail.transmit(mail.build_message(
        subject=subject, sender=(name, address), to=(None, to),
        headers={"Auto-Submitted": "auto-generated"}, text=body))
    return "sent"


def _post(payload: dict[str, Any]) -> str:
    body = json.dumps({"event": "escalation.notify", "payload": {
        "ticket_id": payload["ticket_id"], "reference": payload["reference"],
        "subject": payload["subject"], "rule": payload["rule"]}}).encode()
    result = outbound.post(payload["value"]["url"], body,
                           {"Content-Type": "application/json"}, timeout=TIMEOUT)
    return f"sent: {result.status}" if result.ok else f"failed: {result.error or result.status}"
