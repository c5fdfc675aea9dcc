"""Agents: host users with an agent profile (role, roles, departments, load limit)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ._base import Body, Id, Out, absent
from .roles import RoleSlug
from .skills import AgentSkillOut

MaxOpen = Annotated[int, Field(ge=1, le=10_000, description="At most this many open tickets "
                               "assigned at once (null: no limit).")]
Roles = Annotated[list[RoleSlug], Field(max_length=100, description="Roles granted everywhere "
                                        "besides the base role (the whole set; grants limited "
                                        "to a department are kept).")]
DepartmentIds = Annotated[list[Id], Field(max_length=1000, description="The departments the "
                                          "agent works in (the whole set).")]


class AgentCreate(Body):
    """Make a host user an agent."""

    user: Annotated[str, Field(min_length=1, max_length=254, examples=["sam@example.com"],
                               description="The user's e-mail address or host user id.")]
    role: RoleSlug = Field("agent", description="The base role.")
    roles: Roles = absent()
    department_ids: DepartmentIds = absent()
    max_open_tickets: MaxOpen | None = None


class AgentUpdate(Body):
    role: RoleSlug = absent()
    roles: Roles = absent()
    department_ids: DepartmentIds = absent()
    max_open_tickets: MaxOpen | None = absent()


class AgentGrant(Out):
    role: str
    department_id: int | None


class AgentOut(Out):
    user_id: str
    name: str
    email: str | None
    role: str
    roles: list[str]
    grants: list[AgentGrant]
    department_ids: list[int]
    max_open_tickets: int | None
    is_active: bool
    skills: list[AgentSkillOut]
    capacity: dict[str, int] = Field(description="Open tickets at once per channel "
                                     "('default': all together).")
    availability: str = Field(description="online or away (away: no automatic assignment).")


class AgentEnvelope(Out):
    data: AgentOut
