"""The public widget API (``/widget/...``): JSON, rate-limited per address (and per e-mail
address for submissions), no cookies.

Origins: the widget answers pages of its own origin (and of ``ESCALATED_APP_URL``'s) and of the
sites the admin lists (the ``widget_origins`` setting, initially ``ESCALATED_WIDGET_ORIGINS``,
empty by default). Those get a CORS grant; a POST whose ``Origin`` is anything else is refused
with 403 ``origin_not_allowed`` before it does anything, so no page elsewhere can make its
visitors' browsers file tickets. A request without ``Origin`` is not a browser's cross-site
call and is served (the rate limits and the neutral confirmation mail guard that path).

A submission answers with a guest token; the token is the only key to that ticket afterwards
(``GET/POST /widget/tickets/<token>...``). ``GET /widget/kb/search?q=`` and
``POST /widget/kb/articles/<id>/feedback`` serve the knowledge-base tab (public articles only,
while the knowledge base is switched on). ``GET /widget/embed.js`` is the script a host page
embeds with one tag.

Input: every view reads its JSON body and its query string through the strict models listed in
``api/schemas/widget.py`` (``WIDGET_INPUTS``), with the API's field types and error envelope: an
unknown key is a 422 ``unknown_field`` naming it, a wrong type, an over-long text or a bad
e-mail address a 422 naming the field, and nothing is stored.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel
from werkzeug.exceptions import HTTPException

from ..config import Config, ConfigurationError, MiB
from ..models import CustomField, Reply, Ticket
from ..services import (
    csat,
    custom_fields,
    departments,
    ext,
    guest_access,
    guests,
    kb,
    kb_search,
    mail,
    replies,
    settings,
)
from ..services.errors import NotFound, PermissionDenied, ServiceError, ValidationError
from ..services.serializers import iso
from . import ratelimits
from .api.errors import http_error_response, service_error_response
from .api.schemas import EmptyQuery, parse_query, validate
from .api.schemas.widget import (
    WIDGET_INPUTS,
    WidgetArticleVote,
    WidgetKbSearch,
    WidgetRating,
    WidgetReply,
    WidgetTicketCreate,
    WidgetVerify,
)
from .chrome import offsite_message
from .inputs import json_payload
from .security import client_ip, public

M = TypeVar("M", bound=BaseModel)

EMBED_JS = Path(__file__).resolve().parent.parent / "static" / "escalated" / "widget.js"
FIELDS_JS = EMBED_JS.with_name("fields.js")


def _widget_blueprint(name: str) -> Blueprint:
    bp = Blueprint(name, __name__, url_prefix="/widget")
    bp.record_once(lambda state: _check_config(state.app))
    bp.before_request(_limit_body)
    bp.before_request(_refuse_foreign_origins)
    bp.after_request(_cors)
    bp.register_error_handler(ServiceError, service_error_response)
    bp.register_error_handler(HTTPException, http_error_response)
    return bp


def _check_config(app: Any) -> None:
    try:
        settings.SETTINGS["widget_origins"].default(app.config)
    except ValueError as exc:
        raise ConfigurationError(f"{Config.WIDGET_ORIGINS}: {exc}") from None


def create_widget_assets_blueprint() -> Blueprint:
    """The script and its configuration: loaded on every page of the host site, so they are
    cached and not rate-limited (they read nothing per visitor)."""
    bp = _widget_blueprint("widget_assets")
    bp.add_url_rule("/config", "config", widget_config)
    bp.add_url_rule("/embed.js", "embed", embed_js)
    return bp


def create_widget_blueprint() -> Blueprint:
    bp = _widget_blueprint("widget")
    bp.add_url_rule("/verify", "verify", send_code, methods=["POST"])
    bp.add_url_rule("/tickets", "create_ticket", create_ticket, methods=["POST"])
    bp.add_url_rule("/tickets/<token>", "show_ticket", show_ticket)
    bp.add_url_rule("/tickets/<token>/replies", "reply", reply, methods=["POST"])
    bp.add_url_rule("/tickets/<token>/rate", "rate", rate, methods=["POST"])
    bp.add_url_rule("/kb/search", "kb_search", kb_search_view)
    bp.add_url_rule("/kb/articles/<escalated_id:article_id>/feedback", "kb_feedback", kb_feedback,
                    methods=["POST"])
    return bp


class OriginNotAllowed(PermissionDenied):
    code = "origin_not_allowed"


def _own_origins() -> set[str]:
    """This helpdesk's own origin, as the request reached it and as ``APP_URL`` names it."""
    own = {request.host_url.rstrip("/").lower()}
    app_url = current_app.config[Config.APP_URL]
    if app_url:
        parts = urlsplit(str(app_url))
        own.add(f"{parts.scheme}://{parts.netloc}".lower())
    return own


