"""Who is asking: the request's principal (session user or API token), CSRF, and guards.

Every route checks permission through :func:`requires` (or, for a ticket, through
``load_ticket`` in the API helpers) so the rules live in one place.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, g, request, session

from ..hosts import user_id_of
from ..models import Ticket
from ..services import ext, roles, tickets, tokens
from ..services.errors import NotFound, PermissionDenied, ServiceError
from ..services.permissions import Principal, can_act_on_ticket, can_view_ticket

F = TypeVar("F", bound=Callable[..., Any])

CSRF_SESSION_KEY = "_escalated_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Unauthenticated(ServiceError):
    status = 401
    code = "unauthenticated"


def client_ip() -> str | None:
    """The peer address as the WSGI server saw it (use ProxyFix in the host to trust proxies)."""
    return request.remote_addr


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or ""


def current_principal() -> Principal:
    """The acting principal for this request (cached on ``g``)."""
    cached = g.get("_escalated_principal")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    escalated = ext()
    plain = _bearer()
    if plain is not None:
        token = tokens.authenticate(plain, client_ip())
        if token is None:
            raise Unauthenticated("The API token is invalid, revoked or expired.")
        user = escalated.load_user(token.user_id)
        if user is None:
            raise Unauthenticated("The API token's owner no longer exists.")
        principal = _principal_for(user, token.abilities)
        g._escalated_via_token = True
    else:
        user = escalated.current_user()
        principal = _principal_for(user, None) if user is not None else Principal.anonymous()
        g._escalated_via_token = False
    g._escalated_principal = principal
    return principal


def _principal_for(user: Any, abilities: list[str] | None) -> Principal:
    escalated = ext()
    uid = user_id_of(user)
    is_agent, is_admin = escalated.is_agent(user), escalated.is_admin(user)
    profile = escalated.agent_profile(uid) if uid is not None else None
    role = profile.role if profile is not None else None
    granted = by_department = None
    if is_agent and not is_admin and uid is not None:
        granted, by_department = roles.resolve(uid, role or "agent")
    return Principal.build(uid, is_agent=is_agent, is_admin=is_admin, role=role,
                           abilities=abilities, granted=granted, by_department=by_department)


def via_token() -> bool:
    return bool(g.get("_escalated_via_token"))


def require_login() -> Principal:
    principal = current_principal()
    if not principal.is_authenticated:
        raise Unauthenticated("Sign in or send an API token.")
    return principal


def requires(permission: str | None = None) -> Callable[[F], F]:
    """Guard a view: signed in, and holding ``permission`` (if given)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = require_login()
            if permission is not None and not principal.can_anywhere(permission):
                raise PermissionDenied(f"You need the '{permission}' permission for this.")
            return view(*args, **kwargs)

        wrapper.escalated_permission = permission  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def public(view: F) -> F:
    """Mark a view as deliberately open to anonymous callers."""
    view.escalated_public = True  # type: ignore[attr-defined]
    return view


# ---------------------------------------------------------------------------- CSRF
def csrf_token() -> str:
    token = session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return str(token)


def csrf_valid(candidate: str | None) -> bool:
    expected = session.get(CSRF_SESSION_KEY)
    if not (expected and candidate):
        return False
    # Bytes, so a non-ASCII candidate is a mismatch rather than a TypeError (a 500).
    return hmac.compare_digest(str(expected).encode(), candidate.encode("utf-8", "surrogatepass"))


def protect_form() -> None:
    """Refuse an unsafe HTML form request without the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    if not csrf_valid(request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)):
        abort(400, description="The form expired or came from another site. Reload and retry.")


def protect_api() -> None:
    """Cookie-authenticated API POSTs need JSON or the CSRF token.

    A browser sends a cross-site POST without asking only when its body is a form or plain
    text; JSON bodies and the other write methods (PUT, PATCH, DELETE) need a CORS preflight,
    which this API never grants. So only non-JSON POSTs carry a forgery risk.
    """
    if request.method != "POST" or _bearer() is not None:
        return
    if request.is_json or csrf_valid(request.headers.get(CSRF_HEADER)):
        return
    if ext().current_user() is None:
        return  # anonymous: the route's own guard answers 401
    raise PermissionDenied(
        "Cookie-authenticated API writes must send JSON or the X-CSRF-Token header."
    )


def load_ticket(ident: str, permission: str = "ticket.view") -> tuple[Ticket, Principal]:
    """The ticket, if the caller may see it (404 otherwise) and act on it (403 otherwise)."""
    principal = current_principal()
    ticket = tickets.get_ticket(ident)
    if not can_view_ticket(principal, ticket):
        raise NotFound(f"No ticket '{ident[:40]}'.")
    if permission != "ticket.view" and not can_act_on_ticket(principal, ticket, permission):
        raise PermissionDenied(f"You need the '{permission}' permission for this.")
    return ticket, principal
