"""Outbound HTTP safety: only http(s), only to globally routable addresses (unless the host
is allowlisted in ``ESCALATED_WEBHOOK_ALLOWED_HOSTS``), and no redirects.

An address is acceptable only if :func:`is_public_address` says so: the ``ipaddress`` module's
``is_global`` (which already excludes private, loopback, link-local, carrier-grade NAT
``100.64.0.0/10`` and documentation ranges) and neither multicast, reserved nor unspecified.
IPv6 addresses that carry an IPv4 address are judged by what they lead to: IPv4-mapped
(``::ffff:a.b.c.d``) and NAT64 (``64:ff9b::/96``) by the IPv4 address inside; the tunnelling
and obsolete forms (6to4 ``2002::/16``, Teredo ``2001::/32``, IPv4-compatible ``::a.b.c.d``,
local-use NAT64 ``64:ff9b:1::/48``) are refused outright, since a webhook receiver has no
reason to sit behind them and their IPv4 end could be anything.

Checked when a URL is saved and again before each new connection, since a hostname can resolve
differently later (DNS rebinding): every address the name resolves to must be public, and the
connection goes to the address that was checked (see :mod:`.http_pool`, which keeps connections
alive for at most a minute).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from flask import current_app

from ..config import Config
from .errors import ValidationError


class UnsafeURL(ValueError):
    """The URL may not be called."""


def check_url(url: Any, field: str = "url") -> str:
    """Validate the form of a URL (scheme, host, length); raises ValidationError."""
    if not isinstance(url, str) or len(url) > 2048:
        raise ValidationError("A URL of at most 2048 characters is required.", {field: "url"})
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Only http and https URLs are allowed.", {field: "http(s) only"})
    try:
        check_destination(url)
    except UnsafeURL as exc:
        raise ValidationError(str(exc), {field: "not a public address"}) from None
    return url


def check_destination(url: str) -> IPAddress | None:
    """Refuse hosts that resolve to any non-public address (unless allowlisted); returns the
    address to connect to (None for an allowlisted host, which resolves as usual)."""
    host = urlsplit(url).hostname or ""
    allowed = set(current_app.config[Config.WEBHOOK_ALLOWED_HOSTS] or [])
    if host in allowed:
        return None
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"{host} does not resolve") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        try:
            address = ipaddress.ip_address(info[4][0])
        except ValueError:
            raise UnsafeURL(f"{host} resolves to an unreadable address") from None
        if not is_public_address(address):
            raise UnsafeURL(f"{host} resolves to a non-public address ({address})")
        addresses.append(address)
    if not addresses:
        raise UnsafeURL(f"{host} does not resolve")
    return addresses[0]


IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
#: IPv6 ranges that tunnel to an IPv4 address we could not vouch for: refused outright.
_TUNNELS = tuple(ipaddress.IPv6Network(n) for n in (
    "2002::/16",        # 6to4
    "2001::/32",        # Teredo
    "::/96",            # IPv4-compatible (deprecated); also :: and ::1
    "64:ff9b:1::/48",   # local-use NAT64 (RFC 8215)
))


def is_public_address(address: IPAddress) -> bool:
    """Whether a request to ``address`` leaves for the public internet."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        inner = _translated_ipv4(address)
        if inner is not None:
            return is_public_address(inner)
        if any(address in net for net in _TUNNELS):
            return False
    return bool(address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified
        or address.is_loopback or address.is_link_local or address.is_private))


def _translated_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped or NAT64 address stands for (None for other forms)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could point anywhere, including inside the network: do not follow."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Response:
    status: int | None
    body: str
    duration_ms: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 10) -> Response:
    """POST ``body``; never raises for network trouble (the result says what happened).

    Sent over this app's keep-alive pool (:mod:`.http_pool`), which checks and pins the
    address of every connection it opens. An allowlisted host behind a proxy configured in the
    environment goes through ``urllib`` instead, so that proxy is still used.
    """
    started = time.perf_counter()
    try:
        if _proxied(url):
            return _post_urllib(url, body, headers, timeout, started)
        from .http_pool import pool

        answer = pool().post(url, body, headers, timeout)
        ok = 200 <= answer.status < 300
        return Response(answer.status, answer.body, _ms(started),
                        None if ok else f"HTTP {answer.status}")
    except (UnsafeURL, OSError, http.client.HTTPException, ValueError) as exc:
        return Response(None, "", _ms(started), str(exc)[:500])


def _proxied(url: str) -> bool:
    """An allowlisted host that the environment sends through a proxy."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host not in set(current_app.config[Config.WEBHOOK_ALLOWED_HOSTS] or []):
        return False
    return parts.scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(host)


def _post_urllib(url: str, body: bytes, headers: dict[str, str], timeout: float,
                 started: float) -> Response:
    try:
        check_destination(url)  # allowlisted: nothing to pin, resolved as usual
        opener = urllib.request.build_opener(_NoRedirects)
        request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310
                                         headers=headers)
        with opener.open(request, timeout=timeout) as response:
            text = response.read(2000).decode("utf-8", "replace")
            status = response.status
        return Response(status, text, _ms(started))
    except urllib.error.HTTPError as exc:
        text = exc.read(2000).decode("utf-8", "replace") if exc.fp else ""
        return Response(exc.code, text, _ms(started), f"HTTP {exc.code}")
    except (UnsafeURL, urllib.error.URLError, OSError, ValueError) as exc:
        return Response(None, "", _ms(started), str(getattr(exc, "reason", exc))[:500])


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
