"""Helpers for the side-conversation tests: tickets made through the services."""

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
def ticket_of(ext, users) -> Callable[..., Any]:
    """Open a ticket for ``requester`` (default: the customer); returns its id."""

    def make(requester: Any = None, **fields: Any) -> int:
        requester = requester or users.customer
        data = {"subject": "Printer on fire", "description": "Flames.", **fields}
        with ext.unit_of_work():
            return tickets.create_ticket(
                tickets.NewTicket(requester_user_id=str(requester.id), **data), Actor.system()
            ).id

    return make
