"""503 instead of 500 when the database is briefly out of reach.

A restart of the database server, a failover, a dropped connection, a deadlock or a lock wait
that timed out all surface as SQLAlchemy's ``OperationalError`` (or ``InterfaceError`` for a
connection the driver already closed). None of them is a bug in the request: the unit of work
rolled back, nothing was half-written, and the same request a moment later will likely
succeed. So the answer is 503 with ``Retry-After``, in the area's own format (the JSON envelope
or the error page), never a 500 with a traceback. The pool discards the broken connection
itself; with ``pool_pre_ping`` (README, *Deploying*) the next request checks out a live one.

Handlers are registered on every Escalated blueprint because a child blueprint's catch-all
``Exception`` handler would otherwise be found before the parent's.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, request
from flask.sansio.blueprints import Blueprint
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import ServiceUnavailable

log = logging.getLogger("flask_escalated.web")

#: What a database that is restarting, failing over or contended raises.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (sa_exc.OperationalError, sa_exc.InterfaceError)
RETRY_AFTER_SECONDS = 5
MESSAGE = ("The helpdesk's database is unavailable for a moment, so this request was not "
           "completed and nothing was changed. Please try again in a few seconds.")


def install(bp: Blueprint) -> None:
    """Register the handler on ``bp`` and every blueprint nested in it (before ``bp`` is
    registered on the app)."""
    for cls in TRANSIENT_ERRORS:
        bp.register_error_handler(cls, database_unavailable)
    for child, _ in bp._blueprints:
        install(child)


def database_unavailable(exc: Exception) -> Any:
    log.warning("database unavailable during %s %s: %s", request.method, request.path,
                getattr(exc, "orig", None) or exc)
    try:
        current_app.extensions["escalated"].session.rollback()
    except Exception:  # the connection is gone: the pool drops it on its own
        log.debug("rollback after a database error failed too", exc_info=True)
    from . import error_in_area_format

    error = ServiceUnavailable(description=MESSAGE)
    response = error_in_area_format(error, current_app.config["ESCALATED_ROUTE_PREFIX"]
                                    .rstrip("/"))
    response = current_app.make_response(response)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
