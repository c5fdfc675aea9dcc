"""Every page of the console, walked from the URL map: the host's sign-in for anonymous
visitors, 403 for agents and customers, and a page (or a 404 for a row that is not there),
never a 500, for admins. A new section is walked without being listed here."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.all_databases

MISSING_ROW = "987654321"


def _console_urls(app) -> list[tuple[str, str]]:
    """``(endpoint, url)`` of every GET page of the console, path variables filled with a key
    no row has."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("escalated.admin.") or "GET" not in rule.methods:
            continue
        url = re.sub(r"<[^>]+>", MISSING_ROW, rule.rule)
        out.append((rule.endpoint, url))
    return sorted(out)


def test_the_console_has_pages(app):
    endpoints = {e for e, _ in _console_urls(app)}
    assert {"escalated.admin.overview", "escalated.admin.reports",
            "escalated.admin.departments_list", "escalated.admin.tags_list"} <= endpoints


def test_anonymous_visitors_are_sent_to_sign_in(app, client_as):
    client = client_as(None)
    for endpoint, url in _console_urls(app):
        r = client.get(url)
        assert r.status_code in (302, 401), (endpoint, r.status_code)
        if r.status_code == 302:
            assert "/login" in r.headers["Location"], (endpoint, r.headers["Location"])


def test_agents_and_customers_are_refused(app, client_as, users):
    for user in (users.agent, users.light, users.customer):
        client = client_as(user)
        for endpoint, url in _console_urls(app):
            r = client.get(url)
            assert r.status_code == 403, (user.email, endpoint, r.status_code)


def test_admins_get_every_page_and_never_a_500(app, client_as, users):
    client = client_as(users.admin)
    for endpoint, url in _console_urls(app):
        r = client.get(url)
        expected = (404,) if MISSING_ROW in url else (200,)
        assert r.status_code in expected, (endpoint, url, r.status_code,
                                           r.get_data(as_text=True)[:400])
        assert r.mimetype == "text/html", endpoint


def test_posts_without_a_form_token_change_nothing(app, client_as, users):
    client = client_as(users.admin)
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("escalated.admin.") and "POST" in rule.methods:
            url = re.sub(r"<[^>]+>", MISSING_ROW, rule.rule)
            r = client.post(url, data={"name": "x"})
            assert r.status_code in (400, 403), (rule.endpoint, r.status_code)
