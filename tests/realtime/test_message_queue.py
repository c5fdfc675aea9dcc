"""A process that serves no socket (a command, an RQ worker, another web worker) publishes its
emits on the message queue and starts no listener of its own."""

from __future__ import annotations

import json
import time

import pytest
import redis

from flask_escalated.events import Actor
from flask_escalated.services import replies, tickets

from .demo_server import REDIS

pytestmark = pytest.mark.xdist_group("redis")  # the Socket.IO channel on Redis is shared


@pytest.fixture
def app(make_app):
    app = make_app(ESCALATED_ENABLE_REALTIME=True, ESCALATED_SOCKETIO_MESSAGE_QUEUE=REDIS)
    with app.app_context():
        yield app


def test_emits_are_published_on_the_queue(app, users, ticket_of):
    ticket = ticket_of(users.customer)
    conn = redis.Redis.from_url(REDIS)
    pubsub = conn.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe("flask-socketio")
    try:
        with app.extensions["escalated"].unit_of_work():
            note = replies.add_reply(tickets.get_ticket(ticket.id), "Between us",
                                     Actor.agent(users.agent.id), internal=True)
        expected = [
            ("ticket:reply", f"escalated.tickets.{ticket.id}.agents",
             {"ticket_id": ticket.id, "reply_id": note.id, "internal": True}),
            ("queue:changed", "escalated.tickets", {"ticket_id": ticket.id}),
        ]
        seen = []
        deadline = time.monotonic() + 10
        while not all(e in seen for e in expected) and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.5)
            if message is not None:
                data = json.loads(message["data"])
                if data.get("namespace") == "/escalated":
                    seen.append((data["event"], data["room"], data["data"][0]))
        assert all(e in seen for e in expected), seen
    finally:
        pubsub.close()
        conn.close()
    server = app.extensions["socketio"].server
    assert server.manager_initialized is False  # no client ever connected: no listener thread
