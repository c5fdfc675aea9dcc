"""Helpers for the API tests: a ticket factory and a JSON client per person."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import tickets

API = "/support/api/v1"


@pytest.fixture
def ext(app):
    return app.extensions["escalated"]


@pytest.fixture
def make_ticket(app, users, ext) -> Callable[..., Any]:
    """Open a ticket through the service (default requester: the customer); returns its id."""

    def make(requester: Any = None, **fields: Any) -> int:
        requester = requester or users.customer
        data = {"subject": "Printer on fire", "description": "Flames everywhere.", **fields}
        with ext.unit_of_work():
            t = tickets.create_ticket(
                tickets.NewTicket(requester_user_id=str(requester.id), **data), Actor.system()
            )
        return t.id

    return make


@pytest.fixture
def api(client_as) -> Callable[..., Any]:
    """``api(user).get(path)`` etc. against /support/api/v1, JSON in and out."""

    class Client:
        def __init__(self, user: Any) -> None:
            self.client = client_as(user)

        def call(self, method: str, path: str, json: Any = None, **kw: Any) -> Any:
            return self.client.open(API + path, method=method, json=json, **kw)

        def get(self, path: str, **kw: Any) -> Any:
            return self.call("GET", path, **kw)

        def post(self, path: str, json: Any = None, **kw: Any) -> Any:
            return self.call("POST", path, json=json, **kw)

        def patch(self, path: str, json: Any = None, **kw: Any) -> Any:
            return self.call("PATCH", path, json=json, **kw)

        def put(self, path: str, json: Any = None, **kw: Any) -> Any:
            return self.call("PUT", path, json=json, **kw)

        def delete(self, path: str, **kw: Any) -> Any:
            return self.call("DELETE", path, **kw)

    return Client
