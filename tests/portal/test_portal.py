"""The customer portal: HTML forms that work without JavaScript, CSRF on every POST."""

from __future__ import annotations

import io
import re

from flask_escalated.events import Actor
from flask_escalated.services import replies, tickets

XSS = '<script>alert("x")</script>'


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def open_form(client):
    page = client.get("/support/tickets/new")
    assert page.status_code == 200
    return csrf(page.get_data(as_text=True))


def test_anonymous_is_refused(client_as):
    assert client_as(None).get("/support/tickets").status_code == 401


def test_open_a_ticket_with_an_attachment(client_as, users, app):
    client = client_as(users.customer)
    token = open_form(client)
    r = client.post("/support/tickets/new", data={
        "subject": "Broken", "description": "It broke", "priority": "low",
        "csrf_token": token, "files": [(io.BytesIO(b"%PDF-1.4 x"), "report.pdf")],
    }, content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Broken" in page and "report.pdf" in page
    listing = client.get("/support/tickets").get_data(as_text=True)
    assert "Broken" in listing


def test_csrf_is_required_on_every_post(client_as, users, app):
    client = client_as(users.customer)
    open_form(client)
    r = client.post("/support/tickets/new", data={"subject": "x", "description": "y"})
    assert r.status_code == 400
    with app.extensions["escalated"].unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="s", description="d", requester_user_id=str(users.customer.id)),
            Actor.system())
    for action in ("reply", "close", "reopen"):
        r = client.post(f"/support/tickets/{t.reference}/{action}", data={"body": "hi"})
        assert r.status_code == 400, action


def test_validation_errors_keep_the_input(client_as, users):
    client = client_as(users.customer)
    token = open_form(client)
    r = client.post("/support/tickets/new", data={
        "subject": "", "description": "My long story", "csrf_token": token})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "My long story" in html and "Subject: Field required" in html
    r = client.post("/support/tickets/new", data={
        "subject": "x", "description": "y", "priority": "critical", "csrf_token": token})
    assert r.status_code == 422
    # The refusal offers what a customer may choose, not the team's priorities.
    from html import unescape

    text = unescape(r.get_data(as_text=True))
    assert "Input should be 'low', 'medium' or 'high'" in text and "urgent" not in text


def test_xss_is_escaped_and_notes_are_hidden(client_as, users, app):
    ext = app.extensions["escalated"]
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject=XSS, description=XSS, requester_user_id=str(users.customer.id)),
            Actor.customer(users.customer.id))
        replies.add_reply(t, "Agent-only: " + XSS, Actor.agent(users.agent.id), internal=True)
        replies.add_reply(t, "Public " + XSS, Actor.agent(users.agent.id))
    client = client_as(users.customer)
    for url in ("/support/tickets", f"/support/tickets/{t.reference}"):
        html = client.get(url).get_data(as_text=True)
        assert XSS not in html
        assert "&lt;script&gt;" in html
        assert "Agent-only" not in html
    assert "Public &lt;script&gt;" in client.get(f"/support/tickets/{t.reference}") \
        .get_data(as_text=True)


def test_other_customers_get_404_and_reply_close_reopen_work(client_as, users, app):
    ext = app.extensions["escalated"]
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="Mine", description="d", requester_user_id=str(users.customer.id)),
            Actor.system())
    assert client_as(users.other).get(f"/support/tickets/{t.reference}").status_code == 404
    assert client_as(users.other).get("/support/tickets/ESC-99999").status_code == 404
    client = client_as(users.customer)
    token = csrf(client.get(f"/support/tickets/{t.reference}").get_data(as_text=True))
    r = client.post(f"/support/tickets/{t.reference}/reply", data={"body": "more info",
                                                                   "csrf_token": token})
    assert r.status_code == 302
    assert client.post(f"/support/tickets/{t.reference}/close",
                       data={"csrf_token": token}).status_code == 302
    page = client.get(f"/support/tickets/{t.reference}").get_data(as_text=True)
    assert "more info" in page and "Reopen ticket" in page
    assert client.post(f"/support/tickets/{t.reference}/reopen",
                       data={"csrf_token": token}).status_code == 302
    assert "reopened" in client.get(f"/support/tickets/{t.reference}").get_data(as_text=True)
    r = client_as(users.other).post(f"/support/tickets/{t.reference}/close",
                                    data={"csrf_token": token})
    assert r.status_code in (400, 404)
