"""The support widget in a real browser: on the demo's own page it files a ticket; embedded in
a page of a site nobody listed, the browser gets no CORS grant and the visitor a plain error."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


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


@pytest.fixture
def other_site(demo_server) -> Iterator[str]:
    """A page on another origin (another port) that embeds the demo's widget."""
    html = (f'<!doctype html><title>Shop</title><h1>Shop</h1>'
            f'<script src="{demo_server.url}/support/widget/embed.js" async></script>').encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_an_unlisted_site_gets_no_answer_it_may_read(new_context, other_site):
    page = new_context(base_url=other_site).new_page()
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    page.goto(other_site)
    panel = _send_from_widget(page, "victim@example.test")
    alert = panel.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text() == "Support cannot be reached from this page right now."
    assert any("widget_origins" in w and other_site.rstrip("/") in w for w in warnings)
