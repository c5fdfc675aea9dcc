"""Departments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from ....services.assignment import STRATEGIES
from ._base import Body, Out, UserRef, absent

DeptName = Annotated[str, Field(min_length=1, max_length=120, examples=["Billing"])]
DeptSlug = Annotated[str, Field(min_length=1, max_length=80, examples=["billing"])]
Strategy = Literal[STRATEGIES]  # type: ignore[valid-type]
AgentIds = Annotated[list[UserRef], Field(max_length=1000, description="User ids of the "
                                          "department's agents (the whole set).")]


class DepartmentCreate(Body):
    name: DeptName
    slug: DeptSlug | None = Field(None, description="Default: from the name.")
    description: Annotated[str, Field(max_length=2000)] | None = None
    is_active: bool = absent()
    assignment_strategy: Strategy = absent()
    agent_ids: AgentIds = absent()


class DepartmentUpdate(DepartmentCreate):
    name: DeptName = absent()


class DepartmentRef(Out):
    id: int
    name: str
    slug: str


class DepartmentOut(DepartmentRef):
    description: str | None
    is_active: bool
    assignment_strategy: Strategy
    agent_ids: list[str]
    created_at: datetime | None


class DepartmentEnvelope(Out):
    data: DepartmentOut


class DepartmentList(Out):
    data: list[DepartmentOut]
