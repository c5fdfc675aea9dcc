"""Webhooks that never lose an event.

The outbox: every domain event a subscription matches becomes a delivery row **in the same
transaction as the change** (a ``before_commit`` handler), so a change and its deliveries commit
or roll back together, whatever happens to Redis or a worker. After the commit each new delivery
is handed to the ``escalated-webhooks`` queue; ``deliver-webhooks`` sweeps the outbox for
anything due, so a lost job is re-sent.

Each POST carries the family's envelope ``{"id", "event", "payload", "timestamp"}`` signed with
``X-Escalated-Signature`` = hex HMAC-SHA256 of the raw body keyed by the endpoint's secret. The
id and timestamp are inside the signed body, so a receiver can refuse stale or replayed
deliveries. Failures retry with exponential backoff and jitter up to
``ESCALATED_WEBHOOK_MAX_ATTEMPTS``; every attempt is logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..events import DomainEvent, on_after_commit, on_before_commit
from ..models import KbArticle, Reply, Tag, Ticket, Webhook, WebhookAttempt, WebhookDelivery
from ..signals import ALL_SIGNALS, webhook_event_name
from . import audit, cache, deletion, outbound, session, webhook_sender
from .errors import NotFound, ValidationError
from .ids import parse_id

log = logging.getLogger("flask_escalated.webhooks")

EVENTS = tuple(sorted(webhook_event_name(name) for name in ALL_SIGNALS))
_NEW = "escalated.new_deliveries"
CLAIM = webhook_sender.CLAIM


# ---------------------------------------------------------------------------- payloads
def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Reply):
        return {"id": value.id, "is_internal": value.is_internal,
                "author_type": value.author_type, "body": value.body}
    if isinstance(value, Tag):
        return {"id": value.id, "name": value.name, "slug": value.slug}
    if isinstance(value, Ticket):
        return {"id": value.id, "reference": value.reference}
    if isinstance(value, KbArticle):
        return {"id": value.id, "slug": value.slug, "title": value.title,
                "status": value.status, "visibility": value.visibility}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def payload_for(event: DomainEvent) -> dict[str, Any]:
    from .custom_fields import custom_field_values

    t = event.ticket
    body: dict[str, Any] = {"actor": event.actor.as_dict()}
    if t is not None:
        body["ticket"] = {
            "id": t.id, "reference": t.reference, "subject": t.subject, "status": t.status,
            "status_category": t.status_category, "priority": t.priority,
            "assignee_id": t.assignee_id, "department_id": t.department_id,
            "requester_user_id": t.requester_user_id, "contact_id": t.contact_id,
            "channel": t.channel, "version": t.version,
            "custom_fields": custom_field_values(t),
        }
    body.update({k: _plain(v) for k, v in event.data.items()})
    return body


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------- the outbox
@dataclass(frozen=True)
class Subscriber:
    """What the outbox needs of an active webhook (kept in the process cache)."""

    id: int
    events: frozenset[str]


def _load_subscribers() -> tuple[Subscriber, ...]:
    rows = session().execute(
        select(Webhook.id, Webhook.events).where(Webhook.is_active.is_(True)).order_by(Webhook.id))
    return tuple(Subscriber(hook_id, frozenset(events or ())) for hook_id, events in rows)


def _subscribers(db: Session) -> tuple[Subscriber, ...]:
    return cache.cached("webhooks:subscribers", _load_subscribers)


@on_before_commit
def write_outbox(db: Session, events: list[DomainEvent]) -> None:
    """Turn matching domain events into delivery rows inside the committing transaction."""
    hooks = _subscribers(db)
    if not hooks:
        return
    stamp = now()
    rows = []
    for event in events:
        name = webhook_event_name(event.name)
        targets = [h for h in hooks if "*" in h.events or name in h.events]
        if not targets:
            continue
        payload = payload_for(event)
        for hook in targets:
            uid = str(uuid.uuid4())
            body = json.dumps({"id": uid, "event": name, "payload": payload,
                               "timestamp": stamp.isoformat().replace("+00:00", "Z")},
                              separators=(",", ":"), sort_keys=True)
            rows.append(WebhookDelivery(uid=uid, webhook_id=hook.id, event=name, body=body,
                                        status="pending", attempts=0, next_attempt_at=stamp,
                                        created_at=stamp))
    if rows:
        db.add_all(rows)
        db.flush()
        db.info.setdefault(_NEW, []).extend(r.id for r in rows)


@on_after_commit
def hand_over(app: Flask, events: list[DomainEvent]) -> None:
    """After the commit, hand the new deliveries to the webhook queue (RQ, batched: see
    :mod:`.webhook_sender`), or send them from a background thread when there is no Redis:
    the request that caused them never waits for a receiver."""
    db = app.extensions["escalated"].session
    ids = db.info.pop(_NEW, None)
    if not ids:
        return
    from ..jobs.queues import redis_connection, run_in_background

    if redis_connection() is not None:
        webhook_sender.hand_over(ids)
        return
    run_in_background(app, "webhooks", deliver, ids)


# ---------------------------------------------------------------------------- sending
backoff = webhook_sender.backoff


def deliver(delivery_id: int) -> str:
    """Send one delivery once (if not taken by another sender); returns its status.

    No transaction stays open while the receiver answers: the claim commits first, and the
    outcome (delivery row, webhook health, attempt log) is written in a second transaction.
    Batches of deliveries go through :func:`.webhook_sender.deliver_ids` the same way.
    """
    return webhook_sender.deliver_ids([delivery_id]).get(delivery_id, "skipped")


def due_ids(limit: int = 500, at: datetime | None = None) -> list[int]:
    """Deliveries due now, read on a fresh connection: deliveries are written outside the
    caller's session, and a repeatable-read snapshot would keep offering the same rows."""
    with webhook_sender._engine().connect() as conn:
        return list(conn.execute(webhook_sender.due(limit, at or now())).scalars())


