"""The customer portal in a real browser, against the served demo app."""

from __future__ import annotations

import re
import uuid

import pytest

from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]  # one demo server

PAYLOADS = ('<img src=x onerror=alert(1)>', "<script>alert(1)</script>",
            '"><svg onload=alert(1)>')
INJECTED = "img[src='x'], svg, script"


def unique(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:8]}"


def open_ticket(page, subject: str, description: str, files=None, *, priority=None,
                department=None) -> str:
    """Fill in the new-ticket form and submit it; returns the ticket's reference."""
    page.goto("/support/tickets/new")
    if priority is not None:
        page.get_by_label("Priority").select_option(priority)
    if department is not None:
        page.get_by_label("Department").select_option(label=department)
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("How can we help?").fill(description)
    if files:
        page.set_input_files("#files", files)
    with page.expect_navigation():
        page.get_by_role("button", name="Open ticket").click()
    match = re.search(r"/support/tickets/([A-Z]+-\d+)$", page.url)
    assert match, page.url
    return match.group(1)


def test_customer_opens_a_ticket_with_an_attachment(signed_in, screenshot):
    page = signed_in("customer@demo.test")
    page.goto("/support/tickets")
    assert page.get_by_role("heading", name="My tickets").is_visible()
    screenshot(page, "portal-list")

    subject = unique("Cannot export my invoices")
    page.goto("/support/tickets/new")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("How can we help?").fill("The export button does nothing.")
    page.set_input_files("#files", files=[{
        "name": "console-log.txt", "mimeType": "text/plain",
        "buffer": b"TypeError: exportInvoices is not a function\n"}])
    # portal.js lists the chosen file, with a button to remove it.
    assert page.locator(".esc-file-list li").filter(has_text="console-log.txt").is_visible()
    assert page.get_by_role("button", name="Remove console-log.txt").is_visible()
    screenshot(page, "portal-new")
    with page.expect_navigation():
        page.get_by_role("button", name="Open ticket").click()

    assert re.search(r"/support/tickets/[A-Z]+-\d+$", page.url), page.url
    assert page.locator(".esc-flash-success").filter(has_text="was opened").is_visible()
    conversation = page.locator("#esc-conversation")
    assert "The export button does nothing." in conversation.inner_text()
    link = conversation.get_by_role("link", name="console-log.txt")
    download = page.request.get(link.get_attribute("href"))
    assert download.status == 200 and b"exportInvoices" in download.body()
    screenshot(page, "portal-ticket")

    page.get_by_role("link", name="My tickets").first.click()
    row = page.locator("table.esc-ticket-list tbody tr").filter(has_text=subject)
    assert row.count() == 1
    assert row.locator(".esc-status").inner_text().strip()
    assert row.locator("time").get_attribute("datetime")


def test_xss_payloads_render_inert(signed_in, screenshot):
    page = signed_in("customer@demo.test")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    payload = " ".join(PAYLOADS)
    open_ticket(page, "XSS " + payload, "Body " + payload)
    page.get_by_label("Your reply").fill("Reply " + payload)
    with page.expect_navigation():
        page.get_by_role("button", name="Send reply").click()

    conversation = page.locator("#esc-conversation")
    text = conversation.inner_text()
    for raw in PAYLOADS:
        assert text.count(raw) == 2, raw  # description and reply, shown as text
    assert conversation.locator(INJECTED).count() == 0
    assert page.locator("h1").inner_text().endswith(payload)
    assert page.locator("h1").locator(INJECTED).count() == 0
    screenshot(page, "portal-xss-ticket")
    page.goto("/support/tickets")
    assert page.locator("table.esc-ticket-list").locator(INJECTED).count() == 0
    page.goto("/support/tickets?q=" + PAYLOADS[0])
    assert page.locator(".esc").locator(INJECTED).count() == 0
    page.wait_for_timeout(200)
    assert dialogs == []


