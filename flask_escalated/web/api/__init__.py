"""The JSON API v1 blueprint (``<prefix>/api/v1``)."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from ...config import Config
from ...services.errors import ServiceError
from ..auth import second_factor_gate
from ..security import protect_api
from . import (  # noqa: F401  (route registration)
    admin,
    agents,
    canned,
    custom_fields,
    kb,
    macros,
    mail,
    openapi,
    relations,
    reports,
    resources,
    roles,
    rules,
    side_conversations,
    skills,
    sla,
    tickets,
    tokens,
    views,
    webhooks,
)
from .base import add_routes
from .contract import check_response
from .errors import (
    http_error_response,
    service_error_response,
    stale_response,
    unexpected_response,
)

MiB = 1024 * 1024


def create_api_blueprint() -> Blueprint:
    bp = Blueprint("api", __name__, url_prefix="/api/v1")
    bp.before_request(_before)
    bp.after_request(check_response)
    add_routes(bp)
    bp.register_error_handler(ServiceError, service_error_response)
    bp.register_error_handler(HTTPException, http_error_response)
    bp.register_error_handler(StaleDataError, stale_response)
    bp.register_error_handler(Exception, unexpected_response)
    return bp


def _before() -> None:
    cfg = current_app.config
    # Room for the allowed attachments plus the form around them; anything larger is a 413.
    request.max_content_length = (
        cfg[Config.MAX_ATTACHMENTS] * cfg[Config.MAX_ATTACHMENT_SIZE]
        + cfg[Config.MAX_BODY_LENGTH] * 4 + MiB
    )
    protect_api()
    second_factor_gate()
