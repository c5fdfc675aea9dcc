"""Fixtures for live updates: the test host with realtime on, Socket.IO test clients per user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from flask_escalated.events import Actor
from flask_escalated.realtime import NAMESPACE
from flask_escalated.services import tickets

from .demo_server import demo_env, start_demo  # noqa: F401  (fixtures)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    app = make_app(ESCALATED_ENABLE_REALTIME=True)
    with app.app_context():
        yield app


class Socket:
    """A Socket.IO test client whose every call runs in its own app context, as each socket
    event does in production (a fresh ``g``: no principal cached from another caller)."""

    def __init__(self, app: Flask, flask_client: Any) -> None:
        self.app = app
        sio = app.extensions["socketio"]
        with app.app_context():
            self.client = sio.test_client(app, namespace=NAMESPACE,
                                          flask_test_client=flask_client)

    @property
    def connected(self) -> bool:
        return bool(self.client.is_connected(NAMESPACE))

    def call(self, event: str, data: Any) -> Any:
        with self.app.app_context():
            return self.client.emit(event, data, namespace=NAMESPACE, callback=True)

    def join(self, channel: str) -> Any:
        return self.call("join", {"channel": channel})

    def received(self) -> list[tuple[str, Any]]:
        with self.app.app_context():
            return [(m["name"], m["args"][0]) for m in self.client.get_received(NAMESPACE)]

    def disconnect(self) -> None:
        if self.connected:
            with self.app.app_context():
                self.client.disconnect(NAMESPACE)


@pytest.fixture
def socket_as(app: Flask, client_as: Callable[[Any], Any]) -> Iterator[Callable[[Any], Socket]]:
    sockets: list[Socket] = []

    def make(user: Any) -> Socket:
        sock = Socket(app, client_as(user))
        sockets.append(sock)
        return sock

    yield make
    for sock in sockets:
        sock.disconnect()


@pytest.fixture
def ticket_of(app: Flask) -> Callable[..., Any]:
    """``ticket_of(user)``: a committed ticket requested by ``user``."""

    def make(user: Any, subject: str = "Printer on fire") -> Any:
        with app.extensions["escalated"].unit_of_work():
            return tickets.create_ticket(tickets.NewTicket(
                subject=subject, description="Please help",
                requester_user_id=str(user.id)), Actor.customer(user.id))

    return make
