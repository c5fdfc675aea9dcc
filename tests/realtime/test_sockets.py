"""The /escalated Socket.IO namespace: who may connect and join, and what reaches whom."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from flask_socketio import SocketIO

from flask_escalated.clock import FrozenClock, set_clock
from flask_escalated.events import Actor
from flask_escalated.services import assignment, replies, tags, tickets


def names(messages):
    return [name for name, _ in messages]


def test_anonymous_connection_is_refused(socket_as):
    assert not socket_as(None).connected


def test_agent_joins_the_queue_and_only_their_own_channel(socket_as, users):
    sock = socket_as(users.agent)
    assert sock.connected
    assert sock.join("escalated.tickets") == {"ok": True, "channel": "escalated.tickets"}
    own = f"escalated.agents.{users.agent.id}"
    assert sock.join(own) == {"ok": True, "channel": own}
    refused = sock.join(f"escalated.agents.{users.agent2.id}")
    assert refused["ok"] is False and refused["error"] == "forbidden"


def test_customer_joins_only_tickets_they_may_view(socket_as, users, ticket_of):
    mine, theirs = ticket_of(users.customer), ticket_of(users.other)
    sock = socket_as(users.customer)
    assert sock.join(f"escalated.tickets.{mine.id}")["ok"] is True
    for channel in (f"escalated.tickets.{theirs.id}", "escalated.tickets.999999",
                    "escalated.tickets", f"escalated.agents.{users.customer.id}"):
        ack = sock.join(channel)
        assert ack["ok"] is False, channel
        assert ack["error"] in ("forbidden", "not_found")
    for junk in (None, 42, "escalated.tickets.abc", "other.channel", {"channel": ["x"]}):
        assert sock.call("join", junk)["ok"] is False


def test_a_reply_reaches_the_ticket_room_with_ids_only(app, socket_as, users, ticket_of):
    ticket = ticket_of(users.customer)
    customer, agent, bystander = socket_as(users.customer), socket_as(users.agent), \
        socket_as(users.agent2)
    customer.join(f"escalated.tickets.{ticket.id}")
    agent.join(f"escalated.tickets.{ticket.id}")
    bystander.join("escalated.tickets")
    with app.extensions["escalated"].unit_of_work():
        reply = replies.add_reply(tickets.get_ticket(ticket.id), "On it",
                                  Actor.agent(users.agent.id))
    got = customer.received()
    assert ("ticket:reply", {"ticket_id": ticket.id, "reply_id": reply.id,
                             "internal": False}) in got
    updated = [p for n, p in got if n == "ticket:updated"]
    assert updated and updated[0]["changed"] == ["status"]
    assert set(updated[0]) == {"ticket_id", "reference", "changed", "version"}
    assert updated[0]["reference"] == ticket.reference
    assert names(got).count("ticket:reply") == 1
    assert "queue:changed" not in names(got)
    agent_got = agent.received()
    assert names(agent_got).count("ticket:reply") == 1  # one room or the other, never twice
    assert names(agent_got).count("ticket:updated") == 1
    assert bystander.received() == [("queue:changed", {"ticket_id": ticket.id})]


def test_an_internal_note_never_reaches_a_customer(app, socket_as, users, ticket_of):
    ticket = ticket_of(users.customer)
    customer, agent = socket_as(users.customer), socket_as(users.agent)
    customer.join(f"escalated.tickets.{ticket.id}")
    agent.join(f"escalated.tickets.{ticket.id}")
    customer.received()
    with app.extensions["escalated"].unit_of_work():
        note = replies.add_reply(tickets.get_ticket(ticket.id), "Customer is grumpy",
                                 Actor.agent(users.agent.id), internal=True)
    assert customer.received() == []
    assert ("ticket:reply", {"ticket_id": ticket.id, "reply_id": note.id,
                             "internal": True}) in agent.received()


def test_agent_only_changes_reach_agents_and_customers_hear_the_public_part(
        app, socket_as, users, ticket_of):
    ticket = ticket_of(users.customer)
    customer, agent = socket_as(users.customer), socket_as(users.agent)
    customer.join(f"escalated.tickets.{ticket.id}")
    agent.join(f"escalated.tickets.{ticket.id}")
    esc = app.extensions["escalated"]
    with esc.unit_of_work():
        tags.add_tags(tickets.get_ticket(ticket.id), ["vip"], Actor.agent(users.agent.id))
    assert customer.received() == []
    assert [p["changed"] for n, p in agent.received() if n == "ticket:updated"] == [["tags"]]
    with esc.unit_of_work():
        t = tickets.get_ticket(ticket.id)
        tags.add_tags(t, ["urgent"], Actor.agent(users.agent.id))
        tickets.change_priority(t, "high", Actor.agent(users.agent.id))
    assert [p["changed"] for n, p in customer.received() if n == "ticket:updated"] == \
        [["priority"]]
    assert [p["changed"] for n, p in agent.received() if n == "ticket:updated"] == \
        [["priority", "tags"]]


def test_assignment_reaches_the_agents_own_channel(app, socket_as, users, ticket_of):
    ticket = ticket_of(users.customer)
    agent, other = socket_as(users.agent), socket_as(users.agent2)
    agent.join(f"escalated.agents.{users.agent.id}")
    other.join(f"escalated.agents.{users.agent2.id}")
    with app.extensions["escalated"].unit_of_work():
        assignment.assign(tickets.get_ticket(ticket.id), users.agent.id,
                          Actor.agent(users.admin.id))
    assert ("ticket:assigned", {"ticket_id": ticket.id, "reference": ticket.reference}) \
        in agent.received()
    assert other.received() == []


def test_a_rolled_back_change_emits_nothing(app, socket_as, users, ticket_of):
    ticket = ticket_of(users.customer)
    agent = socket_as(users.agent)
    agent.join(f"escalated.tickets.{ticket.id}")
    agent.join("escalated.tickets")
    with pytest.raises(RuntimeError), app.extensions["escalated"].unit_of_work():
        replies.add_reply(tickets.get_ticket(ticket.id), "Oops", Actor.agent(users.agent.id))
        raise RuntimeError("changed my mind")
    with app.extensions["escalated"].unit_of_work():
        pass
    assert agent.received() == []


def test_presence_reaches_agents_only_and_expires(app, socket_as, users, ticket_of):
    clock = FrozenClock(datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc))
    set_clock(clock)
    try:
        ticket = ticket_of(users.customer)
        channel = f"escalated.tickets.{ticket.id}"
        alex, sam, customer = socket_as(users.agent), socket_as(users.agent2), \
            socket_as(users.customer)
        for sock in (alex, sam, customer):
            assert sock.join(channel)["ok"] is True
        assert alex.call("presence", {"ticket_id": ticket.id, "state": "typing"})["ok"] is True
        seen = [p for n, p in sam.received() if n == "ticket:presence"]
        assert seen[-1] == {"ticket_id": ticket.id, "viewers": [
            {"user_id": str(users.agent.id), "name": "Alex Agent", "state": "typing"}]}
        # The customer's own presence is accepted and not shown; they hear no presence at all.
        assert customer.call("presence", {"ticket_id": ticket.id, "state": "viewing"})["ok"]
        assert "ticket:presence" not in names(customer.received())
        assert sam.call("presence", {"ticket_id": ticket.id, "state": "viewing"})["ok"]
        viewers = [p for n, p in alex.received() if n == "ticket:presence"][-1]["viewers"]
        assert [v["name"] for v in viewers] == ["Alex Agent", "Sam Support"]
        # Without a heartbeat an entry expires.
        clock.advance(seconds=45)
        assert sam.call("presence", {"ticket_id": ticket.id, "state": "viewing"})["ok"]
        viewers = [p for n, p in alex.received() if n == "ticket:presence"][-1]["viewers"]
        assert [v["name"] for v in viewers] == ["Sam Support"]
        # Leaving (or disconnecting) removes the entry at once.
        sam.disconnect()
        assert [p for n, p in alex.received() if n == "ticket:presence"][-1]["viewers"] == []
    finally:
        set_clock(None)


def test_presence_needs_a_ticket_one_may_view(socket_as, users, ticket_of):
    theirs = ticket_of(users.other)
    sock = socket_as(users.customer)
    for data in ({"ticket_id": theirs.id, "state": "viewing"},
                 {"ticket_id": theirs.id, "state": "dancing"}, {"ticket_id": "x"}, None):
        assert sock.call("presence", data)["ok"] is False


def _host(**config):
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy

    host = Flask("host")
    host.config.update(SQLALCHEMY_DATABASE_URI="sqlite://", ESCALATED_ENABLE_REALTIME=True,
                       SECRET_KEY="x", **config)
    return host, SQLAlchemy(host)


def test_the_hosts_socketio_is_used():
    from flask_escalated import Escalated

    host, db = _host()
    existing = SocketIO(host)
    Escalated(host, db=db)
    assert host.extensions["socketio"] is existing
    assert "/escalated" in existing.server.namespace_handlers

    host, db = _host()
    given = SocketIO()
    Escalated(socketio=given).init_app(host, db=db)
    assert host.extensions["socketio"] is given
    assert "/escalated" in given.server.namespace_handlers


def test_realtime_off_attaches_nothing(make_app):
    app = make_app()
    assert "socketio" not in app.extensions
