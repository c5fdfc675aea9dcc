"""Web blueprints, built per app under ``ESCALATED_ROUTE_PREFIX``.

The parent ``escalated`` blueprint holds the children the config enables (``api``,
``customer`` ...), so endpoint names read ``escalated.api.list_tickets``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, request
from werkzeug.exceptions import HTTPException

from ..config import Config
from ..services.audit import request_info
from . import chrome, ratelimits


def register_blueprints(app: Flask) -> None:
    prefix = app.config[Config.ROUTE_PREFIX].rstrip("/")
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
        parent.register_blueprint(api)
    if app.config[Config.ENABLE_2FA]:
        from .auth import create_auth_blueprint

        auth = create_auth_blueprint()
        ratelimits.limit_blueprint(limiter, auth, "auth", ratelimits.user_or_ip,
                                   failures_only=True)
        parent.register_blueprint(auth)
    from .inbound import create_inbound_blueprint
    from .widget import create_widget_assets_blueprint, create_widget_blueprint

    widget = create_widget_blueprint()
    ratelimits.limit_blueprint(limiter, widget, "widget")
    parent.register_blueprint(widget)
    parent.register_blueprint(create_widget_assets_blueprint())
    if app.config[Config.UI_ENABLED]:
        from .guest import create_guest_blueprint

        guest = create_guest_blueprint()
        ratelimits.limit_blueprint(limiter, guest, "guest")
        parent.register_blueprint(guest)

    inbound = create_inbound_blueprint()
    ratelimits.limit_blueprint(limiter, inbound, "inbound")
    parent.register_blueprint(inbound)
    if app.config[Config.UI_ENABLED]:
        from .admin import create_admin_blueprint
        from .agent import create_agent_blueprint
        from .customer import create_customer_blueprint
        from .kb import create_kb_blueprint
        from .live import create_live_blueprint, page_settings

        parent.register_blueprint(create_kb_blueprint())
        parent.register_blueprint(create_customer_blueprint())
        parent.register_blueprint(create_agent_blueprint())
        parent.register_blueprint(create_admin_blueprint())
        live = create_live_blueprint()
        ratelimits.limit_blueprint(limiter, live, "api", ratelimits.caller_key)
        parent.register_blueprint(live)
        app.context_processor(lambda: {"escalated_live": page_settings})
    app.register_blueprint(parent)
    _install_json_errors(app, prefix + "/api/")


def _remember_request_info() -> None:
    request_info.set((request.remote_addr, (request.user_agent.string or "")[:255] or None))


def _install_json_errors(app: Flask, api_prefix: str) -> None:
    """Routing errors (unknown URL, wrong method) under the API answer in the JSON envelope.

    They are raised before any blueprint is chosen, so they need app-level handlers; for
    other paths these hand over to the host's own handler, or Flask's default page.
    """
    from .api.errors import http_error_response

    for code in (404, 405):
        existing = app.error_handler_spec.get(None, {}).get(code, {})
        previous = next(iter(existing.values()), None)

        def handler(exc: HTTPException, _previous: Any = previous) -> Any:
            if request.path.startswith(api_prefix):
                return http_error_response(exc)
            return _previous(exc) if _previous is not None else exc

        app.register_error_handler(code, handler)
