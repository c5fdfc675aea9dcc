"""JSON API v1: SLA policies, business schedules and holidays."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ...models import BusinessSchedule, Holiday, SlaPolicy
from ...services import sla_admin
from ...services.serializers import iso
from ..security import current_principal
from .base import route
from .commit import committed
from .schemas import parse_body
from .schemas.sla import (
    HolidayCreate,
    HolidayEnvelope,
    PolicyCreate,
    PolicyEnvelope,
    PolicyList,
    PolicyUpdate,
    ScheduleCreate,
    ScheduleEnvelope,
    ScheduleList,
    ScheduleUpdate,
)

#: Tickets re-projected inside the request after a policy change; check-sla and later
#: changes pick up the rest (their due times are re-projected whenever they change).
REPROJECT_IN_REQUEST = 1000



def _policy(p: SlaPolicy) -> dict[str, Any]:
    return {"id": p.id, **sla_admin.policy_values(p), "created_at": iso(p.created_at)}


def _holiday(h: Holiday) -> dict[str, Any]:
    return {"id": h.id, "name": h.name, "date": h.date.isoformat(), "recurring": h.recurring}


def _schedule(s: BusinessSchedule) -> dict[str, Any]:
    return {"id": s.id, **sla_admin.schedule_values(s),
            "holidays": [_holiday(h) for h in s.holidays]}


@route("/sla-policies", ["GET"], summary="List SLA policies", tag="SLA", permission="sla.view",
       response=PolicyList)
def list_policies() -> Response:
    return jsonify({"data": [_policy(p) for p in sla_admin.list_policies()]})


@route("/sla-policies", ["POST"], summary="Create an SLA policy", tag="SLA",
       permission="sla.manage", body=PolicyCreate, status=201, response=PolicyEnvelope)
def create_policy() -> tuple[Response, int]:
    data = parse_body(PolicyCreate).changes()
    with committed():
        p = sla_admin.create_policy(current_principal().actor, data)
    return jsonify({"data": _policy(p)}), 201


@route("/sla-policies/<int:policy_id>", ["GET"], summary="Show an SLA policy", tag="SLA",
       permission="sla.view", response=PolicyEnvelope)
def show_policy(policy_id: int) -> Response:
    return jsonify({"data": _policy(sla_admin.get_policy(policy_id))})


@route("/sla-policies/<int:policy_id>", ["PATCH"], summary="Update an SLA policy (open "
       "tickets on it are re-projected, keeping used time)", tag="SLA",
       permission="sla.manage", body=PolicyUpdate, response=PolicyEnvelope)
def update_policy(policy_id: int) -> Response:
    data = parse_body(PolicyUpdate).changes()
    with committed():
        p = sla_admin.update_policy(current_principal().actor, policy_id, data)
    if {"targets", "schedule_id"} & set(data):
        with committed():
            sla_admin.reproject(p.id, limit=REPROJECT_IN_REQUEST)
    return jsonify({"data": _policy(sla_admin.get_policy(policy_id))})


@route("/sla-policies/<int:policy_id>", ["DELETE"], summary="Delete an SLA policy", tag="SLA",
       permission="sla.manage", status=204)
def delete_policy(policy_id: int) -> tuple[str, int]:
    with committed():
        sla_admin.delete_policy(current_principal().actor, policy_id)
    return "", 204


@route("/business-schedules", ["GET"], summary="List business schedules", tag="SLA",
       permission="sla.view", response=ScheduleList)
def list_schedules() -> Response:
    return jsonify({"data": [_schedule(s) for s in sla_admin.list_schedules()]})


@route("/business-schedules", ["POST"], summary="Create a business schedule", tag="SLA",
       permission="sla.manage", body=ScheduleCreate, status=201, response=ScheduleEnvelope)
def create_schedule() -> tuple[Response, int]:
    data = parse_body(ScheduleCreate).changes()
    with committed():
        s = sla_admin.create_schedule(current_principal().actor, data)
    return jsonify({"data": _schedule(s)}), 201


@route("/business-schedules/<int:schedule_id>", ["GET"], summary="Show a schedule", tag="SLA",
       permission="sla.view", response=ScheduleEnvelope)
def show_schedule(schedule_id: int) -> Response:
    return jsonify({"data": _schedule(sla_admin.get_schedule(schedule_id))})


@route("/business-schedules/<int:schedule_id>", ["PATCH"], summary="Update a schedule",
       tag="SLA", permission="sla.manage", body=ScheduleUpdate,
       response=ScheduleEnvelope)
def update_schedule(schedule_id: int) -> Response:
    data = parse_body(ScheduleUpdate).changes()
    with committed():
        s = sla_admin.update_schedule(current_principal().actor, schedule_id, data)
    return jsonify({"data": _schedule(s)})


@route("/business-schedules/<int:schedule_id>", ["DELETE"], summary="Delete a schedule",
       tag="SLA", permission="sla.manage", status=204)
def delete_schedule(schedule_id: int) -> tuple[str, int]:
    with committed():
        sla_admin.delete_schedule(current_principal().actor, schedule_id)
    return "", 204


@route("/business-schedules/<int:schedule_id>/holidays", ["POST"], summary="Add a holiday",
       tag="SLA", permission="sla.manage", status=201,
       body=HolidayCreate, response=HolidayEnvelope)
def add_holiday(schedule_id: int) -> tuple[Response, int]:
    data = parse_body(HolidayCreate).model_dump()
    with committed():
        h = sla_admin.add_holiday(current_principal().actor, schedule_id, data)
    return jsonify({"data": _holiday(h)}), 201


@route("/business-schedules/<int:schedule_id>/holidays/<int:holiday_id>", ["DELETE"],
       summary="Remove a holiday", tag="SLA", permission="sla.manage", status=204)
def delete_holiday(schedule_id: int, holiday_id: int) -> tuple[str, int]:
    with committed():
        sla_admin.delete_holiday(current_principal().actor, schedule_id, holiday_id)
    return "", 204
