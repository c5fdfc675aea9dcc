"""Workflows (event-driven, in the change's transaction) and macros (an agent's tool)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import RuleLog, Webhook, WebhookDelivery, Workflow
from flask_escalated.services import rules, tags, tickets

pytestmark = pytest.mark.all_databases

URGENT = {"all": [{"field": "priority", "operator": "eq", "value": "urgent"}]}


def _flow(ext, **data):
    with ext.unit_of_work():
        return rules.create("workflow", Actor.system(), {"name": "W", **data}).id


def _open(ext, users, **fields):
    with ext.unit_of_work():
        return tickets.create_ticket(tickets.NewTicket(
            subject="s", description="d", requester_user_id=str(users.customer.id), **fields),
            Actor.system()).id


def _tags(ext, tid):
    ext.session.rollback()
    return sorted(t.slug for t in tickets.get_ticket(tid).tags)


def test_workflow_acts_in_the_same_transaction_when_conditions_hold(app, users):
    ext = app.extensions["escalated"]
    flow = _flow(ext, trigger_events=["ticket.created"], conditions=URGENT,
                 actions=[{"type": "add_tag", "value": "vip"},
                          {"type": "add_note", "value": "Urgent: {reference}"}])
    urgent, calm = _open(ext, users, priority="urgent"), _open(ext, users, priority="low")
    assert _tags(ext, urgent) == ["vip"] and _tags(ext, calm) == []
    (entry,) = ext.session.execute(select(RuleLog).where(RuleLog.rule_kind == "workflow")
                                   ).scalars()
    assert entry.rule_id == flow and entry.ticket_id == urgent
    assert entry.actions == ["add_tag", "add_note"] and entry.error is None
    # Roll back the triggering change: the workflow's work goes with it.
    with pytest.raises(RuntimeError), ext.unit_of_work():
        tickets.create_ticket(tickets.NewTicket(
            subject="never", description="d", requester_user_id=str(users.customer.id),
            priority="urgent"), Actor.system())
        raise RuntimeError("rolled back")
    ext.session.rollback()
    assert len(list(ext.session.execute(select(RuleLog)).scalars())) == 1


def test_workflow_effects_do_not_trigger_workflows_and_reach_webhooks(app, users):
    ext = app.extensions["escalated"]
    with ext.unit_of_work():
        ext.session.add(Webhook(url="http://127.0.0.1:9/x", secret="s" * 32,
                                events=["tag.added"], is_active=True, failure_count=0))
    _flow(ext, trigger_events=["tag.added"], actions=[{"type": "add_tag", "value": "b"}])
    _flow(ext, trigger_events=["tag.added"], actions=[{"type": "add_tag", "value": "c"}])
    tid = _open(ext, users)
    with ext.unit_of_work():
        tags.add_tags(tickets.get_ticket(tid), ["a"], Actor.agent(users.agent.id))
    assert _tags(ext, tid) == ["a", "b", "c"]  # each workflow once; no cascade
    deliveries = list(ext.session.execute(select(WebhookDelivery)).scalars())
    assert len(deliveries) == 3  # a (the agent), b and c (the workflows)


def test_a_failing_action_is_logged_and_the_change_stands(app, users):
    ext = app.extensions["escalated"]
    flow_id = _flow(ext, trigger_events=["ticket.created"],
                    actions=[{"type": "assign_agent", "value": str(users.agent.id)},
                             {"type": "add_tag", "value": "still"}])
    # The agent it names has since gone (saving refuses a non-agent, so the row is changed).
    with ext.unit_of_work():
        ext.session.get(Workflow, flow_id).actions = [
            {"type": "assign_agent", "value": "no-such-agent"},
            {"type": "add_tag", "value": "still"}]
    tid = _open(ext, users)
    assert _tags(ext, tid) == ["still"]
    (entry,) = ext.session.execute(select(RuleLog)).scalars()
    assert entry.actions == ["add_tag"] and "assign_agent" in entry.error


def test_workflows_refuse_time_and_automations_refuse_events(api, users):
    admin = api(users.admin)
    timed = admin.post("/workflows", {
        "name": "t", "trigger_events": ["ticket.created"], "actions": [{"type": "escalate"}],
        "conditions": {"all": [{"field": "hours_since_created", "operator": "gt", "value": 4}]}})
    assert timed.status_code == 422 and "automation" in timed.json["error"]["message"]
    assert admin.post("/workflows", {"name": "x", "trigger_events": ["nope"],
                                     "actions": [{"type": "escalate"}]}).status_code == 422
    evented = admin.post("/automations", {
        "name": "e", "trigger_events": ["ticket.created"], "actions": [{"type": "close"}],
        "conditions": URGENT})
    assert evented.status_code == 422 and "trigger_events" in evented.json["error"]["fields"]


def test_macros_are_personal_or_shared_and_never_exceed_their_user(app, api, users):
    agent, light, admin = api(users.agent), api(users.light), api(users.admin)
    mine = agent.post("/macros", {"name": "Mine", "actions": [
        {"type": "add_tag", "value": "triaged"}, {"type": "set_priority", "value": "high"}]})
    assert mine.status_code == 201 and mine.json["data"]["is_shared"] is False
    assert agent.post("/macros", {"name": "S", "is_shared": True,
                                  "actions": [{"type": "close"}]}).status_code == 403
    shared = admin.post("/macros", {"name": "Assign", "is_shared": True, "actions": [
        {"type": "assign_agent", "value": str(users.agent.id)}]}).json["data"]["id"]
    assert light.get(f"/macros/{mine.json['data']['id']}").status_code == 404
    assert [m["name"] for m in light.get("/macros").json["data"]] == ["Assign"]
    tid = _open(app.extensions["escalated"], users)
    applied = agent.post(f"/tickets/{tid}/macros/{mine.json['data']['id']}", {})
    assert applied.status_code == 200
    assert applied.json["data"]["priority"] == "high"
    assert [t["slug"] for t in applied.json["data"]["tags"]] == ["triaged"]
    refused = light.post(f"/tickets/{tid}/macros/{shared}", {})
    assert refused.status_code == 403 and "ticket.assign" in refused.json["error"]["message"]
    assert agent.patch(f"/macros/{shared}", {"name": "x"}).status_code == 403


@pytest.mark.parametrize(("action", "reason"), [
    ({"type": "set_status", "value": "nonsense"}, "no such status"),
    ({"type": "assign_agent", "value": "zzz"}, "not an agent"),
    ({"type": "assign_agent", "value": "customer"}, "not an agent"),
    ({"type": "assign_department", "value": "999"}, "no such department"),
    ({"type": "assign_department", "value": "inactive"}, "no such department"),
])
def test_a_macro_naming_what_does_not_exist_is_refused_at_save(app, api, users, action,
                                                               reason):
    """It could never run: applying it would fail with 422 on every ticket."""
    from flask_escalated.models import Department, Macro

    ext = app.extensions["escalated"]
    if action["value"] == "customer":
        action = {**action, "value": str(users.customer.id)}
    elif action["value"] == "inactive":
        with ext.unit_of_work():
            dept = Department(name="Gone", slug="gone", is_active=False)
            ext.session.add(dept)
            ext.session.flush()
            action = {**action, "value": str(dept.id)}
    good = [{"type": "add_tag", "value": "brand-new-tag"}]
    for user in (users.agent, users.admin):
        r = api(user).post("/macros", {"name": "Bad", "actions": [*good, action]})
        assert r.status_code == 422, r.json
        assert r.json["error"]["fields"] == {"actions": f"[1]: {reason}"}
    made = api(users.agent).post("/macros", {"name": "Good", "actions": good})
    assert made.status_code == 201  # a tag is created when used
    r = api(users.agent).patch(f"/macros/{made.json['data']['id']}",
                               {"actions": [action, *good]})
    assert r.status_code == 422 and r.json["error"]["fields"] == {"actions": f"[0]: {reason}"}
    ext.session.rollback()
    assert [m.name for m in ext.session.execute(select(Macro)).scalars()] == ["Good"]


def test_a_macro_naming_what_exists_is_kept(app, api, users):
    ext = app.extensions["escalated"]
    with ext.unit_of_work():
        from flask_escalated.models import Department

        dept = Department(name="Billing", slug="billing", is_active=True)
        ext.session.add(dept)
        ext.session.flush()
        dept_id = dept.id
    r = api(users.agent).post("/macros", {"name": "Route", "actions": [
        {"type": "set_status", "value": "waiting_on_customer"},
        {"type": "assign_agent", "value": str(users.agent2.id)},
        {"type": "assign_department", "value": str(dept_id)}]})
    assert r.status_code == 201, r.json
