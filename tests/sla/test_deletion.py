"""Deleting a ticket removes its dependants on every database (SQLite enforces no FKs)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from flask_escalated.events import Actor
from flask_escalated.models import Activity, Attachment, Reply, Ticket, ticket_tags
from flask_escalated.services import attachments, replies, tickets

pytestmark = pytest.mark.all_databases


def test_delete_ticket_removes_dependants(app, users):
    ext = app.extensions["escalated"]
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="Bye", description="x", requester_user_id=str(users.customer.id),
            tags=["one", "two"]), Actor.system())
        r = replies.add_reply(t, "hello", Actor.agent(users.agent.id))
        attachments.add(t, [attachments.Upload("a.txt", io.BytesIO(b"hi"))],
                        Actor.agent(users.agent.id), reply=r)
    tid = t.id
    with ext.unit_of_work():
        tickets.delete_ticket(tickets.get_ticket(tid), Actor.agent(users.admin.id))
    db = ext.session
    for model, column in ((Reply, Reply.ticket_id), (Activity, Activity.ticket_id),
                          (Attachment, Attachment.ticket_id)):
        assert db.execute(select(func.count()).select_from(model).where(column == tid)) \
            .scalar_one() == 0, model
    assert db.execute(select(func.count()).select_from(ticket_tags)
                      .where(ticket_tags.c.ticket_id == tid)).scalar_one() == 0
    assert db.get(Ticket, tid) is None
