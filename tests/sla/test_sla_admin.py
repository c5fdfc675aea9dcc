"""The SLA admin API: policies, schedules, holidays; re-projection keeps used time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import AuditLog, Ticket
from flask_escalated.services import statuses, tickets

pytestmark = pytest.mark.all_databases

API = "/support/api/v1"
HOURS = {d: [{"start": "09:00", "end": "17:00"}]
         for d in ("monday", "tuesday", "wednesday", "thursday", "friday")}


def test_policy_and_schedule_crud(client_as, users, app):
    admin, agent = client_as(users.admin), client_as(users.agent)
    r = admin.post(f"{API}/business-schedules", json={"name": "Berlin",
                                                       "timezone": "Europe/Berlin",
                                                       "hours": HOURS})
    assert r.status_code == 201, r.json
    sid = r.json["data"]["id"]
    r = admin.post(f"{API}/business-schedules/{sid}/holidays",
                   json={"name": "Xmas", "date": "2026-12-25", "recurring": True})
    assert r.status_code == 201
    hid = r.json["data"]["id"]
    assert admin.get(f"{API}/business-schedules/{sid}").json["data"]["holidays"][0]["name"] \
        == "Xmas"
    body = {"name": "Gold", "targets": {"high": {"first_response": 60, "resolution": 480}},
            "conditions": {"priorities": ["high"]}, "schedule_id": sid}
    r = admin.post(f"{API}/sla-policies", json=body)
    assert r.status_code == 201, r.json
    pid = r.json["data"]["id"]
    assert agent.post(f"{API}/sla-policies", json=body).status_code == 403
    assert agent.get(f"{API}/sla-policies").status_code == 403
    for bad in ({**body, "targets": {"high": {"first_response": 0}}},
                {**body, "targets": {"blocker": {"first_response": 5}}},
                {**body, "targets": {"high": {"lunch": 5}}},
                {**body, "conditions": {"priorities": ["nope"]}},
                {**body, "schedule_id": 999999},
                {**body, "name": ""}, {**body, "warning_minutes": -5}):
        assert admin.post(f"{API}/sla-policies", json=bad).status_code in (404, 422), bad
    for bad in ({"name": "x", "timezone": "Mars/Base", "hours": HOURS},
                {"name": "x", "timezone": "UTC", "hours": {"monday": "all day"}},
                {"name": "x", "timezone": "UTC", "hours": None}):
        assert admin.post(f"{API}/business-schedules", json=bad).status_code == 422, bad
    assert admin.post(f"{API}/business-schedules/{sid}/holidays",
                      json={"name": "x", "date": "25/12"}).status_code == 422
    assert admin.delete(f"{API}/business-schedules/{sid}/holidays/{hid}").status_code == 204
    assert admin.patch(f"{API}/sla-policies/{pid}", json={"is_active": False}).status_code \
        == 200
    assert admin.delete(f"{API}/sla-policies/{pid}").status_code == 204
    assert admin.delete(f"{API}/business-schedules/{sid}").status_code == 204
    ext = app.extensions["escalated"]
    ext.session.rollback()
    actions = set(ext.session.execute(select(AuditLog.action)).scalars())
    assert {"sla_policy.created", "sla_policy.updated", "sla_policy.deleted",
            "schedule.created", "holiday.created", "holiday.deleted"} <= actions


def test_policy_change_reprojects_keeping_used_time(client_as, users, app, clock):
    admin = client_as(users.admin)
    pid = admin.post(f"{API}/sla-policies", json={
        "name": "Std", "targets": {"medium": {"resolution": 120}}}).json["data"]["id"]
    ext = app.extensions["escalated"]
    ext.session.rollback()  # see what the requests committed (REPEATABLE READ on MariaDB)
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="s", description="d", requester_user_id=str(users.customer.id)),
            Actor.system())
    clock.advance(minutes=45)
    r = admin.patch(f"{API}/sla-policies/{pid}",
                    json={"targets": {"medium": {"resolution": 300}}})
    assert r.status_code == 200, r.json
    ext.session.rollback()
    assert ext.session.get(Ticket, t.id).resolution_due_at == \
        clock.current + timedelta(minutes=255)
    detail = client_as(users.agent).get(f"{API}/tickets/{t.id}").json["data"]
    assert detail["sla"] == [{"target": "resolution", "state": "ok",
                              "due_at": detail["sla"][0]["due_at"],
                              "remaining_minutes": 255.0, "breached_at": None}]


def test_custom_status_can_pause_the_clock(app, users, clock, client_as):
    admin = client_as(users.admin)
    admin.post(f"{API}/sla-policies", json={"name": "Std",
                                             "targets": {"medium": {"resolution": 120}}})
    r = admin.post(f"{API}/statuses", json={"slug": "third_party", "label": "Third party",
                                            "category": "waiting_on_agent", "pauses_sla": True})
    assert r.status_code == 201
    ext = app.extensions["escalated"]
    ext.session.rollback()  # see what the requests committed (REPEATABLE READ on MariaDB)
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="s", description="d", requester_user_id=str(users.customer.id)),
            Actor.system())
    clock.advance(minutes=30)
    with ext.unit_of_work():
        tickets.change_status(tickets.get_ticket(t.id), "third_party", Actor.system())
    ext.session.rollback()
    assert ext.session.get(Ticket, t.id).sla_paused_at is not None
    clock.advance(hours=3)
    with ext.unit_of_work():
        tickets.change_status(tickets.get_ticket(t.id), "in_progress", Actor.system())
    ext.session.rollback()
    assert ext.session.get(Ticket, t.id).resolution_due_at == \
        clock.current + timedelta(minutes=90)
    assert statuses.resolve("third_party").category == "waiting_on_agent"


def test_a_schedule_open_no_hour_gives_no_due_times_and_refuses_nothing(app, users):
    """A policy counting on a schedule with no shifts cannot reach a target: its tickets are
    created (and changed) normally, with no due times, instead of a 422."""
    from flask_escalated.events import Actor
    from flask_escalated.services import sla_admin, tickets

    ext = app.extensions["escalated"]
    with ext.unit_of_work():
        schedule = sla_admin.create_schedule(Actor.system(), {"name": "Closed", "hours": {}})
        sla_admin.create_policy(Actor.system(), {
            "name": "Never", "targets": {"high": {"first_response": 60}},
            "schedule_id": schedule.id})
        t = tickets.create_ticket(tickets.NewTicket(
            requester_user_id=str(users.customer.id), subject="s", description="d",
            priority="high"), Actor.system())
        tickets.change_priority(t, "urgent", Actor.system())
        tickets.change_priority(t, "high", Actor.system())
    assert t.sla_policy_id is not None
    assert (t.first_response_due_at, t.resolution_due_at) == (None, None)
