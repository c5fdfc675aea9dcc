"""The console's escalation rules: the condition builder and the action list read into the
API's JSON, refusals named on their row, a page posted back unchanged changes nothing (not even
the rule's firing windows), rules the rows cannot show are edited as JSON, and the evaluation
log."""

from __future__ import annotations

import re

import pytest

from flask_escalated.config import Config
from flask_escalated.events import Actor
from flask_escalated.models import AuditLog, EscalationRule, RuleFiring, RuleLog
from flask_escalated.services import departments, rules, session, tickets

from .conftest import db, field_error
from .html_forms import form_pairs

pytestmark = pytest.mark.all_databases

SYSTEM = Actor.system()
NESTED = {"all": [
    {"field": "priority", "operator": "eq", "value": "urgent"},
    {"any": [{"field": "tag", "operator": "in", "value": ["vip", "gold"]},
             {"field": "unassigned", "operator": "eq", "value": True}]},
    {"field": "hours_since_created", "operator": "gt", "value": 1.5}]}


def audit_actions(ext) -> list[str]:
    ext.session.rollback()  # see what the requests committed (REPEATABLE READ on MariaDB)
    return [a for (a,) in ext.session.query(AuditLog.action).order_by(AuditLog.id)
            if a.startswith("escalation.")]


def make_rule(ext, **over):
    with ext.unit_of_work():
        return rules.create("escalation", SYSTEM, {
            "name": "Urgent VIPs", "conditions": NESTED,
            "actions": [{"type": "add_tag", "value": "escalated-vip"}, {"type": "escalate"}],
            **over})


def test_admin_builds_a_rule_from_rows(admin, ext, users):
    with ext.unit_of_work():
        billing = departments.create_department(SYSTEM, {"name": "Billing"})
    html = admin.get("/escalation-rules/new")
    assert 'name="cond-0-field"' in html and 'name="act-1-type"' in html
    assert '<option value="close"' not in html  # not an escalation action
    assert 'name="conditions"' not in html and 'name="actions"' not in html
    r = admin.post("/escalation-rules/new", [
        ("name", "Urgent VIPs"), ("is_active", "true"), ("position", "1"),
        ("cond-match", "all"), ("cond-group-1-match", "any"), ("cond-group-2-match", "all"),
        ("cond-0-group", ""), ("cond-0-field", "priority"), ("cond-0-operator", "eq"),
        ("cond-0-choice", "urgent"), ("cond-0-value", ""),
        ("cond-1-group", "1"), ("cond-1-field", "tag"), ("cond-1-operator", "in"),
        ("cond-1-choice", ""), ("cond-1-value", "vip, gold"),
        ("cond-2-group", ""), ("cond-2-field", ""), ("cond-2-operator", "eq"),
        ("cond-2-choice", ""), ("cond-2-value", ""),
        ("cond-3-group", "1"), ("cond-3-field", "unassigned"), ("cond-3-operator", "eq"),
        ("cond-3-choice", "true"), ("cond-3-value", ""),
        ("cond-4-group", ""), ("cond-4-field", "hours_since_created"),
        ("cond-4-operator", "gt"), ("cond-4-choice", ""), ("cond-4-value", "1.5"),
        ("cond-5-group", ""), ("cond-5-field", "department_id"), ("cond-5-operator", "eq"),
        ("cond-5-choice", str(billing.id)), ("cond-5-value", ""),
        ("cond-json", ""),
        ("act-0-type", "add_tag"), ("act-0-tag", "escalated-vip"),
        ("act-1-type", ""), ("act-1-text", "ignored: the row is unused"),
        ("act-2-type", "notify_email"), ("act-2-to", "lead@example.com"),
        ("act-2-subject", "Look"), ("act-2-text", "An urgent VIP\r\nticket"),
        ("act-3-type", "assign_department"), ("act-3-choice", str(billing.id)),
        ("act-4-type", "escalate")], status=302)
    rule = db(ext).query(EscalationRule).filter_by(name="Urgent VIPs").one()
    assert r.headers["Location"].endswith(f"/escalation-rules/{rule.id}")
    assert rule.conditions == {"all": [
        {"field": "priority", "operator": "eq", "value": "urgent"},
        {"any": [{"field": "tag", "operator": "in", "value": ["vip", "gold"]},
                 {"field": "unassigned", "operator": "eq", "value": True}]},
        {"field": "hours_since_created", "operator": "gt", "value": 1.5},
        {"field": "department_id", "operator": "eq", "value": billing.id}]}
    assert rule.actions == [
        {"type": "add_tag", "value": "escalated-vip"},
        {"type": "notify_email", "value": {"to": "lead@example.com", "subject": "Look",
                                           "body": "An urgent VIP\nticket"}},
        {"type": "assign_department", "value": str(billing.id)},
        {"type": "escalate", "value": None}]
    assert (rule.position, rule.is_active) == (1, True)
    assert audit_actions(ext) == ["escalation.created"]
    assert "Urgent VIPs" in admin.get("/escalation-rules")


