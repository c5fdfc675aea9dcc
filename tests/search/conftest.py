"""Helpers for the ticket search tests: tickets opened through the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flask_escalated.events import Actor
from flask_escalated.models import TicketSearchDocument
from flask_escalated.services import replies, session, tickets


@pytest.fixture
def ext(app):
    return app.extensions["escalated"]


@pytest.fixture
def make_ticket(app, users, ext) -> Callable[..., Any]:
    """Open a ticket (default requester: the customer), optionally with replies and notes;
    returns the ticket."""

    def make(subject: str = "Printer trouble", description: str = "It does not print.", *,
             requester: Any = None, public: tuple[str, ...] = (), notes: tuple[str, ...] = (),
             **fields: Any) -> Any:
        data: dict[str, Any] = {"subject": subject, "description": description, **fields}
        if "requester_email" not in data:
            data["requester_user_id"] = str((requester or users.customer).id)
        with ext.unit_of_work():
            t = tickets.create_ticket(tickets.NewTicket(**data), Actor.system())
            for body in public:
                replies.add_reply(t, body, Actor.agent(users.agent.id))
            for body in notes:
                replies.add_reply(t, body, Actor.agent(users.agent.id), internal=True)
        return t

    return make


def document(ticket_id: int) -> TicketSearchDocument | None:
    """The stored document, read past the session's snapshot (MariaDB's repeatable read)."""
    db = session()
    db.rollback()
    return db.get(TicketSearchDocument, ticket_id)
