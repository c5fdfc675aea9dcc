"""The console's automations, workflows and macros: created, edited, switched and deleted
through the pages with the condition builder and the action list; the API's refusals shown on
the rows; an edit page posted back unchanged leaves the rule as it was; each rule's evaluation
log; and who gets in."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import (
    AuditLog,
    Automation,
    Macro,
    RuleFiring,
    RuleLog,
    Ticket,
    Workflow,
)
from flask_escalated.services import automations, macros, rules, session, tickets
from flask_escalated.web.admin import rules as rule_pages

from .conftest import field_error
from .test_builder import browser_form

pytestmark = pytest.mark.all_databases


def _db() -> Any:
    """The test's session in a new transaction, so it reads what the pages committed (on
    MariaDB a transaction keeps reading the snapshot it began with)."""
    db = session()
    db.rollback()
    return db


def _audit(action: str) -> list[AuditLog]:
    return list(_db().execute(select(AuditLog).where(AuditLog.action == action)
                                  .order_by(AuditLog.id)).scalars())


def _rows(html: str, prefix: str) -> int:
    """How many rows of a part the page renders (``cond`` conditions, ``act`` actions)."""
    suffix = "field" if prefix == "cond" else "type"
    return len(re.findall(rf'name="{prefix}\.[0-9.]+\.{suffix}"', html))


def _open_ticket(ext, users, **fields) -> int:
    with ext.unit_of_work():
        return tickets.create_ticket(tickets.NewTicket(
            subject="Printer", description="It jams.", requester_user_id=str(users.customer.id),
            **fields), Actor.system()).id


# ---------------------------------------------------------------------------- automations
def test_admin_builds_edits_switches_and_deletes_an_automation(admin, ext):
    html = admin.get("/automations/new")
    assert _rows(html, "cond") == 3 and _rows(html, "act") == 3
    assert 'name="is_active" value="true" checked' in html  # a new rule starts active
    admin.post("/automations/new", [
        ("name", "Nudge stale urgent"), ("description", ""), ("is_active", "true"),
        ("position", "2"), ("cond.match", "all"),
        ("cond.0.field", "priority"), ("cond.0.operator", "in"), ("cond.0.value", "high, urgent"),
        ("cond.1.field", ""), ("cond.1.operator", "eq"), ("cond.1.value", ""),
        ("cond.2.field", "hours_since_updated"), ("cond.2.operator", "gt"), ("cond.2.value", "24"),
        ("act.0.type", "add_tag"), ("act.0.value", "stale"),
        ("act.1.type", ""), ("act.1.value", ""),
        ("act.2.type", "add_note"), ("act.2.value", "Nobody moved {reference} in a day.")],
        status=302)
    rule = _db().execute(select(Automation)).scalar_one()
    assert rule.conditions == {"all": [
        {"field": "priority", "operator": "in", "value": ["high", "urgent"]},
        {"field": "hours_since_updated", "operator": "gt", "value": 24}]}
    assert rule.actions == [{"type": "add_tag", "value": "stale"},
                            {"type": "add_note", "value": "Nobody moved {reference} in a day."}]
    assert (rule.position, rule.is_active, rule.description) == (2, True, None)
    (created,) = _audit("automation.created")
    assert created.entity_id == str(rule.id) and created.new_values["conditions"] == \
        rule.conditions

    html = admin.get(f"/automations/{rule.id}")
    assert _rows(html, "cond") == 4 and _rows(html, "act") == 4  # the stored ones + spares
    form = browser_form(html)
    form = [(k, "any" if k == "cond.match" else "Tag stale ones" if k == "name" else v)
            for k, v in form]
    form = [p for p in form if not p[0].startswith("act.1.")]  # drop the note
    admin.post(f"/automations/{rule.id}", form, status=302)
    rule = _db().get(Automation, rule.id)
    assert rule.name == "Tag stale ones" and next(iter(rule.conditions)) == "any"
    assert rule.actions == [{"type": "add_tag", "value": "stale"}]
    (updated,) = _audit("automation.updated")
    assert updated.old_values["name"] == "Nudge stale urgent"

    listing = admin.get("/automations")
    assert "Tag stale ones" in listing and "Turn off" in listing
    admin.post(f"/automations/{rule.id}/active", {"is_active": "false"}, status=302)
    assert _db().get(Automation, rule.id).is_active is False
    assert _audit("automation.updated")[-1].new_values["is_active"] is False
    assert "Turn on" in admin.get("/automations")

    rule_id = rule.id
    admin.get(f"/automations/{rule_id}/delete")
    admin.post(f"/automations/{rule_id}/delete", {}, status=302)
    assert _db().get(Automation, rule_id) is None
    assert _audit("automation.deleted")[0].old_values["name"] == "Tag stale ones"


def test_add_rows_and_add_a_group_grow_the_form_and_save_nothing(admin):
    admin.get("/automations/new")
    typed = [("name", "Half done"), ("cond.match", "any"),
             ("cond.0.field", "priority"), ("cond.0.operator", "eq"), ("cond.0.value", "low"),
             ("act.0.type", "add_tag"), ("act.0.value", "x")]
    r = admin.post("/automations/new", [*typed, ("builder_more", "conditions")], status=200)
    html = r.get_data(as_text=True)
    assert _rows(html, "cond") == 1 + 3 and _rows(html, "act") == 1
    assert 'value="Half done"' in html and 'value="low"' in html
    r = admin.post("/automations/new", [*browser_form(html), ("builder_group", "1")],
                   status=200)
    html = r.get_data(as_text=True)
    assert 'name="cond.4.match"' in html and 'name="cond.4.2.field"' in html
    r = admin.post("/automations/new", [*browser_form(html), ("builder_more", "actions")],
                   status=200)
    assert _rows(r.get_data(as_text=True), "act") == 4
    assert _db().execute(select(Automation)).first() is None
    assert not _audit("automation.created")


def test_a_refused_rule_names_the_row_and_keeps_what_was_typed(admin):
    admin.get("/automations/new")
    r = admin.post("/automations/new", [
        ("name", "Bad <one>"), ("cond.match", "all"),
        ("cond.0.field", ""), ("cond.0.operator", "eq"), ("cond.0.value", ""),
        ("cond.1.field", "priority"), ("cond.1.operator", "gt"), ("cond.1.value", "sky"),
        ("act.0.type", "set_priority"), ("act.0.value", "sky-high")], status=422)
    html = r.get_data(as_text=True)
    assert re.search(r'id="b-cond-1-error">Condition 2: operator one of eq, neq, in, '
                     r"not_in<", html)
    assert 'value="sky"' in html and 'value="Bad &lt;one&gt;"' in html
    assert _db().execute(select(Automation)).first() is None

    # The service checks actions once the conditions pass: the row of the action is named.
    r = admin.post("/automations/new", [
        ("name", "Bad"), ("cond.0.field", "priority"), ("cond.0.operator", "eq"),
        ("cond.0.value", "low"), ("act.0.type", ""), ("act.0.value", ""),
        ("act.1.type", "set_priority"), ("act.1.value", "sky-high")], status=422)
    html = r.get_data(as_text=True)
    assert re.search(r'id="b-act-1-error">Action 2: value must be one of low, ', html)
    assert 'value="sky-high"' in html

    r = admin.post("/automations/new", [("name", "x" * 121), ("act.0.type", "close"),
                                        ("cond.0.field", "priority"),
                                        ("cond.0.operator", "eq"), ("cond.0.value", "low")],
                   status=422)
    assert field_error(r.get_data(as_text=True), "name")
    r = admin.post("/automations/new", [("name", "No actions"), ("cond.0.field", "priority"),
                                        ("cond.0.operator", "eq"), ("cond.0.value", "low")],
                   status=422)
    assert "Actions: At least 1 item" in r.get_data(as_text=True)
    r = admin.post("/automations/new", [("name", "n"), ("act.0.type", "close"),
                                        ("trigger_events", "ticket.created")], status=422)
    assert "trigger_events: unknown field" in r.get_data(as_text=True)
    assert _db().execute(select(Automation)).first() is None


def test_an_edit_page_posted_back_unchanged_leaves_the_rule_identical(admin, ext, users):
    """Every shape the API stores (nested groups between conditions, ids as text or numbers,
    floats, null values, multi-line notes, notification objects) survives the page, and the
    rule's firing memory is not reset by a save that changed nothing."""
    conditions = {"any": [
        {"field": "department_id", "operator": "in", "value": ["3", 4]},
        {"all": [{"field": "assignee_id", "operator": "eq", "value": str(users.agent.id)},
                 {"any": [{"field": "tag", "operator": "not_in", "value": ["a", "b"]},
                          {"field": "hours_since_resolved", "operator": "lt",
                           "value": 24.0}]}]},
        {"field": "assignee_id", "operator": "is_not_null", "value": None},
        {"field": "unassigned", "operator": "neq", "value": False}]}
    actions = [{"type": "add_note", "value": "\nFirst line is empty\n\nand <b>this</b> & that"},
               {"type": "send_reply", "value": "  padded  "},
               {"type": "set_status", "value": "waiting_on_customer"}]
    with ext.unit_of_work():
        rule = rules.create("automation", Actor.system(), {
            "name": "Everything", "description": "Kept\nas is", "conditions": conditions,
            "actions": actions, "position": -3, "is_active": False})
        rule_id = rule.id
    tid = _open_ticket(ext, users)
    with ext.unit_of_work():
        session().add(RuleFiring(rule_kind="automation", rule_id=rule_id, ticket_id=tid))
    before = rules.serialize(_db().get(Automation, rule_id))

    html = admin.get(f"/automations/{rule_id}")
    admin.post(f"/automations/{rule_id}", browser_form(html), status=302)
    after = rules.serialize(_db().get(Automation, rule_id))
    assert after == before
    assert _db().execute(select(RuleFiring)).scalars().one().ticket_id == tid
    (updated,) = _audit("automation.updated")
    assert updated.old_values == updated.new_values


