"""The support widget in a real browser: on the demo's own page it files a ticket; embedded in
a page of a site nobody listed, the browser gets no CORS grant and the visitor a plain error."""

from __future__ import annotations

import uuid
from typing import Any


def _send_from_widget(page: Any, email: str) -> Any:
    page.get_by_role("button", name="Help").click()
    page.get_by_role("tab", name="Contact us").click()
    panel = page.get_by_role("dialog", name="Support")
    panel.get_by_label("Name", exact=True).fill("Wanda Widget")
    panel.get_by_label("E-mail", exact=True).fill(email)
    panel.get_by_label("Subject", exact=True).fill("Where is my parcel?")
    panel.get_by_label("How can we help?").fill("It was due on Monday.")
    panel.get_by_role("button", name="Send").click()
    return panel


def test_the_widget_on_the_demo_s_own_page_files_a_ticket(page, screenshot):
    page.goto("/")
    panel = _send_from_widget(page, f"wanda-{uuid.uuid4().hex[:6]}@example.test")
    status = panel.get_by_role("status").filter(has_text="Thanks!")
    status.wait_for()
    assert "Your request ESC-" in status.inner_text()
    screenshot(page, "widget-sent")


def test_an_unlisted_site_gets_no_answer_it_may_read(new_context, unlisted_site):
    page = new_context(base_url=unlisted_site).new_page()
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    page.goto(unlisted_site)
    panel = _send_from_widget(page, "victim@example.test")
    alert = panel.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == "Support cannot be reached from this page right now."
    assert any("widget_origins" in w and unlisted_site.rstrip("/") in w for w in warnings)
