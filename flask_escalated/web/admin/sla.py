"""Console sections for service levels: SLA policies and business schedules (with their
holidays); escalation rules live in :mod:`.escalation` and register from here.

Both sections edit what the API's ``/sla-policies`` and ``/business-schedules`` take, through
the same schemas and :mod:`...services.sla_admin`, with two widgets of their own:

* a policy's targets are a grid (priorities as rows, first response / next response /
  resolution as columns, minutes in each cell, empty = no target) and its conditions are
  checkboxes plus a tag input; both are turned into the schema's ``targets`` and
  ``conditions`` (:func:`_policy_input`), so a refused cell is named by the schema's own path
  (``targets.high.first_response``), which is the cell's input name;
* a schedule's weekly hours are a few interval rows per weekday (split shifts; an end at or
  before the start runs past midnight, as :mod:`...services.business_hours` counts it), and
  its holidays a sub-list on its edit page that posts to the API's holiday operations'
  services.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from ...domain import PRIORITIES
from ...events import Actor
from ...models import BusinessSchedule, SlaPolicy
from ...services import departments, ext, sla_admin, tags
from ...services.business_hours import WEEKDAYS
from ...services.errors import NotFound, ServiceError
from ...services.ids import parse_id
from ...services.sla import TARGETS
from ..api.schemas.sla import (
    HolidayCreate,
    PolicyCreate,
    PolicyUpdate,
    ScheduleCreate,
    ScheduleUpdate,
)
from ..api.sla import REPROJECT_IN_REQUEST
from ..forms import FieldSpec, FormData, initial_values, read_form, specs_for
from ..security import current_principal, requires
from .crud import (
    Column,
    Confirmation,
    Resource,
    confirmation_page,
    link,
    register,
    simple_rows,
)

PERMISSION = "sla.manage"
TARGET_LABELS = {"first_response": "First response", "next_response": "Next response",
                 "resolution": "Resolution"}
REQUESTER_LABELS = {"user": "Signed-in users", "contact": "Guests (e-mail, widget)"}
_DIGITS = re.compile(r"^[0-9]{1,9}$")


# ---------------------------------------------------------------------------- policies
def _target_input(priority: str, target: str) -> str:
    """A grid cell's input name: the schema's path of the value, so its error lands there."""
    return f"targets.{priority}.{target}"


COND_INPUTS = ("conditions.priorities", "conditions.department_ids", "conditions.tags",
               "conditions.tags.other", "conditions.requester_types")
GRID_INPUTS = tuple(_target_input(p, t) for p in PRIORITIES for t in TARGETS)


def _number(text: str) -> Any:
    """Minutes as JSON would carry them (ASCII digits), else the text for the schema to
    refuse."""
    return int(text) if _DIGITS.match(text) else text


def _typed_tags(text: str) -> list[str]:
    """The tag input: comma-separated names, matched as the tags' slugs."""
    out = []
    for part in text.split(","):
        part = part.strip()
        if part:
            out.append(tags.slugify(part) or part)
    return out


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _policy_input() -> tuple[dict[str, Any], list[str]]:
    """``extra_input``: the grid's cells as ``targets`` and the condition inputs as
    ``conditions``, for :class:`PolicyCreate` / :class:`PolicyUpdate` to validate."""
    form = request.form
    targets: dict[str, dict[str, Any]] = {}
    for priority in PRIORITIES:
        row = {t: _number(raw) for t in TARGETS
               if (raw := (form.get(_target_input(priority, t)) or "").strip())}
        if row:
            targets[priority] = row
    conditions: dict[str, list[Any]] = {
        "priorities": _unique([v for v in form.getlist("conditions.priorities") if v]),
        "department_ids": _unique([parse_id(v) or v for v in
                                   form.getlist("conditions.department_ids") if v]),
        "tags": _unique([v for v in form.getlist("conditions.tags") if v]
                        + _typed_tags(form.get("conditions.tags.other") or "")),
        "requester_types": _unique([v for v in form.getlist("conditions.requester_types")
                                    if v]),
    }
    return ({"targets": targets, "conditions": {k: v for k, v in conditions.items() if v}},
            [*GRID_INPUTS, *COND_INPUTS])


