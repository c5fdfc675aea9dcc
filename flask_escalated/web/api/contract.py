"""The response half of the contract: in testing, every JSON answer is checked against its
operation's declared schema, so a serializer that drifts from ``openapi.json`` fails the suite.

Errors are checked against the error envelope; a success against the route's ``response``
model when it declares one. The check runs when ``ESCALATED_CHECK_RESPONSES`` is true (default:
when the app is testing); a mismatch replaces the answer with a 500 ``response_contract`` that
names each difference, and is logged.
"""

from __future__ import annotations

import logging

from flask import Response, current_app, request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError

from .errors import error_response
from .schemas.common import Error

log = logging.getLogger("flask_escalated.api")


def _enabled() -> bool:
    return bool(current_app.config.get("ESCALATED_CHECK_RESPONSES", current_app.testing))


def check_response(response: Response) -> Response:
    if not _enabled() or not response.is_json or response.direct_passthrough:
        return response
    model: type[BaseModel] | None
    if response.status_code >= 400:
        model = Error
    else:
        doc = getattr(request, "escalated_route", None)
        model = getattr(doc, "response", None)
    if model is None:
        return response
    try:
        model.model_validate_json(response.get_data())
    except PydanticError as exc:
        problems = {".".join(map(str, e["loc"])) or "body": e["msg"]
                    for e in exc.errors(include_url=False)}
        log.error("response of %s %s does not match %s: %s", request.method, request.path,
                  model.__name__, problems)
        return error_response(500, "response_contract",
                              f"The response does not match {model.__name__}.", problems)
    return response
