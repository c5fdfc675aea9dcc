"""Domain events across SAVEPOINTs: handled once, sent once, kept through a nested rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import Webhook, WebhookDelivery
from flask_escalated.services import tags, tickets

pytestmark = pytest.mark.all_databases


def _ticket(users):
    return tickets.create_ticket(tickets.NewTicket(
        subject="s", description="d", requester_user_id=str(users.customer.id)), Actor.system())


def test_savepoints_do_not_repeat_or_lose_events(app, users, signal_log):
    ext = app.extensions["escalated"]
    with ext.unit_of_work():
        ext.session.add(Webhook(url="http://127.0.0.1:9/x", secret="s" * 32, events=["*"],
                                is_active=True, failure_count=0))
    with ext.unit_of_work():
        ticket = _ticket(users)
        with ext.session.begin_nested():  # released: must not run the commit handlers
            tags.add_tags(ticket, ["one"], Actor.system())
        with pytest.raises(RuntimeError), ext.session.begin_nested():  # rolled back
            tags.add_tags(ticket, ["two"], Actor.system())
            raise RuntimeError("undo the second tag only")
        assert signal_log == []  # nothing is sent before the real commit
    names = [s.name for s in signal_log]
    assert names.count("ticket_created") == 1
    assert names.count("tag_added") == 1  # "two" was rolled back with its savepoint
    ext.session.rollback()
    events = [d.event for d in ext.session.execute(select(WebhookDelivery)).scalars()]
    assert events.count("ticket.created") == 1
    assert len(events) == len(set(zip(events, range(len(events))))) and len(events) == len(names)
