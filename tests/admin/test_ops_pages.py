"""The console's operations sections: webhooks (secret shown once, rotation, delivery log,
redelivery to a real receiver), everyone's API tokens (filter, paging, revoke), the inbound
mail log (filters, the message page, reprocess) and the audit log (filters, dates in the desk's
time zone); bad filters are a 4xx page naming the field; lists cost the same queries whatever
their length; and who gets in."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import (
    ApiToken,
    AuditLog,
    InboundEmail,
    Ticket,
    Webhook,
    WebhookDelivery,
)
from flask_escalated.services import (
    agents,
    inbound,
    inbound_pipeline,
    roles,
    sla_admin,
    tokens,
    webhooks,
)
from tests.sla.test_webhooks import Receiver

from .conftest import db, field_error

pytestmark = pytest.mark.all_databases


@pytest.fixture
def app(make_app):
    """Webhooks may reach the test receiver on 127.0.0.1 (and name a host that does not
    resolve here)."""
    app = make_app(ESCALATED_WEBHOOK_ALLOWED_HOSTS=["127.0.0.1", "hooks.example.com"])
    with app.app_context():
        yield app


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _audit(action: str) -> list[AuditLog]:
    return list(db().execute(select(AuditLog).where(AuditLog.action == action)
                             .order_by(AuditLog.id)).scalars())


def _next_page(console: Any, html: str) -> str:
    found = re.search(r'href="([^"]+cursor=[^"]+)">(?:Next page|Older)', html)
    assert found, "no next page link"
    return console.client.get(found.group(1).replace("&amp;", "&")).get_data(as_text=True)


def _role(ext, user, permissions: list[str]) -> None:
    slug = "ops-" + "-".join(p.split(".")[0] for p in permissions)
    with ext.unit_of_work():
        roles.create_role(Actor.system(), {"slug": slug, "name": slug,
                                           "permissions": permissions})
        agents.make_agent(str(user.id), Actor.system(), role=slug)


# ---------------------------------------------------------------------------- webhooks
def test_webhook_secret_is_shown_once_at_creation_and_rotation(admin, receiver):
    html = admin.get("/webhooks/new")
    assert 'value="ticket.created"' in html and 'value="*"' in html
    r = admin.post("/webhooks/new", [
        ("url", receiver.url), ("description", "CRM sync"), ("is_active", "true"),
        ("events", "ticket.created"), ("events", "reply.created")], status=200)
    hook = db().execute(select(Webhook)).scalar_one()
    shown = r.get_data(as_text=True)
    assert hook.secret in shown and "not shown again" in shown
    assert r.headers["Cache-Control"] == "no-store"
    assert (hook.events, hook.is_active, hook.description) == (
        ["reply.created", "ticket.created"], True, "CRM sync")
    (created,) = _audit("webhook.created")
    assert hook.secret not in json.dumps(created.new_values)

    assert hook.secret not in admin.get("/webhooks")
    page = admin.get(f"/webhooks/{hook.id}")
    assert hook.secret not in page and hook.secret[:4] + "…" in page

    old = hook.secret
    r = admin.post(f"/webhooks/{hook.id}/rotate-secret", {}, status=200)
    new = db().get(Webhook, hook.id).secret
    assert new != old and new in r.get_data(as_text=True) and old not in r.get_data(True)
    assert r.headers["Cache-Control"] == "no-store"
    (rotated,) = _audit("webhook.secret_rotated")
    assert rotated.entity_id == str(hook.id) and new not in json.dumps(
        [rotated.old_values, rotated.new_values])
    assert new not in admin.get(f"/webhooks/{hook.id}")
    admin.post(f"/webhooks/{hook.id}", [("url", receiver.url), ("description", ""),
                                        ("events", "*")], status=302)
    hook = db().get(Webhook, hook.id)
    assert (hook.events, hook.is_active, hook.description) == (["*"], False, None)
    assert hook.secret == new  # saving the form never changes the secret

    hook_id = hook.id
    admin.get(f"/webhooks/{hook_id}/delete")
    admin.post(f"/webhooks/{hook_id}/delete", {}, status=302)
    assert db().get(Webhook, hook_id) is None and len(_audit("webhook.deleted")) == 1


def test_a_refused_webhook_names_the_field_and_keeps_the_text(admin):
    admin.get("/webhooks/new")
    r = admin.post("/webhooks/new", [("url", "http://10.0.0.1/hook"),
                                     ("events", "ticket.created")], status=422)
    html = r.get_data(as_text=True)
    assert field_error(html, "url") and 'value="http://10.0.0.1/hook"' in html
    r = admin.post("/webhooks/new", [("url", "https://hooks.example.com/x")], status=422)
    assert field_error(r.get_data(as_text=True), "events")
    r = admin.post("/webhooks/new", [("url", "https://hooks.example.com/x"),
                                     ("events", "no.such_event")], status=422)
    assert "<li>events[0]: " in r.get_data(as_text=True)  # a tampered choice, named
    assert db().execute(select(Webhook)).first() is None


def _deliveries(ext, hook_id: int, count: int, **values: Any) -> list[int]:
    at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    with ext.unit_of_work():
        rows = [WebhookDelivery(uid=str(uuid.uuid4()),
                                webhook_id=hook_id, event="ticket.created",
                                body=json.dumps({"n": i}), created_at=at + timedelta(minutes=i),
                                **{"status": "delivered", "attempts": 1,
                                   "last_status_code": 200, **values})
                for i in range(count)]
        ext.session.add_all(rows)
        ext.session.flush()
        return [r.id for r in rows]


def test_the_delivery_log_is_paged_and_a_delivery_is_sent_again(admin, ext, receiver,
                                                                  count_queries):
    with ext.unit_of_work():
        hook = webhooks.create_webhook(Actor.system(), {"url": receiver.url, "events": ["*"]})
    hook_id = hook.id
    _deliveries(ext, hook_id, 3)
    with count_queries() as small:
        admin.get(f"/webhooks/{hook_id}")
    _deliveries(ext, hook_id, 26)
    (dead,) = _deliveries(ext, hook_id, 1, status="dead", attempts=8, last_status_code=503,
                          last_error="HTTP 503")
    with count_queries() as full:
        html = admin.get(f"/webhooks/{hook_id}")
    assert full.count == small.count
    shown = re.findall(r'id="delivery-(\d+)"', html)
    assert len(shown) == 25 and int(shown[0]) == dead
    assert re.search(rf'id="delivery-{dead}">.*?dead.*?503.*?<td>8</td>.*?HTTP 503', html, re.S)
    older = re.findall(r'id="delivery-(\d+)"', _next_page(admin, html))
    assert len(older) == 5 and not set(older) & set(shown)

    r = admin.post(f"/webhooks/{hook_id}/deliveries/{dead}/redeliver", {}, status=302)
    assert r.headers["Location"].endswith(f"/webhooks/{hook_id}#deliveries")
    row = db().get(WebhookDelivery, dead)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 1, 200)
    (sent,) = receiver.requests
    assert sent["headers"]["X-Escalated-Delivery"] == row.uid
    assert _audit("webhook.redelivered")[0].entity_id == str(dead)
    admin.post(f"/webhooks/{hook_id}/deliveries/987654/redeliver", {}, status=404)


def test_the_api_rotates_a_secret_and_shows_it_once(api, users, ext):
    with ext.unit_of_work():
        hook = webhooks.create_webhook(Actor.system(), {"url": "https://hooks.example.com/x",
                                                        "events": ["*"]})
    hook_id, old = hook.id, hook.secret
    admin = api(users.admin)
    r = admin.post(f"/webhooks/{hook_id}/rotate-secret", {})
    assert r.status_code == 200, r.json
    new = r.json["data"]["secret"]
    assert new != old and db().get(Webhook, hook_id).secret == new
    assert "secret" not in admin.get(f"/webhooks/{hook_id}").json["data"]
    assert _audit("webhook.secret_rotated")[0].actor_user_id == str(users.admin.id)
    assert admin.post("/webhooks/987654/rotate-secret", {}).status_code == 404
    assert api(users.agent).post(f"/webhooks/{hook_id}/rotate-secret", {}).status_code == 403


# ---------------------------------------------------------------------------- API tokens
def _tokens(ext, user, count: int, **kw: Any) -> list[tuple[int, str]]:
    with ext.unit_of_work():
        made = [tokens.create_token(str(user.id), f"{user.email} {i:02}", ["tickets:read"],
                                    Actor.system(), **kw) for i in range(count)]
    return [(row.id, plain) for row, plain in made]


def test_everyones_tokens_are_listed_filtered_and_paged_without_secrets(
        admin, ext, users, count_queries):
    mine = _tokens(ext, users.agent, 2)
    with count_queries() as small:
        admin.get("/api-tokens")
    theirs = _tokens(ext, users.customer, 50)
    html = admin.get("/api-tokens")
    shown = re.findall(r'href="/support/admin/api-tokens/(\d+)">', html)
    assert len(shown) == 50 and int(shown[0]) == theirs[-1][0]
    assert "Chris" in html or users.customer.email in html  # the owner, named
    for _, plain in mine + theirs:
        assert plain not in html and plain[10:20] not in html
    rest = re.findall(r'href="/support/admin/api-tokens/(\d+)">', _next_page(admin, html))
    assert sorted(map(int, rest)) == sorted(i for i, _ in mine)
    with count_queries() as full:
        admin.get("/api-tokens")
    assert full.count == small.count

    only = admin.get(f"/api-tokens?user_id={users.agent.id}")
    assert sorted(map(int, re.findall(r'href="/support/admin/api-tokens/(\d+)">', only))) \
        == sorted(i for i, _ in mine)
    assert "Next page" not in only and f'value="{users.agent.id}" selected' in only


def test_an_admin_revokes_a_token_after_confirming(admin, ext, users, app):
    ((ident, plain),) = _tokens(ext, users.agent, 1)
    page = admin.get(f"/api-tokens/{ident}")
    assert plain not in page and "Revoke…" in page
    confirm = admin.get(f"/api-tokens/{ident}/delete")
    assert "Revoke the token" in confirm
    assert db().get(ApiToken, ident).revoked_at is None  # asking is not doing
    admin.post(f"/api-tokens/{ident}/delete", {}, status=302)
    assert db().get(ApiToken, ident).revoked_at is not None
    assert _audit("api_token.revoked")[0].entity_id == str(ident)
    r = app.test_client().get("/support/api/v1/me",
                              headers={"Authorization": f"Bearer {plain}"})
    assert r.status_code == 401
    assert f"/api-tokens/{ident}/delete" not in admin.get("/api-tokens")
    admin.get(f"/api-tokens/{ident}/delete", status=409)
    admin.get("/api-tokens/987654/delete", status=404)


def test_bad_token_filters_are_a_4xx_page_naming_the_field(admin):
    html = admin.get("/api-tokens?user_id=" + "x" * 65, status=422)
    assert field_error(html, "user_id")
    assert "status" in admin.get("/api-tokens?status=live", status=422)
    assert "cursor" in admin.get("/api-tokens?cursor=forged", status=422)


def test_the_api_pages_tokens_and_filters_by_owner(api, ext, users):
    mine = _tokens(ext, users.agent, 3)
    _tokens(ext, users.customer, 2)
    admin = api(users.admin)
    first = admin.get(f"/api-tokens?user_id={users.agent.id}&limit=2").json
    assert [t["id"] for t in first["data"]] == [mine[2][0], mine[1][0]]
    rest = admin.get(f"/api-tokens?user_id={users.agent.id}&limit=2"
                     f"&cursor={first['next_cursor']}").json
    assert [t["id"] for t in rest["data"]] == [mine[0][0]] and rest["next_cursor"] is None
    assert len(admin.get("/api-tokens").json["data"]) == 5
    agent = api(users.agent)
    assert len(agent.get("/api-tokens").json["data"]) == 3
    assert len(agent.get(f"/api-tokens?user_id={users.agent.id}").json["data"]) == 3
    assert agent.get(f"/api-tokens?user_id={users.customer.id}").status_code == 403
    bad = admin.get("/api-tokens?user_id=" + "x" * 65)
    assert bad.status_code == 422 and "user_id" in bad.json["error"]["fields"]


# ---------------------------------------------------------------------------- inbound mail
def _postmark(sender: str, subject: str, text: str = "Hello.", **extra: Any) -> bytes:
    return json.dumps({"From": sender, "FromName": "", "To": "support@example.test",
                       "Subject": subject, "TextBody": text, "HtmlBody": "",
                       "MessageID": f"<{sender}-{subject}@mail.test>".replace(" ", "-"),
                       "Headers": [], "Attachments": [], **extra}).encode()


def _receive(ext, raw: bytes) -> int:
    """A message stored but not applied yet (as if the server stopped before applying it)."""
    with ext.unit_of_work():
        return inbound.receive("postmark", raw).id


def test_the_inbound_log_filters_and_searches(admin, ext, count_queries):
    inbound_pipeline.run("postmark", _postmark("dana@example.org", "Printer jam"))
    with count_queries() as small:
        admin.get("/inbound-emails")
    for i in range(12):
        inbound_pipeline.run("postmark", _postmark(f"user{i}@example.org", f"Question {i}"))
    failed = inbound_pipeline.run(
        "postmark", b'{"From": "x@y.z", "Attachments": [{"Content": "!"}]}')[1]
    with count_queries() as full:
        html = admin.get("/inbound-emails")
    assert full.count == small.count
    assert len(re.findall(r'href="/support/admin/inbound-emails/(\d+)">', html)) == 14
    assert re.search(r'href="/support/agent/tickets/[A-Z]+-\d+">', html)  # linked tickets

    only = admin.get("/inbound-emails?status=failed")
    assert re.findall(r'inbound-emails/(\d+)">', only) == [str(failed["error"]["fields"][
        "inbound_id"])]
    found = admin.get("/inbound-emails?q=PRINTER")
    assert "Printer jam" in found and "Question" not in found
    assert "Printer jam" in admin.get("/inbound-emails?q=dana%40example")
    assert "No inbound e-mail match" in admin.get("/inbound-emails?q=100%25")

    html = admin.get("/inbound-emails?status=sent", status=422)
    assert field_error(html, "status") and 'id="f-q"' in html
    assert field_error(admin.get("/inbound-emails?q=" + "x" * 201, status=422), "q")


def test_a_message_page_shows_it_escaped_and_reprocesses_it(admin, ext, users):
    ident = _receive(ext, _postmark("eve@example.org", "<b>Hi</b>",
                                    text="<script>alert(1)</script>\nThanks"))
    html = admin.get(f"/inbound-emails/{ident}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "&lt;b&gt;Hi&lt;/b&gt;" in html and "Reprocess" in html

    r = admin.post(f"/inbound-emails/{ident}/reprocess", {}, status=302)
    row = db().get(InboundEmail, ident)
    assert (row.status, row.outcome) == ("processed", "ticket_created")
    ticket = db().get(Ticket, row.ticket_id)
    page = admin.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "ticket created" in page and ticket.reference in page and "Reprocess</button>" \
        not in page
    assert _audit("inbound_email.reprocessed")[0].entity_id == str(ident)
    admin.post(f"/inbound-emails/{ident}/reprocess", {}, status=409)

    broken = _receive(ext, b"not json at all")
    page = admin.get(f"/inbound-emails/{broken}")
    assert "cannot be read" in page
    r = admin.post(f"/inbound-emails/{broken}/reprocess", {}, status=302)
    page = admin.client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Reprocessing failed" in page and db().get(InboundEmail, broken).status == "failed"
    assert "not valid JSON" in page  # the stored error


def test_the_api_searches_the_inbound_log_too(api, ext, users):
    inbound_pipeline.run("postmark", _postmark("dana@example.org", "Printer jam"))
    inbound_pipeline.run("postmark", _postmark("sam@example.org", "Invoice"))
    admin = api(users.admin)
    assert [r["subject"] for r in admin.get("/inbound-emails?q=invoice").json["data"]] == [
        "Invoice"]
    assert admin.get("/inbound-emails?q=" + "x" * 201).status_code == 422


# ---------------------------------------------------------------------------- audit log
def _entries(ext, rows: list[dict[str, Any]]) -> list[int]:
    with ext.unit_of_work():
        made = [AuditLog(**{"actor_type": "user", "entity_type": "webhook", "entity_id": "1",
                            "action": "webhook.updated", **row}) for row in rows]
        ext.session.add_all(made)
        ext.session.flush()
        return [r.id for r in made]


def _shown(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/support/admin/audit-logs/(\d+)">', html)]


def test_the_audit_log_filters_by_actor_action_subject_and_days(admin, ext, users,
                                                                 count_queries):
    at = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
    ids = _entries(ext, [
        {"actor_user_id": str(users.admin.id), "created_at": at},
        {"actor_user_id": str(users.agent.id), "created_at": at + timedelta(days=1),
         "action": "api_token.revoked", "entity_type": "api_token"},
        {"actor_user_id": None, "actor_type": "system", "created_at": at + timedelta(days=2),
         "old_values": {"name": "<i>old</i>"}, "new_values": {"name": "new", "n": [1]}}])
    with count_queries() as small:
        admin.get("/audit-logs")
    ids += _entries(ext, [{"actor_user_id": str(users.agent2.id),
                           "created_at": at - timedelta(days=9)} for _ in range(30)])
    with count_queries() as full:
        html = admin.get("/audit-logs")
    assert full.count == small.count
    assert _shown(html)[:len(ids)] == sorted(ids, reverse=True)  # after the set-up's rows
    assert "Ada Admin" in html or users.admin.email in html

    assert _shown(admin.get(f"/audit-logs?actor_user_id={users.agent.id}")) == [ids[1]]
    assert _shown(admin.get("/audit-logs?action=api_token.revoked")) == [ids[1]]
    assert _shown(admin.get("/audit-logs?entity_type=api_token")) == [ids[1]]
    assert _shown(admin.get("/audit-logs?from=2026-03-03&to=2026-03-04")) == [ids[2], ids[1]]
    assert _shown(admin.get("/audit-logs?to=2026-03-02&from=2026-03-01")) == [ids[0]]

    page = admin.get(f"/audit-logs/{ids[2]}")
    assert "&lt;i&gt;old&lt;/i&gt;" in page and "<i>old" not in page and "[1]" in page


def test_audit_days_are_the_desks_days(admin, ext, users):
    with ext.unit_of_work():
        sla_admin.create_schedule(Actor.system(), {"name": "NY", "timezone": "America/New_York",
                                                   "hours": {}, "is_default": True})
    late = datetime(2026, 3, 3, 3, 0, tzinfo=timezone.utc)  # 22:00 on 2 March in New York
    (ident,) = _entries(ext, [{"actor_user_id": None, "actor_type": "system",
                               "created_at": late}])
    assert _shown(admin.get("/audit-logs?from=2026-03-02&to=2026-03-02")) == [ident]
    assert _shown(admin.get("/audit-logs?from=2026-03-03&to=2026-03-03")) == []


@pytest.mark.parametrize(("query", "field"), [
    ("from=2026-13-01", "from"), ("to=yesterday", "to"), ("from=2026-03-05&to=2026-03-01", "from"),
    ("action=" + "x" * 101, "action"), ("actor_user_id=" + "x" * 101, "actor_user_id"),
])
def test_bad_audit_filters_are_named_on_the_page_and_by_the_api(admin, api, users, query,
                                                                field):
    html = admin.get(f"/audit-logs?{query}", status=422)
    assert field_error(html, field), html[:2000]
    r = api(users.admin).get(f"/audit-logs?{query}")
    assert r.status_code == 422 and field in r.json["error"]["fields"]


def test_the_api_filters_the_audit_log_by_days(api, ext, users):
    at = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
    ids = _entries(ext, [{"actor_user_id": None, "created_at": at + timedelta(days=d)}
                         for d in range(3)])
    rows = api(users.admin).get("/audit-logs?from=2026-03-03&to=2026-03-03").json["data"]
    assert [r["id"] for r in rows] == [ids[1]]


# ---------------------------------------------------------------------------- access
PAGES = ("/webhooks", "/webhooks/new", "/api-tokens", "/inbound-emails", "/audit-logs")


def test_agents_and_customers_are_kept_out(console, users, client_as, ext):
    with ext.unit_of_work():
        hook = webhooks.create_webhook(Actor.system(), {"url": "https://hooks.example.com/x",
                                                        "events": ["*"]})
    for user in (users.agent, users.light, users.customer):
        for path in PAGES:
            console(user).get(path, status=403)
        r = client_as(user).post(f"/support/admin/webhooks/{hook.id}/rotate-secret")
        assert r.status_code in (400, 403)
    r = client_as(None).get("/support/admin/webhooks")
    assert r.status_code in (302, 401)


def test_each_section_needs_its_own_permission(console, users, ext):
    _role(ext, users.agent2, ["webhook.view", "webhook.manage"])
    agent = console(users.agent2)
    agent.get("/webhooks")
    agent.get("/api-tokens", status=403)
    agent.get("/inbound-emails", status=403)
    nav = agent.get("")
    assert "/support/admin/webhooks" in nav and "/support/admin/api-tokens" not in nav
