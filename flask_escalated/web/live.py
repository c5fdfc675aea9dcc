"""The polling fallback for live updates, and the page settings the browser client reads.

``GET /live/changes?channels=<a,b>&since=<cursor>`` answers ``{"changed", "cursor",
"presence"}`` with a couple of indexed queries, so a page can ask every few seconds;
``POST /live/presence`` is the presence heartbeat (JSON ``{ticket_id, state}``, with the
``X-CSRF-Token`` header for cookie sessions). Both work whether or not realtime is enabled.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request, url_for
from werkzeug.wrappers import Response

from ..config import Config
from ..services import live
from ..services.errors import PermissionDenied, ServiceError
from ..services.permissions import Principal
from .inputs import json_payload
from .security import (
    CSRF_HEADER,
    csrf_token,
    csrf_valid,
    current_principal,
    require_login,
    requires,
    via_token,
)


def create_live_blueprint() -> Blueprint:
    bp = Blueprint("live", __name__, url_prefix="/live")
    bp.add_url_rule("/changes", "changes", changes)
    bp.add_url_rule("/presence", "presence", presence, methods=["POST"])
    bp.register_error_handler(ServiceError, _error)
    return bp


def _error(exc: ServiceError) -> Response:
    from .api.errors import service_error_response

    return service_error_response(exc)


def _guard() -> Principal:
    principal = require_login()
    if current_app.config[Config.ENABLE_2FA]:
        from .auth import second_factor_gate

        second_factor_gate()
    return principal


def socket_principal() -> Principal:
    """The principal of a Socket.IO event: as for a request, 2FA gate included."""
    return _guard()


@requires("ticket.view")
def changes() -> Response:
    principal = _guard()
    channels = live.parse_list(request.args.get("channels"))
    since = request.args.get("since") or None
    cursor = live.cursor(principal, channels)
    viewers: list[dict[str, Any]] = []
    if principal.is_agent:
        for channel in channels:
            if channel.kind == "ticket" and channel.ticket_id is not None:
                viewers.extend({"ticket_id": channel.ticket_id, **v}
                               for v in live.viewers_for(principal, channel.ticket_id))
    response = jsonify({"changed": since is not None and since != cursor, "cursor": cursor,
                        "presence": viewers})
    response.headers["Cache-Control"] = "no-store"
    return response


@requires("ticket.view")
def presence() -> Response:
    principal = _guard()
    if not via_token() and not csrf_valid(request.headers.get(CSRF_HEADER)):
        raise PermissionDenied("Send the page's X-CSRF-Token header.")
    data = json_payload() if request.is_json else None
    if not isinstance(data, dict):
        data = {}
    ticket_id, viewers = live.update_presence(principal, data.get("ticket_id"),
                                              data.get("state"))
    return jsonify({"ok": True, "ticket_id": ticket_id, "viewers": viewers})


def page_settings() -> dict[str, Any]:
    """What the live client needs on a page (template context ``escalated_live``): the polling
    and presence URLs, the socket path when realtime is on, the CSRF token and the user id.
    Empty for anonymous visitors and outside Escalated's pages."""
    if not (request.blueprint or "").startswith("escalated"):
        return {}
    try:
        principal = current_principal()
    except ServiceError:
        return {}
    if not principal.is_authenticated:
        return {}
    from .. import realtime

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    path = realtime.socket_path(app)
    return {
        "poll": url_for("escalated.live.changes"),
        "presence": url_for("escalated.live.presence"),
        "socket": (request.script_root + path) if path else None,
        "script": url_for("escalated.static", filename="realtime.js"),
        "csrf": csrf_token(),
        "user_id": principal.user_id,
    }