@dataclass
class Cell:
    name: str
    label: str
    value: str
    error: str | None = None


@dataclass
class Choice:
    value: str
    label: str
    checked: bool


@dataclass
class PolicyEditor:
    """The grid and the condition checkboxes of a policy's page."""

    grid: list[tuple[str, list[Cell]]]
    targets: list[tuple[str, str]]
    priorities: list[Choice]
    departments: list[Choice]
    tags: list[Choice]
    other_tags: str
    requester_types: list[Choice]
    errors: dict[str, str] = field(default_factory=dict)


def _error_key(key: str) -> str:
    """Where a policy error shows: a grid cell, or one group of condition inputs."""
    base = key.split("[", 1)[0]
    if base in ("priorities", "department_ids", "tags", "requester_types"):
        return f"conditions.{base}"  # the service's names
    return base


def _policy_editor(row: SlaPolicy | None, errors: Mapping[str, str]) -> PolicyEditor:
    form = request.form
    posted = request.method == "POST" and any(k.startswith("targets.") or k in COND_INPUTS
                                              for k in form)
    if posted:
        def cell(priority: str, target: str) -> str:
            return form.get(_target_input(priority, target)) or ""

        chosen = {name: set(form.getlist(name)) for name in COND_INPUTS}
        other = form.get("conditions.tags.other") or ""
    else:
        targets = (row.targets if row is not None else None) or {}
        stored = (row.conditions if row is not None else None) or {}

        def cell(priority: str, target: str) -> str:
            value = (targets.get(priority) or {}).get(target)
            return "" if value is None else str(value)

        chosen = {f"conditions.{k}": {str(v) for v in stored.get(k) or []}
                  for k in ("priorities", "department_ids", "tags", "requester_types")}
        known = {t.slug for t in tags.list_tags()}
        other = ", ".join(t for t in stored.get("tags") or [] if t not in known)
    shown: dict[str, str] = {}
    for key, message in errors.items():
        shown.setdefault(_error_key(key), message)
    if isinstance(shown.get("targets"), str) and re.fullmatch(r"\w+\.\w+", shown["targets"]):
        where = shown.pop("targets")  # the service names the cell: "high.first_response"
        shown[f"targets.{where}"] = "whole minutes from 1 to 527040"
    grid = [(p, [Cell(_target_input(p, t), f"{TARGET_LABELS[t]} for {p} priority",
                      cell(p, t), shown.get(_target_input(p, t))) for t in TARGETS])
            for p in PRIORITIES]

    def choices(name: str, options: list[tuple[str, str]]) -> list[Choice]:
        return [Choice(v, label, v in chosen.get(name, set())) for v, label in options]

    return PolicyEditor(
        grid=grid, targets=[(t, TARGET_LABELS[t]) for t in TARGETS],
        priorities=choices("conditions.priorities", [(p, p.capitalize()) for p in PRIORITIES]),
        departments=choices("conditions.department_ids",
                            [(str(d.id), d.name) for d in departments.list_departments()]),
        tags=choices("conditions.tags", [(t.slug, t.name) for t in tags.list_tags()]),
        other_tags=other,
        requester_types=choices("conditions.requester_types",
                                [(t, REQUESTER_LABELS.get(t, t))
                                 for t in sla_admin.REQUESTER_TYPES]),
        errors=shown)


def _schedule_choices() -> list[tuple[str, str]]:
    return [(str(s.id), f"{s.name} ({s.timezone})") for s in sla_admin.list_schedules()]


