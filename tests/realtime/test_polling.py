"""The polling fallback: GET /support/live/changes and POST /support/live/presence."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from flask_escalated.events import Actor
from flask_escalated.services import replies, tickets

pytestmark = pytest.mark.all_databases

CHANGES = "/support/live/changes"


def poll(client, channels, since=None):
    query = {"channels": channels}
    if since:
        query["since"] = since
    return client.get(CHANGES, query_string=query)


def page_csrf(client, ticket):
    page = client.get(f"/support/tickets/{ticket.reference}").get_data(as_text=True)
    return re.search(r'data-csrf="([^"]+)"', page).group(1)


@contextmanager
def counted(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_changed_or_not_for_a_ticket(app, client_as, users, ticket_of):
    ticket = ticket_of(users.customer)
    client = client_as(users.customer)
    first = poll(client, f"escalated.tickets.{ticket.id}")
    assert first.status_code == 200
    body = first.get_json()
    assert body["changed"] is False and body["presence"] == []
    assert first.headers["Cache-Control"] == "no-store"
    again = poll(client, f"escalated.tickets.{ticket.id}", body["cursor"]).get_json()
    assert again == {"changed": False, "cursor": body["cursor"], "presence": []}
    with app.extensions["escalated"].unit_of_work():
        replies.add_reply(tickets.get_ticket(ticket.id), "Hello", Actor.agent(users.agent.id))
    after = poll(client, f"escalated.tickets.{ticket.id}", body["cursor"]).get_json()
    assert after["changed"] is True and after["cursor"] != body["cursor"]


def test_an_internal_note_changes_the_agents_cursor_only(app, client_as, users, ticket_of):
    ticket = ticket_of(users.customer)
    channel = f"escalated.tickets.{ticket.id}"
    customer, agent = client_as(users.customer), client_as(users.agent)
    c0 = poll(customer, channel).get_json()["cursor"]
    a0 = poll(agent, channel).get_json()["cursor"]
    with app.extensions["escalated"].unit_of_work():
        replies.add_reply(tickets.get_ticket(ticket.id), "Between us",
                          Actor.agent(users.agent.id), internal=True)
    assert poll(customer, channel, c0).get_json()["changed"] is False
    assert poll(agent, channel, a0).get_json()["changed"] is True


def test_the_queue_is_for_agents(app, client_as, users, ticket_of):
    agent = client_as(users.agent)
    q0 = poll(agent, "escalated.tickets").get_json()["cursor"]
    ticket_of(users.customer)
    assert poll(agent, "escalated.tickets", q0).get_json()["changed"] is True
    assert poll(client_as(users.customer), "escalated.tickets").status_code == 403


def test_permission_and_input_errors(client_as, users, ticket_of):
    theirs = ticket_of(users.other)
    customer = client_as(users.customer)
    r = poll(customer, f"escalated.tickets.{theirs.id}")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert poll(customer, "escalated.tickets.424242").status_code == 404
    assert poll(customer, f"escalated.agents.{users.agent.id}").status_code == 403
    assert poll(customer, "nonsense").status_code == 422
    assert poll(customer, "").status_code == 422
    many = ",".join(f"escalated.tickets.{i}" for i in range(1, 13))
    assert poll(customer, many).status_code == 422
    assert poll(client_as(None), f"escalated.tickets.{theirs.id}").status_code == 401


def tables(statements):
    """The table each statement reads first (FROM ...)."""
    out = []
    for statement in statements:
        match = re.search(r"\bFROM\s+[`\"]?(\w+)", statement)
        out.append(match.group(1) if match else statement.split()[0])
    return out


def test_polling_is_cheap(app, client_as, users, ticket_of):
    ticket = ticket_of(users.customer)
    engine = app.extensions["escalated"].session.get_bind()
    customer, agent = client_as(users.customer), client_as(users.agent)
    poll(customer, f"escalated.tickets.{ticket.id}")  # warm-up (settings, sessions)
    poll(agent, "escalated.tickets")
    with counted(engine) as statements:
        assert poll(customer, f"escalated.tickets.{ticket.id}").status_code == 200
    # Who is asking (the host user, their agent profile), then the ticket row alone: it holds
    # the permission check's columns and the state the cursor is made of.
    assert sorted(tables(statements)) == sorted(
        ["host_users", "escalated_agent_profiles", "escalated_tickets"]), statements
    with counted(engine) as statements:
        assert poll(agent, "escalated.tickets").status_code == 200
    read = tables(statements)
    assert read.count("escalated_tickets") == 1, statements
    assert sum("max(" in s.lower() for s in statements) == 1
    assert len(read) <= 4, statements  # the user, profile and role grants, and max(updated_at)
    with counted(engine) as statements:
        assert poll(agent, f"escalated.tickets.{ticket.id}").status_code == 200
    read = tables(statements)
    assert read.count("escalated_tickets") == 1 and read.count("escalated_activities") == 1


def test_presence_heartbeat_while_polling(app, client_as, users, ticket_of):
    ticket = ticket_of(users.customer)
    alex, sam = client_as(users.agent), client_as(users.agent2)
    token = page_csrf(alex, ticket)
    url = "/support/live/presence"
    body = {"ticket_id": ticket.id, "state": "viewing"}
    assert alex.post(url, json=body).status_code == 403  # no CSRF header
    r = alex.post(url, json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["viewers"] == [
        {"user_id": str(users.agent.id), "name": "Alex Agent", "state": "viewing"}]
    seen = poll(sam, f"escalated.tickets.{ticket.id}").get_json()["presence"]
    assert seen == [{"ticket_id": ticket.id, "user_id": str(users.agent.id),
                     "name": "Alex Agent", "state": "viewing"}]
    # Customers never see agents' presence, and may not post on others' tickets.
    customer = client_as(users.customer)
    assert poll(customer, f"escalated.tickets.{ticket.id}").get_json()["presence"] == []
    other = client_as(users.other)
    token = page_csrf(other, ticket_of(users.other))
    r = other.post(url, json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 404
    r = alex.post(url, json={"ticket_id": ticket.id, "state": "left"},
                  headers={"X-CSRF-Token": page_csrf(alex, ticket)})
    assert r.get_json()["viewers"] == []


def test_the_ticket_page_opts_in(client_as, users, ticket_of):
    ticket = ticket_of(users.customer)
    page = client_as(users.customer).get(f"/support/tickets/{ticket.reference}")
    html = page.get_data(as_text=True)
    assert f'data-live-channels="escalated.tickets.{ticket.id}"' in html
    assert f'data-ticket-id="{ticket.id}"' in html
    assert 'data-live-region="conversation"' in html
    assert '<meta name="escalated-live-poll" content="/support/live/changes">' in html
    assert '<meta name="escalated-realtime" content="/support/socket.io/">' in html
    assert "/support/static/realtime.js" in html


def test_polling_works_without_realtime(make_app, users_for):
    app = make_app()
    people = users_for(app)
    with app.app_context(), app.extensions["escalated"].unit_of_work():
        ticket = tickets.create_ticket(tickets.NewTicket(
            subject="s", description="d", requester_user_id=str(people.customer.id)),
            Actor.customer(people.customer.id))
        ref, tid = ticket.reference, ticket.id
    client = app.test_client(user=people.customer)
    html = client.get(f"/support/tickets/{ref}").get_data(as_text=True)
    assert "escalated-live-poll" in html and "escalated-realtime" not in html
    assert poll(client, f"escalated.tickets.{tid}").status_code == 200
