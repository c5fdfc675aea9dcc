"""An agent's daily tools in a real browser: a canned response inserted in the composer, a view
saved from the queue's filters (then refiltered and updated), a conditional custom field that
appears only once its controlling field is set, and a ticket found by a word that appears only
in a reply. Every step is a page a person uses; the admin sets the custom fields up in the
console first.
"""

from __future__ import annotations

import re
import uuid

import pytest

from .test_agent_e2e import rows
from .test_portal_e2e import open_ticket, unique

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]  # one demo server

ADMIN = "/support/admin"


def _create_field(admin, key: str, label: str, kind: str, *, options: str = "[]",
                  conditions: str = "[]", customer: bool = False) -> None:
    """A custom field through the console's form (agents only unless ``customer``: then the
    customer fills it in too). Never required: other browser tests open tickets meanwhile."""
    admin.goto(f"{ADMIN}/custom-fields/new")
    admin.fill("#f-key", key)
    admin.fill("#f-label", label)
    admin.select_option("#f-type", kind)
    admin.fill("#f-options", options)
    admin.fill("#f-conditions", conditions)
    if customer:
        admin.check("#f-customer_visible")
        admin.check("#f-customer_editable")
    with admin.expect_navigation():
        admin.get_by_role("button", name="Create", exact=True).click()
    assert admin.locator(".esc-flash-success").count() == 1, admin.locator("main").inner_text()


def test_an_agent_uses_canned_responses_views_conditional_fields_and_search(
    signed_in, screenshot
):
    suffix = uuid.uuid4().hex[:6]
    kind, invoice = f"kind_{suffix}", f"invoice_{suffix}"

    # The admin adds two fields: the invoice number only applies to billing questions.
    admin = signed_in("admin@demo.test")
    _create_field(admin, kind, f"Kind {suffix}", "select",
                  options='[{"value": "billing", "label": "Billing"}, '
                          '{"value": "other", "label": "Other"}]')
    _create_field(admin, invoice, f"Invoice {suffix}", "text",
                  conditions=f'[{{"field": "{kind}", "operator": "equals", '
                             f'"value": "billing"}}]')

    customer = signed_in("customer@demo.test")
    marker = unique("Tools")
    reference = open_ticket(customer, f"{marker} charged twice", "My card shows two charges.")

    agent = signed_in("agent@demo.test")

    # 1. A personal canned response with a shortcut and a placeholder.
    shortcut = f"twice{suffix}"
    agent.goto("/support/agent/canned-responses/new")
    agent.fill("#f-title", f"Double charge {suffix}")
    agent.fill("#f-shortcut", shortcut)
    agent.fill("#f-body", "Hello {{requester.name}}, we are refunding the second charge.")
    with agent.expect_navigation():
        agent.get_by_role("button", name="Save", exact=True).click()

    # ... inserted from the composer's type-ahead, rendered for this ticket.
    agent.goto(f"/support/agent/tickets/{reference}")
    body = agent.locator("#composer-body")
    body.fill("")
    agent.locator("#canned-q").fill(f"/{shortcut}")
    agent.locator("#canned-q").press("Enter")
    agent.wait_for_function(
        "() => document.querySelector('#composer-body').value.includes('refunding')")
    inserted = body.input_value()
    assert "Hello Casey Customer, we are refunding the second charge." in inserted, inserted
    screenshot(agent, "agent-tools-canned-inserted")
    word = f"zebra{suffix}"  # appears in this reply only
    body.fill(inserted + f" Reference {word}.")
    agent.get_by_label("Reply to customer").check()
    with agent.expect_navigation():
        agent.locator("[data-composer-submit]").click()
    assert word in agent.locator("[data-live-region=conversation]").inner_text(), \
        agent.locator(".esc-error, [role=alert]").all_inner_texts()

    # 2. The conditional field: hidden until the kind is billing, then filled and saved.
    panel = agent.locator(".esc-cf-panel")
    invoice_box = panel.locator(f"[data-cf-key={invoice}]")
    assert invoice_box.is_hidden()
    panel.locator(f"#cf-{kind}").select_option("billing")
    invoice_box.wait_for(state="visible")
    panel.locator(f"#cf-{invoice}").fill("INV-2041")
    screenshot(agent, "agent-tools-conditional-field")
    with agent.expect_navigation():
        panel.get_by_role("button", name="Save fields").click()
    assert agent.locator(f"#cf-{invoice}").input_value() == "INV-2041"
    # Another kind hides it again (and the server clears the value on save).
    agent.locator(f"#cf-{kind}").select_option("other")
    assert agent.locator(f"[data-cf-key={invoice}]").is_hidden()
    agent.locator(f"#cf-{kind}").select_option("billing")
    assert agent.locator(f"[data-cf-key={invoice}]").is_visible()

    # 3. Full-text search finds the ticket by the word only its reply holds.
    agent.goto("/support/agent/tickets")
    agent.get_by_label("Search").fill(word)
    agent.select_option("#f-status", "any")
    with agent.expect_navigation():
        agent.get_by_role("button", name="Filter").click()
    assert rows(agent).count() == 1
    row = rows(agent).first
    assert row.get_by_role("link", name=reference).is_visible()
    assert row.locator(".esc-snippet mark").inner_text().lower() == word
    screenshot(agent, "agent-tools-search")

    # 4. A view saved from the queue's current filters, then refiltered and updated.
    agent.get_by_label("Search").fill(marker)
    with agent.expect_navigation():
        agent.get_by_role("button", name="Filter").click()
    assert rows(agent).count() == 1
    view_name = f"Double charges {suffix}"
    agent.get_by_role("textbox", name="Save as view").fill(view_name)
    with agent.expect_navigation():
        agent.get_by_role("button", name="Save", exact=True).click()
    assert re.search(r"[?&]view=\d+", agent.url), agent.url
    assert agent.get_by_role("heading", name=view_name).is_visible()
    views = agent.get_by_role("navigation", name="Saved views")
    assert views.get_by_role("link", name=re.compile(re.escape(view_name) + r" 1$")).is_visible()
    assert agent.get_by_label("Search").input_value() == marker  # the form shows the view's
    assert rows(agent).count() == 1
    screenshot(agent, "agent-tools-view")

    agent.select_option("#f-priority", "urgent")
    with agent.expect_navigation():
        agent.get_by_role("button", name="Filter").click()
    assert rows(agent).count() == 0
    assert agent.get_by_text("Filters changed").is_visible()
    with agent.expect_navigation():
        agent.get_by_role("button", name="Update view").click()
    assert agent.locator(".esc-flash-success").filter(has_text="now uses these filters").count()
    assert agent.locator("#f-priority").input_value() == "urgent"
    assert views.get_by_role("link", name=re.compile(re.escape(view_name) + r" 0$")).is_visible()
    screenshot(agent, "agent-tools-view-updated")


