"""The admin-surfaces fixtures mapped onto real behaviour (not onto a table of claims).

- ``triggered_by``: the schedule runs automations; a domain event runs a workflow; an agent's
  request runs a macro. Each is exercised and its effect observed.
- condition and trigger acceptance: the API is asked to store each and must accept or refuse.
- ``is_admin_surface``: whether an agent (system role ``agent``) may create one.
"""

from __future__ import annotations

from typing import Any

from flask_escalated.events import Actor
from flask_escalated.jobs.schedule import SCHEDULE
from flask_escalated.services import tickets

API = "/support/api/v1"
TAG = {"type": "add_tag", "value": "surface"}


def _clients(app: Any, people: Any) -> tuple[Any, Any]:
    return app.test_client(user=people.admin), app.test_client(user=people.agent)


def _ticket(app: Any, people: Any) -> int:
    ext = app.extensions["escalated"]
    with app.app_context(), ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="s", description="d", requester_user_id=str(people.customer.id)),
            Actor.system())
        return t.id


def _tags(admin: Any, ticket_id: int) -> list[str]:
    return [t["slug"] for t in admin.get(f"{API}/tickets/{ticket_id}").get_json()["data"]["tags"]]


def check_surface(make_app: Any, users_for: Any, surface: str, expect: dict[str, Any]) -> None:
    app = make_app()
    people = users_for(app)
    admin, agent = _clients(app, people)
    {"automations": _automations, "workflows": _workflows, "macros": _macros}[surface](
        app, people, admin, agent, expect)


def _automations(app: Any, people: Any, admin: Any, agent: Any, expect: dict[str, Any]) -> None:
    assert expect["triggered_by"] == "schedule"
    assert "run_automations" in {p.task for p in SCHEDULE}
    for field in expect["evaluates_conditions_like"]:
        body = {"name": field, "actions": [TAG],
                "conditions": {"all": [{"field": field, "operator": "gte", "value": 0}]}}
        assert admin.post(f"{API}/automations", json=body).status_code == 201, field
    evented = {"name": "evented", "actions": [TAG], "trigger_events": ["ticket.created"],
               "conditions": {"all": [{"field": "priority", "operator": "eq", "value": "low"}]}}
    accepted = admin.post(f"{API}/automations", json=evented).status_code == 201
    assert accepted is expect["accepts_event_trigger"]
    # The schedule acts; the event alone does not.
    tid = _ticket(app, people)
    assert "surface" not in _tags(admin, tid)
    from flask_escalated.jobs import tasks

    with app.app_context():
        tasks.run_automations()
    assert "surface" in _tags(admin, tid)
    body = {"name": "by agent", "actions": [TAG],
            "conditions": {"all": [{"field": "priority", "operator": "eq", "value": "low"}]}}
    agent_may = agent.post(f"{API}/automations", json=body).status_code == 201
    assert (not agent_may) is expect["is_admin_surface"]


def _workflows(app: Any, people: Any, admin: Any, agent: Any, expect: dict[str, Any]) -> None:
    assert expect["triggered_by"] == "events"
    for i, trigger in enumerate(expect["example_triggers"]):
        body = {"name": f"w{i}", "trigger_events": [trigger],
                "actions": [{"type": "add_tag", "value": f"wf-{i}"}],
                "conditions": {"all": [{"field": "status_category", "operator": "neq",
                                        "value": "closed"}]}}
        assert admin.post(f"{API}/workflows", json=body).status_code == 201, trigger
    timed = {"name": "timed", "trigger_events": ["ticket.created"], "actions": [TAG],
             "conditions": {"all": [{"field": "hours_since_created", "operator": "gte",
                                     "value": 1}]}}
    scheduled = {"name": "scheduled", "schedule": "every 5 minutes", "actions": [TAG],
                 "conditions": {"all": []}}
    takes_time = any(admin.post(f"{API}/workflows", json=b).status_code == 201
                     for b in (timed, scheduled))
    assert takes_time is expect["accepts_time_trigger"]
    # The events fire them, with no schedule involved.
    tid = _ticket(app, people)
    assert "wf-0" in _tags(admin, tid)
    assert admin.post(f"{API}/tickets/{tid}/replies", json={"body": "hi"}).status_code == 201
    assert "wf-1" in _tags(admin, tid)
    body = {"name": "by agent", "trigger_events": ["ticket.created"], "actions": [TAG],
            "conditions": {"all": []}}
    agent_may = agent.post(f"{API}/workflows", json=body).status_code == 201
    assert (not agent_may) is expect["is_admin_surface"]


def _macros(app: Any, people: Any, admin: Any, agent: Any, expect: dict[str, Any]) -> None:
    assert expect["triggered_by"] == "agent"
    with_conditions = {"name": "c", "actions": [TAG],
                       "conditions": {"all": [{"field": "priority", "operator": "eq",
                                               "value": "low"}]}}
    with_trigger = {"name": "t", "actions": [TAG], "trigger_events": ["ticket.created"]}
    assert (agent.post(f"{API}/macros", json=with_conditions).status_code == 201) \
        is expect["has_conditions"]
    assert (agent.post(f"{API}/macros", json=with_trigger).status_code == 201) \
        is expect["has_triggers"]
    created = agent.post(f"{API}/macros", json={"name": "Tag it", "actions": [TAG]})
    assert (created.status_code != 201) is expect["is_admin_surface"]
    tid = _ticket(app, people)
    assert "surface" not in _tags(admin, tid)
    macro_id = created.get_json()["data"]["id"]
    applied = agent.post(f"{API}/tickets/{tid}/macros/{macro_id}", json={})
    assert applied.status_code == 200 and "surface" in _tags(admin, tid)
