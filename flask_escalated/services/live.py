"""Live updates shared by the Socket.IO namespace and the polling fallback.

Channels are the family's names: ``escalated.tickets`` (the agents' queue),
``escalated.tickets.<id>`` (one ticket) and ``escalated.agents.<user id>`` (an agent's own).
:func:`authorize` decides who may listen to a channel, :func:`cursor` answers "did anything
change since?" for the polling endpoint with indexed queries, and the presence store keeps who
is viewing or typing on a ticket, with expiry (in Redis when one is configured, else in this
process).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from ..clock import now
from ..config import Config
from ..models import Activity, Ticket
from . import ext, session
from .errors import NotFound, PermissionDenied, ValidationError
from .ids import parse_id
from .permissions import Principal, can_view_ticket

QUEUE_CHANNEL = "escalated.tickets"
TICKET_PREFIX = "escalated.tickets."
AGENT_PREFIX = "escalated.agents."
#: Room of the agents on one ticket: internal notes and presence go only there.
AGENTS_SUFFIX = ".agents"
#: Room of the other (customer) viewers of one ticket.
CUSTOMERS_SUFFIX = ".customers"

PRESENCE_STATES = ("viewing", "typing", "left")
#: Seconds a presence entry lives without a heartbeat (clients repeat theirs every 15 s).
PRESENCE_TTL = 40
MAX_CHANNELS = 10

_TICKET_CHANNEL = re.compile(r"^escalated\.tickets\.([1-9][0-9]{0,17})$")
_AGENT_CHANNEL = re.compile(r"^escalated\.agents\.([A-Za-z0-9_.@:-]{1,64})$")


def ticket_channel(ticket_id: int) -> str:
    return f"{TICKET_PREFIX}{ticket_id}"


def agent_channel(user_id: str) -> str:
    return f"{AGENT_PREFIX}{user_id}"


@dataclass(frozen=True)
class Channel:
    """A parsed channel name: ``kind`` is ``queue``, ``ticket`` or ``agent``."""

    name: str
    kind: str
    ticket_id: int | None = None
    user_id: str | None = None


def parse(name: object) -> Channel:
    """Parse a channel name; anything else is a :class:`ValidationError`."""
    if not isinstance(name, str):
        raise ValidationError("A channel name is a string.", {"channel": "invalid"})
    if name == QUEUE_CHANNEL:
        return Channel(name, "queue")
    match = _TICKET_CHANNEL.match(name)
    if match:
        return Channel(name, "ticket", ticket_id=int(match.group(1)))
    match = _AGENT_CHANNEL.match(name)
    if match:
        return Channel(name, "agent", user_id=match.group(1))
    raise ValidationError(f"Unknown channel {name[:80]!r}.", {"channel": "unknown"})


def parse_list(raw: str | None) -> list[Channel]:
    names = [n.strip() for n in (raw or "").split(",") if n.strip()]
    if not names:
        raise ValidationError("Name at least one channel.", {"channels": "required"})
    if len(names) > MAX_CHANNELS:
        raise ValidationError(f"At most {MAX_CHANNELS} channels.", {"channels": "too many"})
    return [parse(n) for n in dict.fromkeys(names)]


def authorize(principal: Principal, channel: Channel) -> Ticket | None:
    """Refuse (``PermissionDenied``/``NotFound``) unless ``principal`` may listen to ``channel``.

    The queue is for agents; an agent's channel for that agent alone; a ticket channel for
    whoever may view the ticket (agents with ``ticket.view`` there, its requester). A ticket
    the caller may not see is "not found", so ids cannot be probed. Returns the ticket, if any.
    """
    if not principal.is_authenticated:
        raise PermissionDenied("Sign in first.")
    if channel.kind == "queue":
        if not (principal.is_agent and principal.can_anywhere("ticket.view")):
            raise PermissionDenied("The ticket queue is for agents.")
        return None
    if channel.kind == "agent":
        if not principal.is_agent or channel.user_id != principal.user_id:
            raise PermissionDenied("That is another agent's channel.")
        return None
    ticket = session().get(Ticket, channel.ticket_id)
    if ticket is None or not can_view_ticket(principal, ticket):
        raise NotFound("No such ticket.")
    return ticket


# ---------------------------------------------------------------------------- polling
def cursor(principal: Principal, channels: Iterable[Channel]) -> str:
    """An opaque cursor over the state of ``channels``; it changes when any of them changes.

    Authorizes each channel first. The queue reads ``max(updated_at)`` over tickets; a ticket
    reads its own row (loaded by the permission check) and, for agents, the newest activity id
    (internal notes and tags write activity without touching the ticket row). Customers see
    only the ticket row, which internal notes leave alone.
    """
    parts: list[str] = []
    for channel in channels:
        ticket = authorize(principal, channel)
        if channel.kind == "queue":
            latest = session().execute(select(func.max(Ticket.updated_at))).scalar()
            parts.append(f"q:{latest}")
        elif channel.kind == "ticket" and ticket is not None:
            state = f"t{ticket.id}:{ticket.updated_at}:{ticket.version}"
            if principal.is_agent:
                newest = session().execute(
                    select(func.max(Activity.id)).where(Activity.ticket_id == ticket.id)
                ).scalar()
                state += f":{newest}"
            parts.append(state)
        else:
            parts.append(f"a:{channel.user_id}")
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=12).hexdigest()
    return digest


# ---------------------------------------------------------------------------- presence
class PresenceStore:
    """Who is on a ticket: ``{user_id: (name, state, expires_at)}`` per ticket."""

    def set(self, ticket_id: int, user_id: str, name: str, state: str) -> None:
        raise NotImplementedError

    def remove(self, ticket_id: int, user_id: str) -> None:
        raise NotImplementedError

    def viewers(self, ticket_id: int) -> list[dict[str, Any]]:
        raise NotImplementedError


def _stamp() -> float:
    return now().timestamp()


class MemoryPresence(PresenceStore):
    """Presence for a single process (no Redis configured)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tickets: dict[int, dict[str, tuple[str, str, float]]] = {}

    def set(self, ticket_id: int, user_id: str, name: str, state: str) -> None:
        with self._lock:
            self._tickets.setdefault(ticket_id, {})[user_id] = (
                name, state, _stamp() + PRESENCE_TTL)

    def remove(self, ticket_id: int, user_id: str) -> None:
        with self._lock:
            entries = self._tickets.get(ticket_id)
            if entries is not None:
                entries.pop(user_id, None)
                if not entries:
                    del self._tickets[ticket_id]

    def viewers(self, ticket_id: int) -> list[dict[str, Any]]:
        stamp = _stamp()
        with self._lock:
            entries = self._tickets.get(ticket_id, {})
            for uid in [u for u, (_, _, exp) in entries.items() if exp <= stamp]:
                del entries[uid]
            if not entries:
                self._tickets.pop(ticket_id, None)
            rows = sorted(entries.items(), key=lambda item: (item[1][0], item[0]))
        return [{"user_id": uid, "name": name, "state": state} for uid, (name, state, _) in rows]