def test_the_evaluation_log_shows_what_the_rule_did_newest_first(admin, ext, users,
                                                                monkeypatch):
    with ext.unit_of_work():
        rule_id = rules.create("automation", Actor.system(), {
            "name": "Tag urgent", "conditions": {"all": [
                {"field": "priority", "operator": "eq", "value": "urgent"}]},
            "actions": [{"type": "add_tag", "value": "hot"},
                        {"type": "assign_agent", "value": str(users.agent.id)}]}).id
    # The agent it names has since gone (saving refuses a non-agent, so the row is changed).
    with ext.unit_of_work():
        ext.session.get(Automation, rule_id).actions = [
            {"type": "add_tag", "value": "hot"},
            {"type": "assign_agent", "value": "nobody-here"}]
    first, second = (_open_ticket(ext, users, priority="urgent") for _ in range(2))
    html = admin.get(f"/automations/{rule_id}")
    assert "It has not acted on any ticket yet." in html and "Last run: never" in html
    with ext.unit_of_work():
        assert automations.run() == 2
    refs = {t.id: t.reference for t in _db().execute(select(Ticket)).scalars()}
    html = admin.get(f"/automations/{rule_id}")
    assert "Evaluation log" in html and html.index(refs[second]) < html.index(refs[first])
    assert "add tag" in html and "assign_agent: " in html
    assert html.count('class="esc-rule-log-failed"') == 2

    monkeypatch.setattr(rule_pages, "LOG_PAGE", 1)
    html = admin.get(f"/automations/{rule_id}")
    assert refs[second] in html and refs[first] not in html
    older = re.search(r'href="/support/admin/automations/\d+\?cursor=([^"#]+)#', html)
    assert older is not None
    html = admin.get(f"/automations/{rule_id}?cursor={older.group(1)}")
    assert refs[first] in html and refs[second] not in html and "Newest" in html
    admin.get(f"/automations/{rule_id}?cursor=forged", status=422)
    assert _db().execute(select(RuleLog)).scalars().all()


