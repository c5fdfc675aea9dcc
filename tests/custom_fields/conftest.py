"""Custom field fixtures: a small catalogue with a conditional field."""

from __future__ import annotations

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import custom_fields

from ..web_api.conftest import ext, make_ticket  # noqa: F401  (fixtures)


@pytest.fixture
def fields(app, ext):  # noqa: F811
    """``kind`` (select, customer-editable), ``order_number`` (text, required, shown only when
    kind == billing), ``amount`` (number), ``due`` (date), ``vip`` (checkbox, agents only)."""
    with ext.unit_of_work():
        made = {}
        for spec in (
            {"key": "kind", "label": "Kind", "type": "select", "customer_visible": True,
             "customer_editable": True, "options": [
                 {"value": "billing", "label": "Billing"},
                 {"value": "tech", "label": "Technical"}]},
            {"key": "order_number", "label": "Order number", "type": "text", "required": True,
             "customer_visible": True, "customer_editable": True,
             "conditions": [{"field": "kind", "operator": "equals", "value": "billing"}]},
            {"key": "amount", "label": "Amount", "type": "number"},
            {"key": "due", "label": "Due", "type": "date"},
            {"key": "vip", "label": "VIP", "type": "checkbox"},
            {"key": "topics", "label": "Topics", "type": "multi_select", "options": [
                {"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
        ):
            made[spec["key"]] = custom_fields.create_field(Actor.system(), spec).id
    return made
