"""What the HTML blueprints share: sign-in redirects and readable error pages.

Guards raise the same service errors for pages as for the API; here they become a redirect to
the host's sign-in page (401) or an error page that says what went wrong (403, 404, 409, 429).
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from ..clock import now
from ..services.errors import ServiceError
from .security import Unauthenticated, current_principal

#: Where a page request goes when the 2FA gate stops it.
SECOND_FACTOR_PAGES = {"two_factor_required": "escalated.auth.verify",
                       "two_factor_setup_required": "escalated.auth.settings"}


def login_redirect() -> Response:
    """Send an anonymous visitor to the host's sign-in page (or answer 401 if it has none)."""
    manager = getattr(current_app, "login_manager", None)
    if manager is None or not manager.login_view:
        abort(401)
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


def install_html_errors(bp: Blueprint) -> None:
    bp.register_error_handler(ServiceError, error_page)
    bp.register_error_handler(TooManyRequests, too_many)


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
