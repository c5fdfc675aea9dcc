"""Helpers for the agent workspace tests: a ticket factory, CSRF scraping, form posts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import tickets

XSS = '<script>alert("x")</script>'


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def version_of(html: str) -> int:
    match = re.search(r'name="version" value="(\d+)"', html)
    assert match, "no version on the page"
    return int(match.group(1))


def open_in(app: Any, requester: Any) -> str:
    """Open a ticket in ``app`` (one made with its own config, not the suite's ``app``) for
    ``requester``; returns its reference."""
    with app.app_context():
        ticket = tickets.create_ticket(tickets.NewTicket(
            subject="s", description="d", requester_user_id=str(requester.id)), Actor.system())
        app.extensions["escalated"].session.commit()
        return str(ticket.reference)


@pytest.fixture
def ext(app):
    return app.extensions["escalated"]


@pytest.fixture
def make_ticket(app, users, ext) -> Callable[..., Any]:
    """Open a ticket through the service (default requester: the customer); returns it."""

    def make(requester: Any = None, **fields: Any) -> Any:
        requester = requester or users.customer
        data = {"subject": "Printer on fire", "description": "Flames everywhere.", **fields}
        with ext.unit_of_work():
            t = tickets.create_ticket(
                tickets.NewTicket(requester_user_id=str(requester.id), **data), Actor.system()
            )
        return t

    return make


class Page:
    """A signed-in browser: GET a page, then POST its forms with the page's CSRF token."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.html = ""

    def get(self, url: str, status: int = 200) -> str:
        r = self.client.get(url)
        assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:800])
        self.html = r.get_data(as_text=True)
        return self.html

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        body = {"csrf_token": csrf(self.html), **(data or {})}
        return self.client.post(url, data=body, **kw)


@pytest.fixture
def browser(client_as) -> Callable[[Any], Page]:
    return lambda user: Page(client_as(user))


@pytest.fixture
def fresh(ext) -> Callable[[int], Any]:
    """The ticket as the database has it now (ends the test's own read transaction first,
    which on MariaDB would otherwise keep showing its snapshot)."""

    def load(ticket_id: int) -> Any:
        ext.session.rollback()
        return tickets.get_ticket(ticket_id)

    return load