def test_the_rule_page_posts_back_unchanged_and_keeps_the_firings(admin, app, ext, users):
    app.config[Config.WEBHOOK_ALLOWED_HOSTS] = ["hooks.example.com"]
    with ext.unit_of_work():
        billing = departments.create_department(SYSTEM, {"name": "Billing"})
    rule = make_rule(ext, actions=[
        {"type": "add_tag", "value": "escalated-vip"},
        {"type": "set_priority", "value": "critical"},
        {"type": "assign_agent", "value": str(users.agent.id)},
        {"type": "assign_department", "value": str(billing.id)},
        {"type": "add_note", "value": "Escalated {reference}:\nplease look"},
        {"type": "notify_email", "value": {"to": "assignee", "subject": "", "body": ""}},
        {"type": "notify_webhook", "value": {"url": "https://hooks.example.com/x"}},
        {"type": "set_status", "value": "in_progress"}, {"type": "escalate"}])
    with ext.unit_of_work():
        ticket = tickets.create_ticket(tickets.NewTicket(
            subject="s", description="d", requester_user_id=str(users.customer.id),
            priority="urgent", tags=["vip"]), SYSTEM)
        session().add(RuleFiring(rule_kind="escalation", rule_id=rule.id, ticket_id=ticket.id))
    before = rules.serialize(rule)
    html = admin.get(f"/escalation-rules/{rule.id}")
    assert 'name="cond-json"' in html and "Edit as JSON instead" in html  # rows, not JSON
    pairs = form_pairs(html, f"/escalation-rules/{rule.id}")
    assert ("cond-1-group", "1") in pairs and ("cond-1-value", "vip, gold") in pairs
    admin.post(f"/escalation-rules/{rule.id}", pairs, status=302)
    after = rules.serialize(db(ext).get(EscalationRule, rule.id))
    assert {k: after[k] for k in ("name", "conditions", "actions", "position")} == \
        {k: before[k] for k in ("name", "conditions", "actions", "position")}
    assert db(ext).query(RuleFiring).filter_by(rule_id=rule.id).count() == 1
    # new conditions do start a new window
    pairs = [(k, "high" if k == "cond-0-choice" else v) for k, v in pairs]
    admin.get(f"/escalation-rules/{rule.id}")
    admin.post(f"/escalation-rules/{rule.id}", pairs, status=302)
    assert db(ext).query(RuleFiring).filter_by(rule_id=rule.id).count() == 0