class RedisPresence(PresenceStore):
    """Presence shared by every process: one Redis hash per ticket, entries with expiry."""

    def __init__(self, url: str, prefix: str = "escalated:presence:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix

    def _key(self, ticket_id: int) -> str:
        return f"{self._prefix}{ticket_id}"

    def set(self, ticket_id: int, user_id: str, name: str, state: str) -> None:
        value = json.dumps({"name": name, "state": state, "expires": _stamp() + PRESENCE_TTL})
        key = self._key(ticket_id)
        pipe = self._redis.pipeline()
        pipe.hset(key, user_id, value)
        pipe.expire(key, PRESENCE_TTL * 2)
        pipe.execute()

    def remove(self, ticket_id: int, user_id: str) -> None:
        self._redis.hdel(self._key(ticket_id), user_id)

    def viewers(self, ticket_id: int) -> list[dict[str, Any]]:
        key = self._key(ticket_id)
        raw = self._redis.hgetall(key)
        stamp = _stamp()
        out, stale = [], []
        for uid_b, value_b in raw.items():
            uid = uid_b.decode() if isinstance(uid_b, bytes) else str(uid_b)
            try:
                entry = json.loads(value_b)
            except ValueError:
                stale.append(uid)
                continue
            if float(entry.get("expires", 0)) <= stamp:
                stale.append(uid)
                continue
            out.append({"user_id": uid, "name": str(entry.get("name", "")),
                        "state": str(entry.get("state", "viewing"))})
        if stale:
            self._redis.hdel(key, *stale)
        return sorted(out, key=lambda v: (v["name"], v["user_id"]))


_STORE_KEY = "live_presence"
_STORE_LOCK = threading.Lock()


def _redis_url() -> str | None:
    cfg = current_app.config
    queue = cfg[Config.SOCKETIO_MESSAGE_QUEUE]
    if isinstance(queue, str) and queue.startswith(("redis://", "rediss://")):
        return queue
    return cfg[Config.REDIS_URL] or None


def presence_store() -> PresenceStore:
    """This app's presence store (Redis when a message queue or Redis is configured)."""
    extras = ext().state.extras
    store = extras.get(_STORE_KEY)
    if store is None:
        with _STORE_LOCK:
            store = extras.get(_STORE_KEY)
            if store is None:
                url = _redis_url()
                store = RedisPresence(url) if url else MemoryPresence()
                extras[_STORE_KEY] = store
    return store  # type: ignore[no-any-return]


PresenceListener = Callable[[int, list[dict[str, Any]]], None]
_presence_listeners: list[PresenceListener] = []


def on_presence(listener: PresenceListener) -> PresenceListener:
    """Call ``listener(ticket_id, viewers)`` whenever a ticket's agent presence changes."""
    if listener not in _presence_listeners:
        _presence_listeners.append(listener)
    return listener


def update_presence(
    principal: Principal, ticket_id: object, state: object, name: str | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """Record ``principal``'s presence on a ticket they may view; return the agents present.

    Only agents' presence is kept and shown (to agents); a customer's is accepted and dropped.
    """
    if state not in PRESENCE_STATES:
        raise ValidationError("state is viewing, typing or left.", {"state": "invalid"})
    tid = parse_id(ticket_id if isinstance(ticket_id, int) else str(ticket_id))
    if tid is None:
        raise ValidationError("ticket_id is a ticket id.", {"ticket_id": "invalid"})
    authorize(principal, Channel(ticket_channel(tid), "ticket", ticket_id=tid))
    if not principal.is_agent or principal.user_id is None:
        return tid, []
    store = presence_store()
    if state == "left":
        store.remove(tid, principal.user_id)
    else:
        if name is None:
            name, _ = ext().display(ext().load_user(principal.user_id))
        store.set(tid, principal.user_id, name, str(state))
    viewers = store.viewers(tid)
    for listener in list(_presence_listeners):
        listener(tid, viewers)
    return tid, viewers


def viewers_for(principal: Principal, ticket_id: int) -> list[dict[str, Any]]:
    """The agents present on a ticket, for agents (customers get an empty list)."""
    if not principal.is_agent:
        return []
    return presence_store().viewers(ticket_id)
