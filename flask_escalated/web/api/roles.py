"""JSON API v1: the permission catalogue, custom roles, and agents' roles and grants."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ...services import ext, roles, serializers
from ...services.errors import NotFound
from ...services.permissions import ABILITIES, PERMISSIONS, Principal
from ..security import current_principal
from .base import route
from .commit import committed
from .schemas import parse_body
from .schemas.roles import (
    AgentRoles,
    AgentRolesEnvelope,
    CatalogueEnvelope,
    RoleCreate,
    RoleEnvelope,
    RoleList,
    RoleUpdate,
)


@route("/permissions", ["GET"], summary="The permission catalogue and token abilities",
       tag="Roles", permission="role.view", response=CatalogueEnvelope)
def permission_catalogue() -> Response:
    return jsonify({"data": {
        "groups": {group: [f"{group}.{a}" for a in actions]
                   for group, actions in PERMISSIONS.items()},
        "abilities": {name: list(patterns) for name, patterns in ABILITIES.items()},
    }})


@route("/roles", ["GET"], summary="List roles (system and custom)", tag="Roles",
       permission="role.view", response=RoleList)
def list_roles() -> Response:
    return jsonify({"data": [r.as_dict() for r in roles.list_roles()]})


@route("/roles", ["POST"], summary="Create a custom role", tag="Roles",
       permission="role.manage", body=RoleCreate, status=201, response=RoleEnvelope)
def create_role() -> tuple[Response, int]:
    data = parse_body(RoleCreate).changes()
    with committed():
        role = roles.create_role(current_principal().actor, data)
    return jsonify({"data": role.as_dict()}), 201


@route("/roles/<slug>", ["GET"], summary="Show a role", tag="Roles", permission="role.view",
       response=RoleEnvelope)
def show_role(slug: str) -> Response:
    return jsonify({"data": roles.get_role(slug).as_dict()})


@route("/roles/<slug>", ["PATCH"], summary="Update a custom role", tag="Roles",
       permission="role.manage", body=RoleUpdate, response=RoleEnvelope)
def update_role(slug: str) -> Response:
    data = parse_body(RoleUpdate).changes()
    with committed():
        role = roles.update_role(current_principal().actor, slug, data)
    return jsonify({"data": role.as_dict()})


@route("/roles/<slug>", ["DELETE"], summary="Delete a custom role nobody holds", tag="Roles",
       permission="role.manage", status=204)
def delete_role(slug: str) -> tuple[str, int]:
    with committed():
        roles.delete_role(current_principal().actor, slug)
    return "", 204


def _agent_roles(user_id: str, base: str) -> dict[str, Any]:
    granted, by_department = roles.resolve(user_id, base)
    principal = Principal.build(user_id, is_agent=True, is_admin=base == "admin", role=base,
                                granted=granted, by_department=by_department)
    return {
        "user": serializers.People([user_id]).user(user_id),
        "role": base,
        "grants": [{"role": g.role_slug, "department_id": g.department_id}
                   for g in roles.grants_of(user_id)],
        "permissions": principal.all_permissions,
    }


@route("/agents/<user_id>/roles", ["GET"], summary="An agent's role, grants and permissions",
       tag="Roles", permission="role.view", response=AgentRolesEnvelope)
def show_agent_roles(user_id: str) -> Response:
    profile = ext().agent_profile(user_id)
    if profile is None:
        raise NotFound(f"User '{user_id[:64]}' is not an agent.")
    return jsonify({"data": _agent_roles(user_id, profile.role)})


@route("/agents/<user_id>/roles", ["PUT"], summary="Set an agent's base role and grants",
       tag="Roles", permission="role.manage",
       body=AgentRoles, response=AgentRolesEnvelope)
def set_agent_roles(user_id: str) -> Response:
    data = parse_body(AgentRoles).changes()
    with committed():
        profile, _ = roles.set_agent_roles(current_principal().actor, user_id,
                                           role=data.get("role"), grants=data.get("grants"))
        base = profile.role
    return jsonify({"data": _agent_roles(user_id, base)})
