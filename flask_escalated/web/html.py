"""What the HTML blueprints share: sign-in redirects and readable error pages.

Guards raise the same service errors for pages as for the API; here they become a redirect to
the host's sign-in page (401) or an error page that says what went wrong (403, 404, 409, 429).
HTTP errors (a bad form, an unknown URL, a body too large, a crash) get the same page, never
Werkzeug's bare one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException, TooManyRequests
from werkzeug.wrappers import Response

from ..clock import now
from ..services.errors import PermissionDenied, ServiceError
from ..services.permissions import Principal
from .security import Unauthenticated, current_principal

#: Where a page request goes when the 2FA gate stops it.
SECOND_FACTOR_PAGES = {"two_factor_required": "escalated.auth.verify",
                       "two_factor_setup_required": "escalated.auth.settings"}


#: What the error page says for an HTTP error that carries no message of ours.
HTTP_MESSAGES = {
    400: "The request could not be read. Reload the page and try again.",
    401: "Sign in to see this page.",
    403: "You are not allowed to do that.",
    404: "There is nothing at this address.",
    405: "This page does not accept that kind of request.",
    413: "That was too large to upload.",
    415: "That kind of content is not accepted here.",
    500: "Something went wrong on our side. Try again in a moment.",
}


def login_redirect() -> Response:
    """Send an anonymous visitor to the host's sign-in page (or answer 401 if it has none)."""
    manager = getattr(current_app, "login_manager", None)
    if manager is None or not manager.login_view:
        return make_response(render_template("escalated/error.html", status=401,
                                             message=HTTP_MESSAGES[401]), 401)
    target = request.full_path if request.query_string else request.path
    return redirect(url_for(manager.login_view, next=target))


def require_signed_in() -> Response | None:
    """A ``before_request`` guard for blueprints that are for signed-in people only."""
    if not current_principal().is_authenticated:
        return login_redirect()
    return None


def signed_in_forms() -> Response | None:
    """``before_request`` for pages of signed-in people: sign-in redirect, then CSRF."""
    from .security import protect_form

    denied = require_signed_in()
    if denied is not None:
        return denied
    protect_form()
    return None


def staff_pages(allowed: Callable[[Principal], bool], refusal: str) -> Response | None:
    """``before_request`` for the agent workspace and the admin console: signed in (with the
    second factor when required), CSRF-checked, and ``allowed``; else a 403 with ``refusal``."""
    from .auth import second_factor_gate

    denied = signed_in_forms()
    if denied is not None:
        return denied
    second_factor_gate()
    if not allowed(current_principal()):
        raise PermissionDenied(refusal)
    return None


def error_page(exc: ServiceError) -> Response | tuple[str, int]:
    if isinstance(exc, Unauthenticated):
        return login_redirect()
    if exc.code in SECOND_FACTOR_PAGES:
        return redirect(url_for(SECOND_FACTOR_PAGES[exc.code], next=request.path))
    return render_template("escalated/error.html", status=exc.status,
                           message=exc.message), exc.status


def too_many(exc: TooManyRequests) -> tuple[str, int, dict[str, str]]:
    retry = dict(exc.get_headers()).get("Retry-After", "60")
    message = f"{exc.description} Try again in {retry} seconds."
    return (render_template("escalated/error.html", status=429, message=message), 429,
            {"Retry-After": retry})


def http_error_page(exc: HTTPException) -> Any:
    """An HTTP error as the layout's error page (redirects pass through untouched)."""
    status = exc.code or 500
    if status < 400:
        return exc
    if isinstance(exc, TooManyRequests):
        return too_many(exc)
    message = HTTP_MESSAGES.get(status, exc.description or exc.name)
    if status in (400, 403) and exc.description and exc.description != type(exc).description:
        message = exc.description  # ours, e.g. the expired-form message
    headers = {}
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    try:
        page = render_template("escalated/error.html", status=status, message=message)
    except Exception:
        current_app.logger.exception("Escalated's error page failed to render")
        return exc
    return page, status, headers


def install_html_errors(bp: Blueprint) -> None:
    bp.register_error_handler(ServiceError, error_page)
    bp.register_error_handler(TooManyRequests, too_many)
    bp.register_error_handler(HTTPException, http_error_page)


def relative_time(when: datetime | None, reference: datetime | None = None) -> str:
    """``when`` in words from now ("just now", "5 minutes ago", "3 days ago")."""
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    seconds = int(((reference or now()) - when).total_seconds())
    if seconds < 0:
        return "just now" if seconds > -60 else "in the future"
    for limit, size, unit in _RELATIVE_STEPS:
        if seconds < limit:
            if size == 0:
                return "just now"
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return f"{when.day} {when:%b %Y}"


_RELATIVE_STEPS = (
    (60, 0, ""),
    (3600, 60, "minute"),
    (86400, 3600, "hour"),
    (86400 * 30, 86400, "day"),
    (86400 * 365, 86400 * 30, "month"),
)
