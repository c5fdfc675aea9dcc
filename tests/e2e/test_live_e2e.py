"""Live updates in the browser: a reply posted elsewhere appears on the customer's open ticket
page over the WebSocket, or by polling when the browser has no WebSocket, and the text being
typed in the composer (outside the live regions) survives the update."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from tests.demo_process import api_token

from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]  # one demo server


@pytest.fixture(scope="module")
def agent_token(demo_server):
    return api_token(demo_server.env)


def _post_reply(base: str, token: str, reference: str, body: str) -> None:
    request = urllib.request.Request(
        f"{base}/support/api/v1/tickets/{reference}/replies",
        data=json.dumps({"body": body}).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_reply_appears_without_a_reload(new_context, demo_server, agent_token, transport):
    context = new_context()
    if transport == "polling":
        context.add_init_script("delete window.WebSocket;")
    page = context.new_page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    login(page, "customer@demo.test")
    page.goto("/support/tickets")
    href = page.locator("a[href*='/support/tickets/ESC-']").first.get_attribute("href")
    reference = href.rsplit("/", 1)[1]
    page.goto(href)
    page.fill("#body", "half-typed answer")
    replies = page.locator("[data-live-region=conversation] article")
    before = replies.count()
    page.evaluate("window.__updated = 0; document.addEventListener('escalated:updated',"
                  " () => window.__updated++)")
    page.wait_for_timeout(1000)  # the socket joins, or the first poll takes its cursor
    body = f"Agent reply {time.time()}"
    _post_reply(demo_server.url, agent_token, reference, body)
    page.wait_for_function(
        f"document.querySelectorAll('[data-live-region=conversation] article').length > {before}",
        timeout=15000)
    assert body in page.locator("[data-live-region=conversation]").inner_text()
    assert page.input_value("#body") == "half-typed answer"
    assert page.evaluate("window.__updated") >= 1
    assert bool(sockets) is (transport == "websocket")