def test_a_customer_cannot_open_another_customers_ticket(signed_in):
    theirs = signed_in("customer2@demo.test")
    reference = open_ticket(theirs, unique("Robin's private ticket"), "Only mine.")
    mine = signed_in("customer@demo.test")
    response = mine.goto(f"/support/tickets/{reference}")
    assert response.status == 404
    assert "Only mine." not in mine.content()
    assert mine.get_by_role("heading", name="Not found").is_visible()


def test_keyboard_only_reply(signed_in):
    page = signed_in("customer@demo.test")
    reference = open_ticket(page, unique("Keyboard user"), "I only use a keyboard.")
    page.goto(f"/support/tickets/{reference}")
    page.locator("body").focus()

    def tab_to(predicate: str, limit: int = 80) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(predicate):
                return
        raise AssertionError(f"Tab never reached {predicate}")

    tab_to("document.activeElement.id === 'body'")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # a visible focus ring
    page.keyboard.type("Typed without a mouse.")
    tab_to("document.activeElement.textContent.trim() === 'Send reply'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    replies = page.locator("#esc-conversation article")
    assert replies.last.inner_text().count("Typed without a mouse.") == 1
    assert page.locator(".esc-flash-success").filter(has_text="reply was sent").is_visible()


def test_portal_fits_a_phone(signed_in, screenshot):
    page = signed_in("customer@demo.test", viewport={"width": 390, "height": 844})
    for url, name in (("/support/tickets", "portal-list-phone"),
                      ("/support/tickets/new", "portal-new-phone")):
        page.goto(url)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (url, overflow)
        screenshot(page, name)


def test_guest_ticket_page(page, demo_server, screenshot):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    response = page.request.post("/support/widget/tickets", data={
        "name": "Gus Guest", "email": f"gus-{uuid.uuid4().hex[:6]}@example.test",
        "subject": "Guest question " + PAYLOADS[2], "description": "Hello " + PAYLOADS[0]})
    assert response.status == 201, response.text()
    token = response.json()["token"]
    assert page.goto(f"/support/guest/{token}").status == 200
    assert "Guest question" in page.locator("h1").inner_text()
    assert page.locator(".esc-main").locator(INJECTED).count() == 0
    page.get_by_label("Your reply").fill("A guest reply")
    with page.expect_navigation():
        page.get_by_role("button", name="Send reply").click()
    assert "A guest reply" in page.locator(".esc-main").inner_text()
    screenshot(page, "guest-ticket")
    assert page.goto("/support/guest/" + "x" * 43).status == 404
    assert dialogs == []


def test_knowledge_base_index(page, screenshot):
    response = page.goto("/support/kb")
    if response.status == 404:
        pytest.skip("this build has no knowledge base pages (/support/kb is 404)")
    assert response.status == 200
    screenshot(page, "kb-index")


def test_sign_in_page_and_redirect_back(page):
    response = page.goto("/support/tickets")
    assert "/login" in page.url and response.status == 200
    login(page, "customer@demo.test")
    page.goto("/support/tickets")
    assert page.get_by_role("heading", name="My tickets").is_visible()


CONTRAST = """() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const low = [];
  const selector = '.esc button, .esc .esc-button, .esc .esc-status, .esc .esc-flash';
  for (const el of document.querySelectorAll(selector)) {
    const style = getComputedStyle(el);
    const bg = rgb(style.backgroundColor);
    if (bg.length === 4 && bg[3] === 0) continue;
    const [a, b] = [lum(rgb(style.color)), lum(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(`${el.textContent.trim()}: ${ratio.toFixed(2)}`);
  }
  return low;
}"""


def test_buttons_badges_and_messages_have_readable_contrast(signed_in):
    page = signed_in("customer@demo.test")
    reference = open_ticket(page, unique("Contrast"), "Checking colours.")
    for url in ("/support/tickets", "/support/tickets/new", f"/support/tickets/{reference}"):
        page.goto(url)
        assert page.evaluate(CONTRAST) == [], url
