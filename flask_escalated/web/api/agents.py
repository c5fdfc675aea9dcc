"""JSON API v1: making host users agents, and their roles, departments and load limit.

Changing an agent's roles is changing what they may do, so a body that names ``role`` or
``roles`` also needs ``role.manage`` (as ``PUT /agents/<id>/roles`` does): ``user.manage``
alone cannot hand out the admin role.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ...models import AgentProfile
from ...services import agents, serializers
from ...services.errors import PermissionDenied
from ...services.routing import routing_values
from ..security import current_principal
from .base import route
from .commit import committed
from .schemas import parse_body
from .schemas.agents import AgentCreate, AgentEnvelope, AgentUpdate

#: The fields whose change needs ``role.manage`` besides the route's ``user.manage``.
ROLE_FIELDS = ("role", "roles")


def check_role_change(data: dict[str, Any]) -> None:
    """Refuse role fields to a caller without ``role.manage`` (pages and API alike)."""
    if any(k in data for k in ROLE_FIELDS) and not current_principal().can("role.manage"):
        raise PermissionDenied("You need the 'role.manage' permission to change roles.")


def agent_out(profile: AgentProfile) -> dict[str, Any]:
    user = serializers.People([profile.user_id]).user(profile.user_id) or {}
    return {**agents.agent_values(profile), "name": user.get("name"), "email": user.get("email"),
            **routing_values(profile)}


@route("/agents", ["POST"], summary="Make a host user an agent", tag="Agents",
       permission="user.manage", body=AgentCreate, status=201, response=AgentEnvelope)
def create_agent() -> tuple[Response, int]:
    data = parse_body(AgentCreate).changes()
    if data.get("role", "agent") != "agent" or data.get("roles"):
        check_role_change(data)
    with committed():
        profile = agents.create_agent(current_principal().actor, data)
    return jsonify({"data": agent_out(profile)}), 201


@route("/agents/<user_id>", ["GET"], summary="Show an agent", tag="Agents",
       permission="user.view", response=AgentEnvelope)
def show_agent(user_id: str) -> Response:
    return jsonify({"data": agent_out(agents.get_agent(user_id))})


@route("/agents/<user_id>", ["PATCH"], summary="Change an agent's roles, departments or "
       "load limit", tag="Agents", permission="user.manage", body=AgentUpdate,
       response=AgentEnvelope)
def update_agent(user_id: str) -> Response:
    data = parse_body(AgentUpdate).changes()
    check_role_change(data)
    with committed():
        profile = agents.update_agent(current_principal().actor, user_id, data)
    return jsonify({"data": agent_out(profile)})


@route("/agents/<user_id>", ["DELETE"], summary="Remove a user's agent access (the user stays)",
       tag="Agents", permission="user.manage", status=204)
def delete_agent(user_id: str) -> tuple[str, int]:
    with committed():
        agents.remove_agent(current_principal().actor, user_id)
    return "", 204
