"""The console's webhooks: endpoints, their signing secret, and the delivery log.

The pages take the API's schemas and :mod:`...services.webhooks`, so a page and
``POST /api/v1/webhooks`` validate (public http(s) addresses only), audit and sign alike.

The signing secret is shown **once**: in the answer to the create form, and in the answer to
"Rotate the secret" (``POST /webhooks/<id>/rotate-secret``, the API's
``/rotate-secret``). Both answers are the page itself, never a redirect, so the secret is in
no URL, no flash message and no later page (``Cache-Control: no-store``); the edit page shows
only its first characters.

The edit page lists the endpoint's deliveries (newest first, keyset paged): status, the
receiver's last answer, attempts; each has a "Redeliver" button that goes through the API's
redeliver (:func:`..api.webhooks.send_again`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from markupsafe import Markup
from pydantic import BaseModel
from werkzeug.wrappers import Response

from ...models import Webhook
from ...services import ext, webhooks
from ..api.schemas.webhooks import WebhookCreate, WebhookUpdate
from ..api.webhooks import send_again
from ..forms import FieldSpec, specs_for
from ..security import current_principal, requires
from .crud import Column, Resource, link, register, simple_rows

PERMISSION = "webhook.manage"
#: Deliveries per page of an endpoint's log.
DELIVERY_PAGE = 25


def _event_choices() -> list[tuple[str, str]]:
    return [("*", "Every event (*)"), *((e, e) for e in webhooks.EVENTS)]


def _specs(model: type[BaseModel]) -> list[FieldSpec]:
    return specs_for(
        model, only=("url", "description", "events", "is_active"),
        url={"label": "URL", "widget": "url", "required": model is WebhookCreate,
             "help": "A public http(s) address; each event is POSTed to it as JSON, signed "
                     "with X-Escalated-Signature (HMAC-SHA256 of the body)."},
        description={"widget": "text"},
        events={"widget": "checkboxes", "choices": _event_choices(), "label": "Events",
                "help": "“Every event” includes events added in later versions."},
        is_active={"label": "Active", "help": "An inactive endpoint is sent nothing."})


def _events(hook: Webhook) -> str:
    names = hook.events or []
    return "every event" if "*" in names else ", ".join(names) or "—"


def _health(hook: Webhook) -> Markup | str:
    if not hook.failure_count:
        return "ok"
    return Markup('<span class="esc-bad">{} failed in a row</span>').format(hook.failure_count)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "never"


def _values(hook: Webhook) -> dict[str, Any]:
    return {"url": hook.url, "description": hook.description, "events": hook.events or [],
            "is_active": hook.is_active}


def _deliveries(hook: Webhook | None) -> dict[str, Any]:
    """The edit page's delivery log: newest first, keyset paged (``?cursor=``)."""
    from ..api.base import decode_cursor, encode_cursor

    if hook is None:
        return {}
    before = decode_cursor("admin-deliveries")
    if isinstance(before, bool) or not isinstance(before, int):
        before = None
    rows = webhooks.list_deliveries(hook.id, limit=DELIVERY_PAGE + 1, before=before)
    more = len(rows) > DELIVERY_PAGE
    rows = rows[:DELIVERY_PAGE]
    return {"deliveries": {
        "rows": rows, "paged": before is not None,
        "next": encode_cursor("admin-deliveries", rows[-1].id) if more else None},
        "secret_hint": hook.secret[:4] + "…"}


def _secret_page(hook: Webhook, secret: str, *, rotated: bool) -> Response:
    """The one page that shows the secret: the answer to the POST itself, not stored."""
    page = make_response(render_template("escalated/admin/webhook_secret.html", res=WEBHOOKS,
                                         row=hook, secret=secret, rotated=rotated))
    page.headers["Cache-Control"] = "no-store"
    return page


WEBHOOKS = Resource(
    name="webhooks", label="Webhooks", singular="webhook", view=PERMISSION,
    create_permission=PERMISSION, edit_permission=PERMISSION, delete_permission=PERMISSION,
    load=webhooks.get_webhook, serialize=_values, title=lambda hook: hook.url,
    rows=simple_rows(webhooks.list_webhooks),
    columns=[Column("URL", link("webhooks", lambda h: h.url)),
             Column("Events", _events),
             Column("Active", lambda h: "yes" if h.is_active else "no"),
             Column("Health", _health),
             Column("Last delivered", lambda h: _when(h.last_delivered_at))],
    create_model=WebhookCreate, update_model=WebhookUpdate,
    create=webhooks.create_webhook, update=webhooks.update_webhook,
    delete=webhooks.delete_webhook, specs=_specs,
    initial=lambda: {"is_active": True, "events": []},
    after_create=lambda hook: _secret_page(hook, hook.secret, rotated=False),
    context=_deliveries, edit_panels=("escalated/admin/webhook_deliveries.html",),
    intro="Webhooks POST each event they subscribe to to a URL of yours, signed with a "
          "secret only you and the desk know; failed deliveries are retried with backoff.")


@requires(PERMISSION)
def rotate_secret(ident: int) -> Response:
    with ext().unit_of_work():
        hook, secret = webhooks.rotate_secret(current_principal().actor, ident)
    return _secret_page(hook, secret, rotated=True)


@requires(PERMISSION)
def redeliver(ident: int, delivery_id: int) -> Response:
    row = send_again(ident, delivery_id)
    flash(f"Delivery {row.id} is being sent again; its status is in the log below.",
          "success")
    return redirect(url_for(WEBHOOKS.endpoint("edit"), ident=ident) + "#deliveries")


def register_all(bp: Blueprint) -> None:
    register(bp, WEBHOOKS)
    base = f"/{WEBHOOKS.name}/<escalated_id:ident>"
    bp.add_url_rule(f"{base}/rotate-secret", "webhooks_rotate_secret", rotate_secret,
                    methods=["POST"])
    bp.add_url_rule(f"{base}/deliveries/<escalated_id:delivery_id>/redeliver",
                    "webhooks_redeliver", redeliver, methods=["POST"])
