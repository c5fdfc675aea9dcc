"""The console's SLA sections: policies (targets grid, condition checkboxes), business
schedules (split and overnight shifts, holidays), and the promise they exist for: a ticket
opened after an admin set both up through the pages gets the policy, due on the schedule."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest

from flask_escalated.events import Actor
from flask_escalated.models import AuditLog, BusinessSchedule, Holiday, SlaPolicy, Ticket
from flask_escalated.services import departments, sla_admin, tags, tickets

from .conftest import db, field_error
from .html_forms import form_pairs

pytestmark = pytest.mark.all_databases

SYSTEM = Actor.system()
TOO_MANY_TAGS = ", ".join(f"tag{i}" for i in range(51))
WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday")


def audit_actions(ext) -> list[str]:
    ext.session.rollback()  # see what the requests committed (REPEATABLE READ on MariaDB)
    return [a for (a,) in ext.session.query(AuditLog.action).order_by(AuditLog.id)]


def cell_error(html: str, name: str) -> str | None:
    """The error shown under the grid cell / interval / input ``name``."""
    match = re.search(rf'id="f-{re.escape(name)}-error">([^<]*)<', html)
    return match.group(1) if match else None


def made_schedule(ext, **over) -> BusinessSchedule:
    with ext.unit_of_work():
        row = sla_admin.create_schedule(SYSTEM, {
            "name": "Office", "timezone": "Europe/Berlin",
            "hours": {d: [{"start": "09:00", "end": "17:00"}] for d in WEEK}, **over})
    return row


# ---------------------------------------------------------------------------- policies
def test_admin_creates_edits_and_deletes_a_policy_with_the_grid(admin, ext, users):
    office = made_schedule(ext)
    with ext.unit_of_work():
        billing = departments.create_department(SYSTEM, {"name": "Billing"})
        tags.create_tag(SYSTEM, "VIP")
    admin.get("/sla-policies/new")
    html = admin.html
    assert 'name="targets.urgent.first_response"' in html
    assert 'name="targets.low.resolution"' in html and 'name="conditions"' not in html
    assert f'<option value="{office.id}"' in html and "Calendar time" in html
    assert 'name="is_active" value="true" checked' in html  # a new policy starts active
    r = admin.post("/sla-policies/new", [
        ("name", "Gold"), ("description", "For the big ones"), ("is_active", "true"),
        ("position", "2"), ("warning_minutes", "15"), ("schedule_id", str(office.id)),
        ("targets.urgent.first_response", "30"), ("targets.urgent.resolution", "240"),
        ("targets.high.first_response", " 60 "), ("targets.high.next_response", ""),
        ("conditions.priorities", "urgent"), ("conditions.priorities", "high"),
        ("conditions.department_ids", str(billing.id)), ("conditions.tags", "vip"),
        ("conditions.tags.other", "Key Account, vip"),
        ("conditions.requester_types", "user")], status=302)
    policy = db(ext).query(SlaPolicy).filter_by(name="Gold").one()
    assert r.headers["Location"].endswith(f"/support/admin/sla-policies/{policy.id}")
    assert policy.targets == {"urgent": {"first_response": 30, "resolution": 240},
                              "high": {"first_response": 60}}
    assert policy.conditions == {"priorities": ["urgent", "high"],
                                 "department_ids": [billing.id],
                                 "tags": ["vip", "key-account"], "requester_types": ["user"]}
    assert (policy.schedule_id, policy.position, policy.warning_minutes, policy.is_active) \
        == (office.id, 2, 15, True)

    html = admin.get(f"/sla-policies/{policy.id}")
    assert 'name="targets.urgent.resolution" value="240"' in html
    assert 'name="conditions.tags.other" value="key-account"' in html
    # calendar time, one cell cleared, one changed, conditions dropped
    admin.post(f"/sla-policies/{policy.id}", [
        ("name", "Gold"), ("description", ""), ("is_active", "true"), ("position", "2"),
        ("warning_minutes", "15"), ("schedule_id", ""),
        ("targets.urgent.first_response", "45"), ("targets.high.first_response", "")],
        status=302)
    policy = db(ext).get(SlaPolicy, policy.id)
    assert policy.targets == {"urgent": {"first_response": 45}}
    assert (policy.conditions, policy.schedule_id, policy.description) == ({}, None, None)

    listing = admin.get("/sla-policies")
    assert "Gold" in listing and "urgent: 45 min / — / —" in listing
    policy_id = policy.id
    admin.get(f"/sla-policies/{policy_id}/delete")
    admin.post(f"/sla-policies/{policy_id}/delete", {}, status=302)
    assert db(ext).get(SlaPolicy, policy_id) is None
    assert [a for a in audit_actions(ext) if a.startswith("sla_policy.")] == [
        "sla_policy.created", "sla_policy.updated", "sla_policy.deleted"]


def test_a_bad_grid_cell_is_named_in_its_cell_and_the_text_kept(admin, ext):
    admin.get("/sla-policies/new")
    r = admin.post("/sla-policies/new", {
        "name": "Gold", "warning_minutes": "30", "targets.high.first_response": "1h",
        "targets.urgent.resolution": "0", "conditions.tags.other": TOO_MANY_TAGS}, status=422)
    html = r.get_data(as_text=True)
    assert "whole number" in cell_error(html, "targets.high.first_response")
    assert "greater than or equal to 1" in cell_error(html, "targets.urgent.resolution")
    assert cell_error(html, "conditions.tags")
    assert 'name="targets.high.first_response" value="1h"' in html
    assert 'name="targets.urgent.resolution" value="0"' in html and TOO_MANY_TAGS in html
    assert db(ext).query(SlaPolicy).count() == 0


def test_a_refused_policy_keeps_its_ticks_and_names_the_field(admin, ext):
    admin.get("/sla-policies/new")
    r = admin.post("/sla-policies/new", [
        ("name", ""), ("warning_minutes", "-5"), ("targets.low.resolution", "600"),
        ("conditions.priorities", "low"), ("conditions.priorities", "blocker")], status=422)
    html = r.get_data(as_text=True)
    assert field_error(html, "name") and field_error(html, "warning_minutes")
    assert cell_error(html, "conditions.priorities")
    assert re.search(r'name="conditions.priorities" value="low"\s+checked', html)
    assert 'name="targets.low.resolution" value="600"' in html
    # a schedule that is not there: the service's refusal, not a 500
    admin.get("/sla-policies/new")
    r = admin.post("/sla-policies/new", {"name": "x", "schedule_id": "987654"})
    assert r.status_code in (404, 422)
    assert db(ext).query(SlaPolicy).count() == 0


def test_the_policy_page_posts_back_unchanged(admin, ext):
    office = made_schedule(ext)
    with ext.unit_of_work():
        dept = departments.create_department(SYSTEM, {"name": "Support"})
        tags.create_tag(SYSTEM, "VIP")
        policy = sla_admin.create_policy(SYSTEM, {
            "name": "Std", "description": "Every ticket", "position": 3,
            "warning_minutes": 20, "schedule_id": office.id,
            "conditions": {"priorities": ["low", "critical"], "department_ids": [dept.id],
                           "tags": ["vip", "key-account"],
                           "requester_types": ["user", "contact"]},
            "targets": {p: {"first_response": 60, "next_response": 120, "resolution": 1440}
                        for p in ("low", "medium", "high", "urgent", "critical")}})
    before = sla_admin.policy_values(policy)
    html = admin.get(f"/sla-policies/{policy.id}")
    admin.post(f"/sla-policies/{policy.id}", form_pairs(html, f"/sla-policies/{policy.id}"),
               status=302)
    assert sla_admin.policy_values(db(ext).get(SlaPolicy, policy.id)) == before


def test_changing_targets_on_the_page_reprojects_open_tickets(admin, ext, users, clock):
    with ext.unit_of_work():
        policy = sla_admin.create_policy(SYSTEM, {
            "name": "Std", "targets": {"medium": {"resolution": 120}}})
        ticket = tickets.create_ticket(tickets.NewTicket(
            subject="s", description="d", requester_user_id=str(users.customer.id)), SYSTEM)
    assert ticket.resolution_due_at.replace(tzinfo=timezone.utc) == datetime(
        2026, 3, 2, 11, 0, tzinfo=timezone.utc)
    clock.advance(minutes=30)
    admin.get(f"/sla-policies/{policy.id}")
    pairs = [(k, "300" if k == "targets.medium.resolution" else v)
             for k, v in form_pairs(admin.html, f"/sla-policies/{policy.id}")]
    admin.post(f"/sla-policies/{policy.id}", pairs, status=302)
    ticket = db(ext).get(Ticket, ticket.id)
    assert ticket.resolution_due_at.replace(tzinfo=timezone.utc) == datetime(
        2026, 3, 2, 14, 0, tzinfo=timezone.utc)


# ---------------------------------------------------------------------------- schedules
def test_admin_builds_a_schedule_with_split_and_overnight_shifts(admin, ext):
    html = admin.get("/business-schedules/new")
    assert '<option value="Europe/Berlin"' in html and 'value="UTC" selected' in html
    assert 'name="hours.monday.2.start"' in html  # three rows a day without JavaScript
    assert "runs past midnight" in html  # the help says how overnight shifts work
    r = admin.post("/business-schedules/new", [
        ("name", "Night desk"), ("timezone", "Europe/Berlin"), ("is_default", "true"),
        ("hours.monday.0.start", "09:00"), ("hours.monday.0.end", "12:00"),
        ("hours.monday.1.start", ""), ("hours.monday.1.end", ""),
        ("hours.monday.2.start", "13:00"), ("hours.monday.2.end", "17:30"),
        ("hours.friday.0.start", "22:00"), ("hours.friday.0.end", "06:00"),
        ("hours.sunday.0.start", "00:00"), ("hours.sunday.0.end", "24:00")], status=302)
    row = db(ext).query(BusinessSchedule).filter_by(name="Night desk").one()
    assert r.headers["Location"].endswith(f"/business-schedules/{row.id}")
    assert row.hours == {
        "monday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:30"}],
        "friday": [{"start": "22:00", "end": "06:00"}],
        "sunday": [{"start": "00:00", "end": "24:00"}]}
    assert (row.timezone, row.is_default) == ("Europe/Berlin", True)

    html = admin.get(f"/business-schedules/{row.id}")
    friday = html[html.index('data-schedule-day="friday"'):
                  html.index('data-schedule-day="saturday"')]
    assert "runs past midnight" in friday
    assert 'name="hours.monday.2.start"' in html and 'name="hours.monday.3.start"' not in html
    assert "closed every day" not in html
    admin.post(f"/business-schedules/{row.id}", [
        ("name", "Night desk"), ("timezone", "UTC"),
        ("hours.monday.0.start", "09:00"), ("hours.monday.0.end", "12:00")], status=302)
    row = db(ext).get(BusinessSchedule, row.id)
    assert row.hours == {"monday": [{"start": "09:00", "end": "12:00"}]}
    assert (row.timezone, row.is_default) == ("UTC", False)
    assert "Mon" in admin.get("/business-schedules")
    admin.get(f"/business-schedules/{row.id}")
    admin.post(f"/business-schedules/{row.id}", {"name": "Night desk", "timezone": "UTC"},
               status=302)
    assert "closed every day" in admin.get(f"/business-schedules/{row.id}")
    row_id = row.id
    admin.get(f"/business-schedules/{row_id}/delete")
    admin.post(f"/business-schedules/{row_id}/delete", {}, status=302)
    assert db(ext).get(BusinessSchedule, row_id) is None
    assert [a for a in audit_actions(ext) if a.startswith("schedule.")] == [
        "schedule.created", "schedule.updated", "schedule.updated", "schedule.deleted"]


def test_a_bad_interval_is_named_on_its_row_and_the_text_kept(admin, ext):
    admin.get("/business-schedules/new")
    r = admin.post("/business-schedules/new", [
        ("name", "Office"), ("timezone", "Europe/Berlin"),
        ("hours.monday.0.start", "09:00"), ("hours.monday.0.end", "17:00"),
        ("hours.monday.1.start", ""), ("hours.monday.1.end", ""),
        ("hours.monday.2.start", "9am"), ("hours.monday.2.end", "18:00")], status=422)
    html = r.get_data(as_text=True)
    # the third row (the second interval) is the bad one
    assert "HH:MM" in cell_error(html, "hours.monday.2")
    assert 'value="9am"' in html and "list[" not in html
    # overlapping shifts: the service names the day
    admin.get("/business-schedules/new")
    r = admin.post("/business-schedules/new", [
        ("name", "Office"), ("timezone", "UTC"),
        ("hours.tuesday.0.start", "09:00"), ("hours.tuesday.0.end", "17:00"),
        ("hours.tuesday.1.start", "12:00"), ("hours.tuesday.1.end", "13:00")], status=422)
    assert "overlap" in cell_error(r.get_data(as_text=True), "hours.tuesday")
    admin.get("/business-schedules/new")
    r = admin.post("/business-schedules/new", {"name": "Office", "timezone": "Mars/Base"},
                   status=422)
    assert field_error(r.get_data(as_text=True), "timezone")
    assert db(ext).query(BusinessSchedule).count() == 0


def test_the_schedule_page_posts_back_unchanged(admin, ext):
    row = made_schedule(ext, hours={
        "monday": [{"start": "08:00", "end": "12:00"}, {"start": "12:30", "end": "16:30"}],
        "wednesday": [{"start": "06:00", "end": "10:00"}, {"start": "11:00", "end": "13:00"},
                      {"start": "14:00", "end": "18:00"}, {"start": "20:00", "end": "02:00"}],
        "saturday": [{"start": "10:00", "end": "14:00"}]}, is_default=True)
    before = sla_admin.schedule_values(row)
    html = admin.get(f"/business-schedules/{row.id}")
    assert 'name="hours.wednesday.4.start"' in html  # four shifts and a spare row
    admin.post(f"/business-schedules/{row.id}",
               form_pairs(html, f"/business-schedules/{row.id}"), status=302)
    assert sla_admin.schedule_values(db(ext).get(BusinessSchedule, row.id)) == before


def test_holidays_are_added_and_removed_on_the_schedule_page(admin, ext):
    row = made_schedule(ext)
    html = admin.get(f"/business-schedules/{row.id}")
    assert "No holidays yet." in html
    path = f"/business-schedules/{row.id}/holidays"
    r = admin.post(path, {"name": "Christmas", "date": "2026-12-25", "recurring": "true"},
                   status=302)
    assert r.headers["Location"].endswith(f"/business-schedules/{row.id}#holidays")
    holiday = db(ext).query(Holiday).filter_by(schedule_id=row.id).one()
    assert (holiday.name, holiday.date, holiday.recurring) == ("Christmas", date(2026, 12, 25),
                                                              True)
    html = admin.get(f"/business-schedules/{row.id}")
    assert "25 December" in html and "every year" in html
    # a bad date: the schedule's page again, the holiday form naming the field
    r = admin.post(path, {"name": "Boxing day", "date": "26/12/2026"}, status=422)
    html = r.get_data(as_text=True)
    assert re.search(r'id="h-date-error">[^<]+<', html)
    assert 'value="Boxing day"' in html and 'value="26/12/2026"' in html
    assert 'name="hours.monday.0.start" value="09:00"' in html
    assert admin.post(path, {"name": "x", "date": "2026-01-01", "colour": "red"}).status_code \
        == 422
    delete = f"{path}/{holiday.id}/delete"
    assert "Remove the holiday" in admin.get(delete)
    admin.post(delete, {}, status=302)
    assert db(ext).query(Holiday).count() == 0
    admin.get(f"{path}/987654/delete", status=404)
    assert [a for a in audit_actions(ext) if a.startswith("holiday.")] == [
        "holiday.created", "holiday.deleted"]


def test_agents_customers_and_strangers_are_kept_out(console, users, client_as, ext):
    row = made_schedule(ext)
    for user in (users.agent, users.customer):
        c = console(user)
        for path in ("/sla-policies", "/sla-policies/new", "/business-schedules",
                     f"/business-schedules/{row.id}"):
            c.get(path, status=403)
    r = client_as(users.agent).post(f"/support/admin/business-schedules/{row.id}/holidays",
                                    data={"name": "x", "date": "2026-01-01"})
    assert r.status_code in (400, 403)
    r = client_as(None).get("/support/admin/sla-policies")
    assert r.status_code in (302, 401)
    assert db(ext).query(Holiday).count() == 0


# ---------------------------------------------------------------------------- the promise
def test_a_ticket_opened_after_setting_up_in_the_pages_gets_the_policy_on_the_schedule(
        admin, api, ext, users, clock):
    """Monday 2 March 2026, 09:00 UTC (10:00 in Berlin). The desk works 09-12 and 13-17,
    Monday to Friday, and takes Tuesday 3 March off."""
    admin.get("/business-schedules/new")
    shifts = [(f"hours.{d}.{i}.{edge}", t) for d in WEEK
              for i, (start, end) in enumerate((("09:00", "12:00"), ("13:00", "17:00")))
              for edge, t in (("start", start), ("end", end))]
    r = admin.post("/business-schedules/new", [("name", "Berlin office"),
                                               ("timezone", "Europe/Berlin"), *shifts],
                   status=302)
    schedule_path = r.headers["Location"].split("/support/admin")[1]
    schedule_id = int(schedule_path.rsplit("/", 1)[1])
    admin.get(schedule_path)
    admin.post(f"{schedule_path}/holidays", {"name": "Team day", "date": "2026-03-03"},
               status=302)
    admin.get("/sla-policies/new")
    admin.post("/sla-policies/new", [
        ("name", "High priority"), ("is_active", "true"), ("warning_minutes", "30"),
        ("schedule_id", str(schedule_id)), ("conditions.priorities", "high"),
        ("targets.high.first_response", "240"), ("targets.high.resolution", "600")],
        status=302)
    policy = db(ext).query(SlaPolicy).filter_by(name="High priority").one()

    r = api(users.customer).post("/tickets", {"subject": "Printer on fire",
                                              "description": "Help", "priority": "high"})
    assert r.status_code == 201, r.get_json()
    ext.session.rollback()
    ticket = db(ext).get(Ticket, r.get_json()["data"]["id"])
    assert ticket.sla_policy_id == policy.id

    def utc(value):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value

    # 4 business hours: 10-12 and 13-15 Berlin time, i.e. 14:00 UTC (calendar time: 13:00)
    assert utc(ticket.first_response_due_at) == datetime(2026, 3, 2, 14, 0, tzinfo=timezone.utc)
    # 10 hours: Monday 10-12, 13-17 (6), Tuesday off, Wednesday 9-12, 13-14 (4): 13:00 UTC
    assert utc(ticket.resolution_due_at) == datetime(2026, 3, 4, 13, 0, tzinfo=timezone.utc)
    assert utc(ticket.first_response_warning_at) == datetime(2026, 3, 2, 13, 30,
                                                             tzinfo=timezone.utc)
    low = api(users.customer).post("/tickets", {"subject": "s", "description": "d",
                                                "priority": "low"})
    ext.session.rollback()
    assert db(ext).get(Ticket, low.get_json()["data"]["id"]).sla_policy_id is None