def redeliver(actor: Any, webhook_id: object, delivery_id: object) -> WebhookDelivery:
    """Send a delivery again (same id and body), whatever its state."""
    hook = get_webhook(webhook_id)
    row = session().get(WebhookDelivery, _int(delivery_id))
    if row is None or row.webhook_id != hook.id:
        raise NotFound("No such delivery.")
    if row.status == "dead":
        row.attempts = 0  # a fresh set of tries
    row.status, row.next_attempt_at, row.claimed_until = "pending", now(), None
    audit.log(actor, "webhook.redelivered", "webhook_delivery", row.id)
    return row


# ---------------------------------------------------------------------------- management
def _int(value: object) -> int:
    ident = parse_id(str(value))
    if ident is None:
        raise NotFound("Not found.")
    return ident


def get_webhook(ident: object) -> Webhook:
    hook = session().get(Webhook, _int(ident))
    if hook is None:
        raise NotFound("No such webhook.")
    return hook


def _values(hook: Webhook) -> dict[str, Any]:
    return {"url": hook.url, "description": hook.description, "events": hook.events,
            "is_active": hook.is_active}


def _apply(hook: Webhook, data: dict[str, Any], creating: bool) -> None:
    if creating or "url" in data:
        hook.url = outbound.check_url(data.get("url"))
    if creating or "events" in data:
        events = data.get("events")
        if not isinstance(events, list) or not events or any(
                e != "*" and e not in EVENTS for e in events):
            raise ValidationError("events: a list of event names, or ['*'].",
                                  {"events": ", ".join(("*", *EVENTS))})
        hook.events = sorted(set(events))
    if "description" in data:
        if data["description"] is not None and (not isinstance(data["description"], str)
                                                or len(data["description"]) > 255):
            raise ValidationError("description: text up to 255 characters.",
                                  {"description": "text"})
        hook.description = data["description"]
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            raise ValidationError("is_active must be true or false.", {"is_active": "bool"})
        hook.is_active = data["is_active"]
    if "secret" in data:
        secret = data["secret"]
        if not isinstance(secret, str) or not 16 <= len(secret) <= 128:
            raise ValidationError("secret: 16 to 128 characters.", {"secret": "length"})
        hook.secret = secret


def create_webhook(actor: Any, data: dict[str, Any]) -> Webhook:
    hook = Webhook(is_active=True, failure_count=0, secret=secrets.token_hex(32))
    _apply(hook, data, creating=True)
    session().add(hook)
    session().flush()
    audit.log(actor, "webhook.created", "webhook", hook.id, new=_values(hook))
    return hook


def update_webhook(actor: Any, ident: object, data: dict[str, Any]) -> Webhook:
    hook = get_webhook(ident)
    old = _values(hook)
    _apply(hook, data, creating=False)
    audit.log(actor, "webhook.updated", "webhook", hook.id, old=old,
              new={**_values(hook), **({"secret": "changed"} if "secret" in data else {})})
    return hook


def rotate_secret(actor: Any, ident: object) -> tuple[Webhook, str]:
    """Give the endpoint a new signing secret; returns the row and the secret.

    The old secret stops signing at once (every send reads the current one), so the receiver
    must be given the new one: the caller shows it this once, it is never shown again, and
    the audit row records that it changed, never its value.
    """
    hook = get_webhook(ident)
    hook.secret = secrets.token_hex(32)
    audit.log(actor, "webhook.secret_rotated", "webhook", hook.id)
    return hook, hook.secret


def delete_webhook(actor: Any, ident: object) -> None:
    hook = get_webhook(ident)
    audit.log(actor, "webhook.deleted", "webhook", hook.id, old=_values(hook))
    deletion.delete_with_dependants(hook)


def list_webhooks() -> list[Webhook]:
    return list(session().execute(select(Webhook).order_by(Webhook.id)).scalars())


def list_deliveries(webhook_id: int, *, limit: int, before: int | None
                    ) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    return list(session().execute(query.order_by(WebhookDelivery.id.desc()).limit(limit))
                .scalars())


def attempts_for(delivery_ids: list[int]) -> dict[int, list[WebhookAttempt]]:
    found: dict[int, list[WebhookAttempt]] = {}
    if delivery_ids:
        for a in session().execute(select(WebhookAttempt).where(
                WebhookAttempt.delivery_id.in_(delivery_ids)).order_by(WebhookAttempt.id)
                ).scalars():
            found.setdefault(a.delivery_id, []).append(a)
    return found
