"""The way out of /support: every Escalated page links back to the host app
(``ESCALATED_HOME_URL``, "/" by default) and offers sign-out (``ESCALATED_SIGN_OUT_URL``, by
default the host's ``logout`` endpoint): a form posting the CSRF token when that route takes
POST, else a link; inside the host's own layout too."""

from __future__ import annotations

import re

import pytest
from flask import abort, redirect, request
from flask_login import logout_user

from flask_escalated.config import ConfigurationError
from flask_escalated.events import Actor
from flask_escalated.services import guest_access, tickets
from flask_escalated.web.security import csrf_valid

from ..hosts import intid

SIGN_OUT_FORM = re.compile(
    r'<form class="esc-sign-out" method="post" action="(?P<url>[^"]+)">\s*'
    r'<input type="hidden" name="csrf_token" value="(?P<token>[^"]+)">')


def _logout_post() -> object:
    if not csrf_valid(request.form.get("csrf_token")):
        abort(400)
    logout_user()
    return redirect("/")


def _logout_get() -> object:
    logout_user()
    return redirect("/")


def _app(make_app, users_for, *, logout: str | None = "POST", **config):
    app = make_app(**config)
    if logout == "POST":
        app.add_url_rule("/logout", "logout", _logout_post, methods=["POST"])
    elif logout == "GET":
        app.add_url_rule("/account/sign-out", "logout", _logout_get)
    people = users_for(app)
    with app.app_context():
        customer = intid.db.session.get(intid.User, people.customer.id)
        agent = intid.db.session.get(intid.User, people.agent.id)
        with app.extensions["escalated"].unit_of_work():
            t = tickets.create_ticket(tickets.NewTicket(
                subject="Printer", description="Smoke", requester_user_id=str(customer.id)),
                Actor.customer(customer.id))
            guest = tickets.create_ticket(tickets.NewTicket(
                subject="Guest", description="Hi", requester_email="pat@example.org"),
                Actor.system())
            token = guest_access.issue_token(guest)
        return app, app.test_client(user=customer), app.test_client(user=agent), t.reference, token


def _pages(ref: str) -> list[str]:
    return ["/support/tickets", "/support/tickets/new", f"/support/tickets/{ref}",
            "/support/kb", "/support/tickets/ESC-99999"]


def _agent_pages(ref: str) -> list[str]:
    return ["/support/agent", "/support/agent/tickets", f"/support/agent/tickets/{ref}"]


def test_every_page_has_a_way_home_and_a_csrf_sign_out_form(make_app, users_for):
    _, customer, agent, ref, _ = _app(make_app, users_for)
    for client, urls in ((customer, _pages(ref)), (agent, _agent_pages(ref))):
        for url in urls:
            html = client.get(url).get_data(as_text=True)
            assert '<a class="esc-home-link" href="/">' in html, url
            form = SIGN_OUT_FORM.search(html)
            assert form and form["url"] == "/logout", url
            assert 'class="esc-sign-out" href=' not in html  # a form, not a link
    # The form works: the host's route checks the token and signs the person out.
    html = customer.get("/support/tickets").get_data(as_text=True)
    token = SIGN_OUT_FORM.search(html)["token"]
    assert customer.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert customer.post("/logout", data={"csrf_token": token}).status_code == 302
    after = customer.get("/support/tickets")
    assert after.status_code in (302, 401)


def test_a_get_sign_out_route_gets_a_link_and_anonymous_guests_none(make_app, users_for):
    app, customer, _, ref, token = _app(make_app, users_for, logout="GET")
    html = customer.get(f"/support/tickets/{ref}").get_data(as_text=True)
    assert '<a class="esc-sign-out" href="/account/sign-out">Sign out</a>' in html
    assert not SIGN_OUT_FORM.search(html)
    guest = app.test_client().get(f"/support/guest/{token}").get_data(as_text=True)
    assert '<a class="esc-home-link" href="/">' in guest and "Sign out" not in guest


def test_configured_urls_win_and_empty_hides(make_app, users_for):
    _, customer, *_ = _app(
        make_app, users_for, logout=None, ESCALATED_HOME_URL="https://www.example.test/",
        ESCALATED_SIGN_OUT_URL="https://id.example.test/logout")
    html = customer.get("/support/tickets").get_data(as_text=True)
    assert '<a class="esc-home-link" href="https://www.example.test/">' in html
    assert '<a class="esc-sign-out" href="https://id.example.test/logout">' in html


def test_no_logout_endpoint_and_no_home_means_no_links(make_app, users_for):
    _, customer, *_ = _app(make_app, users_for, logout=None, ESCALATED_HOME_URL="")
    html = customer.get("/support/tickets").get_data(as_text=True)
    assert "esc-host-links" not in html and "Sign out" not in html


@pytest.mark.parametrize("key,value", [
    ("ESCALATED_HOME_URL", None), ("ESCALATED_HOME_URL", "javascript:alert(1)"),
    ("ESCALATED_HOME_URL", "www.example.test"), ("ESCALATED_SIGN_OUT_URL", 42),
    ("ESCALATED_SIGN_OUT_URL", "/log out"),
])
def test_bad_link_config_fails_at_start_up(make_app, key, value):
    with pytest.raises(ConfigurationError, match=key):
        make_app(**{key: value})


def test_links_show_inside_the_host_layout(make_app, users_for, tmp_path):
    folder = tmp_path / "host_templates"
    folder.mkdir()
    (folder / "host_layout.html").write_text(
        "<!doctype html><html lang=\"en\"><head><title>x</title></head><body>"
        "<nav id=\"host-nav\">Host</nav>{% block body %}{% endblock %}</body></html>")
    app, customer, agent, ref, _ = _app(make_app, users_for,
                                        ESCALATED_LAYOUT_TEMPLATE="host_layout.html")
    app.template_folder = str(folder)
    for client, url in ((customer, f"/support/tickets/{ref}"), (agent, "/support/agent")):
        html = client.get(url).get_data(as_text=True)
        assert 'id="host-nav"' in html, url
        assert '<a class="esc-home-link" href="/">' in html and SIGN_OUT_FORM.search(html), url
