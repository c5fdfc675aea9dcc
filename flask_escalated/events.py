"""Domain events: collected during a unit of work, dispatched only after it commits.

Services call :func:`record`; nothing is sent then. Handlers registered with
:func:`on_before_commit` run inside the transaction (the webhook outbox writes its rows there,
so an event and its delivery rows commit or roll back together). After a successful commit the
events move to a "committed" queue, and :func:`dispatch` sends each to its blinker signal and to
every handler registered with :func:`on_after_commit` (realtime, mail, job enqueueing).
A rollback discards the pending events: no signal, webhook, mail or broadcast for a change that
did not happen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from .domain import ACTOR_AGENT, ACTOR_CONTACT, ACTOR_CUSTOMER, ACTOR_SYSTEM
from .signals import ALL_SIGNALS

if TYPE_CHECKING:
    from flask import Flask

    from .models import Ticket

log = logging.getLogger("flask_escalated.events")

_PENDING = "escalated.pending_events"
_COMMITTED = "escalated.committed_events"
_HANDLED = "escalated.handled_events"
_MARKS = "escalated.savepoint_marks"


@dataclass(frozen=True)
class Actor:
    """Who caused a change: an agent or customer (host user), a contact, or the system."""

    kind: str
    user_id: str | None = None
    contact_id: int | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(ACTOR_SYSTEM)

    @classmethod
    def agent(cls, user_id: object) -> Actor:
        return cls(ACTOR_AGENT, user_id=str(user_id))

    @classmethod
    def customer(cls, user_id: object) -> Actor:
        return cls(ACTOR_CUSTOMER, user_id=str(user_id))

    @classmethod
    def contact(cls, contact_id: int) -> Actor:
        return cls(ACTOR_CONTACT, contact_id=contact_id)

    @property
    def is_agent(self) -> bool:
        return self.kind == ACTOR_AGENT

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "user_id": self.user_id, "contact_id": self.contact_id}


@dataclass
class DomainEvent:
    """One thing that happened. ``name`` is a signal name (``ticket_created``)."""

    name: str
    actor: Actor
    ticket: Ticket | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ticket_id(self) -> int | None:
        return self.ticket.id if self.ticket is not None else None

    @property
    def has_ticket(self) -> bool:
        """Whether the event concerns a ticket (without loading a batch's tickets)."""
        return self.ticket is not None


class TicketBatch:
    """The tickets of one set-based change (an SLA sweep batch), loaded together on first need.

    A set-based change writes its rows with a few statements and knows only ticket ids; loading
    every ticket as an object just to raise its events would cost more than the change. Its
    events therefore name their ticket by id, and the first handler or receiver that reads one
    event's ``ticket`` loads every ticket of the batch in one query. When nothing reads them (no
    webhook, mail, workflow, realtime or signal receiver wants them), none is loaded.
    """

    def __init__(self, session: Session, ids: Sequence[int]) -> None:
        self.session = session
        self.ids = list(ids)
        self._tickets: dict[int, Ticket] | None = None

    def get(self, ticket_id: int) -> Ticket | None:
        if self._tickets is None:
            from sqlalchemy import select

            from .models import Ticket

            rows = self.session.execute(
                select(Ticket)
                .where(Ticket.id.in_(self.ids))
                .execution_options(populate_existing=True)
            ).scalars()
            self._tickets = {t.id: t for t in rows}
        return self._tickets.get(ticket_id)


class BatchEvent(DomainEvent):
    """A :class:`DomainEvent` of one ticket of a :class:`TicketBatch` (loaded when read)."""

    def __init__(
        self, name: str, actor: Actor, batch: TicketBatch, ticket_id: int, data: dict[str, Any]
    ) -> None:
        self.name = name
        self.actor = actor
        self.data = data
        self.batch = batch
        self._ticket_id = ticket_id

    @property
    def ticket(self) -> Ticket | None:
        return self.batch.get(self._ticket_id)

    @ticket.setter
    def ticket(self, value: Ticket | None) -> None:
        raise AttributeError("a batch event's ticket is the batch's")

    @property
    def ticket_id(self) -> int | None:
        return self._ticket_id

    @property
    def has_ticket(self) -> bool:
        return True


BeforeCommitHandler = Callable[[Session, list[DomainEvent]], None]
AfterCommitHandler = Callable[["Flask", list[DomainEvent]], None]

_before_commit: list[BeforeCommitHandler] = []
_after_commit: list[AfterCommitHandler] = []


def on_before_commit(handler: BeforeCommitHandler) -> BeforeCommitHandler:
    """Run ``handler(session, events)`` inside the transaction, just before it commits."""
    if handler not in _before_commit:
        _before_commit.append(handler)
    return handler


def on_after_commit(handler: AfterCommitHandler) -> AfterCommitHandler:
    """Run ``handler(app, events)`` after the events' transaction committed."""
    if handler not in _after_commit:
        _after_commit.append(handler)
    return handler


def record(
    session: Session, name: str, *, actor: Actor, ticket: Ticket | None = None, **data: Any
) -> DomainEvent:
    """Queue a domain event on ``session``; it is sent only if the session commits."""
    if name not in ALL_SIGNALS:
        raise ValueError(f"unknown domain event {name!r}")
    ev = DomainEvent(name=name, actor=actor, ticket=ticket, data=data)
    session.info.setdefault(_PENDING, []).append(ev)
    return ev


def record_batch(
    session: Session,
    name: str,
    *,
    actor: Actor,
    batch: TicketBatch,
    items: Iterable[tuple[int, dict[str, Any]]],
) -> list[DomainEvent]:
    """Queue one event ``name`` per ``(ticket id, data)`` of ``batch``: each is a full domain
    event (one signal, one webhook delivery, one mail per event), whose ticket is loaded with
    the rest of the batch only when something reads it."""
    if name not in ALL_SIGNALS:
        raise ValueError(f"unknown domain event {name!r}")
    queued: list[DomainEvent] = [
        BatchEvent(name, actor, batch, ticket_id, data) for ticket_id, data in items
    ]
    session.info.setdefault(_PENDING, []).extend(queued)
    return queued


def pending(session: Session) -> list[DomainEvent]:
    return list(session.info.get(_PENDING, ()))


def install(session_factory: Any) -> None:
    """Attach the commit/rollback listeners to a (scoped) session factory, once."""
    if sa_event.contains(session_factory, "after_commit", _after_commit_listener):
        return
    sa_event.listen(session_factory, "before_commit", _before_commit_listener)
    sa_event.listen(session_factory, "after_commit", _after_commit_listener)
    sa_event.listen(session_factory, "after_rollback", _after_rollback_listener)
    sa_event.listen(session_factory, "after_transaction_create", _savepoint_started)
    sa_event.listen(session_factory, "after_soft_rollback", _savepoint_rolled_back)


def _before_commit_listener(session: Session) -> None:
    # SQLAlchemy also calls this when a SAVEPOINT is released; only the real commit counts,
    # or the handlers would see the same events twice (duplicate outbox rows).
    if session.in_nested_transaction():
        return
    events = session.info.get(_PENDING)
    if not events:
        return
    # Handlers may record further events (workflows do); loop until the list is stable. Each
    # event reaches the handlers once, even if a handler commits a savepoint of its own.
    done = session.info.get(_HANDLED, 0)
    while done < len(events):
        batch = events[done:]
        done = len(events)
        session.info[_HANDLED] = done
        for handler in _before_commit:
            handler(session, batch)


def _after_commit_listener(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_HANDLED, None)
    session.info.pop(_MARKS, None)
    events = session.info.pop(_PENDING, None)
    if events:
        session.info.setdefault(_COMMITTED, []).extend(events)


def _savepoint_started(session: Session, transaction: Any) -> None:
    if transaction.nested:
        marks = session.info.setdefault(_MARKS, {})
        marks[id(transaction)] = len(session.info.get(_PENDING, ()))


def _savepoint_rolled_back(session: Session, previous: Any) -> None:
    """Events recorded inside a SAVEPOINT that rolled back never happened."""
    if not previous.nested:
        return
    mark = session.info.get(_MARKS, {}).pop(id(previous), None)
    events = session.info.get(_PENDING)
    if mark is not None and events is not None and len(events) > mark:
        del events[mark:]
        session.info[_HANDLED] = min(session.info.get(_HANDLED, 0), mark)


def _after_rollback_listener(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_HANDLED, None)
    session.info.pop(_MARKS, None)
    dropped = session.info.pop(_PENDING, None)
    if dropped:
        log.debug("discarded %d domain events after rollback", len(dropped))


def dispatch(app: Flask, session: Session) -> int:
    """Send every committed event to its signal and after-commit handlers; return the count.

    Safe to call at any time; a handler's exception is logged and does not stop the others
    (the change is already committed; a failing listener must not turn it into an error).
    """
    sent = 0
    while True:
        events = session.info.pop(_COMMITTED, None)
        if not events:
            return sent
        for ev in events:
            signal = ALL_SIGNALS[ev.name]
            if not signal.receivers:
                continue  # nobody listens: do not load a batch event's ticket for nothing
            try:
                signal.send(app, ticket=ev.ticket, actor=ev.actor, **ev.data)
            except Exception:
                log.exception("a %s signal receiver failed", ev.name)
        for handler in _after_commit:
            try:
                handler(app, events)
            except Exception:
                log.exception("after-commit handler %r failed", handler)
        sent += len(events)
