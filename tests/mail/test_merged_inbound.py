"""Inbound mail addressed to a merged ticket lands on the ticket that took it over."""

from __future__ import annotations

import pytest

from flask_escalated.events import Actor
from flask_escalated.models import Reply
from flask_escalated.services import relations, tickets
from flask_escalated.services.permissions import Principal

from .conftest import DOMAIN
from .test_inbound import SECRET, post, postmark, rows

pytestmark = pytest.mark.all_databases


@pytest.fixture
def app(make_app, smtp):
    app = make_app(ESCALATED_INBOUND_SECRET=SECRET, ESCALATED_MAIL_DOMAIN=DOMAIN)
    with app.app_context():
        yield app


def test_a_reply_to_a_merged_ticket_is_filed_on_the_live_one(app, ext, users):
    with ext.unit_of_work():
        source = tickets.create_ticket(tickets.NewTicket(
            subject="Printer jam", description="d", requester_email="dana@example.org"),
            Actor.system())
        middle = tickets.create_ticket(tickets.NewTicket(
            subject="Printer", description="d", requester_user_id=str(users.customer.id)),
            Actor.system())
        live = tickets.create_ticket(tickets.NewTicket(
            subject="Printers", description="d", requester_user_id=str(users.customer.id)),
            Actor.system())
        agent = Principal.build(str(users.agent.id), is_agent=True)
        relations.merge(agent, source, middle.id)
        relations.merge(agent, middle, live.id)
        source_id, live_id = source.id, live.id
    # The contact who wrote the merged ticket is not the live ticket's requester: their
    # authority comes from the ticket they wrote to, the reply lands on the live ticket.
    r = post(app, "postmark", postmark(
        sender="dana@example.org", subject="Re: Printer jam", text="Any news?",
        headers=[("In-Reply-To", f"<ticket-{source_id}@{DOMAIN}>")]))
    assert r.status_code == 200, r.json
    assert r.json["outcome"] == "reply_added" and r.json["ticket_id"] == live_id
    (reply,) = rows(ext, Reply, Reply.id == r.json["reply_id"])
    assert reply.ticket_id == live_id and reply.body == "Any news?"
    # A stranger naming the merged ticket still opens a ticket of their own.
    r = post(app, "postmark", postmark(
        sender="mallory@evil.test", subject="Re: Printer jam", text="Append me",
        headers=[("In-Reply-To", f"<ticket-{source_id}@{DOMAIN}>")]))
    assert r.json["outcome"] == "ticket_created" and r.json["ticket_id"] not in (
        source_id, live_id)
