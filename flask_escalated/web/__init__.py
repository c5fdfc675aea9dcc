"""Web blueprints, built per app under ``ESCALATED_ROUTE_PREFIX``.

The parent ``escalated`` blueprint holds the children the config enables (``api``,
``customer`` ...), so endpoint names read ``escalated.api.list_tickets``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .. import logs
from ..config import Config, frame_ancestors
from ..services.audit import request_info
from . import chrome, inputs, ratelimits, unavailable

log = logging.getLogger("flask_escalated.web")

#: Blueprints whose routing errors answer in the JSON envelope (relative to the prefix).
JSON_AREAS = ("/api/", "/widget/", "/webhook/", "/live/", "/healthz", "/readyz")
#: Blueprints meant to be used from other sites' pages: no framing headers (see README).
EMBEDDABLE = ("escalated.widget", "escalated.widget_assets")
#: The HTTP errors Escalated answers in its own format under the prefix.
ERROR_CODES = (400, 401, 403, 404, 405, 413, 415, 429, 500)


def register_blueprints(app: Flask) -> None:
    prefix = app.config[Config.ROUTE_PREFIX].rstrip("/")
    app.url_map.converters[inputs.ID_CONVERTER] = inputs.IdConverter
    parent = Blueprint(
        "escalated",
        __name__,
        url_prefix=prefix or None,
        template_folder="../templates",
        static_folder="../static/escalated",
        static_url_path="/static",
    )
    parent.before_request(_remember_request_info)
    chrome.install(app)
    limiter = ratelimits.install(app)
    app.extensions["escalated"].state_for(app).limiter = limiter
    if app.config[Config.API_ENABLED]:
        from .api import create_api_blueprint

        api = create_api_blueprint()
        ratelimits.limit_blueprint(limiter, api, "api", ratelimits.caller_key)
        inputs.install(api)
        parent.register_blueprint(api)
    if app.config[Config.ENABLE_2FA]:
        from .auth import create_auth_blueprint

        auth = create_auth_blueprint()
        ratelimits.limit_blueprint(limiter, auth, "auth", ratelimits.user_or_ip,
                                   failures_only=True)
        inputs.install(auth)
        parent.register_blueprint(auth)
    from .health import create_health_blueprint
    from .inbound import create_inbound_blueprint
    from .widget import create_widget_assets_blueprint, create_widget_blueprint

    widget = create_widget_blueprint()
    ratelimits.limit_blueprint(limiter, widget, "widget")
    inputs.install(widget)
    parent.register_blueprint(widget)
    parent.register_blueprint(create_widget_assets_blueprint())
    if app.config[Config.UI_ENABLED]:
        from .guest import create_guest_blueprint

        guest = create_guest_blueprint()
        ratelimits.limit_blueprint(limiter, guest, "guest")
        inputs.install(guest)
        parent.register_blueprint(guest)

    health = create_health_blueprint()
    limiter.exempt(health)
    parent.register_blueprint(health)

    inbound = create_inbound_blueprint()
    ratelimits.limit_blueprint(limiter, inbound, "inbound")
    parent.register_blueprint(inbound)  # no input guard: bad mail is stored and marked failed
    if app.config[Config.UI_ENABLED]:
        from .admin import create_admin_blueprint
        from .agent import create_agent_blueprint
        from .customer import create_customer_blueprint
        from .kb import create_kb_blueprint
        from .live import create_live_blueprint, page_settings

        pages = [create_kb_blueprint(), create_customer_blueprint(), create_agent_blueprint(),
                 create_admin_blueprint()]
        live = create_live_blueprint()
        ratelimits.limit_blueprint(limiter, live, "api", ratelimits.caller_key)
        for bp in (*pages, live):
            inputs.install(bp)
            parent.register_blueprint(bp)
        app.context_processor(lambda: {"escalated_live": page_settings})
    unavailable.install(parent)
    app.register_blueprint(parent)
    _install_errors(app, prefix)
    app.before_request(_bind_request_id)
    app.teardown_request(_unbind_request_id)
    app.after_request(_security_headers)
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        log.warning("SESSION_COOKIE_SAMESITE is not set: Escalated keeps its CSRF token in the "
                    "host's session cookie; set it to 'Lax' (see the README's security notes).")


def _remember_request_info() -> None:
    request_info.set((request.remote_addr, (request.user_agent.string or "")[:255] or None))


def _bind_request_id() -> None:
    """Give the request its id (see :mod:`flask_escalated.logs`) for logs, jobs and the
    response's ``X-Request-Id``; the host's own routes are left alone."""
    from flask import current_app

    if not _in_escalated(current_app.config[Config.ROUTE_PREFIX].rstrip("/")):
        return
    request_id = logs.valid_request_id(request.headers.get(logs.HEADER)) \
        or logs.new_request_id()
    g.escalated_request_id = request_id
    g.escalated_request_id_token = logs.current_request_id.set(request_id)


def _unbind_request_id(exc: BaseException | None) -> None:
    token = g.pop("escalated_request_id_token", None)
    if token is not None:
        logs.current_request_id.reset(token)


def _in_escalated(prefix: str) -> bool:
    """Whether this request is Escalated's: one of its blueprints, or a path under the prefix
    (a routing error has no blueprint). With an empty prefix only the blueprints count."""
    if (request.blueprint or "").split(".")[0] == "escalated":
        return True
    return bool(prefix) and (request.path == prefix or request.path.startswith(prefix + "/"))


def _install_errors(app: Flask, prefix: str) -> None:
    """HTTP errors under the prefix answer in the area's own format: the JSON envelope under
    the API, the widget and the inbound webhook, the layout's error page elsewhere.

    Routing errors (unknown URL, wrong method, body too large) are raised before any blueprint
    is chosen, so these are app-level handlers; for the host's own paths they hand over to the
    host's handler registered before, or Flask's default page.
    """
    for code in ERROR_CODES:
        existing = app.error_handler_spec.get(None, {}).get(code, {})
        previous = next(iter(existing.values()), None)

        def handler(exc: HTTPException, _previous: Any = previous, _prefix: str = prefix) -> Any:
            if _in_escalated(_prefix):
                return error_in_area_format(exc, _prefix)
            return _previous(exc) if _previous is not None else exc

        app.register_error_handler(code, handler)


def error_in_area_format(exc: HTTPException, prefix: str) -> Any:
    """``exc`` as the JSON envelope or as the error page, by where the request went."""
    from .api.errors import error_response, http_error_response

    rest = request.path[len(prefix):] if request.path.startswith(prefix) else request.path
    blueprint = request.blueprint or ""
    if (rest.startswith(JSON_AREAS) or blueprint.startswith(("escalated.api", "escalated.live"))
            or blueprint.startswith(EMBEDDABLE) or blueprint == "escalated.inbound"):
        if exc.code == 503:
            return error_response(503, "unavailable", exc.description or "Unavailable.")
        if (exc.code or 500) >= 500:  # the details are in the log, never in the answer
            return error_response(500, "server_error", "Something went wrong on our side.")
        return http_error_response(exc)
    from .html import http_error_page

    return http_error_page(exc)


def _security_headers(response: Response) -> Response:
    """Framing and referrer protection on Escalated's responses (the widget's excepted)."""
    from flask import current_app

    cfg = current_app.config
    if not _in_escalated(cfg[Config.ROUTE_PREFIX].rstrip("/")):
        return response
    headers = response.headers
    request_id = g.get("escalated_request_id")
    if request_id:
        headers[logs.HEADER] = request_id
    headers.setdefault("Referrer-Policy", cfg[Config.REFERRER_POLICY])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if (request.blueprint or "").startswith(EMBEDDABLE):
        return response
    sources = frame_ancestors(cfg)
    directive = "frame-ancestors " + " ".join(sources)
    policy = headers.get("Content-Security-Policy")
    if policy is None:
        headers["Content-Security-Policy"] = directive
    elif "frame-ancestors" not in policy:
        headers["Content-Security-Policy"] = policy.rstrip("; ") + "; " + directive
    legacy = {"'self'": "SAMEORIGIN", "'none'": "DENY"}.get(sources[0]) \
        if len(sources) == 1 else None
    if legacy is not None:
        headers.setdefault("X-Frame-Options", legacy)
    return response