def _policy_specs(model: Any) -> list[FieldSpec]:
    return specs_for(
        model, only=["name", "description", "is_active", "position", "warning_minutes",
                     "schedule_id"],
        description={"widget": "textarea", "rows": 2},
        is_active={"label": "Active", "help": "Only active policies are given to tickets."},
        position={"help": "Policies are tried from the lowest position up; a new ticket gets "
                          "the first whose conditions it meets."},
        warning_minutes={"label": "Warning (minutes before due)",
                         "help": "How long before a target is due agents are warned, in the "
                                 "policy's business time."},
        schedule_id={"label": "Counted on", "widget": "select",
                     "choices": _schedule_choices(), "blank": "Calendar time (every minute)",
                     "help": "Targets count business time on this schedule's hours and "
                             "holidays, or every minute of the day."})


def _update_policy(actor: Actor, ident: int, data: dict[str, Any]) -> SlaPolicy:
    """Save, then re-project the open tickets on the policy when its targets or schedule
    changed, as the API's update does (a form posts every field, so compare)."""
    before = sla_admin.get_policy(ident)
    old = (copy.deepcopy(before.targets), before.schedule_id)
    policy = sla_admin.update_policy(actor, ident, data)
    if (policy.targets, policy.schedule_id) != old:
        sla_admin.reproject(policy.id, limit=REPROJECT_IN_REQUEST)
    return policy


def _covers(p: SlaPolicy) -> str:
    cond = p.conditions or {}
    parts = []
    if cond.get("priorities"):
        parts.append("priority " + ", ".join(cond["priorities"]))
    if cond.get("department_ids"):
        parts.append(f"{len(cond['department_ids'])} department(s)")
    if cond.get("tags"):
        parts.append("tag " + ", ".join(cond["tags"]))
    if cond.get("requester_types"):
        parts.append(" or ".join(REQUESTER_LABELS.get(t, t).lower()
                                 for t in cond["requester_types"]))
    return "; ".join(parts) or "every ticket"


def _minutes(value: Any) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        return "—"
    if value % 1440 == 0:
        return f"{value // 1440} d"
    if value % 60 == 0:
        return f"{value // 60} h"
    return f"{value} min"


def _targets_cell(p: SlaPolicy) -> Markup:
    lines = [Markup("{}: {}").format(priority, " / ".join(
        _minutes((p.targets or {}).get(priority, {}).get(t)) for t in TARGETS))
        for priority in PRIORITIES if (p.targets or {}).get(priority)]
    return Markup("<br>").join(lines) if lines else Markup("none")


SLA_POLICIES = Resource(
    name="sla-policies", label="SLA policies", singular="SLA policy", view=PERMISSION,
    create_permission=PERMISSION, edit_permission=PERMISSION, delete_permission=PERMISSION,
    load=sla_admin.get_policy, serialize=sla_admin.policy_values,
    rows=simple_rows(sla_admin.list_policies),
    columns=[Column("Name", link("sla-policies", lambda p: p.name)),
             Column("Active", lambda p: "yes" if p.is_active else "no"),
             Column("Position", lambda p: p.position),
             Column("Covers", _covers),
             Column("Targets (first / next / resolution)", _targets_cell),
             Column("Counted on", lambda p: p.schedule.name if p.schedule is not None
                    else "calendar time")],
    create_model=PolicyCreate, update_model=PolicyUpdate,
    create=sla_admin.create_policy, update=_update_policy, delete=sla_admin.delete_policy,
    specs=_policy_specs, extra_input=_policy_input,
    context=lambda row: {"policy_editor": lambda errors: _policy_editor(row, errors)},
    form_template="escalated/admin/sla_policy_form.html",
    initial=lambda: {"is_active": True, "position": 0, "warning_minutes": 30},
    intro="A policy gives the tickets it covers due times for first response, next response "
          "and resolution, per priority, counted on a business schedule or in calendar time.")


# ---------------------------------------------------------------------------- schedules
#: Interval rows a day shows at least (blank rows are unused).
INTERVAL_ROWS = 3
#: The schema's limit of intervals a day.
MAX_INTERVALS = 24
_HOURS_INPUT = re.compile(r"^hours\.(" + "|".join(WEEKDAYS) + r")\.(\d{1,2})\.(start|end)$")
_STASH = "_escalated_schedule_rows"