def origin_allowed(origin: str) -> bool:
    """Whether pages served from ``origin`` may use the widget API."""
    origin = origin.strip().lower().rstrip("/")
    allowed = settings.value("widget_origins") or []
    return "*" in allowed or origin in allowed or origin in _own_origins()


def _limit_body() -> None:
    """The widget's bodies are small JSON objects from strangers (no files): larger than the
    longest allowed description with its JSON escapes is a 413, read no further, whatever
    the host's own ``MAX_CONTENT_LENGTH`` (a smaller one still applies)."""
    own = current_app.config[Config.MAX_BODY_LENGTH] * 4 + MiB
    host = current_app.config.get("MAX_CONTENT_LENGTH")
    request.max_content_length = min(own, host) if host else own


def _refuse_foreign_origins() -> None:
    origin = request.headers.get("Origin")
    if request.method in ("GET", "HEAD", "OPTIONS") or origin is None:
        return
    if not origin_allowed(origin):
        raise OriginNotAllowed(
            "This site may not use the support widget. The helpdesk's admin lists the sites "
            "that may (the widget_origins setting).", {"origin": "not allowed"})


def _cors(response: Response) -> Response:
    origin = request.headers.get("Origin")
    if origin and origin_allowed(origin):
        allowed = settings.value("widget_origins") or []
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
    response.headers.add("Vary", "Origin")
    response.headers.setdefault("Cache-Control", "no-store")
    if request.endpoint and request.endpoint.endswith("widget_assets.config"):
        response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _body() -> dict[str, Any]:
    data = json_payload() if request.is_json else None
    if not isinstance(data, dict):
        raise ValidationError("Send a JSON object with Content-Type: application/json.",
                              {"body": "expected a JSON object"})
    return data


def _declared() -> tuple[type[BaseModel] | None, type[BaseModel]]:
    """The body and query models this view is listed with in ``WIDGET_INPUTS``."""
    return WIDGET_INPUTS[(request.endpoint or "").rpartition(".")[2]]


def _query(model: type[M]) -> M:
    """The query string, validated strictly by ``model`` (the one the view is listed with)."""
    if _declared()[1] is not model:
        raise RuntimeError(f"{request.endpoint} reads its query with {model!r}, not as listed")
    return parse_query(model)


def _read(model: type[M]) -> M:
    """The JSON body, validated strictly by ``model``, the same way the API reads its bodies
    (unknown keys: 422 ``unknown_field``; bad values: 422 naming each field); the query string
    is checked too (these routes take none)."""
    body, query = _declared()
    if body is not model:
        raise RuntimeError(f"{request.endpoint} reads its body with {model!r}, not as listed")
    parse_query(query)
    return validate(model, _body())


def _per_email(email: str) -> None:
    if email.strip():
        key = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        ratelimits.hit("widget", "email:" + key)


@public
def widget_config() -> Response:
    values = settings.effective()
    branding = {**current_app.config[Config.BRANDING], **values["branding"]}
    return jsonify({
        "app_name": values["app_name"], "color": branding.get("primary_color"),
        "greeting": f"Questions? {values['app_name']} is here to help.",
        "departments": [{"id": d.id, "name": d.name}
                        for d in departments.list_departments(include_inactive=False)],
        "kb_enabled": bool(current_app.config[Config.ENABLE_KB] and values["kb_enabled"]),
        "mailbox_proof": bool(values["guest_mailbox_proof"]),
        "custom_fields": [_field_for_widget(f)
                          for f in custom_fields.form_fields(for_customer=True)],
    })


def _field_for_widget(row: CustomField) -> dict[str, Any]:
    """A customer-editable field as the widget's form draws it, with the display conditions
    the server enforces (the embed script carries ``fields.js`` to apply them live)."""
    return {"key": row.key, "label": row.label, "type": row.type,
            "options": row.options or [], "required": row.required,
            "conditions": row.conditions or []}