@pytest.mark.parametrize("row", [
    [("act.0.type", "notify_email"), ("act.0.value", '{"to": "assignee", "subject": "\\u0000"}')],
    [("act.0.type", "notify_webhook"), ("act.0.value", "[" * 5000)],
    [("act.0.type", "notify_webhook"), ("act.0.value", '{"url": 1e999}')],
    [("cond.0.field", "department_id"), ("cond.0.operator", "eq"), ("cond.0.value", "9" * 40)],
    [("cond.0.field", "hours_since_created"), ("cond.0.operator", "gt"),
     ("cond.0.value", "999999999")],
    [("cond.0.field", "x" * 5000), ("cond.0.operator", "eq"), ("cond.0.value", "y")],
    [("cond.0.field", "status"), ("cond.0.operator", "eq"), ("cond.0.value", "a\x00b")],
    [("cond.0.0.0.0.0.0.field", "priority"), ("cond.0.0.0.0.0.0.operator", "eq"),
     ("cond.0.0.0.0.0.0.value", "low")],
], ids=["nul-escape", "deep-json", "overflow", "big-id", "big-hours", "long-field", "nul",
        "too-deep"])
def test_hostile_builder_input_is_refused_not_a_500(admin, row):
    admin.get("/automations/new")
    base = [("name", "Hostile"), ("cond.match", "all"), ("act.9.type", "add_tag"),
            ("act.9.value", "x")]
    if not any(k.startswith("cond.") and k != "cond.match" for k, _ in row):
        base += [("cond.0.field", "priority"), ("cond.0.operator", "eq"), ("cond.0.value", "low")]
    r = admin.post("/automations/new", [*base, *row])
    assert 400 <= r.status_code < 500, r.status_code
    assert _db().execute(select(Automation)).first() is None


