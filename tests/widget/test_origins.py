"""Which pages may use the widget API: its own origin always, other sites only once listed
(``ESCALATED_WIDGET_ORIGINS``, then the ``widget_origins`` setting); anything else gets no CORS
grant and a 403 for every state-changing call, before the call does anything."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from flask_escalated.config import ConfigurationError
from flask_escalated.models import Ticket

W = "/support/widget"
SHOP = "https://shop.example"
EVIL = "https://evil.example"


def _ticket(origin=None, **extra):
    body = {"name": "Dana", "email": "dana@example.org", "subject": "Printer jam",
            "description": "It jams.", **extra}
    return {"json": body, "headers": {"Origin": origin} if origin else {}}


def _tickets(app):
    ext = app.extensions["escalated"]
    ext.session.rollback()
    return ext.session.execute(select(func.count()).select_from(Ticket)).scalar_one()


def _widget_posts(app):
    """Every state-changing widget URL, read from the URL map (a route added later is
    covered without touching this test)."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("escalated.widget.") and "POST" in (rule.methods or ()):
            values = {arg: 1 if arg.endswith("_id") else "t" * 43 for arg in rule.arguments}
            out.append(rule.build(values, append_unknown=False)[1])
    return out


def test_the_default_lists_no_other_site(app):
    assert app.config["ESCALATED_WIDGET_ORIGINS"] == []
    client = app.test_client()
    refused = client.post(f"{W}/tickets", **_ticket(EVIL))
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "origin_not_allowed"
    assert "widget_origins" in refused.json["error"]["message"]
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert _tickets(app) == 0
    preflight = client.options(f"{W}/tickets", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers
    config = client.get(f"{W}/config", headers={"Origin": EVIL})
    assert config.status_code == 200 and "Access-Control-Allow-Origin" not in config.headers
    assert "Origin" in config.headers.get("Vary", "")


def test_every_state_changing_route_refuses_an_unlisted_origin(app):
    urls = _widget_posts(app)
    assert f"{W}/tickets" in urls and f"{W}/verify" in urls and len(urls) >= 5
    client = app.test_client()
    for url in urls:
        for origin in (EVIL, "null", "http://localhost.evil.example", "https://localhost"):
            r = client.post(url, json={"body": "x", "rating": 5, "helpful": True,
                                       "email": "dana@example.org"},
                            headers={"Origin": origin})
            assert r.status_code == 403, (url, origin, r.status_code)
            assert r.json["error"]["code"] == "origin_not_allowed"
    assert _tickets(app) == 0


def test_the_embed_script_loads_from_anywhere(app):
    r = app.test_client().get(f"{W}/embed.js", headers={"Origin": EVIL})
    assert r.status_code == 200 and r.mimetype == "application/javascript"


def test_the_helpdesk_s_own_origin_needs_no_listing(app):
    client = app.test_client()
    r = client.post(f"{W}/tickets", **_ticket("http://localhost"))
    assert r.status_code == 201, r.json
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost"


def test_app_url_origin_counts_as_our_own(make_app):
    app = make_app(ESCALATED_APP_URL="https://help.example.test/desk")
    client = app.test_client()
    assert client.post(f"{W}/tickets", **_ticket("https://help.example.test")).status_code \
        == 201
    assert client.post(f"{W}/tickets", **_ticket("http://help.example.test")).status_code \
        == 403


def test_requests_without_origin_are_not_cross_site_and_are_served(app):
    r = app.test_client().post(f"{W}/tickets", **_ticket())
    assert r.status_code == 201 and "Access-Control-Allow-Origin" not in r.headers


def test_listed_origins_get_a_grant_others_do_not(make_app):
    app = make_app(ESCALATED_WIDGET_ORIGINS=["https://Shop.Example/"])
    client = app.test_client()
    ok = client.post(f"{W}/tickets", **_ticket(SHOP))
    assert ok.status_code == 201 and ok.headers["Access-Control-Allow-Origin"] == SHOP
    preflight = client.options(f"{W}/tickets", headers={
        "Origin": SHOP, "Access-Control-Request-Method": "POST"})
    assert preflight.headers["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert client.post(f"{W}/tickets", **_ticket("https://shop.example:8443")).status_code \
        == 403
    assert client.post(f"{W}/tickets", **_ticket(EVIL)).status_code == 403


def test_a_star_opens_the_widget_to_every_site(make_app):
    app = make_app(ESCALATED_WIDGET_ORIGINS=["*"])
    r = app.test_client().post(f"{W}/tickets", **_ticket(EVIL))
    assert r.status_code == 201 and r.headers["Access-Control-Allow-Origin"] == "*"


def test_admins_list_origins_at_run_time(app, users, api):
    admin = api(users.admin)
    client = app.test_client()
    assert client.post(f"{W}/tickets", **_ticket(SHOP)).status_code == 403
    r = admin.patch("/settings", json={"widget_origins": [" https://Shop.Example/ ", SHOP,
                                                          "http://[::1]:8080"]})
    assert r.status_code == 200, r.json
    assert r.json["data"]["widget_origins"] == [SHOP, "http://[::1]:8080"]
    assert client.post(f"{W}/tickets", **_ticket(SHOP)).status_code == 201
    assert admin.patch("/settings", json={"widget_origins": []}).status_code == 200
    assert client.post(f"{W}/tickets", **_ticket(SHOP)).status_code == 403


@pytest.mark.parametrize("value", [
    "https://shop.example", ["https://shop.example/path"], ["javascript:alert(1)"],
    ["shop.example"], ["ftp://shop.example"], [None], ["https://shop.example\r\nX: y"],
    ["https://" + "a" * 300 + ".example"], ["https://shop.example"] * 101, {"a": 1},
])
def test_bad_origin_settings_are_refused(app, users, api, value):
    r = api(users.admin).patch("/settings", json={"widget_origins": value})
    assert r.status_code == 422
    assert {f.split("[")[0] for f in r.json["error"]["fields"]} == {"widget_origins"}


@pytest.mark.parametrize("value", ["https://shop.example", ["shop.example"], [1]])
def test_a_bad_configured_value_fails_at_start_up(make_app, value):
    with pytest.raises(ConfigurationError, match="ESCALATED_WIDGET_ORIGINS"):
        make_app(ESCALATED_WIDGET_ORIGINS=value)
