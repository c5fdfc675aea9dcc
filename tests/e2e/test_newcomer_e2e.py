"""What a newcomer sees, in a real browser: message bodies rendered (and hostile Markdown inert)
in the widget on a host's page, the agent's side panel keeping a long address on one line,
and the header's way out of /support."""

from __future__ import annotations

import json

import pytest

from .test_portal_e2e import unique

pytestmark = pytest.mark.e2e

KB_PATH = "/support/kb/articles/request-a-refund"
HOSTILE = "\n\n".join([
    "It **smokes** when I print.",
    f"I read [Resetting your printer]({KB_PATH}).",
    "<script>alert('raw')</script>",
    "[click me](javascript:alert('md'))",
    "<img src=x onerror=alert('img')>",
    "![pixel](data:image/png;base64,iVBORw0KGgo=)",
])
LONG_EMAIL = "bartholomew.featherstonehaugh-smythe@accounts-payable.subsidiary.example.test"


def _widget_ticket(page, demo_url: str, **fields) -> dict:
    body = {"name": "Pat", "email": "pat@example.org", "subject": unique("Printer"),
            "description": HOSTILE, **fields}
    r = page.request.post(f"{demo_url}/support/widget/tickets", data=json.dumps(body),
                          headers={"Content-Type": "application/json"})
    assert r.status == 201, r.text()
    return r.json()


def test_the_widget_renders_bodies_and_keeps_hostile_markdown_inert(page, demo_server,
                                                                   embedding_site):
    created = _widget_ticket(page, demo_server.url)
    reference, token = created["data"]["reference"], created["token"]
    page.add_init_script(
        "localStorage.setItem('escalated-widget-tickets', "
        + json.dumps(json.dumps([{"token": token, "reference": reference}])) + ")")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(embedding_site)
    page.get_by_role("button", name="Help").click()
    page.get_by_role("tab", name="My requests").click()
    page.get_by_role("button", name=reference).click()
    body = page.locator(".esc-w-body").first
    body.locator("strong").wait_for()
    assert body.locator("strong").inner_text() == "smokes"
    link = body.get_by_role("link", name="Resetting your printer")
    assert link.get_attribute("href") == demo_server.url + KB_PATH
    assert link.get_attribute("target") == "_blank"
    assert "<script>alert('raw')</script>" in body.inner_text()  # shown, as text
    panel = page.locator(".esc-w-panel")
    assert panel.locator("script, iframe, svg, [onerror], a[href^='javascript'], "
                         "img[src^='data:']").count() == 0
    page.wait_for_timeout(200)  # an injected handler would have fired by now
    assert dialogs == []


def test_a_long_requester_address_stays_on_one_line(new_context, demo_server, screenshot):
    from .conftest import login

    context = new_context(viewport={"width": 1024, "height": 800})
    page = context.new_page()
    created = _widget_ticket(page, demo_server.url, email=LONG_EMAIL,
                             name="Bartholomew Featherstonehaugh-Smythe")
    login(page, "agent@demo.test")
    page.goto(f"/support/agent/tickets/{created['data']['reference']}")
    for selector, text in ((".esc-person-email", LONG_EMAIL),
                           (".esc-person-name", "Bartholomew Featherstonehaugh-Smythe")):
        box = page.locator(f".esc-properties {selector}")
        assert box.get_attribute("title") == text
        fits = box.evaluate("""el => {
            const panel = el.closest('.esc-properties').getBoundingClientRect();
            const r = el.getBoundingClientRect();
            const line = parseFloat(getComputedStyle(el).lineHeight) || r.height;
            return {inside: r.left >= panel.left - 0.5 && r.right <= panel.right + 0.5,
                    oneLine: r.height <= line * 1.5,
                    ellipsis: getComputedStyle(el).textOverflow === 'ellipsis'};
        }""")
        assert fits == {"inside": True, "oneLine": True, "ellipsis": True}, (selector, fits)
    screenshot(page, "agent-side-panel-long-address")


def test_the_header_signs_out_and_goes_home(signed_in):
    page = signed_in("customer@demo.test")
    page.goto("/support/tickets")
    assert page.get_by_role("link", name="← Back to site").get_attribute("href") == "/"
    with page.expect_navigation():
        page.locator(".esc-sign-out").get_by_role("button", name="Sign out").click()
    page.goto("/support/tickets")
    assert "/login" in page.url
