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
    # A field not offered to the customer (agents only) is refused, named, and nothing stored.
    r = client.post("/support/tickets/new", data={**base, "cf.kind": "billing",
                                                  "cf.order_number": "A1", "cf.vip": "true"})
    assert r.status_code == 422 and "Unknown field(s): cf.vip" in r.get_data(True)
    r = client.post("/support/tickets/new", data={**base, "cf.kind": "billing",
                                                  "cf.order_number": "A1"})
    assert r.status_code == 302, r.get_data(True)[:500]
    ext.session.rollback()
    ticket = ext.session.query(Ticket).filter_by(subject="Refund").one()
    stored = {v.value_text for v in ext.session.query(CustomFieldValue)
              .filter_by(ticket_id=ticket.id)}
    assert stored == {"billing", "A1"}


def test_agent_fields_panel_saves_through_the_same_rules(client_as, users, ext, fields,
                                                         make_ticket):
    tid = make_ticket()
    client = client_as(users.agent)
    ref = ext.session.get(Ticket, tid).reference
    page = client.get(f"/support/agent/tickets/{ref}").get_data(as_text=True)
    assert 'name="cf.vip"' in page and 'name="cf.amount"' in page
    url = f"/support/agent/tickets/{ref}/fields"
    r = client.post(url, data={"csrf_token": _token(page), "cf.kind": "billing",
                               "cf.amount": "12"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "order_number: required" in html, re.findall(r"role=.alert.>([^<]*)", html)
    assert 'value="12"' in html
    r = client.post(url, data={"csrf_token": _token(page), "cf.kind": "billing",
                               "cf.order_number": "A9", "cf.amount": "12", "cf.vip": "true"})
    assert r.status_code == 303, r.get_data(True)[:500]
    ext.session.rollback()
    from flask_escalated.services import custom_fields

    assert custom_fields.custom_field_values(ext.session.get(Ticket, tid)) == {
        "kind": "billing", "order_number": "A9", "amount": 12, "vip": True}


def test_widget_ticket_form_applies_the_same_rules(app, ext, fields):
    client = app.test_client()
    body = {"name": "Dana", "email": "dana@example.org", "subject": "Invoice",
            "description": "Wrong total."}
    r = client.post("/support/widget/tickets", json={**body, "custom_fields": {
        "kind": "billing"}})
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == {"custom_fields.order_number": "required"}
    r = client.post("/support/widget/tickets", json={**body, "custom_fields": {
        "kind": "tech", "vip": True}})
    assert r.get_json()["error"]["fields"] == {"custom_fields.vip": "unknown field"}
    r = client.post("/support/widget/tickets", json={**body, "custom_fields": "x"})
    assert r.status_code == 422
    r = client.post("/support/widget/tickets", json={**body, "custom_fields": {
        "kind": "billing", "order_number": "B2"}})
    assert r.status_code == 201, r.get_json()
