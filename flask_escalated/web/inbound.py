"""``POST /webhook/email/inbound?adapter=postmark|mailgun|ses|raw``: mail from a provider.

The ``X-Escalated-Inbound-Secret`` header must equal ``ESCALATED_INBOUND_SECRET`` (compared in
constant time; with no secret configured every call is refused). Answers are JSON: 200 for a
reply, duplicate or ignored message, 201 for a new ticket, 4xx with the inbound log id when the
message could not be read. Every error, a wrong method (405) and our own failures (500)
included, is in the API's envelope ``{"error": {"code", "message", "fields"}}``.
Rate-limited per address (the ``inbound`` family).
"""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ..config import Config
from ..services import inbound_pipeline
from ..services.errors import ServiceError
from ..services.inbound_parse import ADAPTERS
from .api.errors import (
    error_response,
    http_error_response,
    service_error_response,
    unexpected_response,
)
from .inputs import body_within_limit
from .security import public

MAX_INBOUND_BYTES = 40 * 1024 * 1024


def create_inbound_blueprint() -> Blueprint:
    bp = Blueprint("inbound", __name__, url_prefix="/webhook/email")
    bp.add_url_rule("/inbound", "email", receive_email, methods=["POST"])
    # Any other method reaches a view of ours, so the 405 is in the envelope too (a routing
    # 405 would be raised before the blueprint's error handlers apply).
    bp.add_url_rule("/inbound", "email_wrong_method", wrong_method,
                    methods=["GET", "PUT", "PATCH", "DELETE"])
    bp.register_error_handler(HTTPException, _http_error)
    # Storage full or unavailable while keeping the raw message: 507/503, so the provider
    # sends it again later and nothing is lost.
    bp.register_error_handler(ServiceError, service_error_response)
    bp.register_error_handler(Exception, unexpected_response)
    return bp


def _http_error(exc: HTTPException) -> Response:
    if (exc.code or 500) >= 500:
        return unexpected_response(exc)
    return http_error_response(exc)


@public
def wrong_method() -> Response:
    response = error_response(405, "method_not_allowed",
                              f"{request.method} is not allowed here: mail is delivered with POST.")
    response.headers["Allow"] = "POST, OPTIONS"
    return response


def _secret_ok() -> bool:
    expected = current_app.config[Config.INBOUND_SECRET]
    given = request.headers.get("X-Escalated-Inbound-Secret", "")
    return bool(expected) and hmac.compare_digest(str(expected).encode(), given.encode())


@public
def receive_email() -> Response | tuple[Response, int]:
    request.max_content_length = MAX_INBOUND_BYTES
    if not _secret_ok():
        return error_response(401, "unauthenticated",
                              "Send the X-Escalated-Inbound-Secret header with the right value.")
    adapter = request.args.get("adapter") or request.headers.get("X-Escalated-Adapter", "")
    if adapter not in ADAPTERS:
        return error_response(400, "bad_request", "adapter must be one of "
                              + ", ".join(ADAPTERS), {"adapter": "unknown"})
    if adapter == "mailgun":
        form = {k: v for k, v in request.form.items()}
        files = [(f.filename or "attachment", f.mimetype or "application/octet-stream",
                  f.read()) for f in request.files.values()]
        raw = inbound_pipeline.mailgun_raw(form, files)
    else:
        # A chunked message over the limit is a 413 (the provider keeps it), never one cut
        # short and filed as if whole.
        raw = body_within_limit()
    status, body = inbound_pipeline.run(adapter, raw)
    return jsonify(body), status
