"""The browser client in a real Chromium against the demo: a reply posted elsewhere appears in
the customer's open ticket page, over the WebSocket or by polling, and text being typed in the
composer (outside the live regions) survives the update."""

from __future__ import annotations

import shutil
import time

import pytest
import requests

from .demo_server import api_token

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def chromium():
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.slow
@pytest.mark.parametrize("realtime", ["1", "0"], ids=["websocket", "polling"])
def test_a_reply_appears_without_a_reload(start_demo, demo_env, chromium, realtime):
    base = start_demo("browser", ESCALATED_ENABLE_REALTIME=realtime)
    auth = {"Authorization": f"Bearer {api_token(demo_env)}"}
    page = chromium.new_page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(base + "/login")
    page.fill("input[name=email]", "customer@demo.test")
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.goto(base + "/support/tickets")
    href = page.locator("a[href*='/support/tickets/ESC-']").first.get_attribute("href")
    reference = href.rsplit("/", 1)[1]
    page.goto(base + href)
    page.fill("#body", "half-typed answer")
    replies = page.locator("[data-live-region=conversation] article")
    before = replies.count()
    page.evaluate("window.__updated = 0; document.addEventListener('escalated:updated',"
                  " () => window.__updated++)")
    page.wait_for_timeout(1000)  # the socket joins, or the first poll takes its cursor
    body = f"Agent reply {time.time()}"
    r = requests.post(f"{base}/support/api/v1/tickets/{reference}/replies",
                      json={"body": body}, headers=auth, timeout=10)
    assert r.status_code == 201, r.text
    page.wait_for_function(
        f"document.querySelectorAll('[data-live-region=conversation] article').length > {before}",
        timeout=15000)
    assert body in page.locator("[data-live-region=conversation]").inner_text()
    assert page.input_value("#body") == "half-typed answer"
    assert page.evaluate("window.__updated") >= 1
    assert bool(sockets) is (realtime == "1")
