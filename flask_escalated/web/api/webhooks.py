"""JSON API v1: webhook endpoints, their deliveries, and redelivery."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ...models import Webhook, WebhookAttempt, WebhookDelivery
from ...services import webhooks
from ...services.serializers import iso
from ..security import current_principal
from .base import decode_cursor, encode_cursor, page_limit, route
from .commit import committed
from .schemas import parse_body
from .schemas.webhooks import (
    DeliveryPage,
    RedeliveryEnvelope,
    WebhookCreate,
    WebhookEnvelope,
    WebhookList,
    WebhookUpdate,
)


def _hook(h: Webhook, *, with_secret: bool = False) -> dict[str, Any]:
    data = {"id": h.id, "url": h.url, "description": h.description, "events": h.events,
            "is_active": h.is_active, "failure_count": h.failure_count,
            "last_delivered_at": iso(h.last_delivered_at), "created_at": iso(h.created_at),
            "secret_hint": h.secret[:4] + "…"}
    if with_secret:
        data["secret"] = h.secret
    return data


def _attempt(a: WebhookAttempt) -> dict[str, Any]:
    return {"number": a.number, "status_code": a.status_code, "duration_ms": a.duration_ms,
            "response_excerpt": a.response_excerpt, "error": a.error,
            "created_at": iso(a.created_at)}


def _delivery(d: WebhookDelivery, attempts: list[WebhookAttempt]) -> dict[str, Any]:
    return {"id": d.id, "uid": d.uid, "event": d.event, "status": d.status,
            "attempts": d.attempts, "next_attempt_at": iso(d.next_attempt_at),
            "last_status_code": d.last_status_code, "last_error": d.last_error,
            "delivered_at": iso(d.delivered_at), "created_at": iso(d.created_at),
            "attempt_log": [_attempt(a) for a in attempts]}


@route("/webhooks", ["GET"], summary="List webhooks", tag="Webhooks", permission="webhook.view",
       response=WebhookList)
def list_webhooks() -> Response:
    return jsonify({"data": [_hook(h) for h in webhooks.list_webhooks()],
                    "events": list(webhooks.EVENTS)})


@route("/webhooks", ["POST"], summary="Register a webhook (the secret is shown once)",
       tag="Webhooks", permission="webhook.manage", body=WebhookCreate, status=201,
       response=WebhookEnvelope)
def create_webhook() -> tuple[Response, int]:
    data = parse_body(WebhookCreate).changes()
    with committed():
        hook = webhooks.create_webhook(current_principal().actor, data)
    return jsonify({"data": _hook(hook, with_secret=True)}), 201


@route("/webhooks/<int:webhook_id>", ["GET"], summary="Show a webhook", tag="Webhooks",
       permission="webhook.view", response=WebhookEnvelope)
def show_webhook(webhook_id: int) -> Response:
    return jsonify({"data": _hook(webhooks.get_webhook(webhook_id))})


@route("/webhooks/<int:webhook_id>", ["PATCH"], summary="Update a webhook", tag="Webhooks",
       permission="webhook.manage", body=WebhookUpdate, response=WebhookEnvelope)
def update_webhook(webhook_id: int) -> Response:
    data = parse_body(WebhookUpdate).changes()
    with committed():
        hook = webhooks.update_webhook(current_principal().actor, webhook_id, data)
    return jsonify({"data": _hook(hook, with_secret="secret" in data)})


@route("/webhooks/<int:webhook_id>", ["DELETE"], summary="Delete a webhook", tag="Webhooks",
       permission="webhook.manage", status=204)
def delete_webhook(webhook_id: int) -> tuple[str, int]:
    with committed():
        webhooks.delete_webhook(current_principal().actor, webhook_id)
    return "", 204


@route("/webhooks/<int:webhook_id>/deliveries", ["GET"], summary="Deliveries, newest first",
       tag="Webhooks", permission="webhook.view", paged=True, response=DeliveryPage)
def list_deliveries(webhook_id: int) -> Response:
    webhooks.get_webhook(webhook_id)
    before = decode_cursor("deliveries")
    if before is not None and (isinstance(before, bool) or not isinstance(before, int)):
        before = None
    limit = page_limit()
    rows = webhooks.list_deliveries(webhook_id, limit=limit + 1, before=before)
    more = len(rows) > limit
    rows = rows[:limit]
    attempts = webhooks.attempts_for([d.id for d in rows])
    return jsonify({"data": [_delivery(d, attempts.get(d.id, [])) for d in rows],
                    "next_cursor": encode_cursor("deliveries", rows[-1].id) if more else None})


@route("/webhooks/<int:webhook_id>/rotate-secret", ["POST"],
       summary="Give a webhook a new signing secret (shown once)", tag="Webhooks",
       permission="webhook.manage", response=WebhookEnvelope)
def rotate_webhook_secret(webhook_id: int) -> Response:
    with committed():
        hook, _secret = webhooks.rotate_secret(current_principal().actor, webhook_id)
    return jsonify({"data": _hook(hook, with_secret=True)})


def send_again(webhook_id: object, delivery_id: object) -> WebhookDelivery:
    """Redeliver (the service resets the delivery and audits it), then hand it to the webhook
    queue once that is committed: the API's redeliver and the console's button."""
    with committed():
        row = webhooks.redeliver(current_principal().actor, webhook_id, delivery_id)
    from ...jobs import enqueue
    from ...jobs.queues import WEBHOOK_QUEUE
    from ...jobs.tasks import deliver_webhook

    enqueue(deliver_webhook, row.id, queue_name=WEBHOOK_QUEUE)
    return row


@route("/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver", ["POST"],
       summary="Send a delivery again", tag="Webhooks", permission="webhook.manage",
       status=202, response=RedeliveryEnvelope)
def redeliver(webhook_id: int, delivery_id: int) -> tuple[Response, int]:
    row = send_again(webhook_id, delivery_id)
    return jsonify({"data": {"id": row.id, "status": "queued"}}), 202
