"""Who may call what: every API route against every kind of caller, and API tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flask_escalated.clock import now
from flask_escalated.events import Actor
from flask_escalated.services import tokens

from .conftest import template

PEOPLE = ("anonymous", "customer", "other", "light", "agent", "admin")

# (method, path template, body) -> expected status per caller.
# {t} is a ticket of `customer`; {r} a reply on it; {n} a note; {a} an attachment;
# {c} a knowledge-base category; {o} a published public article in it.
MATRIX = [
    ("GET", "/tickets", None, dict(anonymous=401, customer=200, other=200, light=200, agent=200, admin=200)),
    ("POST", "/tickets", {"subject": "s", "description": "d"},
     dict(anonymous=401, customer=201, other=201, light=403, agent=201, admin=201)),
    ("GET", "/tickets/{t}", None, dict(anonymous=401, customer=200, other=404, light=200, agent=200, admin=200)),
    ("PATCH", "/tickets/{t}", {"subject": "new"}, dict(anonymous=401, customer=403, other=403, light=403, agent=200, admin=200)),
    ("DELETE", "/tickets/{t}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("POST", "/tickets/{t}/status", {"status": "resolved"}, dict(anonymous=401, customer=403, other=404, light=403, agent=200, admin=200)),
    ("POST", "/tickets/{t}/assign", {"assignee_id": None}, dict(anonymous=401, customer=403, other=403, light=403, agent=200, admin=200)),
    ("GET", "/tickets/{t}/replies", None, dict(anonymous=401, customer=200, other=404, light=200, agent=200, admin=200)),
    ("POST", "/tickets/{t}/replies", {"body": "hi"}, dict(anonymous=401, customer=201, other=404, light=201, agent=201, admin=201)),
    ("POST", "/tickets/{t}/notes", {"body": "psst"}, dict(anonymous=401, customer=403, other=403, light=201, agent=201, admin=201)),
    ("POST", "/tickets/{t}/notes/{n}/pin", {}, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("DELETE", "/tickets/{t}/notes/{n}/pin", None, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("POST", "/tickets/{t}/tags", {"tags": ["x"]}, dict(anonymous=401, customer=403, other=403, light=403, agent=200, admin=200)),
    ("PUT", "/tickets/{t}/tags", {"tags": ["x"]}, dict(anonymous=401, customer=403, other=403, light=403, agent=200, admin=200)),
    ("DELETE", "/tickets/{t}/tags/seed", None, dict(anonymous=401, customer=403, other=403, light=403, agent=200, admin=200)),
    ("GET", "/tickets/{t}/followers", None, dict(anonymous=401, customer=403, other=403, light=403, agent=200, admin=200)),
    ("POST", "/tickets/{t}/followers", {}, dict(anonymous=401, customer=403, other=403, light=403, agent=201, admin=201)),
    ("GET", "/tickets/{t}/attachments", None, dict(anonymous=401, customer=200, other=404, light=200, agent=200, admin=200)),
    ("GET", "/attachments/{a}", None, dict(anonymous=401, customer=200, other=404, light=200, agent=200, admin=200)),
    ("GET", "/tickets/{t}/activity", None, dict(anonymous=401, customer=200, other=404, light=200, agent=200, admin=200)),
    ("GET", "/me", None, dict(anonymous=401, customer=200, other=200, light=200, agent=200, admin=200)),
    ("GET", "/departments", None, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("POST", "/departments", {"name": "New"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=201)),
    ("GET", "/tags", None, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("POST", "/tags", {"name": "fresh"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=201)),
    ("GET", "/statuses", None, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("POST", "/statuses", {"slug": "on_hold", "label": "On hold", "category": "waiting_on_agent"},
     dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=201)),
    ("GET", "/status-transitions", None, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("PUT", "/status-transitions", {"open": ["closed"]}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/agents", None, dict(anonymous=401, customer=403, other=403, light=403, agent=200, admin=200)),
    ("POST", "/tickets/{t}/attachments", {}, dict(anonymous=401, customer=422, other=404, light=422, agent=422, admin=422)),
    ("DELETE", "/tickets/{t}/followers/{u}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=204, admin=204)),
    ("GET", "/departments/{d}", None, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("PATCH", "/departments/{d}", {"description": "x"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/departments/{d}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("PATCH", "/tags/{g}", {"color": "#ff0000"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/tags/{g}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("GET", "/custom-fields", None, dict(anonymous=401, customer=403, other=403, light=403, agent=200, admin=200)),
    ("POST", "/custom-fields", {"key": "fresh", "label": "Fresh", "type": "text"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=201)),
    ("GET", "/custom-fields/{v}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=200, admin=200)),
    ("PATCH", "/custom-fields/{v}", {"label": "Renamed"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/custom-fields/{v}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("PATCH", "/statuses/{s}", {"label": "Parked"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/statuses/{s}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("POST", "/tickets/{t}/snooze", {"preset": "1h"}, dict(anonymous=401, customer=403, other=403, light=403, agent=200, admin=200)),
    ("DELETE", "/tickets/{t}/snooze", None, dict(anonymous=401, customer=403, other=403, light=403, agent=200, admin=200)),
    ("GET", "/escalation-rules", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("POST", "/escalation-rules", {"name": "R", "conditions": {"all": [{"field": "priority", "operator": "eq", "value": "low"}]}, "actions": [{"type": "add_tag", "value": "x"}]}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=201)),
    ("GET", "/escalation-rules/{e}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("PATCH", "/escalation-rules/{e}", {"is_active": False}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/escalation-rules/{e}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("GET", "/escalation-rules/{e}/logs", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/automations", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("POST", "/automations", {"name": "R", "conditions": {"all": [{"field": "priority", "operator": "eq", "value": "low"}]}, "actions": [{"type": "add_tag", "value": "x"}]}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=201)),
    ("GET", "/automations/{m}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("PATCH", "/automations/{m}", {"is_active": False}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/automations/{m}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("GET", "/automations/{m}/logs", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/sla-policies", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("POST", "/sla-policies", {"name": "P2", "targets": {"low": {"resolution": 60}}}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=201)),
    ("GET", "/sla-policies/{p}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("PATCH", "/sla-policies/{p}", {"warning_minutes": 10}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/sla-policies/{p}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("GET", "/business-schedules", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("POST", "/business-schedules", {"name": "S2", "timezone": "UTC", "hours": {}}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=201)),
    ("GET", "/business-schedules/{b}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("PATCH", "/business-schedules/{b}", {"name": "S3"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/business-schedules/{b}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("POST", "/business-schedules/{b}/holidays", {"name": "H", "date": "2026-01-01"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=201)),
    ("DELETE", "/business-schedules/{b}/holidays/{h}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("GET", "/webhooks", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("POST", "/webhooks", {"url": "http://127.0.0.1:9/hook", "events": ["*"]}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=422)),
    ("GET", "/webhooks/{w}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("PATCH", "/webhooks/{w}", {"is_active": False}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/webhooks/{w}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("GET", "/webhooks/{w}/deliveries", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("POST", "/webhooks/{w}/deliveries/{y}/redeliver", {}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=202)),
    ("POST", "/webhooks/{w}/rotate-secret", {}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/api-tokens", None, dict(anonymous=401, customer=200, other=200, light=200, agent=200, admin=200)),
    ("POST", "/api-tokens", {"name": "mine"}, dict(anonymous=401, customer=201, other=201, light=201, agent=201, admin=201)),
    ("DELETE", "/api-tokens/{k}", None, dict(anonymous=401, customer=404, other=404, light=404, agent=204, admin=204)),
    ("GET", "/permissions", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/roles", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("POST", "/roles", {"slug": "auditor", "name": "Auditor", "permissions": ["audit.view"]}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=201)),
    ("GET", "/roles/seed", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("PATCH", "/roles/seed", {"name": "Seeded"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/roles/seed", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("POST", "/agents", {"user": "other@example.test"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=201)),
    ("GET", "/agents/{u}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("PATCH", "/agents/{u}", {"max_open_tickets": 5}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/agents/{u}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("GET", "/agents/{u}/roles", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("PUT", "/agents/{u}/roles", {"grants": [{"role": "seed", "department_id": None}]}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/settings", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("PATCH", "/settings", {"kb_enabled": False}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/audit-logs", None, dict(anonymous=401, customer=403, other=403, light=403, agent=200, admin=200)),
    ("GET", "/inbound-emails", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/inbound-emails/{i}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("POST", "/inbound-emails/{i}/reprocess", {}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/workflows", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("POST", "/workflows", {"name": "W", "trigger_events": ["ticket.created"], "conditions": {"all": []}, "actions": [{"type": "add_tag", "value": "x"}]}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=201)),
    ("GET", "/workflows/{f}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("PATCH", "/workflows/{f}", {"is_active": False}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/workflows/{f}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("GET", "/workflows/{f}/logs", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/macros", None, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("POST", "/macros", {"name": "M", "actions": [{"type": "add_tag", "value": "x"}]}, dict(anonymous=401, customer=403, other=403, light=403, agent=201, admin=201)),
    ("GET", "/macros/{x}", None, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("PATCH", "/macros/{x}", {"name": "Renamed"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/macros/{x}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("POST", "/tickets/{t}/macros/{x}", {}, dict(anonymous=401, customer=403, other=403, light=403, agent=200, admin=200)),
    ("GET", "/canned-responses", None, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("POST", "/canned-responses", {"title": "Mine", "body": "Hello"}, dict(anonymous=401, customer=403, other=403, light=403, agent=201, admin=201)),
    ("GET", "/canned-responses/{cr}", None, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("PATCH", "/canned-responses/{cr}", {"title": "Renamed"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/canned-responses/{cr}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("GET", "/tickets/{t}/canned-responses/{cr}/preview", None, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("GET", "/views", None, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("POST", "/views", {"name": "Mine", "filters": {"assignee": "me"}}, dict(anonymous=401, customer=403, other=403, light=201, agent=201, admin=201)),
    ("GET", "/views/counts", None, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("GET", "/views/{sv}", None, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("GET", "/views/{sv}/tickets", None, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("PATCH", "/views/{sv}", {"name": "Renamed"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("POST", "/views/{sv}/default", {}, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("DELETE", "/views/{sv}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("GET", "/tickets/{t}/side-conversations", None, dict(anonymous=401, customer=404, other=404, light=200, agent=200, admin=200)),
    ("POST", "/tickets/{t}/side-conversations", {"subject": "s", "body": "b"}, dict(anonymous=401, customer=403, other=403, light=201, agent=201, admin=201)),
    ("GET", "/tickets/{t}/side-conversations/{sc}", None, dict(anonymous=401, customer=404, other=404, light=200, agent=200, admin=200)),
    ("POST", "/tickets/{t}/side-conversations/{sc}/replies", {"body": "b"}, dict(anonymous=401, customer=403, other=403, light=201, agent=201, admin=201)),
    ("POST", "/tickets/{t}/side-conversations/{sc}/close", {}, dict(anonymous=401, customer=403, other=403, light=200, agent=200, admin=200)),
    ("POST", "/tickets/{t}/side-conversations/{sc}/reopen", {}, dict(anonymous=401, customer=403, other=403, light=409, agent=409, admin=409)),
    ("GET", "/skills", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("POST", "/skills", {"name": "Fresh"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=201)),
    ("GET", "/skills/{sk}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("PATCH", "/skills/{sk}", {"description": "x"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/skills/{sk}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("PUT", "/agents/{u}/skills", [], dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("PUT", "/agents/{u}/capacity", {"max_concurrent": 5}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("PUT", "/agents/{u}/availability", {"status": "away"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("POST", "/tickets/{t}/merge", {"into": "ESC-999999"}, dict(anonymous=401, customer=403, other=403, light=403, agent=404, admin=404)),
    ("POST", "/tickets/{t}/split", {"reply_ids": [999999]}, dict(anonymous=401, customer=403, other=403, light=403, agent=404, admin=404)),
    ("GET", "/tickets/{t}/links", None, dict(anonymous=401, customer=200, other=404, light=200, agent=200, admin=200)),
    ("POST", "/tickets/{t}/links", {"ticket": "ESC-999999", "type": "related"}, dict(anonymous=401, customer=403, other=403, light=403, agent=404, admin=404)),
    ("DELETE", "/tickets/{t}/links/{l}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=204, admin=204)),
    ("GET", "/reports/volume", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/reports/backlog", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/reports/response-times", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/reports/sla", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/reports/csat", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/reports/agents", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/reports/tags", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/reports/channels", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/reports/agents?format=csv", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("GET", "/kb/categories", None, dict(anonymous=200, customer=200, other=200, light=200, agent=200, admin=200)),
    ("POST", "/kb/categories", {"name": "Fresh"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=201)),
    ("GET", "/kb/categories/{c}", None, dict(anonymous=200, customer=200, other=200, light=200, agent=200, admin=200)),
    ("PATCH", "/kb/categories/{c}", {"description": "x"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/kb/categories/{c}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("GET", "/kb/articles", None, dict(anonymous=200, customer=200, other=200, light=200, agent=200, admin=200)),
    ("POST", "/kb/articles", {"title": "T", "body": "b"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=201)),
    ("GET", "/kb/articles/{o}", None, dict(anonymous=200, customer=200, other=200, light=200, agent=200, admin=200)),
    ("PATCH", "/kb/articles/{o}", {"title": "Renamed"}, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=200)),
    ("DELETE", "/kb/articles/{o}", None, dict(anonymous=401, customer=403, other=403, light=403, agent=403, admin=204)),
    ("GET", "/kb/search?q=printer", None, dict(anonymous=200, customer=200, other=200, light=200, agent=200, admin=200)),
    ("GET", "/openapi.json", None, dict(anonymous=200, customer=200, other=200, light=200, agent=200, admin=200)),
]


MATRIX_ROWS = pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX,
                                      ids=[f"{m} {p}" for m, p, _, _ in MATRIX])


@pytest.mark.parametrize("who", [p for p in PEOPLE if p != "admin"])
@MATRIX_ROWS
def test_permission_matrix(api, users, world, who, method, path, body, expected):
    user = None if who == "anonymous" else getattr(users, who)
    response = api(user).call(method, path.format(**world), json=body)
    assert response.status_code == expected[who], response.get_data(True)[:300]
    if response.status_code >= 400:
        assert set(response.get_json()["error"]) == {"code", "message", "fields"}


@pytest.mark.all_databases
@MATRIX_ROWS
def test_permission_matrix_for_admins(api, users, world, method, path, body, expected):
    """The admin column on every database: an admin reaches every route's queries."""
    test_permission_matrix(api, users, world, "admin", method, path, body, expected)


