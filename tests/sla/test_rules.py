"""Escalation rules and automations: conditions in SQL, fire once per window, logs, API."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from flask_escalated.clock import set_clock
from flask_escalated.events import Actor
from flask_escalated.models import Reply, RuleFiring, RuleLog, SlaPolicy, Ticket
from flask_escalated.services import automations, conditions, escalation, rules, tickets
from flask_escalated.services.errors import ValidationError

pytestmark = pytest.mark.all_databases


@pytest.fixture
def ext(app):
    return app.extensions["escalated"]


def new(ext, users, **kw):
    data = {"subject": "Help", "description": "d", "requester_user_id": str(users.customer.id),
            **kw}
    with ext.unit_of_work():
        return tickets.create_ticket(tickets.NewTicket(**data), Actor.system()).id


def make_rule(ext, kind, conditions_, actions, name="Rule"):
    with ext.unit_of_work():
        return rules.create(kind, Actor.system(), {"name": name, "conditions": conditions_,
                                                   "actions": actions}).id


def run(ext, kind="escalation"):
    total = 0
    while True:
        with ext.unit_of_work():
            done = rules.evaluate(kind)
        if not done:
            break
        total += done
    ext.session.rollback()
    return total


def cond(field, operator, value=None):
    return {"all": [{"field": field, "operator": operator, "value": value}]}


def matching(ext, group, clock):
    clause = conditions.compile_group(conditions.validate(group), clock.current)
    return set(ext.session.execute(select(Ticket.id).where(clause)).scalars())


def test_conditions_compile_to_sql(ext, users, clock):
    a = new(ext, users, priority="high", tags=["vip"])
    b = new(ext, users, priority="low")
    c = new(ext, users, priority="high")
    with ext.unit_of_work():
        tickets.change_status(tickets.get_ticket(c), "resolved", Actor.system())
    clock.advance(hours=5)
    assert matching(ext, cond("priority", "eq", "high"), clock) == {a, c}
    assert matching(ext, cond("priority", "in", ["low", "high"]), clock) == {a, b, c}
    assert matching(ext, cond("priority", "neq", "high"), clock) == {b}
    assert matching(ext, cond("tag", "eq", "vip"), clock) == {a}
    assert matching(ext, cond("tag", "not_in", ["vip"]), clock) == {b, c}
    assert matching(ext, cond("status_category", "eq", "resolved"), clock) == {c}
    assert matching(ext, cond("unassigned", "eq", True), clock) == {a, b, c}
    assert matching(ext, cond("assignee_id", "is_null"), clock) == {a, b, c}
    assert matching(ext, cond("hours_since_created", "gte", 4), clock) == {a, b, c}
    assert matching(ext, cond("hours_since_created", "lt", 4), clock) == set()
    assert matching(ext, cond("hours_since_resolved", "gt", 1), clock) == {c}
    assert matching(ext, cond("requester_type", "eq", "user"), clock) == {a, b, c}
    assert matching(ext, cond("sla_breached", "eq", False), clock) == {a, b, c}
    group = {"any": [{"field": "priority", "operator": "eq", "value": "low"},
                     {"all": [{"field": "tag", "operator": "eq", "value": "vip"},
                              {"field": "priority", "operator": "eq", "value": "high"}]}]}
    assert matching(ext, group, clock) == {a, b}


@pytest.mark.parametrize("bad", [
    None, [], {"all": []}, {"none": []}, {"all": [{"field": "color", "operator": "eq",
                                                   "value": "red"}]},
    cond("priority", "gt", "high"), cond("priority", "eq", "blocker"),
    cond("hours_since_created", "gt", "ten"), cond("hours_since_created", "gt", -1),
    cond("unassigned", "eq", "yes"), cond("priority", "in", []),
    cond("department_id", "eq", "abc"), {"all": [{"field": "priority"}]},
    {"all": [{"all": [{"all": [{"all": [{"all": [{"all": [cond("priority", "eq", "low")]}]}]}]}]}]},
])
def test_bad_conditions_are_refused(bad):
    with pytest.raises(ValidationError):
        conditions.validate(bad)


def test_escalation_fires_once_per_window(ext, users, clock, signal_log):
    make_rule(ext, "escalation", cond("hours_since_created", "gte", 2),
              [{"type": "escalate"}, {"type": "set_priority", "value": "urgent"},
               {"type": "add_note", "value": "Escalated {reference}: {{ 7*7 }}"}])
    tid = new(ext, users)
    assert run(ext) == 0
    clock.advance(hours=3)
    assert run(ext) == 1
    t = ext.session.get(Ticket, tid)
    assert (t.status, t.priority) == ("escalated", "urgent")
    note = ext.session.execute(select(Reply).where(Reply.ticket_id == tid)).scalar_one()
    assert note.is_internal and note.body == f"Escalated {t.reference}: {{{{ 7*7 }}}}"
    escalated = [s for s in signal_log if s.name == "ticket_escalated"]
    assert escalated[0].kwargs["reason"] == "Escalation rule: Rule"
    # Still true: nothing more happens, however often it runs.
    clock.advance(hours=1)
    assert run(ext) == 0
    log = ext.session.execute(select(RuleLog)).scalar_one()
    assert log.actions == ["escalate", "set_priority", "add_note"] and log.error is None


def test_condition_false_then_true_again_refires(ext, users, clock):
    make_rule(ext, "escalation", cond("priority", "eq", "urgent"),
              [{"type": "add_tag", "value": "hot"}])
    tid = new(ext, users)
    with ext.unit_of_work():
        tickets.change_priority(tickets.get_ticket(tid), "urgent", Actor.system())
    assert run(ext) == 1
    assert run(ext) == 0
    with ext.unit_of_work():
        tickets.change_priority(tickets.get_ticket(tid), "low", Actor.system())
    assert run(ext) == 0  # re-armed, nothing to do
    assert ext.session.execute(select(func.count()).select_from(RuleFiring)).scalar_one() == 0
    with ext.unit_of_work():
        tickets.change_priority(tickets.get_ticket(tid), "urgent", Actor.system())
    assert run(ext) == 1
    assert ext.session.execute(select(func.count()).select_from(RuleLog)).scalar_one() == 2


def test_failing_action_is_logged_and_others_still_apply(ext, users, clock):
    make_rule(ext, "escalation", cond("priority", "eq", "medium"),
              [{"type": "set_status", "value": "reopened"},  # not allowed from open
               {"type": "add_tag", "value": "checked"}])
    tid = new(ext, users)
    assert run(ext) == 1
    log = ext.session.execute(select(RuleLog)).scalar_one()
    assert log.actions == ["add_tag"] and "set_status" in log.error
    assert [t.slug for t in ext.session.get(Ticket, tid).tags] == ["checked"]


def test_sla_breach_rule(ext, users, clock):
    ext.session.add(SlaPolicy(name="Fast", conditions={}, is_active=True, warning_minutes=0,
                              targets={"medium": {"first_response": 10}}))
    ext.session.commit()
    make_rule(ext, "escalation", cond("first_response_breached", "eq", True),
              [{"type": "assign_agent", "value": str(users.agent2.id)}])
    tid = new(ext, users)
    clock.advance(minutes=20)
    assert run(ext) == 0
    from flask_escalated.services import sla_sweep

    with ext.unit_of_work():
        sla_sweep.sweep_batch()
    assert run(ext) == 1
    assert ext.session.get(Ticket, tid).assignee_id == str(users.agent2.id)


def test_automation_never_refires_in_a_window_and_can_close(ext, users, clock):
    make_rule(ext, "automation",
              {"all": [{"field": "status_category", "operator": "eq", "value": "resolved"},
                       {"field": "hours_since_resolved", "operator": "gte", "value": 48}]},
              [{"type": "send_reply", "value": "Closing {reference} for now."},
               {"type": "close"}])
    tid = new(ext, users)
    with ext.unit_of_work():
        tickets.change_status(tickets.get_ticket(tid), "resolved", Actor.system())
    clock.advance(hours=49)
    with ext.unit_of_work():
        assert automations.run() == 1
    with ext.unit_of_work():
        assert automations.run() == 0
    ext.session.rollback()
    t = ext.session.get(Ticket, tid)
    assert t.status == "closed"


def test_two_workers_act_once(ext, app, users, clock, backend):
    if backend == "sqlite":
        pytest.skip("SQLite serialises writers")
    make_rule(ext, "escalation", cond("priority", "eq", "medium"),
              [{"type": "add_tag", "value": "once"}])
    ids = [new(ext, users) for _ in range(12)]
    barrier, errors = threading.Barrier(2), []

    def worker() -> None:
        try:
            with app.app_context():
                set_clock(clock)
                barrier.wait()
                for _ in range(20):
                    with ext.unit_of_work():
                        if not escalation.evaluate(limit=3):
                            break
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    run(ext)
    logs = ext.session.execute(select(RuleLog.ticket_id)).scalars().all()
    assert sorted(logs) == sorted(ids)


def test_api_crud_and_permissions(client_as, users, ext):
    admin, agent = client_as(users.admin), client_as(users.agent)
    body = {"name": "Urgent", "conditions": cond("priority", "eq", "urgent"),
            "actions": [{"type": "escalate"}]}
    assert agent.post("/support/api/v1/escalation-rules", json=body).status_code == 403
    r = admin.post("/support/api/v1/escalation-rules", json=body)
    assert r.status_code == 201, r.json
    rid = r.json["data"]["id"]
    assert agent.get("/support/api/v1/escalation-rules").status_code == 403
    assert admin.get("/support/api/v1/escalation-rules").json["data"][0]["id"] == rid
    r = admin.patch(f"/support/api/v1/escalation-rules/{rid}", json={"is_active": False})
    assert r.json["data"]["is_active"] is False
    for bad in ({**body, "actions": [{"type": "close"}]},
                {**body, "actions": [{"type": "notify_webhook", "value": {"url": "ftp://x"}}]},
                {**body, "conditions": {"all": [{"field": "nope", "operator": "eq"}]}},
                {**body, "name": ""}):
        r = admin.post("/support/api/v1/escalation-rules", json=bad)
        assert r.status_code == 422, (bad, r.json)
    assert admin.get(f"/support/api/v1/escalation-rules/{rid}/logs").json["data"] == []
    assert admin.delete(f"/support/api/v1/escalation-rules/{rid}").status_code == 204
    assert admin.get(f"/support/api/v1/escalation-rules/{rid}").status_code == 404
    auto = {"name": "Nudge", "conditions": cond("hours_since_updated", "gt", 24),
            "actions": [{"type": "send_reply", "value": "Any news?"}]}
    assert admin.post("/support/api/v1/automations", json=auto).status_code == 201
    assert admin.post("/support/api/v1/automations",
                      json={**auto, "actions": [{"type": "escalate"}]}).status_code == 422
    # What an action names must exist when the rule is saved, or it could never run.
    for action, why in (({"type": "set_status", "value": "nonsense"}, "no such status"),
                        ({"type": "assign_agent", "value": "zzz"}, "not an agent"),
                        ({"type": "assign_department", "value": "999"}, "no such department")):
        r = admin.post("/support/api/v1/escalation-rules", json={**body, "actions": [action]})
        assert r.status_code == 422 and r.json["error"]["fields"] == {"actions": f"[0]: {why}"}
    # A misspelled key inside the conditions is named by its path, as elsewhere in the API.
    for group, name in (
            ({"all": [{**cond("priority", "eq", "urgent"), "zz": 1}]}, "conditions.all[0].zz"),
            ({"all": [cond("priority", "eq", "urgent")], "zz": 1}, "conditions.zz"),
            ({"any": [{"all": [{**cond("priority", "eq", "low"), "valeu": "x"}]}]},
             "conditions.any[0].all[0].valeu")):
        r = admin.post("/support/api/v1/automations", json={**auto, "conditions": group})
        assert r.status_code == 422, r.json
        assert r.json["error"]["code"] == "unknown_field"
        assert r.json["error"]["unknown_fields"] == [name]


def test_commands(app, users):
    runner = app.test_cli_runner()
    for command in ("evaluate-escalations", "run-automations"):
        result = runner.invoke(args=["escalated", command])
        assert result.exit_code == 0 and "acted on 0 tickets" in result.output
