"""Helpers for the saved-view tests: principals and tickets made through the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import tickets
from flask_escalated.services.permissions import Principal


@pytest.fixture
def ext(app):
    return app.extensions["escalated"]


@pytest.fixture
def principal(users) -> Callable[[Any], Principal]:
    """The principal a signed-in user acts as (their system role's permissions)."""
    roles = {
        "admin": dict(is_admin=True),
        "agent": dict(is_agent=True),
        "agent2": dict(is_agent=True),
        "light": dict(is_agent=True, role="light_agent"),
    }

    def make(name: str) -> Principal:
        user = getattr(users, name)
        return Principal.build(str(user.id), **roles.get(name, {}))

    return make


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
