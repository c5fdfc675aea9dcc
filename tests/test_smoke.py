import pytest

from flask_escalated.events import Actor
from flask_escalated.services import tickets

pytestmark = pytest.mark.all_databases


def test_ticket_round_trip(app, users, client_as, signal_log):
    with app.extensions["escalated"].unit_of_work():
        t = tickets.create_ticket(
            tickets.NewTicket(subject="Hello", description="World",
                              requester_user_id=str(users.customer.id)),
            Actor.customer(users.customer.id),
        )
    assert t.reference.startswith("ESC-")
    assert [s.name for s in signal_log] == ["ticket_created"]
    r = client_as(users.agent).get(f"/support/api/v1/tickets/{t.reference}")
    assert r.status_code == 200, r.json
    assert r.json["data"]["subject"] == "Hello"
    r = client_as(users.other).get(f"/support/api/v1/tickets/{t.reference}")
    assert r.status_code == 404
