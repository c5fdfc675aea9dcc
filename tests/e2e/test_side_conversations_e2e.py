"""Side conversations in a real browser: an agent starts one on a customer's ticket, replies
in it and closes it; the customer's page never shows it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page

from .test_portal_e2e import open_ticket, unique

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]  # one demo server


def start_side_conversation(agent: Page, subject: str, body: str) -> Locator:
    """Start a side conversation from the open ticket page's panel; its element afterwards."""
    panel = agent.locator("#side-conversations")
    panel.get_by_text("Start a side conversation").click()
    agent.locator("#side-subject").fill(subject)
    agent.locator("#side-body").fill(body)
    with agent.expect_navigation():
        panel.get_by_role("button", name="Start side conversation").click()
    conversation = agent.locator("[data-side-conversation]").filter(has_text=subject)
    assert conversation.count() == 1
    assert body in conversation.inner_text()
    return conversation


def test_an_agent_starts_a_side_conversation_and_replies(signed_in, screenshot):
    customer = signed_in("customer@demo.test")
    reference = open_ticket(customer, unique("Toner smears"), "Every page has a stripe.")

    agent = signed_in("agent@demo.test")
    agent.goto(f"/support/agent/tickets/{reference}")
    panel = agent.locator("#side-conversations")
    assert "No side conversations." in panel.inner_text()
    subject = unique("Ask the vendor about toner")
    conversation = start_side_conversation(agent, subject, "Is batch 42 known to smear?")

    answer = unique("Batch 42 was recalled")
    conversation.locator("textarea[name=body]").fill(answer)
    with agent.expect_navigation():
        conversation.get_by_role("button", name="Reply", exact=True).click()
    conversation = agent.locator("[data-side-conversation]").filter(has_text=subject)
    assert answer in conversation.inner_text()
    screenshot(agent, "agent-side-conversation")

    with agent.expect_navigation():
        conversation.get_by_role("button", name="Close side conversation").click()
    conversation = agent.locator("[data-side-conversation]").filter(has_text=subject)
    assert "Closed" in conversation.locator("summary").inner_text()

    customer.goto(f"/support/tickets/{reference}")
    seen = customer.content()
    assert subject not in seen and answer not in seen and "batch 42" not in seen.lower()
