"""The portal's new-ticket form: customer-editable fields only; the server decides which
conditional fields apply on submit."""

from __future__ import annotations

import re

import pytest

from flask_escalated.models import CustomFieldValue, Ticket

pytestmark = pytest.mark.all_databases


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_portal_form_shows_customer_fields_and_enforces_conditions(client_as, users, ext,
                                                                   fields):
    client = client_as(users.customer)
    page = client.get("/support/tickets/new").get_data(as_text=True)
    assert 'name="cf.kind"' in page and 'name="cf.order_number"' in page
    assert 'name="cf.vip"' not in page and 'name="cf.amount"' not in page
    assert "data-cf-conditions=" in page
    base = {"subject": "Refund", "description": "Please", "csrf_token": _token(page)}
    r = client.post("/support/tickets/new", data={**base, "cf.kind": "billing"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Order number: required" in html and 'value="Refund"' in html
    r = client.post("/support/tickets/new", data={**base, "cf.kind": "tech",
                                                  "cf.order_number": "A1"})
    assert r.status_code == 422 and "hidden by its display conditions" in r.get_data(True)
    r = client.post("/support/tickets/new", data={**base, "cf.kind": "billing",
                                                  "cf.order_number": "A1", "cf.vip": "true"})
    assert r.status_code == 302, r.get_data(True)[:500]
    ext.session.rollback()
    ticket = ext.session.query(Ticket).filter_by(subject="Refund").one()
    stored = {v.value_text for v in ext.session.query(CustomFieldValue)
              .filter_by(ticket_id=ticket.id)}
    # cf.vip was not offered to the customer, so it was not read.
    assert stored == {"billing", "A1"}