def test_every_api_route_is_in_the_matrix(app):
    covered = {(m, p.split("?")[0]) for m, p, _, _ in MATRIX}
    from flask_escalated.web.api.openapi import openapi_path

    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("escalated.api."):
            continue
        path = openapi_path(rule.rule.removeprefix("/support/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            templated = template(path)
            if (method, templated) not in covered:
                missing.append((method, templated))
    assert missing == []


def _token(user, abilities, **kw):
    _, plain = tokens.create_token(str(user.id), "test", abilities, Actor.system(), **kw)
    return plain


def test_tokens_act_as_their_owner_narrowed_by_abilities(app, ext, users, client_as, world):
    with ext.unit_of_work():
        read_only = _token(users.agent, ["tickets:read"])
        full = _token(users.agent, ["agent"])
        customer = _token(users.customer, ["*"])
        other = _token(users.other, ["*"])
        expired = _token(users.agent, ["*"], expires_at=now() - timedelta(minutes=1))
        revoked_plain = _token(users.agent, ["*"])
    client = app.test_client()
    t = world["t"]

    def call(token, method, path, json=None):
        return client.open(f"/support/api/v1{path}", method=method, json=json,
                           headers={"Authorization": f"Bearer {token}"})

    assert call(read_only, "GET", f"/tickets/{t}").status_code == 200
    assert call(read_only, "POST", f"/tickets/{t}/replies", {"body": "x"}).status_code == 403
    assert call(full, "POST", f"/tickets/{t}/replies", {"body": "x"}).status_code == 201
    assert call(full, "POST", "/tags", {"name": "nope"}).status_code == 403
    assert call(customer, "GET", f"/tickets/{t}").status_code == 200
    assert call(other, "GET", f"/tickets/{t}").status_code == 404
    assert [x["id"] for x in call(other, "GET", "/tickets").json["data"]] == []
    for bad in (expired, "garbage", "", "esc_" + "x" * 300):
        r = call(bad, "GET", "/tickets")
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    from sqlalchemy import select

    from flask_escalated.models import ApiToken

    with ext.unit_of_work():
        row = ext.session.execute(select(ApiToken).where(
            ApiToken.token_hash == tokens.hash_token(revoked_plain))).scalar_one()
        tokens.revoke(row.id, Actor.system())
    assert call(revoked_plain, "GET", "/tickets").status_code == 401
    # Tokens are stored hashed: the plain value appears nowhere in the table.
    stored = [r.token_hash for r in ext.session.execute(select(ApiToken)).scalars()]
    assert full not in stored and tokens.hash_token(full) in stored


def test_token_writes_need_no_csrf_but_cookie_form_posts_do(app, ext, users, api, world):
    with ext.unit_of_work():
        plain = _token(users.agent, ["agent"])
    client = app.test_client()
    r = client.post(f"/support/api/v1/tickets/{world['t']}/replies", data={"body": "form"},
                    headers={"Authorization": f"Bearer {plain}"})
    assert r.status_code == 201
    cookie = api(users.agent).client
    r = cookie.post(f"/support/api/v1/tickets/{world['t']}/replies", data={"body": "form"})
    assert r.status_code == 403
