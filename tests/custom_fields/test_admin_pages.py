"""The console's custom-fields section: options and conditions edited as plain form text,
checked by the same service as the API."""

from __future__ import annotations

import json

import pytest

from flask_escalated.models import CustomField

from ..admin.conftest import admin, console, db, field_error  # noqa: F401  (fixtures)

pytestmark = pytest.mark.all_databases


def test_admin_creates_a_conditional_select_without_javascript(admin, ext):  # noqa: F811
    admin.get("/custom-fields/new")
    assert 'name="options"' in admin.html and 'name="conditions"' in admin.html
    r = admin.post("/custom-fields/new", {
        "key": "kind", "label": "Kind", "type": "select", "active": "true",
        "options": json.dumps([{"value": "billing", "label": "Billing"}])}, status=302)
    kind = db().query(CustomField).filter_by(key="kind").one()
    assert r.headers["Location"].endswith(f"/admin/custom-fields/{kind.id}")
    admin.get("/custom-fields/new")
    r = admin.post("/custom-fields/new", {
        "key": "order_number", "label": "Order", "type": "text", "required": "true",
        "conditions": json.dumps([{"field": "kind", "operator": "equals",
                                   "value": "billing"}])}, status=302)
    row = db().query(CustomField).filter_by(key="order_number").one()
    assert row.conditions == [{"field": "kind", "operator": "equals", "value": "billing"}]
    html = admin.get("/custom-fields")
    assert "Order" in html and "Kind" in html


def test_a_condition_on_an_unknown_field_is_refused_on_the_form(admin):  # noqa: F811
    admin.get("/custom-fields/new")
    r = admin.post("/custom-fields/new", {
        "key": "ref", "label": "Ref <b>x</b>", "type": "text",
        "conditions": json.dumps([{"field": "ghost", "operator": "is_empty"}])}, status=422)
    html = r.get_data(as_text=True)
    assert "unknown field" in (field_error(html, "conditions") or html)
    assert "Ref &lt;b&gt;x&lt;/b&gt;" in html
    assert db().query(CustomField).count() == 0
