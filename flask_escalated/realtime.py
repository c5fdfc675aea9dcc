"""Real-time updates over Socket.IO, fed by domain events.

With ``ESCALATED_ENABLE_REALTIME`` on, :func:`init_app` attaches a Flask-SocketIO server (the
host's own when it has one) and registers the ``/escalated`` namespace. Clients connect signed
in (Flask-Login session cookie, the host's ``current_user`` hook, or an
``Authorization: Bearer`` API token) and ``join`` the family's channels:

- ``escalated.tickets``: the agents' queue (``queue:changed``);
- ``escalated.tickets.<id>``: one ticket, for its agents and the people who may view it
  (``ticket:updated``, ``ticket:reply``);
- ``escalated.agents.<user id>``: one agent's own (``ticket:assigned``).

Every join is authorized and answered with an acknowledgement ``{"ok": true}`` or
``{"ok": false, "error": ...}``. A ticket's viewers are also put in one of two private rooms,
``escalated.tickets.<id>.agents`` or ``escalated.tickets.<id>.customers``: internal notes,
agent-only changes (tags, SLA, department ...) and presence go to the agents' room alone, so a
customer never learns that an internal note exists.

Payloads carry ids and changed field names, never records: clients re-fetch what they show,
through the normal permission checks. Messages are planned inside the committing transaction
(from the events it recorded) and emitted only after it commits; a rollback emits nothing.
With ``ESCALATED_SOCKETIO_MESSAGE_QUEUE`` every process that emits (web workers, ``flask
escalated`` commands, RQ workers) publishes through the queue and the process holding the
client's connection delivers; a process that serves no connection never starts a listener.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from sqlalchemy import event as sa_event

from .config import Config
from .events import DomainEvent, on_after_commit, on_before_commit
from .services import live

if TYPE_CHECKING:
    from flask_socketio import SocketIO
    from sqlalchemy.orm import Session

    from .services.permissions import Principal

log = logging.getLogger("flask_escalated.realtime")

NAMESPACE = "/escalated"
QUEUE_ROOM = live.QUEUE_CHANNEL

#: Ticket fields a customer viewing the ticket may hear about; others go to agents only.
PUBLIC_FIELDS = frozenset({"status", "priority", "assignee_id", "subject", "description",
                           "ticket_type", "merged_into_id"})

#: The fields each domain event changes (``ticket_updated`` names its own).
EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "ticket_status_changed": ("status",),
    "ticket_assigned": ("assignee_id",),
    "ticket_unassigned": ("assignee_id",),
    "ticket_priority_changed": ("priority",),
    "ticket_escalated": ("escalation",),
    "ticket_resolved": ("status",),
    "ticket_closed": ("status",),
    "ticket_reopened": ("status",),
    "ticket_merged": ("merged_into_id",),
    "ticket_split": ("split",),
    "ticket_linked": ("links",),
    "ticket_unlinked": ("links",),
    "ticket_snoozed": ("snoozed_until",),
    "ticket_woken": ("snoozed_until",),
    "sla_breached": ("sla",),
    "sla_warning": ("sla",),
    "tag_added": ("tags",),
    "tag_removed": ("tags",),
    "department_changed": ("department_id",),
    "csat_submitted": ("csat",),
}

_PLAN = "escalated.realtime_plan"
_SOCKETIO = "socketio"
_SOCKET_PATH = "socket_path"

PrincipalLoader = Callable[[], "Principal"]


def ticket_room(ticket_id: int) -> str:
    return live.ticket_channel(ticket_id)


def ticket_agents_room(ticket_id: int) -> str:
    return live.ticket_channel(ticket_id) + live.AGENTS_SUFFIX


def ticket_customers_room(ticket_id: int) -> str:
    return live.ticket_channel(ticket_id) + live.CUSTOMERS_SUFFIX


def agent_room(user_id: str) -> str:
    return live.agent_channel(user_id)


# ---------------------------------------------------------------------------- set-up
def init_app(app: Flask, principal_loader: PrincipalLoader,
             socketio: SocketIO | None = None) -> SocketIO | None:
    """Attach Socket.IO and the ``/escalated`` namespace when realtime is enabled.

    Uses ``socketio`` (the host's) or ``app.extensions["socketio"]`` when there is one;
    otherwise creates one in threading mode, on ``ESCALATED_SOCKETIO_MESSAGE_QUEUE``, at
    ``<route prefix>/socket.io``. ``principal_loader`` returns the caller's principal inside a
    socket event (the web layer's, so sockets and pages agree on who is signed in).
    """
    if not app.config[Config.ENABLE_REALTIME]:
        return None
    # Imported only here: with realtime off, a web process never loads Socket.IO (about
    # 13 MB of modules).
    from flask_socketio import SocketIO

    from .realtime_socket import EscalatedNamespace

    sio = socketio or app.extensions.get("socketio")
    if sio is None:
        prefix = app.config[Config.ROUTE_PREFIX].rstrip("/")
        sio = SocketIO(app, message_queue=app.config[Config.SOCKETIO_MESSAGE_QUEUE],
                       async_mode="threading", path=f"{prefix}/socket.io".lstrip("/"))
    elif app.extensions.get("socketio") is not sio:
        sio.init_app(app)
    sio.on_namespace(EscalatedNamespace(NAMESPACE, principal_loader))
    middleware = getattr(sio, "sockio_mw", None)
    state = app.extensions["escalated"].state_for(app)
    state.extras[_SOCKETIO] = sio
    state.extras[_SOCKET_PATH] = getattr(middleware, "engineio_path", "/socket.io/")
    return sio


def socketio_for(app: Flask) -> SocketIO | None:
    """The app's Socket.IO server, or ``None`` when realtime is off."""
    state = app.extensions["escalated"].state_for(app)
    return state.extras.get(_SOCKETIO)  # type: ignore[no-any-return]


def socket_path(app: Flask) -> str | None:
    """The Engine.IO path clients connect to (``/support/socket.io/``), or ``None``."""
    state = app.extensions["escalated"].state_for(app)
    return state.extras.get(_SOCKET_PATH) if _SOCKETIO in state.extras else None


def install(session_factory: Any) -> None:
    """Forget the planned messages of a transaction that rolls back (once per factory)."""
    if not sa_event.contains(session_factory, "after_rollback", _discard_plan):
        sa_event.listen(session_factory, "after_rollback", _discard_plan)


def _discard_plan(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PLAN, None)


# ---------------------------------------------------------------------------- the bridge
@dataclass
class _TicketPlan:
    ticket_id: int
    reference: str | None = None
    version: int | None = None
    changed: set[str] = field(default_factory=set)
    replies: list[tuple[int, bool]] = field(default_factory=list)
    assignees: set[str] = field(default_factory=set)


def _enabled() -> bool:
    return bool(current_app.config[Config.ENABLE_REALTIME])


@on_before_commit
def plan_messages(db: Session, events: list[DomainEvent]) -> None:
    """Inside the committing transaction: note what to emit (ids, field names, versions)."""
    if not _enabled():
        return
    plan: dict[int, _TicketPlan] = db.info.setdefault(_PLAN, {})
    for event in events:
        ticket = event.ticket
        if ticket is None or ticket.id is None:
            continue
        entry = plan.setdefault(ticket.id, _TicketPlan(ticket.id))
        entry.reference, entry.version = ticket.reference, ticket.version
        if event.name in ("reply_created", "internal_note_added"):
            reply = event.data.get("reply")
            if reply is not None and reply.id is not None:
                entry.replies.append((reply.id, event.name == "internal_note_added"))
        elif event.name == "ticket_updated":
            entry.changed.update(event.data.get("changes") or ())
        else:
            entry.changed.update(EVENT_FIELDS.get(event.name, ()))
        if event.name == "ticket_assigned" and event.data.get("assignee_id"):
            entry.assignees.add(str(event.data["assignee_id"]))
        if event.name == "ticket_split":
            new = event.data.get("new_ticket")
            if new is not None and new.id is not None:
                plan.setdefault(new.id, _TicketPlan(new.id, new.reference, new.version))


@on_after_commit
def emit_planned(app: Flask, events: list[DomainEvent]) -> None:
    """After the commit: emit what :func:`plan_messages` noted."""
    db = app.extensions["escalated"].state_for(app).session
    plan: dict[int, _TicketPlan] | None = db.info.pop(_PLAN, None)
    if not plan:
        return
    sio = socketio_for(app)
    if sio is None:
        return
    for entry in plan.values():
        for message in messages_for(entry):
            event, payload, room = message
            try:
                sio.emit(event, payload, to=room, namespace=NAMESPACE)
            except Exception:
                log.exception("could not emit %s to %s", event, room)


def messages_for(entry: _TicketPlan) -> list[tuple[str, dict[str, Any], str]]:
    """The ``(event, payload, room)`` triples for one ticket's changes in one commit."""
    tid = entry.ticket_id
    out: list[tuple[str, dict[str, Any], str]] = []
    for reply_id, internal in entry.replies:
        payload = {"ticket_id": tid, "reply_id": reply_id, "internal": internal}
        out.append(("ticket:reply", payload,
                    ticket_agents_room(tid) if internal else ticket_room(tid)))
    if entry.changed:
        changed = sorted(entry.changed)
        public = [f for f in changed if f in PUBLIC_FIELDS]
        base = {"ticket_id": tid, "reference": entry.reference, "version": entry.version}
        if public == changed:
            out.append(("ticket:updated", {**base, "changed": changed}, ticket_room(tid)))
        else:
            out.append(("ticket:updated", {**base, "changed": changed}, ticket_agents_room(tid)))
            if public:
                out.append(("ticket:updated", {**base, "changed": public},
                            ticket_customers_room(tid)))
    for user_id in sorted(entry.assignees):
        out.append(("ticket:assigned", {"ticket_id": tid, "reference": entry.reference},
                    agent_room(user_id)))
    out.append(("queue:changed", {"ticket_id": tid}, QUEUE_ROOM))
    return out


@live.on_presence
def _broadcast_presence(ticket_id: int, viewers: list[dict[str, Any]]) -> None:
    sio = socketio_for(current_app._get_current_object())  # type: ignore[attr-defined]
    if sio is None:
        return
    try:
        sio.emit("ticket:presence", {"ticket_id": ticket_id, "viewers": viewers},
                 to=ticket_agents_room(ticket_id), namespace=NAMESPACE)
    except Exception:
        log.exception("could not emit presence for ticket %s", ticket_id)