@cache
def time_zones() -> tuple[str, ...]:
    """The IANA names this machine knows (the service checks the name again)."""
    return tuple(sorted(available_timezones() | {"UTC"}))


def _zone_choices(current: str | None = None) -> list[tuple[str, str]]:
    zones = list(time_zones())
    if current and current not in zones:
        zones.insert(0, current)
    return [(z, z.replace("_", " ")) for z in zones]


def _posted_rows(form: Mapping[str, Any]) -> dict[str, list[int]]:
    """The form indices of each day's interval rows, in order."""
    found: dict[str, set[int]] = {d: set() for d in WEEKDAYS}
    for key in form:
        m = _HOURS_INPUT.match(key)
        if m and int(m.group(2)) < MAX_INTERVALS * 2:
            found[m.group(1)].add(int(m.group(2)))
    return {d: sorted(found[d]) for d in WEEKDAYS}


def _schedule_input() -> tuple[dict[str, Any], list[str]]:
    """``extra_input``: each day's filled interval rows as the schema's ``hours`` (a day with
    none is closed). Which row each interval came from is kept to place errors."""
    form = request.form
    rows = _posted_rows(form)
    hours: dict[str, list[dict[str, str]]] = {}
    origin: dict[tuple[str, int], int] = {}
    for day, indices in rows.items():
        intervals: list[dict[str, str]] = []
        for i in indices:
            start = (form.get(f"hours.{day}.{i}.start") or "").strip()
            end = (form.get(f"hours.{day}.{i}.end") or "").strip()
            if start or end:
                origin[(day, len(intervals))] = i
                intervals.append({"start": start, "end": end})
        if intervals:
            hours[day] = intervals
    g._escalated_schedule_rows = origin
    consumed = [f"hours.{d}.{i}.{edge}" for d, indices in rows.items() for i in indices
                for edge in ("start", "end")]
    return {"hours": hours}, consumed


@dataclass
class Interval:
    index: int
    start: str
    end: str
    error: str | None = None

    @property
    def overnight(self) -> bool:
        """An end at or before the start: the shift runs past midnight."""
        return bool(re.fullmatch(r"\d\d:\d\d", self.start) and re.fullmatch(
            r"\d\d:\d\d", self.end)) and self.end <= self.start and self.end != "24:00"


@dataclass
class Day:
    name: str
    label: str
    intervals: list[Interval]
    error: str | None = None


@dataclass
class ScheduleEditor:
    days: list[Day]
    #: The form's errors with the hours' placed by day (what the summary lists).
    errors: dict[str, str]
    error: str | None = None

    @property
    def open(self) -> bool:
        """Some shift is filled in (a week without one gives no business time at all)."""
        return any(iv.start or iv.end for d in self.days for iv in d.intervals)


def _place_errors(errors: Mapping[str, str], origin: Mapping[tuple[str, int], int]
                  ) -> tuple[dict[tuple[str, int], str], dict[str, str], dict[str, str]]:
    """``(cell errors by (day, form row), day errors, the remaining form errors)``.

    The schema names an interval ``hours.monday.list[...][1].start`` (its type is a union),
    the service ``monday`` or ``monday.start``; either is shown on the row or the day."""
    cells: dict[tuple[str, int], str] = {}
    days: dict[str, str] = {}
    rest: dict[str, str] = {}
    noise: dict[str, str] = {}
    for key, message in errors.items():
        parts = key.split(".", 2)
        day = parts[1] if parts[0] == "hours" and len(parts) > 1 else parts[0]
        if day not in WEEKDAYS:
            rest[key] = message
            continue
        tail = key.split(".", 2)[2] if parts[0] == "hours" and len(parts) > 2 else ""
        if tail.startswith("dict["):
            noise[day] = message  # the single-interval reading of the day: shown if alone
            continue
        m = re.search(r"\]\[(\d+)\]\.?(start|end)?$", tail)
        if m and (day, int(m.group(1))) in origin:
            edge = f"{m.group(2)}: " if m.group(2) else ""
            cells[(day, origin[(day, int(m.group(1)))])] = edge + message
        else:
            edge = f"{parts[1]}: " if parts[0] == day and len(parts) > 1 else ""
            days[day] = edge + message
    for day, message in noise.items():
        if day not in days and not any(d == day for d, _ in cells):
            days[day] = message
    return cells, days, rest