def test_a_group_deeper_than_the_rows_is_edited_as_json(admin, ext):
    deep = {"any": [{"all": [{"field": "priority", "operator": "eq", "value": "high"},
                             {"any": [{"field": "tag", "operator": "eq", "value": "vip"},
                                      {"field": "unassigned", "operator": "eq",
                                       "value": True}]}]},
                    {"field": "sla_breached", "operator": "eq", "value": True}]}
    rule = make_rule(ext, conditions=deep)
    html = admin.get(f"/escalation-rules/{rule.id}")
    assert "nest deeper than the rows can show" in html and 'name="cond-0-field"' not in html
    admin.post(f"/escalation-rules/{rule.id}",
               form_pairs(html, f"/escalation-rules/{rule.id}"), status=302)
    assert db(ext).get(EscalationRule, rule.id).conditions == deep
    # bad JSON is named and kept
    admin.get(f"/escalation-rules/{rule.id}")
    pairs = [(k, '{"any": [' if k == "cond-json" else v)
             for k, v in form_pairs(admin.html, f"/escalation-rules/{rule.id}")]
    r = admin.post(f"/escalation-rules/{rule.id}", pairs, status=422)
    html = r.get_data(as_text=True)
    assert "not valid JSON" in field_error(html, "conditions")
    assert '{&#34;any&#34;: [</textarea>' in html


def test_a_refused_row_is_named_beside_it_and_the_text_kept(admin, ext):
    base = [("name", "Nudge"), ("cond-match", "all"),
            ("act-0-type", "add_note"), ("act-0-text", "Look at {reference}")]
    admin.get("/escalation-rules/new")
    r = admin.post("/escalation-rules/new", [
        *base, ("cond-0-field", ""), ("cond-1-field", "hours_since_created"),
        ("cond-1-operator", "gt"), ("cond-1-value", "soon")], status=422)
    html = r.get_data(as_text=True)
    # the second row holds the first condition: its error is beside it, its text kept
    assert "non-negative number" in field_error(html, "cond-1")
    assert 'name="cond-1-value" value="soon"' in html
    assert "Look at {reference}" in html
    admin.get("/escalation-rules/new")
    r = admin.post("/escalation-rules/new", [
        *base[:2], ("cond-0-field", "priority"), ("cond-0-operator", "eq"),
        ("cond-0-choice", "urgent"),
        ("act-0-type", "set_priority"), ("act-0-choice", ""),
        ("act-1-type", "add_tag"), ("act-1-tag", "x")], status=422)
    html = r.get_data(as_text=True)
    assert "value must be one of" in field_error(html, "act-0")
    assert field_error(html, "act-1") is None
    admin.get("/escalation-rules/new")
    r = admin.post("/escalation-rules/new", [
        *base[:2], ("cond-0-field", "priority"), ("cond-0-operator", "eq"),
        ("cond-0-choice", "urgent"), ("act-0-type", ""), ("act-1-type", "notify_webhook"),
        ("act-1-url", "http://127.0.0.1:8000/hook")], status=422)
    html = r.get_data(as_text=True)
    assert field_error(html, "act-1") and 'value="http://127.0.0.1:8000/hook"' in html
    admin.get("/escalation-rules/new")
    r = admin.post("/escalation-rules/new", [("name", ""), ("cond-match", "all")],
                   status=422)
    html = r.get_data(as_text=True)
    assert field_error(html, "name")
    assert field_error(html, "conditions") or field_error(html, "actions")
    admin.get("/escalation-rules/new")
    r = admin.post("/escalation-rules/new", [*base, ("cond-0-field", "priority"),
                                             ("act-0-colour", "red")], status=422)
    assert "act-0-colour: unknown field" in r.get_data(as_text=True)
    assert db(ext).query(EscalationRule).count() == 0


