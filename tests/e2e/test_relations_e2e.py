"""Merge, split and a side conversation in a real browser: an agent merges a customer's two
tickets with the merge picker, the customer's old page forwards to the live ticket, the agent
splits a reply into a new ticket with the reply's own button, then asks a vendor in a side
conversation on the live ticket, which the customer never sees."""

from __future__ import annotations

import re

import pytest

from .test_portal_e2e import open_ticket, unique
from .test_side_conversations_e2e import start_side_conversation

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]  # one demo server


def test_an_agent_merges_two_tickets_splits_a_reply_and_asks_a_vendor(signed_in, screenshot):
    customer = signed_in("customer@demo.test")
    first_subject = unique("Scanner stuck")
    second_subject = unique("Scanner jammed on floor 3")
    first = open_ticket(customer, first_subject, "It stopped mid-page.")
    second = open_ticket(customer, second_subject, "Same scanner as before.")
    customer.goto(f"/support/tickets/{first}")
    extra = unique("The toner is empty as well")
    customer.get_by_label("Your reply").fill(extra)
    with customer.expect_navigation():
        customer.get_by_role("button", name="Send reply").click()

    agent = signed_in("agent@demo.test")
    agent.goto(f"/support/agent/tickets/{first}")
    agent.get_by_label("Merge into (reference or subject)").fill(second_subject)
    with agent.expect_navigation():
        agent.get_by_role("button", name="Find ticket").click()
    screenshot(agent, "agent-merge-picker")
    with agent.expect_navigation():
        agent.get_by_role("button", name=f"Merge into {second}").click()
    assert agent.url.endswith(f"/support/agent/tickets/{second}")
    conversation = agent.locator("[data-live-region=conversation]")
    assert extra in conversation.inner_text()
    assert f"Ticket {first} was merged into this ticket." in conversation.inner_text()

    # The customer's old page forwards to the live ticket.
    customer.goto(f"/support/tickets/{first}")
    assert customer.url.endswith(f"/support/tickets/{second}")
    assert extra in customer.content()

    # The agent splits the carried reply into a new ticket; the reply stays here too.
    reply = agent.locator("article.esc-message").filter(has_text=extra)
    with agent.expect_navigation():
        reply.get_by_role("button", name="Split into a new ticket").click()
    match = re.search(r"/support/agent/tickets/([A-Z]+-\d+)$", agent.url)
    assert match and match.group(1) not in (first, second)
    assert f"Split from {second}" in agent.locator("h1").inner_text()
    assert extra in agent.locator("[data-live-region=conversation]").inner_text()
    links = agent.locator("[data-links]")
    assert second in links.inner_text()
    screenshot(agent, "agent-split-ticket")
    agent.goto(f"/support/agent/tickets/{second}")
    assert match.group(1) in agent.locator("[data-links]").inner_text()
    assert extra in agent.locator("[data-live-region=conversation]").inner_text()

    # A side conversation on the live ticket: the agents' thread, never the customer's.
    subject = unique("Ask the vendor about the scanner")
    start_side_conversation(agent, subject, "Is the floor 3 scanner under warranty?")
    screenshot(agent, "agent-merged-ticket-side-conversation")
    customer.goto(f"/support/tickets/{second}")
    assert subject not in customer.content() and "warranty" not in customer.content()