@public
def send_code() -> tuple[Response, int]:
    data = _read(WidgetVerify)
    _per_email(data.email)
    with ext().unit_of_work():
        ident = guest_access.challenge(data.email)
    mail.send_queued()
    return jsonify({"verification_id": ident}), 202


@public
def create_ticket() -> tuple[Response, int]:
    data = _read(WidgetTicketCreate)
    _per_email(data.email)
    if guest_access.proof_required():
        with ext().unit_of_work():  # commits, so a wrong code counts as a try
            ok = guest_access.verify(data.verification_id, data.verification_code, data.email)
        if not ok:
            raise guest_access.WRONG_CODE
    with ext().unit_of_work():
        ticket, _mode = guests.open_ticket(
            channel="widget", name=data.name, email=data.email, subject=data.subject,
            description=data.description, department_id=data.department_id,
            custom_fields=data.custom_fields)
        token = guest_access.issue_token(ticket)
        body = _ticket(ticket)
    return jsonify({"data": body, "token": token}), 201


def _ticket(ticket: Ticket) -> dict[str, Any]:
    rows = replies.list_replies(ticket, include_internal=False)
    rating = csat.for_ticket(ticket.id)
    return {
        "reference": ticket.reference, "subject": ticket.subject, "status": ticket.status,
        "status_category": ticket.status_category, "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at), "description": ticket.description,
        "description_html": str(offsite_message(ticket.description)),
        "replies": [_reply(r, ticket) for r in rows],
        "can_reply": ticket.status_category != "closed",
        "can_rate": rating is None and ticket.status_category in ("resolved", "closed")
        and bool(current_app.config[Config.ENABLE_CSAT]),
        "rating": {"rating": rating.rating, "comment": rating.comment} if rating else None,
    }


def _reply(r: Reply, ticket: Ticket) -> dict[str, Any]:
    mine = r.author_type in ("contact", "customer")
    return {"id": r.id, "from": "you" if mine else "support", "body": r.body,
            "body_html": str(offsite_message(r.body)), "created_at": iso(r.created_at)}


@public
def show_ticket(token: str) -> Response:
    _query(EmptyQuery)
    ticket = guest_access.resolve(token)
    body = _ticket(ticket)
    ext().session.commit()  # last_used_at
    return jsonify({"data": body})


@public
def reply(token: str) -> tuple[Response, int]:
    data = _read(WidgetReply)
    with ext().unit_of_work():
        ticket = guest_access.resolve(token)
        row = replies.add_reply(ticket, data.body, guest_access.actor_for(ticket),
                                channel="widget")
        body = _reply(row, ticket)
    return jsonify({"data": body}), 201


@public
def rate(token: str) -> tuple[Response, int]:
    data = _read(WidgetRating)
    if not current_app.config[Config.ENABLE_CSAT]:
        raise ValidationError("Ratings are switched off here.", {"rating": "disabled"})
    with ext().unit_of_work():
        ticket = guest_access.resolve(token)
        row = csat.submit_for_ticket(ticket, data.rating, data.comment)
        body = {"rating": row.rating, "comment": row.comment}
    return jsonify({"data": body}), 201


def _kb_open() -> None:
    if not kb.public_enabled():
        raise NotFound("There is no knowledge base here.")


@public
def kb_search_view() -> Response:
    """Published public articles for the widget's search tab (absolute links)."""
    _kb_open()
    query = _query(WidgetKbSearch)
    hits = kb_search.search(query.q, include_internal=False, limit=8)
    return jsonify({"data": [{"title": h.title, "url": h.url, "snippet": h.snippet}
                             for h in hits]})


@public
def kb_feedback(article_id: int) -> Response:
    """``{"helpful": true|false}`` (and an optional ``email``): one vote per address and
    e-mail; voting again changes the vote."""
    _kb_open()
    data = _read(WidgetArticleVote)
    voter = kb.voter_key(ip=client_ip(), email=data.email)
    with ext().unit_of_work():
        row = kb.vote(article_id, voter, data.helpful)
        body = {"id": row.id, "helpful_count": row.helpful_count,
                "not_helpful_count": row.not_helpful_count}
    return jsonify({"data": body})


@public
def embed_js() -> Response:
    """The widget with the custom fields' live display rules ahead of it (one request)."""
    response = Response(FIELDS_JS.read_text(encoding="utf-8") + "\n"
                        + EMBED_JS.read_text(encoding="utf-8"),
                        mimetype="application/javascript")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
