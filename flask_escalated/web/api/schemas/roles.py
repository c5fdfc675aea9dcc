"""Custom roles and agents' roles."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ._base import Body, Id, Out, absent
from .common import UserOut

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


# ---------------------------------------------------------------------------- responses
class RoleOut(Out):
    slug: str
    name: str
    description: str | None
    permissions: list[str] = Field(description="As stored: slugs and patterns.")
    effective_permissions: list[str] = Field(description="The patterns expanded.")
    system: bool


class RoleEnvelope(Out):
    data: RoleOut


class RoleList(Out):
    data: list[RoleOut]


class GrantOut(Out):
    role: str
    department_id: int | None


class AgentRolesOut(Out):
    user: UserOut | None
    role: str
    grants: list[GrantOut]
    permissions: dict[str, list[str]] = Field(
        description="Permissions by department id ('*': everywhere).")


class AgentRolesEnvelope(Out):
    data: AgentRolesOut


class Catalogue(Out):
    groups: dict[str, list[str]]
    abilities: dict[str, list[str]]


class CatalogueEnvelope(Out):
    data: Catalogue
