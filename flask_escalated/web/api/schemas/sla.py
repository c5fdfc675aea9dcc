"""SLA policies, business schedules and holidays."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ....domain import PRIORITIES
from ....services.sla import TARGETS
from ....services.sla_admin import REQUESTER_TYPES
from ._base import Body, Id, Out, Position, absent
from .common import Timestamp
from .rules import Description

PolicyName = Annotated[str, Field(min_length=1, max_length=120, examples=["Standard"])]
Minutes = Annotated[int, Field(ge=1, le=60 * 24 * 366)]
Priority = Literal[PRIORITIES]  # type: ignore[valid-type]
Target = Literal[TARGETS]  # type: ignore[valid-type]


class PolicyConditions(Body):
    """Which tickets the policy covers (every list: any of; empty: all)."""

    priorities: list[Priority] | None = None
    department_ids: Annotated[list[Id], Field(max_length=500)] | None = None
    tags: Annotated[list[Annotated[str, Field(min_length=1, max_length=80)]],
                    Field(max_length=50)] | None = None
    requester_types: list[Literal[REQUESTER_TYPES]] | None = None  # type: ignore[valid-type]


Targets = Annotated[dict[Priority, dict[Target, Minutes | None]], Field(
    description="Business minutes per priority and target.",
    examples=[{"urgent": {"first_response": 30, "resolution": 240}}])]


class PolicyCreate(Body):
    name: PolicyName
    description: Description | None = None
    is_active: bool = absent()
    position: Position = absent()
    warning_minutes: Annotated[int, Field(ge=0, le=10_080)] = absent()
    conditions: PolicyConditions | None = None
    targets: Targets
    schedule_id: Id | None = Field(None, description="null: calendar time.")


class PolicyUpdate(PolicyCreate):
    name: PolicyName = absent()
    targets: Targets = absent()


Interval = Annotated[dict[Literal["start", "end"], Annotated[str, Field(
    pattern=r"^[0-9]{2}:[0-9]{2}$")]], Field(examples=[{"start": "09:00", "end": "17:00"}])]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Hours = Annotated[
    dict[Weekday, Annotated[list[Interval], Field(max_length=24)] | Interval | None],
    Field(description="Opening hours per weekday (a list of intervals, or one); a day left "
                      "out is closed.")]


class ScheduleCreate(Body):
    name: PolicyName
    timezone: Annotated[str, Field(max_length=64, examples=["Europe/Paris"])] = Field(
        "UTC", description="An IANA time-zone name.")
    hours: Hours
    is_default: bool = absent()


class ScheduleUpdate(ScheduleCreate):
    name: PolicyName = absent()
    timezone: Annotated[str, Field(max_length=64)] = absent()
    hours: Hours = absent()


class HolidayCreate(Body):
    name: PolicyName
    date: Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                               json_schema_extra={"format": "date"},
                               examples=["2026-12-25"])]
    recurring: bool = False


# ---------------------------------------------------------------------------- responses
class PolicyOut(Out):
    id: int
    name: str
    description: str | None
    is_active: bool
    position: int
    warning_minutes: int
    conditions: dict[str, list[Any]] = Field(description="Which tickets it covers (see "
                                             "PolicyConditions); {} covers all.")
    targets: dict[Priority, dict[Target, int | None]]
    schedule_id: int | None
    created_at: Timestamp


class PolicyEnvelope(Out):
    data: PolicyOut


class PolicyList(Out):
    data: list[PolicyOut]


class HolidayOut(Out):
    id: int
    name: str
    date: str = Field(json_schema_extra={"format": "date"}, examples=["2026-12-25"])
    recurring: bool


class HolidayEnvelope(Out):
    data: HolidayOut


class ScheduleOut(Out):
    id: int
    name: str
    timezone: str = Field(examples=["Europe/Paris"])
    hours: dict[Weekday, list[dict[Literal["start", "end"], str]] | dict[
        Literal["start", "end"], str] | None]
    is_default: bool
    holidays: list[HolidayOut]


class ScheduleEnvelope(Out):
    data: ScheduleOut


class ScheduleList(Out):
    data: list[ScheduleOut]
