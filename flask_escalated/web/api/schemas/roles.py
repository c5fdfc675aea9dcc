"""Custom roles and agents' roles."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ._base import Body, Id, absent

RoleSlug = Annotated[str, Field(min_length=2, max_length=60, pattern=r"^[a-z0-9_-]+$",
                                examples=["billing_lead"])]
RoleName = Annotated[str, Field(min_length=1, max_length=120, examples=["Billing lead"])]
Permissions = Annotated[list[Annotated[str, Field(min_length=1, max_length=80)]], Field(
    min_length=1, max_length=500, description="Permission slugs or patterns (ticket.*, *).",
    examples=[["ticket.view", "reply.*"]])]


class RoleCreate(Body):
    slug: RoleSlug
    name: RoleName
    description: Annotated[str, Field(max_length=2000)] | None = None
    permissions: Permissions


class RoleUpdate(Body):
    name: RoleName = absent()
    description: Annotated[str, Field(max_length=2000)] | None = None
    permissions: Permissions = absent()


class Grant(Body):
    role: RoleSlug
    department_id: Id | None = Field(None, description="null: everywhere.")


class AgentRoles(Body):
    """An agent's base role and extra grants (each list replaces the old one)."""

    role: RoleSlug = absent()
    grants: Annotated[list[Grant], Field(max_length=200)] = absent()
