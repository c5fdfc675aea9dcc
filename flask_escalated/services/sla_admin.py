"""Admin management of SLA policies, business schedules and holidays.

Every change is audit-logged and drops the SLA cache. When a policy's targets or schedule change,
the open tickets on it are re-projected in batches, keeping the business time already used.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from ..domain import CLOSED_CATEGORIES, PRIORITIES
from ..events import Actor
from ..models import BusinessSchedule, Holiday, SlaPolicy, Ticket
from . import audit, business_hours, deletion, session, sla
from .errors import NotFound, ValidationError
from .ids import parse_id

REQUESTER_TYPES = ("user", "contact")


def _get(model: Any, ident: object, what: str) -> Any:
    number = parse_id(str(ident))
    row = session().get(model, number) if number is not None else None
    if row is None:
        raise NotFound(f"No such {what}.")
    return row


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 120:
        raise ValidationError(f"A {what} needs a name.", {"name": "1-120 characters"})
    return value.strip()


# ---------------------------------------------------------------------------- policies
def policy_values(p: SlaPolicy) -> dict[str, Any]:
    return {"name": p.name, "description": p.description, "is_active": p.is_active,
            "position": p.position, "conditions": p.conditions, "targets": p.targets,
            "schedule_id": p.schedule_id, "warning_minutes": p.warning_minutes}


def _clean_conditions(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) - {"priorities", "department_ids", "tags",
                                                "requester_types"}:
        raise ValidationError("conditions takes priorities, department_ids, tags and "
                              "requester_types.", {"conditions": "unknown key"})
    clean: dict[str, Any] = {}
    for key, allowed in (("priorities", PRIORITIES), ("requester_types", REQUESTER_TYPES)):
        values = raw.get(key) or []
        if not isinstance(values, list) or any(v not in allowed for v in values):
            raise ValidationError(f"{key}: values one of {', '.join(allowed)}.", {key: "bad"})
        if values:
            clean[key] = values
    ids = raw.get("department_ids") or []
    if not isinstance(ids, list) or any(isinstance(i, bool) or not isinstance(i, int)
                                        for i in ids):
        raise ValidationError("department_ids: a list of ids.", {"department_ids": "bad"})
    if ids:
        clean["department_ids"] = ids
    tags = raw.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise ValidationError("tags: a list of tag slugs.", {"tags": "bad"})
    if tags:
        clean["tags"] = tags
    return clean


def _apply_policy(p: SlaPolicy, data: dict[str, Any], creating: bool) -> None:
    if creating or "name" in data:
        p.name = _name(data.get("name"), "policy")
    if "description" in data:
        if data["description"] is not None and not isinstance(data["description"], str):
            raise ValidationError("description must be text.", {"description": "text"})
        p.description = data["description"]
    for key in ("is_active",):
        if key in data:
            if not isinstance(data[key], bool):
                raise ValidationError(f"{key} must be true or false.", {key: "boolean"})
            setattr(p, key, data[key])
    for key, low, high in (("position", -10_000, 10_000), ("warning_minutes", 0, 10_080)):
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValidationError(f"{key} must be a whole number from {low} to {high}.",
                                      {key: "out of range"})
            setattr(p, key, value)
    if creating or "conditions" in data:
        p.conditions = _clean_conditions(data.get("conditions"))
    if creating or "targets" in data:
        p.targets = sla.clean_targets(data.get("targets"))
    if "schedule_id" in data:
        if data["schedule_id"] is None:
            p.schedule_id = None
            p.schedule = None
        else:
            p.schedule = _get(BusinessSchedule, data["schedule_id"], "schedule")


def create_policy(actor: Actor, data: dict[str, Any]) -> SlaPolicy:
    p = SlaPolicy(is_active=True, position=0, warning_minutes=30)
    _apply_policy(p, data, creating=True)
    session().add(p)
    session().flush()
    sla.forget()
    audit.log(actor, "sla_policy.created", "sla_policy", p.id, new=policy_values(p))
    return p


def update_policy(actor: Actor, ident: object, data: dict[str, Any]) -> SlaPolicy:
    p = _get(SlaPolicy, ident, "SLA policy")
    old = policy_values(p)
    _apply_policy(p, data, creating=False)
    session().flush()
    sla.forget()
    audit.log(actor, "sla_policy.updated", "sla_policy", p.id, old=old, new=policy_values(p))
    return p


def delete_policy(actor: Actor, ident: object) -> None:
    p = _get(SlaPolicy, ident, "SLA policy")
    audit.log(actor, "sla_policy.deleted", "sla_policy", p.id, old=policy_values(p))
    deletion.delete_with_dependants(p)
    sla.forget()


def list_policies() -> list[SlaPolicy]:
    return list(session().execute(
        select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id)).scalars())


def get_policy(ident: object) -> SlaPolicy:
    return _get(SlaPolicy, ident, "SLA policy")  # type: ignore[no-any-return]


def reproject(policy_id: int | None = None, *, after_id: int = 0, limit: int = 500) -> int:
    """Re-project up to ``limit`` open tickets (on ``policy_id``, or all with a policy) with id
    above ``after_id``, keeping used time; returns the last id done (0: none left)."""
    query = select(Ticket).where(Ticket.status_category.not_in(CLOSED_CATEGORIES),
                                 Ticket.sla_policy_id.is_not(None), Ticket.id > after_id)
    if policy_id is not None:
        query = query.where(Ticket.sla_policy_id == policy_id)
    rows = list(session().execute(query.order_by(Ticket.id).limit(limit)).scalars())
    for ticket in rows:
        sla.reconsider(ticket)
    return rows[-1].id if rows else 0


# ---------------------------------------------------------------------------- schedules
def schedule_values(s: BusinessSchedule) -> dict[str, Any]:
    return {"name": s.name, "timezone": s.timezone, "hours": s.hours,
            "is_default": s.is_default}


def _apply_schedule(s: BusinessSchedule, data: dict[str, Any], creating: bool) -> None:
    if creating or "name" in data:
        s.name = _name(data.get("name"), "schedule")
    if creating or "timezone" in data:
        s.timezone = business_hours.zone(data.get("timezone", "UTC")).key
    if creating or "hours" in data:
        hours = data.get("hours")
        business_hours.parse_week(hours if isinstance(hours, dict) else None)  # type: ignore[arg-type]
        s.hours = hours  # type: ignore[assignment]
    if "is_default" in data:
        if not isinstance(data["is_default"], bool):
            raise ValidationError("is_default must be true or false.", {"is_default": "bool"})
        s.is_default = data["is_default"]


def create_schedule(actor: Actor, data: dict[str, Any]) -> BusinessSchedule:
    s = BusinessSchedule(is_default=False)
    s.holidays = []
    _apply_schedule(s, data, creating=True)
    session().add(s)
    session().flush()
    sla.forget()
    audit.log(actor, "schedule.created", "business_schedule", s.id, new=schedule_values(s))
    return s


def update_schedule(actor: Actor, ident: object, data: dict[str, Any]) -> BusinessSchedule:
    s = _get(BusinessSchedule, ident, "schedule")
    old = schedule_values(s)
    _apply_schedule(s, data, creating=False)
    session().flush()
    sla.forget()
    audit.log(actor, "schedule.updated", "business_schedule", s.id, old=old,
              new=schedule_values(s))
    return s


def delete_schedule(actor: Actor, ident: object) -> None:
    s = _get(BusinessSchedule, ident, "schedule")
    audit.log(actor, "schedule.deleted", "business_schedule", s.id, old=schedule_values(s))
    deletion.delete_with_dependants(s)
    sla.forget()


def list_schedules() -> list[BusinessSchedule]:
    return list(session().execute(select(BusinessSchedule).order_by(BusinessSchedule.id))
                .scalars())


def get_schedule(ident: object) -> BusinessSchedule:
    return _get(BusinessSchedule, ident, "schedule")  # type: ignore[no-any-return]


def add_holiday(actor: Actor, schedule_ident: object, data: dict[str, Any]) -> Holiday:
    s = get_schedule(schedule_ident)
    name, raw, recurring = data.get("name"), data.get("date"), data.get("recurring", False)
    try:
        day = date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationError("date must be YYYY-MM-DD.", {"date": "invalid"})
    if not isinstance(recurring, bool):
        raise ValidationError("recurring must be true or false.", {"recurring": "bool"})
    holiday = Holiday(schedule_id=s.id, name=_name(name, "holiday"), date=day,
                      recurring=recurring)
    session().add(holiday)
    session().flush()
    sla.forget()
    audit.log(actor, "holiday.created", "holiday", holiday.id,
              new={"schedule_id": s.id, "name": holiday.name, "date": raw,
                   "recurring": recurring})
    return holiday


def delete_holiday(actor: Actor, schedule_ident: object, holiday_ident: object) -> None:
    s = get_schedule(schedule_ident)
    holiday = _get(Holiday, holiday_ident, "holiday")
    if holiday.schedule_id != s.id:
        raise NotFound("No such holiday.")
    audit.log(actor, "holiday.deleted", "holiday", holiday.id,
              old={"name": holiday.name, "date": holiday.date.isoformat()})
    deletion.delete_with_dependants(holiday)
    sla.forget()