def test_admin_edits_and_deletes_a_rule(admin, ext):
    rule = make_rule(ext)
    admin.get(f"/escalation-rules/{rule.id}")
    pairs = [(k, v) for k, v in form_pairs(admin.html, f"/escalation-rules/{rule.id}")
             if not k.startswith("act-1-")]
    pairs = [(k, "Urgent VIPs, tagged" if k == "name" else v) for k, v in pairs]
    admin.post(f"/escalation-rules/{rule.id}", pairs, status=302)
    rule = db(ext).get(EscalationRule, rule.id)
    assert rule.name == "Urgent VIPs, tagged"
    assert rule.actions == [{"type": "add_tag", "value": "escalated-vip"}]
    rule_id = rule.id
    assert "Delete the escalation rule" in admin.get(f"/escalation-rules/{rule_id}/delete")
    admin.post(f"/escalation-rules/{rule_id}/delete", {}, status=302)
    assert db(ext).get(EscalationRule, rule_id) is None
    assert audit_actions(ext) == ["escalation.created", "escalation.updated",
                                  "escalation.deleted"]


def test_the_edit_page_shows_the_evaluation_log_paged(admin, ext, users):
    rule = make_rule(ext, conditions={"all": [
        {"field": "priority", "operator": "eq", "value": "urgent"}]})
    with ext.unit_of_work():
        ticket = tickets.create_ticket(tickets.NewTicket(
            subject="s", description="d", requester_user_id=str(users.customer.id),
            priority="urgent"), SYSTEM)
    with ext.unit_of_work():
        assert rules.evaluate("escalation") == 1
    html = admin.get(f"/escalation-rules/{rule.id}")
    log = html[html.index('id="log"'):]
    assert f">#{ticket.id}</a>" in log and "add_tag, escalate" in log
    assert "Older entries" not in log
    with ext.unit_of_work():
        for n in range(30):
            session().add(RuleLog(rule_kind="escalation", rule_id=rule.id,
                                  rule_name=rule.name, ticket_id=ticket.id, actions=[],
                                  error=f"failure {n}"))
    html = admin.get(f"/escalation-rules/{rule.id}")
    log = html[html.index('id="log"'):]
    assert "failure 29" in log and "failure 5" in log and "failure 4" not in log
    older = re.search(r'href="([^"]*log_before=\d+)[^"]*">Older entries', log).group(1)
    html = admin.client.get(older.replace("&amp;", "&")).get_data(as_text=True)
    log = html[html.index('id="log"'):]
    assert "failure 4" in log and "failure 0" in log and "failure 5<" not in log
    assert "add_tag, escalate" in log and "Older entries" not in log


def test_agents_and_strangers_are_kept_out(console, users, client_as, ext):
    rule = make_rule(ext)
    for path in ("/escalation-rules", "/escalation-rules/new", f"/escalation-rules/{rule.id}",
                 f"/escalation-rules/{rule.id}/delete"):
        console(users.agent).get(path, status=403)
    r = client_as(users.agent).post(f"/support/admin/escalation-rules/{rule.id}/delete")
    assert r.status_code in (400, 403)
    assert client_as(None).get("/support/admin/escalation-rules").status_code in (302, 401)
    assert db(ext).query(EscalationRule).count() == 1


def test_a_refusal_is_placed_on_its_row_however_the_service_spells_the_place():
    from flask_escalated.web.admin.escalation_builder import row_errors

    paths = {"actions[0]": 0, "actions[1]": 3}
    for spelling in ("actions[1]: value must be one of low, high",
                     "[1]: value must be one of low, high"):
        assert row_errors({"actions": spelling}, "actions", paths) == (
            {3: "value must be one of low, high"}, None)
    assert row_errors({"actions[0].type": "Input should be 'escalate'"}, "actions", paths) \
        == ({0: "type: Input should be 'escalate'"}, None)
    cond = {".all[1].any[0]": 4}
    for spelling in (".all[1].any[0]: unknown field", "conditions.all[1].any[0]: unknown field"):
        assert row_errors({"conditions": spelling}, "conditions", cond) == (
            {4: "unknown field"}, None)
    assert row_errors({"conditions": ".all: a list of 1 to 50 conditions"}, "conditions",
                      cond) == ({}, ".all: a list of 1 to 50 conditions")
