"""Rate limits per route family (API, sign-in and 2FA, widget, guest, inbound mail).

Each app gets its own Flask-Limiter instance, on Redis when ``ESCALATED_RATE_LIMIT_STORAGE_URI``
or ``ESCALATED_REDIS_URL`` names one and in memory otherwise. A blueprint takes its family's
limit with :func:`limit_blueprint`; the values are read from the config on each request, so a
change needs no restart. The instance ignores the host's own routes and ``RATELIMIT_DEFAULT``
settings: a host that rate-limits its app keeps exactly the limits it configured.

A breach answers 429 with ``Retry-After`` (seconds); the API says so in its JSON envelope, pages
in a readable error page. Hosts can guard their own sign-in form with
:meth:`flask_escalated.Escalated.rate_limit`.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, current_app, request
from flask_limiter import Limiter
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from ..config import Config, rate_limit_for
from ..hosts import user_id_of


def client_ip() -> str:
    """The peer address as the WSGI server saw it (use ProxyFix in the host behind proxies)."""
    return request.remote_addr or "unknown"


def caller_key() -> str:
    """API callers are counted per token, else per signed-in user, else per address."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return "token:" + hashlib.sha256(value.strip().encode()).hexdigest()[:24]
    return user_or_ip()


def user_or_ip() -> str:
    """Sign-in and 2FA attempts: per person once known (an attacker may rotate addresses)."""
    from ..services import ext

    user = ext().current_user()
    uid = user_id_of(user) if user is not None else None
    return f"user:{uid}" if uid is not None else f"ip:{client_ip()}"


def _storage_uri(app: Flask) -> str:
    cfg = app.config
    return str(cfg[Config.RATE_LIMIT_STORAGE_URI] or cfg[Config.REDIS_URL] or "memory://")


def _not_ours() -> bool:
    endpoint = request.endpoint or ""
    return not endpoint.startswith("escalated.")


def install(app: Flask) -> Limiter:
    """Create and attach this app's limiter."""
    limiter = Limiter(
        key_func=client_ip,
        storage_uri=_storage_uri(app),
        strategy="moving-window",
        headers_enabled=True,
        key_prefix="escalated",
        default_limits_exempt_when=lambda: True,
        application_limits_exempt_when=lambda: True,
        # Redis unreachable: requests are still served, and the limits are still counted,
        # in this process's memory until Redis answers again (README, Rate limits).
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        enabled=bool(app.config[Config.RATE_LIMIT_ENABLED]),
    )
    limiter.request_filter(_not_ours)
    limiter.init_app(app)
    return limiter


def limiter_of(app: Flask) -> Limiter:
    from ..services import ext

    return ext().state.limiter  # type: ignore[no-any-return]


def limit_blueprint(
    limiter: Limiter,
    bp: Blueprint,
    family: str,
    key_func: Callable[[], str] = client_ip,
    *,
    failures_only: bool = False,
) -> None:
    """Give every route of ``bp`` the ``family`` limit, counted per ``key_func``.

    ``failures_only`` spends budget only on 4xx answers: a wrong 2FA code counts, loading the
    form or getting it right does not.
    """
    limiter.limit(lambda: rate_limit_for(current_app.config, family), key_func=key_func,
                  scope=family, override_defaults=True, error_message=_message(family),
                  deduct_when=(lambda r: r.status_code >= 400) if failures_only else None)(bp)


def _message(family: str) -> str:
    return {
        "auth": "Too many attempts. Wait a little before trying again.",
    }.get(family, "Too many requests. Slow down and retry after the time in Retry-After.")


def _items(family: str) -> list[Any]:
    return list(parse_many(rate_limit_for(current_app.config, family)))


def check(family: str, key: str) -> None:
    """Refuse with 429 if ``key`` has used up ``family``'s budget, without spending any."""
    _count(family, key, spend=False)


def hit(family: str, key: str) -> None:
    """Spend one of ``key``'s ``family`` budget outside a route limit (per e-mail address,
    a failed sign-in ...); 429 when none is left."""
    _count(family, key, spend=True)


def _count(family: str, key: str, *, spend: bool) -> None:
    limiter = limiter_of(current_app)
    if not limiter.enabled:
        return
    strategy = limiter.limiter
    for item in _items(family):
        allowed = (strategy.hit if spend else strategy.test)(item, "escalated", family, key)
        if not allowed:
            _refuse(limiter, item, family, key)


def _refuse(limiter: Limiter, item: Any, family: str, key: str) -> None:
    reset_at, _ = limiter.limiter.get_window_stats(item, "escalated", family, key)
    raise TooManyRequests(_message(family), retry_after=max(1, math.ceil(reset_at - time.time())))