def _schedule_editor(row: BusinessSchedule | None, errors: Mapping[str, str]
                     ) -> ScheduleEditor:
    form = request.form
    posted = request.method == "POST" and any(_HOURS_INPUT.match(k) for k in form)
    days: list[Day] = []
    cells, day_errors, rest = _place_errors(errors, g.get(_STASH) or {})
    for day in WEEKDAYS:
        if posted:
            indices = _posted_rows(form)[day]
            intervals = [Interval(n, form.get(f"hours.{day}.{i}.start") or "",
                                  form.get(f"hours.{day}.{i}.end") or "", cells.get((day, i)))
                         for n, i in enumerate(indices)]
        else:
            stored = ((row.hours if row is not None else None) or {}).get(day) or []
            stored = [stored] if isinstance(stored, Mapping) else stored
            intervals = [Interval(n, str(iv.get("start", "")), str(iv.get("end", "")))
                         for n, iv in enumerate(stored) if isinstance(iv, Mapping)]
        spare = max(INTERVAL_ROWS - len(intervals), 0 if posted else 1)
        spare = min(spare, MAX_INTERVALS - len(intervals))
        intervals += [Interval(len(intervals) + n, "", "") for n in range(spare)]
        days.append(Day(day, day.capitalize(), intervals, day_errors.get(day)))
    summary = dict(rest)
    for d in days:
        problems = ([d.error] if d.error else []) + [
            f"shift {iv.index + 1}: {iv.error}" for iv in d.intervals if iv.error]
        if problems:
            summary[d.label] = "; ".join(problems)
    return ScheduleEditor(days, summary, rest.get("hours"))


def _schedule_specs(model: Any) -> list[FieldSpec]:
    return specs_for(
        model, only=["name", "timezone", "is_default"],
        timezone={"label": "Time zone", "widget": "select", "choices": _zone_choices(),
                  "blank": None,
                  "help": "The hours below are wall-clock times in this zone; daylight "
                          "saving is followed."},
        is_default={"label": "The desk's default schedule",
                    "help": "Reports count days in the default schedule's time zone."})


def _holiday_specs() -> list[FieldSpec]:
    return specs_for(HolidayCreate, date={"widget": "date"},
                     recurring={"label": "Every year",
                                "help": "The same day and month every year."})


def _schedule_context(row: BusinessSchedule | None,
                      holiday: FormData[Any] | None = None) -> dict[str, Any]:
    specs = _holiday_specs()
    return {"schedule_editor": lambda errors: _schedule_editor(row, errors),
            "holiday_specs": specs,
            "holiday_form": holiday or FormData(values=initial_values({}, specs))}


def _schedule_days(s: BusinessSchedule) -> str:
    hours = s.hours or {}
    open_days = [d[:3].capitalize() for d in WEEKDAYS if hours.get(d)]
    return ", ".join(open_days) or "closed every day"


