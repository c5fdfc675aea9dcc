"""The JSON error envelope: ``{"error": {"code", "message", "fields"}}`` with a 4xx status."""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, jsonify
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from ...services.errors import ServiceError

log = logging.getLogger("flask_escalated.api")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_response(
    status: int, code: str, message: str, fields: dict[str, Any] | None = None,
    unknown_fields: list[str] | None = None,
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message, "fields": fields or {}}
    if unknown_fields is not None:
        error["unknown_fields"] = unknown_fields
    response = jsonify({"error": error})
    response.status_code = status
    return response


def service_error_response(exc: ServiceError) -> Response:
    response = error_response(exc.status, exc.code, exc.message, exc.fields,
                              getattr(exc, "names", None))
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="escalated"'
    return response


def http_error_response(exc: HTTPException) -> Response:
    status = exc.code or 500
    message = exc.description or exc.name
    if status == 404:
        message = "There is nothing at this URL."
    response = error_response(status, _HTTP_CODES.get(status, "error"), message)
    if status == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    if status == 429:
        retry = dict(exc.get_headers()).get("Retry-After")
        if exc.response is not None:
            retry = exc.response.headers.get("Retry-After", retry)
        if retry:
            response.headers["Retry-After"] = retry
    return response


def stale_response(exc: StaleDataError) -> Response:
    return error_response(
        409, "stale_version",
        "Someone else changed this ticket at the same moment. Reload and try again.",
    )


def unexpected_response(exc: Exception) -> Response:
    log.exception("unhandled error in the Escalated API")
    return error_response(500, "server_error", "Something went wrong on our side.")