# ---------------------------------------------------------------------------- workflows
def test_admin_creates_a_workflow_on_events_and_it_runs(admin, ext, users):
    html = admin.get("/workflows/new")
    assert 'value="ticket.created"' in html and 'value="hours_since_created"' not in html
    admin.post("/workflows/new", [
        ("name", "Tag new urgent"), ("is_active", "true"),
        ("trigger_events", "ticket.created"), ("trigger_events", "ticket.priority_changed"),
        ("cond.match", "all"), ("cond.0.field", ""), ("cond.0.operator", "eq"),
        ("cond.0.value", ""), ("act.0.type", "add_tag"), ("act.0.value", "new")], status=302)
    flow = _db().execute(select(Workflow)).scalar_one()
    assert flow.trigger_events == ["ticket.created", "ticket.priority_changed"]
    assert flow.conditions == {"all": []}  # no conditions: every such event
    assert _audit("workflow.created")[0].entity_id == str(flow.id)

    tid = _open_ticket(ext, users)
    assert [t.slug for t in _db().get(Ticket, tid).tags] == ["new"]
    html = admin.get(f"/workflows/{flow.id}")
    assert _db().get(Ticket, tid).reference in html
    assert re.search(r'name="trigger_events" value="ticket.created"\s+checked', html)

    admin.post(f"/workflows/{flow.id}/active", {"is_active": "false"}, status=302)
    assert _db().get(Workflow, flow.id).is_active is False
    admin.post(f"/workflows/{flow.id}/delete", {}, status=302)
    assert _audit("workflow.deleted")


def test_a_workflow_refuses_elapsed_time_and_needs_an_event(admin):
    admin.get("/workflows/new")
    r = admin.post("/workflows/new", [
        ("name", "Timed"), ("trigger_events", "ticket.created"),
        ("cond.0.field", "hours_since_created"), ("cond.0.operator", "gt"),
        ("cond.0.value", "3"), ("act.0.type", "add_tag"), ("act.0.value", "x")], status=422)
    html = r.get_data(as_text=True)
    assert "Conditions: time-based: workflows run on events" in html
    assert 'value="hours_since_created" selected' in html  # kept, though not offered
    r = admin.post("/workflows/new", [("name", "No events"), ("act.0.type", "add_tag"),
                                      ("act.0.value", "x")], status=422)
    assert field_error(r.get_data(as_text=True), "trigger_events")
    r = admin.post("/workflows/new", [("name", "Close"), ("trigger_events", "ticket.created"),
                                      ("act.0.type", "close"), ("act.0.value", "")],
                   status=422)
    assert "Action 1: &#39;close&#39; is not a workflow action." in r.get_data(as_text=True)
    assert _db().execute(select(Workflow)).first() is None


def test_a_switch_without_a_state_changes_nothing(admin, ext):
    with ext.unit_of_work():
        rule_id = rules.create("workflow", Actor.system(), {
            "name": "W", "trigger_events": ["ticket.created"],
            "actions": [{"type": "add_tag", "value": "x"}]}).id
    admin.get("/workflows")
    admin.post(f"/workflows/{rule_id}/active", {}, status=302)
    admin.post(f"/workflows/{rule_id}/active", {"is_active": "off"}, status=302)
    assert "Say whether to turn it on or off" in admin.get("/workflows")
    assert _db().get(Workflow, rule_id).is_active is True
    assert not _audit("workflow.updated")
    admin.post("/workflows/999999/active", {"is_active": "false"}, status=404)