BUSINESS_SCHEDULES = Resource(
    name="business-schedules", label="Business schedules", singular="business schedule",
    view=PERMISSION, create_permission=PERMISSION, edit_permission=PERMISSION,
    delete_permission=PERMISSION,
    load=sla_admin.get_schedule, serialize=sla_admin.schedule_values,
    rows=simple_rows(sla_admin.list_schedules),
    columns=[Column("Name", link("business-schedules", lambda s: s.name)),
             Column("Time zone", lambda s: s.timezone),
             Column("Open", _schedule_days),
             Column("Holidays", lambda s: len(s.holidays)),
             Column("Default", lambda s: "yes" if s.is_default else "")],
    create_model=ScheduleCreate, update_model=ScheduleUpdate,
    create=sla_admin.create_schedule, update=sla_admin.update_schedule,
    delete=sla_admin.delete_schedule, specs=_schedule_specs, extra_input=_schedule_input,
    context=_schedule_context, form_template="escalated/admin/schedule_form.html",
    edit_panels=["escalated/admin/schedule_holidays.html"],
    initial=lambda: {"timezone": "UTC", "is_default": False},
    intro="Opening hours per weekday in a time zone, with holidays: SLA policies count "
          "their targets on them.")


# ---------------------------------------------------------------------------- holidays
def _schedule_page(row: BusinessSchedule, holiday: FormData[Any], status: int
                   ) -> tuple[str, int]:
    """The schedule's edit page with the holiday form as posted (beside its errors)."""
    res = BUSINESS_SCHEDULES
    specs = res.inputs(ScheduleUpdate)
    values = initial_values(res.serialize(row), specs)
    return render_template(res.form_template, res=res, row=row, specs=specs, values=values,
                           errors={}, editable=True, **_schedule_context(row, holiday)), status


@requires(PERMISSION)
def add_holiday(ident: int) -> Response | tuple[str, int]:
    schedule = sla_admin.get_schedule(ident)
    form = read_form(HolidayCreate, _holiday_specs())
    status = 422
    if form.ok:
        assert form.model is not None
        data = form.model.model_dump()
        try:
            with ext().unit_of_work():
                sla_admin.add_holiday(current_principal().actor, schedule.id, data)
        except ServiceError as exc:
            form.fail(exc)
            status = exc.status
        else:
            flash(f"The holiday “{data['name']}” was added.", "success")
            return redirect(url_for(BUSINESS_SCHEDULES.endpoint("edit"), ident=schedule.id)
                            + "#holidays")
    return _schedule_page(schedule, form, status)


@requires(PERMISSION)
def delete_holiday(ident: int, holiday_id: int) -> Response | tuple[str, int] | str:
    schedule = sla_admin.get_schedule(ident)
    holiday = next((h for h in schedule.holidays if h.id == holiday_id), None)
    if holiday is None:
        raise NotFound("No such holiday.")
    edit = url_for(BUSINESS_SCHEDULES.endpoint("edit"), ident=schedule.id)
    confirm = Confirmation(
        title="Remove holiday",
        question=f"Remove the holiday “{holiday.name}” ({holiday.date.isoformat()}"
                 f"{', every year' if holiday.recurring else ''})?",
        consequence="Business time will be counted on that day again.",
        action=url_for("escalated.admin.business_schedules_holiday_delete", ident=schedule.id,
                       holiday_id=holiday.id),
        back=f"{edit}#holidays", button="Remove", parent=(schedule.name, edit))
    if request.method == "POST":
        name = holiday.name
        try:
            with ext().unit_of_work():
                sla_admin.delete_holiday(current_principal().actor, schedule.id, holiday_id)
        except ServiceError as exc:
            return confirmation_page(BUSINESS_SCHEDULES, confirm, exc)
        flash(f"The holiday “{name}” was removed.", "success")
        return redirect(f"{edit}#holidays")
    return confirmation_page(BUSINESS_SCHEDULES, confirm)


def register_all(bp: Blueprint) -> None:
    from . import escalation

    register(bp, SLA_POLICIES)
    register(bp, BUSINESS_SCHEDULES)
    base = f"/{BUSINESS_SCHEDULES.name}/<escalated_id:ident>/holidays"
    bp.add_url_rule(base, "business_schedules_holiday_add", add_holiday, methods=["POST"])
    bp.add_url_rule(f"{base}/<escalated_id:holiday_id>/delete",
                    "business_schedules_holiday_delete", delete_holiday,
                    methods=["GET", "POST"])
    escalation.register_all(bp)