def test_the_widget_shows_a_conditional_field_once_it_applies(signed_in, page, screenshot):
    suffix = uuid.uuid4().hex[:6]
    kind, order = f"wkind_{suffix}", f"worder_{suffix}"
    admin = signed_in("admin@demo.test")
    _create_field(admin, kind, f"Topic {suffix}", "select", customer=True,
                  options='[{"value": "billing", "label": "Billing"}, '
                          '{"value": "other", "label": "Other"}]')
    _create_field(admin, order, f"Order number {suffix}", "text", customer=True,
                  conditions=f'[{{"field": "{kind}", "operator": "equals", '
                             f'"value": "billing"}}]')

    page.goto("/")
    page.get_by_role("button", name="Help").click()
    page.get_by_role("tab", name="Contact us").click()
    panel = page.get_by_role("dialog", name="Support")
    panel.get_by_label("Name", exact=True).fill("Wanda Widget")
    panel.get_by_label("E-mail", exact=True).fill(f"wanda-{suffix}@example.test")
    panel.get_by_label("Subject", exact=True).fill(f"Refund {suffix}")
    panel.get_by_label("How can we help?").fill("Charged twice.")
    order_input = panel.get_by_label(f"Order number {suffix}")
    assert order_input.is_hidden()
    panel.get_by_label(f"Topic {suffix}").select_option("billing")
    order_input.wait_for(state="visible")
    order_input.fill("A-77")
    screenshot(page, "widget-conditional-field")
    panel.get_by_role("button", name="Send").click()
    status = panel.get_by_role("status").filter(has_text="Thanks!")
    status.wait_for()
    reference = re.search(r"ESC-\d+", status.inner_text()).group(0)

    agent = signed_in("agent@demo.test")
    agent.goto(f"/support/agent/tickets/{reference}")
    assert agent.locator(f"#cf-{order}").input_value() == "A-77"
    assert agent.locator(f"#cf-{kind}").input_value() == "billing"


#: Fields and their conditions: a chain (c shows when b does, b when a is billing), a checkbox,
#: a multi-select, a number, and every operator.
PARITY_FIELDS = {
    "a": [],
    "b": [{"field": "a", "operator": "equals", "value": "billing"}],
    "c": [{"field": "b", "operator": "is_not_empty", "value": None}],
    "d": [{"field": "flag", "operator": "equals", "value": "true"}],
    "e": [{"field": "flag", "operator": "not_equals", "value": "true"},
          {"field": "tags", "operator": "contains", "value": "ur"}],
    "f": [{"field": "n", "operator": "equals", "value": "5"},
          {"field": "a", "operator": "is_empty", "value": None}],
    "flag": [], "tags": [], "n": [],
}
PARITY_VALUES = [
    {},
    {"a": "billing"},
    {"a": "billing", "b": "x"},
    {"a": "other", "b": "x", "c": "y"},
    {"flag": True},
    {"flag": False, "tags": ["urgent", "vip"]},
    {"tags": ["vip"]},
    {"n": 5},
    {"n": 5, "a": ""},
    {"n": 2.5, "tags": []},
    {"a": "billing", "b": "", "c": "z"},
]


def test_the_browser_shows_the_fields_the_server_accepts(page):
    """fields.js decides visibility exactly as the server's ``visible_keys`` does."""
    from pathlib import Path

    from flask_escalated.models import CustomField
    from flask_escalated.services.custom_fields import visible_keys

    script = (Path(__file__).resolve().parents[2] / "flask_escalated" / "static" / "escalated"
              / "fields.js").read_text(encoding="utf-8")
    page.set_content("<!doctype html><title>fields</title>")
    page.add_script_tag(content=script)
    rows = [CustomField(key=k, conditions=c) for k, c in PARITY_FIELDS.items()]
    for values in PARITY_VALUES:
        expected = visible_keys(rows, values)
        shown = page.evaluate(
            "([c, v]) => Object.keys(window.EscalatedFields.visibleKeys(c, v)).sort()",
            [PARITY_FIELDS, values])
        assert set(shown) == expected, values