# ---------------------------------------------------------------------------- macros
def test_admin_creates_edits_and_deletes_a_shared_macro(admin, ext, users, api):
    html = admin.get("/macros/new")
    assert "cond." not in html and _rows(html, "act") == 3
    assert 'value="close"' in html and 'value="escalate"' not in html  # macro actions only
    admin.post("/macros/new", [
        ("name", "Close as solved"), ("description", "Thank and close"),
        ("is_shared", "true"), ("position", ""),
        ("act.0.type", "send_reply"), ("act.0.value", "Thanks!\r\nClosing {reference}."),
        ("act.1.type", "close"), ("act.1.value", "")], status=302)
    macro = _db().execute(select(Macro)).scalar_one()
    assert macro.is_shared is True and macro.owner_user_id == str(users.admin.id)
    assert macro.actions == [{"type": "send_reply", "value": "Thanks!\nClosing {reference}."},
                             {"type": "close", "value": None}]
    assert _audit("macro.created")[0].entity_id == str(macro.id)
    # every agent now has it (the API's visibility)
    assert [m["id"] for m in api(users.agent).get("/macros").json["data"]] == [macro.id]

    html = admin.get(f"/macros/{macro.id}")
    before = macros.serialize(macro)
    admin.post(f"/macros/{macro.id}", browser_form(html), status=302)
    assert macros.serialize(_db().get(Macro, macro.id)) == before  # the round trip

    form = [(k, v) for k, v in browser_form(html) if k != "is_shared"]
    form = [(k, "set_priority" if k == "act.1.type" else "high" if k == "act.1.value" else v)
            for k, v in form]
    admin.post(f"/macros/{macro.id}", form, status=302)
    macro = _db().get(Macro, macro.id)
    assert macro.is_shared is False
    assert macro.actions[1] == {"type": "set_priority", "value": "high"}
    assert "Personal (yours)" in admin.get("/macros")
    assert len(_audit("macro.updated")) == 2

    macro_id = macro.id
    admin.get(f"/macros/{macro_id}/delete")
    admin.post(f"/macros/{macro_id}/delete", {}, status=302)
    assert _db().get(Macro, macro_id) is None and _audit("macro.deleted")


def test_a_refused_macro_names_the_action_row(admin):
    admin.get("/macros/new")
    r = admin.post("/macros/new", [("name", "Bad"), ("act.0.type", "escalate"),
                                   ("act.0.value", "")], status=422)
    html = r.get_data(as_text=True)
    assert "Action 1: type: Input should be" in html or \
        "Action 1: &#39;escalate&#39; is not a macro action." in html
    assert _db().execute(select(Macro)).first() is None


@pytest.mark.parametrize(("kind", "value", "reason"), [
    ("set_status", "nonsense", "no such status"),
    ("assign_agent", "zzz", "not an agent"),
    ("assign_department", "999", "no such department"),
])
def test_a_macro_action_naming_nothing_is_refused_beside_its_row(admin, kind, value, reason):
    html = admin.get("/macros/new")
    assert 'value="canned_reply"' in html  # "Reply with a canned response" is on the form
    r = admin.post("/macros/new", [("name", "Bad"), ("act.0.type", "add_tag"),
                                   ("act.0.value", "new-tag"), ("act.1.type", kind),
                                   ("act.1.value", value)], status=422)
    assert f"Action 2: {reason}" in r.get_data(as_text=True)
    assert _db().execute(select(Macro)).first() is None


# ---------------------------------------------------------------------------- access
@pytest.mark.parametrize("path", ["/automations", "/workflows/new", "/macros"])
def test_plain_agents_and_anonymous_visitors_are_kept_out(console, users, client_as, path):
    console(users.agent).get(path, status=403)
    r = client_as(None).get("/support/admin" + path)
    assert r.status_code in (302, 401)


def test_the_switch_needs_the_manage_permission(client_as, users, ext):
    with ext.unit_of_work():
        rule_id = rules.create("automation", Actor.system(), {
            "name": "A", "conditions": {"all": [
                {"field": "priority", "operator": "eq", "value": "low"}]},
            "actions": [{"type": "add_tag", "value": "x"}]}).id
    agent = client_as(users.agent)
    with agent.session_transaction() as s:
        s["_escalated_csrf"] = "t"
    r = agent.post(f"/support/admin/automations/{rule_id}/active",
                   data={"csrf_token": "t", "is_active": "false"})
    assert r.status_code == 403
    assert _db().get(Automation, rule_id).is_active is True
