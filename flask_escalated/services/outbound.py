"""Outbound HTTP safety: only http(s), never to loopback, private or link-local addresses
(unless the host is allowlisted in ``ESCALATED_WEBHOOK_ALLOWED_HOSTS``), and no redirects.

Checked when a URL is saved and again just before each request, since a hostname can resolve
differently later (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
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


def check_destination(url: str) -> None:
    """Refuse hosts that resolve to non-public addresses (unless allowlisted)."""
    host = urlsplit(url).hostname or ""
    allowed = set(current_app.config[Config.WEBHOOK_ALLOWED_HOSTS] or [])
    if host in allowed:
        return
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        raise UnsafeURL(f"{host} does not resolve") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        mapped = getattr(address, "ipv4_mapped", None)
        address = mapped or address
        if (address.is_private or address.is_loopback or address.is_link_local
                or address.is_reserved or address.is_multicast or address.is_unspecified):
            raise UnsafeURL(f"{host} resolves to a non-public address ({address})")


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
    """POST ``body``; never raises for network trouble (the result says what happened)."""
    started = time.perf_counter()
    try:
        check_destination(url)
        request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310
                                         headers=headers)
        opener = urllib.request.build_opener(_NoRedirects)
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
