"""The agent workspace in a real browser, beside a customer in a second browser context.

A customer opens a ticket with an attachment; the agent's queue shows it without a reload; the
agent answers; the customer's page shows the answer without a reload; the agent resolves it.
Then: queue filters and a bulk action, the composer driven by keyboard alone, hostile text on
the agent pages, and screenshots of each page.
"""

from __future__ import annotations

import re

import pytest

from .test_portal_e2e import INJECTED, PAYLOADS, open_ticket, unique

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]  # one demo server

LIVE_TIMEOUT = 15_000


def rows(page):
    return page.locator("tbody[data-live-region=queue] tr[data-ticket-id]")


def test_a_ticket_travels_live_between_customer_and_agent(signed_in, screenshot):
    agent = signed_in("agent@demo.test")
    agent.goto("/support/agent/tickets?sort=-created_at")
    assert agent.locator("main[data-live-channels='escalated.tickets']").count() == 1
    agent.wait_for_timeout(800)  # the socket joins the queue channel

    customer = signed_in("customer@demo.test")
    subject = unique("Printer prints only blank pages")
    reference = open_ticket(customer, subject, "Since this morning.", files=[{
        "name": "test-page.txt", "mimeType": "text/plain", "buffer": b"blank\n"}])

    # The agent's queue shows the new ticket without a reload.
    new_row = rows(agent).filter(has_text=subject)
    new_row.wait_for(timeout=LIVE_TIMEOUT)
    screenshot(agent, "agent-queue")
    with agent.expect_navigation():
        new_row.get_by_role("link", name=reference).click()
    assert agent.get_by_role("link", name="test-page.txt").is_visible()
    screenshot(agent, "agent-ticket")

    # The customer has the ticket open; the agent answers from the composer.
    customer.wait_for_timeout(800)
    answer = unique("Please try a new cartridge")
    agent.get_by_label("Reply to customer").check()
    agent.locator("#composer-body").fill(answer)
    with agent.expect_navigation():
        agent.get_by_role("button", name="Send reply").click()
    assert answer in agent.locator("[data-live-region=conversation]").inner_text()

    customer.locator("#esc-conversation").filter(has_text=answer).wait_for(timeout=LIVE_TIMEOUT)

    # The agent resolves it; the customer's page follows.
    agent.select_option("#p-status", "resolved")
    with agent.expect_navigation():
        agent.get_by_role("button", name="Change status").click()
    assert "resolved" in agent.locator("[data-live-region=properties]").inner_text().lower()
    customer.locator("[data-live-region=status]").filter(
        has_text=re.compile("resolved", re.I)).wait_for(timeout=LIVE_TIMEOUT)


def test_queue_filters_and_a_bulk_action(signed_in, screenshot):
    customer = signed_in("customer@demo.test")
    marker = unique("Bulk")
    references = [open_ticket(customer, f"{marker} {n}", "Same problem.") for n in range(3)]

    agent = signed_in("agent@demo.test")
    agent.goto("/support/agent/tickets")
    agent.get_by_label("Search").fill(marker)
    agent.select_option("#f-assignee", "none")
    with agent.expect_navigation():
        agent.get_by_role("button", name="Filter").click()
    assert rows(agent).count() == 3
    assert sorted(rows(agent).locator("td:nth-child(2)").all_inner_texts()) == sorted(references)

    agent.locator("#select-page").check()
    assert agent.locator("[data-bulk-count]").inner_text() == "3 selected"
    agent.select_option("#b-priority", "urgent")
    with agent.expect_navigation():
        agent.get_by_role("button", name="Set priority").click()
    assert agent.locator(".esc-flash-success").filter(has_text="Updated 3 tickets").is_visible()
    screenshot(agent, "agent-queue-bulk")

    agent.select_option("#f-priority", "urgent")
    with agent.expect_navigation():
        agent.get_by_role("button", name="Filter").click()
    assert rows(agent).count() == 3
    agent.select_option("#f-priority", "low")
    with agent.expect_navigation():
        agent.get_by_role("button", name="Filter").click()
    assert rows(agent).count() == 0


