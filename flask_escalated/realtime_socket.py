"""The ``/escalated`` Socket.IO namespace: who may connect, join a channel, and be present.

Apart from :mod:`flask_escalated.realtime` so that Flask-SocketIO is imported only when
``ESCALATED_ENABLE_REALTIME`` is on.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import request
from flask_socketio import Namespace, join_room, leave_room

from .realtime import (
    PrincipalLoader,
    _broadcast_presence,
    ticket_agents_room,
    ticket_customers_room,
)
from .services import ext, live
from .services.errors import ServiceError

if TYPE_CHECKING:
    from .services.permissions import Principal


# ---------------------------------------------------------------------------- the namespace
@dataclass
class _Connection:
    user_id: str
    name: str
    presence: set[int] = field(default_factory=set)


class EscalatedNamespace(Namespace):  # type: ignore[misc]
    """``connect`` (signed-in only), ``join``/``leave`` a channel, ``presence``."""

    def __init__(self, namespace: str, principal_loader: PrincipalLoader) -> None:
        super().__init__(namespace)
        self._principal = principal_loader
        self._connections: dict[str, _Connection] = {}
        self._lock = threading.Lock()

    def _current(self) -> Principal | None:
        try:
            principal = self._principal()
        except ServiceError:
            return None
        return principal if principal.is_authenticated else None

    def on_connect(self, auth: Any = None) -> None:
        principal = self._current()
        if principal is None or principal.user_id is None:
            raise ConnectionRefusedError("unauthorized")
        escalated = ext()
        name, _ = escalated.display(escalated.load_user(principal.user_id))
        with self._lock:
            self._connections[request.sid] = _Connection(  # type: ignore[attr-defined]
                principal.user_id, name)

    def on_disconnect(self, reason: Any = None) -> None:
        with self._lock:
            conn = self._connections.pop(request.sid, None)  # type: ignore[attr-defined]
        if conn is None or not conn.presence:
            return
        store = live.presence_store()
        for ticket_id in conn.presence:
            store.remove(ticket_id, conn.user_id)
            _broadcast_presence(ticket_id, store.viewers(ticket_id))

    def _principal_for_event(self) -> tuple[Principal, _Connection] | None:
        conn = self._connections.get(request.sid)  # type: ignore[attr-defined]
        principal = self._current()
        if conn is None or principal is None or principal.user_id != conn.user_id:
            return None
        return principal, conn

    def on_join(self, data: Any = None) -> dict[str, Any]:
        who = self._principal_for_event()
        if who is None:
            return _refused("unauthorized", "Sign in again.")
        principal, _ = who
        try:
            channel = live.parse(_channel_name(data))
            live.authorize(principal, channel)
        except ServiceError as exc:
            return _refused(exc.code, exc.message)
        join_room(channel.name)
        if channel.kind == "ticket" and channel.ticket_id is not None:
            join_room(ticket_agents_room(channel.ticket_id) if principal.is_agent
                      else ticket_customers_room(channel.ticket_id))
        return {"ok": True, "channel": channel.name}

    def on_leave(self, data: Any = None) -> dict[str, Any]:
        try:
            channel = live.parse(_channel_name(data))
        except ServiceError as exc:
            return _refused(exc.code, exc.message)
        leave_room(channel.name)
        if channel.kind == "ticket" and channel.ticket_id is not None:
            leave_room(ticket_agents_room(channel.ticket_id))
            leave_room(ticket_customers_room(channel.ticket_id))
        return {"ok": True, "channel": channel.name}

    def on_presence(self, data: Any = None) -> dict[str, Any]:
        who = self._principal_for_event()
        if who is None:
            return _refused("unauthorized", "Sign in again.")
        principal, conn = who
        payload = data if isinstance(data, dict) else {}
        try:
            ticket_id, _ = live.update_presence(
                principal, payload.get("ticket_id"), payload.get("state"), name=conn.name)
        except ServiceError as exc:
            return _refused(exc.code, exc.message)
        if principal.is_agent:
            with self._lock:
                if payload.get("state") == "left":
                    conn.presence.discard(ticket_id)
                else:
                    conn.presence.add(ticket_id)
        return {"ok": True, "ticket_id": ticket_id}


def _channel_name(data: Any) -> Any:
    return data.get("channel") if isinstance(data, dict) else data


def _refused(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": code, "message": message}
