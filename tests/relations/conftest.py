"""Helpers for the merge, split and link tests: tickets made through the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import tickets


@pytest.fixture
def ext(app):
    return app.extensions["escalated"]


@pytest.fixture
def make_ticket(ext, users) -> Callable[..., Any]:
    """Open a ticket (default requester: the customer); returns the ticket's id."""

    def make(requester: Any = None, **fields: Any) -> int:
        requester = requester or users.customer
        data = {"subject": "Printer on fire", "description": "Flames everywhere.", **fields}
        with ext.unit_of_work():
            return tickets.create_ticket(
                tickets.NewTicket(requester_user_id=str(requester.id), **data), Actor.system()
            ).id

    return make


@pytest.fixture
def fresh(ext) -> Callable[[type, Any], Any]:
    """A row as the database has it now (a new snapshot: MariaDB reads are repeatable)."""

    def get(model: type, ident: Any) -> Any:
        ext.session.rollback()
        return ext.session.get(model, ident)

    return get