def test_the_composer_works_by_keyboard_alone(signed_in):
    customer = signed_in("customer@demo.test")
    reference = open_ticket(customer, unique("Keyboard"), "Tab, type, send.")
    agent = signed_in("agent@demo.test")
    agent.goto(f"/support/agent/tickets/{reference}")
    body = agent.locator("#composer-body")
    for _ in range(200):
        agent.keyboard.press("Tab")
        if body.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the composer")
    note = unique("Typed without a mouse")
    agent.keyboard.type(note)
    with agent.expect_navigation():
        agent.keyboard.press("Control+Enter")
    assert note in agent.locator("[data-live-region=conversation]").inner_text()


def test_hostile_text_is_inert_on_agent_pages(signed_in, screenshot):
    customer = signed_in("customer@demo.test")
    payload = " ".join(PAYLOADS)
    reference = open_ticket(customer, "XSS " + payload, "Body " + payload)
    agent = signed_in("agent@demo.test")
    dialogs: list[str] = []
    agent.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    agent.goto(f"/support/agent/tickets/{reference}")
    agent.locator("#composer-body").fill("Note " + payload)
    agent.get_by_label("Internal note").check()
    with agent.expect_navigation():
        agent.get_by_role("button", name="Add internal note").click()
    agent.goto("/support/agent/tickets?q=XSS")
    agent.goto("/support/agent")
    screenshot(agent, "agent-dashboard")
    agent.goto(f"/support/agent/tickets/{reference}")
    agent.wait_for_timeout(300)
    assert dialogs == []
    assert agent.locator(f"main :is({INJECTED})").count() == 0
    assert "<img src=x onerror=alert(1)>" in agent.locator("h1").inner_text()


def test_a_customer_cannot_open_the_workspace(signed_in):
    customer = signed_in("customer@demo.test")
    response = customer.goto("/support/agent/tickets")
    assert response.status == 403


def test_an_agent_links_a_kb_article_into_a_reply(signed_in):
    customer = signed_in("customer@demo.test")
    reference = open_ticket(customer, unique("Refund please"), "Charged twice.")
    agent = signed_in("agent@demo.test")
    agent.goto(f"/support/agent/tickets/{reference}")
    agent.locator("#kb-q").fill("refund")
    agent.get_by_role("button", name="Request a refund").click()
    body = agent.locator("#composer-body").input_value()
    assert re.search(r"\[Request a refund\]\(http://127\.0\.0\.1:\d+/support/kb/articles/"
                     r"request-a-refund\)", body), body
    with agent.expect_navigation():
        agent.get_by_role("button", name="Send reply").click()
    link = agent.locator("[data-live-region=conversation] a", has_text="Request a refund")
    assert "/support/kb/articles/request-a-refund" in link.get_attribute("href")


def test_agents_see_who_else_is_viewing_and_typing(signed_in):
    customer = signed_in("customer@demo.test")
    reference = open_ticket(customer, unique("Two agents"), "Who has it?")
    first = signed_in("agent@demo.test")
    first.goto(f"/support/agent/tickets/{reference}")
    presence = first.locator("[data-presence]")
    second = signed_in("agent2@demo.test")
    second.goto(f"/support/agent/tickets/{reference}")
    presence.filter(has_text=re.compile("Sam Support is viewing")).wait_for(timeout=LIVE_TIMEOUT)
    second.locator("#composer-body").type("On it", delay=50)
    presence.filter(has_text=re.compile("Sam Support is typing")).wait_for(timeout=LIVE_TIMEOUT)
    # The customer's page never shows the agents' presence.
    customer.wait_for_timeout(500)
    assert customer.locator("[data-presence]").all_inner_texts() in ([], [""])
