"""Who gets into the agent workspace, and the hooks other parts of the page rely on."""

from __future__ import annotations

import re

PAGES = ("/support/agent", "/support/agent/tickets")


def test_anonymous_is_sent_to_sign_in(client_as):
    for url in PAGES:
        assert client_as(None).get(url).status_code == 401


def test_customers_are_refused_everywhere(client_as, users, make_ticket):
    t = make_ticket()
    client = client_as(users.customer)
    for url in (*PAGES, f"/support/agent/tickets/{t.reference}"):
        r = client.get(url)
        assert r.status_code == 403, url
        assert "for support agents" in r.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/support/tickets/new").get_data(as_text=True)).group(1)
    for url, data in (("/support/agent/tickets/bulk", {"action": "priority", "ids": t.id,
                                                       "priority": "low"}),
                      (f"/support/agent/tickets/{t.reference}/status", {"status": "closed"}),
                      (f"/support/agent/tickets/{t.reference}/reply", {"body": "hi"})):
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 403, url


def test_every_page_renders_for_agents_and_admins(browser, users, make_ticket):
    t = make_ticket()
    for user in (users.agent, users.admin, users.light):
        b = browser(user)
        for url in (*PAGES, f"/support/agent/tickets/{t.reference}",
                    f"/support/agent/tickets/{t.id}"):
            html = b.get(url)
            assert "Agent workspace" in html, url


def test_unknown_tickets_are_404(browser, users):
    b = browser(users.agent)
    for ident in ("ESC-99999", "999999", "nonsense", "0"):
        b.get(f"/support/agent/tickets/{ident}", status=404)


def test_posts_need_the_csrf_token(client_as, users, make_ticket):
    t = make_ticket()
    client = client_as(users.agent)
    client.get("/support/agent")
    for url in ("/support/agent/tickets/bulk", f"/support/agent/tickets/{t.reference}/reply",
                f"/support/agent/tickets/{t.reference}/status"):
        assert client.post(url, data={"body": "x", "status": "closed"}).status_code == 400


def test_nav_links_the_workspace_for_agents_only(client_as, users):
    assert "Agent workspace" in client_as(users.agent).get("/support/tickets") \
        .get_data(as_text=True)
    assert "Agent workspace" not in client_as(users.customer).get("/support/tickets") \
        .get_data(as_text=True)


def test_live_hooks_are_on_the_pages(browser, users, make_ticket):
    t = make_ticket()
    b = browser(users.agent)
    html = b.get("/support/agent/tickets")
    assert ('<main class="esc-main" id="main" tabindex="-1" '
            'data-live-channels="escalated.tickets">') in html
    assert 'data-live-region="queue"' in html
    assert f'<tr data-ticket-id="{t.id}">' in html
    html = b.get("/support/agent")
    for name in ("workload", "status", "mine", "unassigned", "sla"):
        assert f'data-live-region="dashboard-{name}"' in html
    html = b.get(f"/support/agent/tickets/{t.reference}")
    assert (f'data-live-channels="escalated.tickets.{t.id}" data-ticket-id="{t.id}"') in html
    assert '<div class="esc-presence esc-meta" data-presence aria-live="polite"></div>' in html
    assert 'data-live-region="conversation"' in html
    assert 'data-live-region="properties"' in html
    assert "data-presence-typing" in html
    # The composer sits outside every live region, so typed text survives a refresh.
    regions = re.findall(r'data-live-region="(\w+)"', html)
    assert regions == ["conversation", "properties"]
    conversation_end = html.index("</section>", html.index('data-live-region="conversation"'))
    assert html.index("data-composer") > conversation_end
    assert html.index("data-composer") < html.index('data-live-region="properties"')
    assert "agent.js" in html


def test_every_input_has_a_label(browser, users, make_ticket):
    t = make_ticket()
    b = browser(users.admin)
    for url in ("/support/agent/tickets", f"/support/agent/tickets/{t.reference}"):
        html = b.get(url)
        ids = re.findall(r'<(?:input|select|textarea)(?![^>]*type="(?:hidden|radio|submit)")'
                         r'[^>]*\sid="([^"]+)"', html)
        assert ids
        for element_id in ids:
            assert f'for="{element_id}"' in html, (url, element_id)
        assert not re.search(r'<(?:input|select|textarea)(?![^>]*(?:type="(?:hidden|radio)"|'
                             r'\sid="))[^>]*>', html), url


def test_required_2fa_sends_agents_to_enrol_first(make_app, users_for):
    app = make_app(ESCALATED_ENABLE_2FA=True, ESCALATED_REQUIRE_2FA=True)
    people = users_for(app)
    r = app.test_client(user=people.agent).get("/support/agent/tickets")
    assert r.status_code == 302 and "/support/auth/2fa" in r.headers["Location"]
