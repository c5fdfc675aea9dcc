"""Keep-alive HTTP connections for outbound POSTs, pooled per host, with the SSRF check pinned.

A webhook worker posts to a handful of receivers many times a second; a new TCP (and TLS)
connection per POST costs more than the POST. The pool keeps up to ``MAX_IDLE`` idle
connections per (scheme, host, port) and hands each to one caller at a time.

The SSRF rule of :mod:`.outbound` holds per connection: a connection is opened only after the
host name was resolved and every address it gave was found public (or the host is
allowlisted), and it connects to the address that was checked, never to a fresh DNS answer.
A reused connection therefore still talks to a checked address; a DNS change is seen by the
next connection, and no connection lives longer than ``MAX_AGE`` seconds. Redirects are never
followed (``http.client`` does not follow them; a 3xx is an answer like any other).

The pool belongs to one app (its config decides what is allowlisted), lives in the
extension's state, and is safe to share between threads.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

MAX_IDLE = 8  # idle connections kept per host
MAX_AGE = 60.0  # seconds a connection may be reused; then the name is resolved again
MAX_DRAIN = 64 * 1024  # response bytes read past the excerpt to keep a connection reusable
EXCERPT = 2000

Key = tuple[str, str, int]


@dataclass
class _Conn:
    conn: http.client.HTTPConnection
    opened: float
    uses: int = 0


@dataclass
class Answer:
    """What a POST got back: status and the start of the body (not an error for non-2xx)."""

    status: int
    body: str


@dataclass
class Pool:
    """Idle keep-alive connections per (scheme, host, port)."""

    idle: dict[Key, list[_Conn]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    opened: int = 0  # connections opened so far (the tests read it)
    _tls: ssl.SSLContext | None = None

    def _take(self, key: Key) -> _Conn | None:
        with self.lock:
            conns = self.idle.get(key) or []
            while conns:
                held = conns.pop()
                if time.monotonic() - held.opened < MAX_AGE and not _dropped(held.conn):
                    return held
                held.conn.close()
        return None

    def _give_back(self, key: Key, held: _Conn) -> None:
        with self.lock:
            conns = self.idle.setdefault(key, [])
            if len(conns) < MAX_IDLE:
                conns.append(held)
                return
        held.conn.close()

    def _open(self, scheme: str, host: str, port: int, timeout: float) -> _Conn:
        from .outbound import check_destination  # raises UnsafeURL before any connection

        address = check_destination(f"{scheme}://{_bracket(host)}:{port}/")
        conn: http.client.HTTPConnection
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=self._tls)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        if address is not None:  # connect to the checked address, whatever DNS says now
            pinned = str(address)

            def connect(addr: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
                return socket.create_connection((pinned, addr[1]), *args, **kwargs)

            conn._create_connection = connect  # type: ignore[attr-defined]
        with self.lock:
            self.opened += 1
        return _Conn(conn, time.monotonic())

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
        """POST over a pooled connection. Raises ``UnsafeURL``, ``OSError`` or
        ``http.client.HTTPException`` for what never got an answer."""
        parts = urlsplit(url)
        scheme = parts.scheme
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        key = (scheme, host, port)
        held = self._take(key)
        if held is not None:
            try:
                return self._send(key, held, path, body, headers, timeout)
            except (ConnectionError, http.client.BadStatusLine):
                pass  # the receiver dropped an idle connection; try once on a new one
        return self._send(
            key, self._open(scheme, host, port, timeout), path, body, headers, timeout
        )

    def _send(
        self, key: Key, held: _Conn, path: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> Answer:
        conn = held.conn
        try:
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read(EXCERPT)
            reusable = not response.will_close
            if reusable and not response.isclosed():
                response.read(MAX_DRAIN)
                reusable = response.isclosed()
        except BaseException:
            conn.close()
            raise
        held.uses += 1
        if reusable:
            self._give_back(key, held)
        else:
            conn.close()
        return Answer(response.status, text.decode("utf-8", "replace"))

    def close(self) -> None:
        with self.lock:
            for conns in self.idle.values():
                for held in conns:
                    held.conn.close()
            self.idle.clear()


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle connection was closed by the other end (readable means EOF or junk)."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def pool() -> Pool:
    """This app's pool (one per app: its allowlist decides which connections may exist)."""
    extras = current_app.extensions["escalated"].state.extras
    found = extras.get("http_pool")
    if found is None:
        found = extras.setdefault("http_pool", Pool())
    return found  # type: ignore[no-any-return]
