"""The display conditions the server enforces reach the browser: as data attributes on the
portal's form and the agent's Fields panel (with ``fields.js``), and in the widget's config
(with ``fields.js`` carried by the embed script)."""

from __future__ import annotations

import html as markup
import json
import re

import pytest

from flask_escalated.models import Ticket

pytestmark = pytest.mark.all_databases

FIELDS_JS = "/support/static/fields.js"


def _conditions(page: str) -> dict[str, list]:
    return {key: json.loads(markup.unescape(raw)) for key, raw in re.findall(
        r'data-cf-key="([^"]+)" data-cf-conditions="([^"]+)"', page)}


def test_portal_and_agent_pages_carry_the_rules_and_the_script(client_as, users, ext, fields,
                                                               make_ticket):
    rule = [{"field": "kind", "operator": "equals", "value": "billing"}]
    portal = client_as(users.customer).get("/support/tickets/new").get_data(as_text=True)
    assert _conditions(portal) == {"order_number": rule}
    assert FIELDS_JS in portal
    ref = ext.session.get(Ticket, make_ticket()).reference
    agent = client_as(users.agent).get(f"/support/agent/tickets/{ref}").get_data(as_text=True)
    assert _conditions(agent) == {"order_number": rule} and FIELDS_JS in agent
    assert client_as(None).get(FIELDS_JS).status_code == 200


def test_widget_config_lists_the_customer_fields_with_their_rules(app, fields):
    client = app.test_client()
    config = client.get("/support/widget/config").get_json()
    listed = {f["key"]: f for f in config["custom_fields"]}
    assert set(listed) == {"kind", "order_number"}  # customer-editable ones only
    assert listed["order_number"]["conditions"] == [
        {"field": "kind", "operator": "equals", "value": "billing"}]
    assert listed["order_number"]["required"] is True
    assert [o["value"] for o in listed["kind"]["options"]] == ["billing", "tech"]
    embed = client.get("/support/widget/embed.js").get_data(as_text=True)
    assert embed.index("window.EscalatedFields =") < embed.index("__escalatedWidget")


def test_widget_ticket_takes_the_fields_the_rules_allow(app, fields):
    client = app.test_client()
    body = {"name": "Dana", "email": "dana@example.org", "subject": "Refund",
            "description": "Twice.", "custom_fields": {"kind": "tech", "order_number": "A1"}}
    r = client.post("/support/widget/tickets", json=body)
    assert r.status_code == 422 and "custom_fields.order_number" in r.get_json()["error"]["fields"]
    r = client.post("/support/widget/tickets",
                    json={**body, "custom_fields": {"kind": "billing", "order_number": "A1"}})
    assert r.status_code == 201, r.get_data(True)
