"""``GET /healthz`` and ``GET /readyz``: what a load balancer and an orchestrator poll.

``/healthz`` answers while the process can answer at all (no database, no Redis): a failing
liveness probe restarts a process, and a database outage is no reason to restart every web
process. ``/readyz`` runs :func:`..services.readiness.readiness` and answers 200 when this
process can serve (``ready`` or ``degraded``) and 503 when it cannot (database unreachable, or
the schema not at the code's head). Both are public, JSON, never cached, exempt from rate
limits (a balancer polls every second from one address) and take no query parameters.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.wrappers import Response

from ..services.readiness import readiness
from .api.errors import error_response
from .security import public


def create_health_blueprint() -> Blueprint:
    bp = Blueprint("health", __name__)
    bp.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    bp.add_url_rule("/readyz", "readyz", readyz, methods=["GET"])
    bp.before_request(_no_parameters)
    bp.after_request(_never_cached)
    return bp


def _no_parameters() -> Response | None:
    if not request.args:
        return None
    names = list(dict.fromkeys(request.args.keys()))
    return error_response(422, "unknown_field", "This endpoint takes no query parameters.",
                          {name: "unknown field" for name in names}, names)


def _never_cached(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@public
def healthz() -> Response:
    return jsonify({"status": "ok"})


@public
def readyz() -> Response:
    found = readiness()
    response = jsonify(found.as_dict())
    response.status_code = 200 if found.ready else 503
    return response
