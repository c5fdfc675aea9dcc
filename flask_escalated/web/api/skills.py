"""JSON API v1: skills and their routing, agents' skills, capacity and availability."""

from __future__ import annotations

from flask import Response, jsonify, request

from ...services import agents, capacity, skills
from ...services.errors import PermissionDenied
from ..inputs import json_payload
from ..security import current_principal
from .base import decode_cursor, encode_cursor, json_body, page_limit, route
from .commit import committed
from .schemas import parse_body
from .schemas._base import validate
from .schemas.skills import (
    AgentSkillsBody,
    AgentSkillsEnvelope,
    AvailabilityBody,
    AvailabilityEnvelope,
    CapacityBody,
    CapacityEnvelope,
    SkillCreate,
    SkillEnvelope,
    SkillPage,
    SkillUpdate,
)

TAG = "Skills and capacity"
CURSOR = "skills"


@route("/skills", ["GET"], summary="List skills with their routing tags and departments",
       tag=TAG, permission="skill.view", paged=True, response=SkillPage)
def list_skills() -> Response:
    after = decode_cursor(CURSOR)
    rows, more = skills.list_page(limit=page_limit(),
                                  after=after if isinstance(after, int) else None)
    return jsonify({"data": skills.serialize_many(rows),
                    "next_cursor": encode_cursor(CURSOR, rows[-1].id if more and rows
                                                 else None)})


@route("/skills", ["POST"], summary="Create a skill", tag=TAG, permission="skill.manage",
       body=SkillCreate, status=201, response=SkillEnvelope)
def create_skill() -> tuple[Response, int]:
    data = parse_body(SkillCreate).model_dump()
    with committed():
        row = skills.create(current_principal().actor, data)
    return jsonify({"data": skills.serialize(row)}), 201


@route("/skills/<int:skill_id>", ["GET"], summary="Show a skill", tag=TAG,
       permission="skill.view", response=SkillEnvelope)
def show_skill(skill_id: int) -> Response:
    return jsonify({"data": skills.serialize(skills.get(skill_id))})


@route("/skills/<int:skill_id>", ["PATCH"], summary="Change a skill or its routing", tag=TAG,
       permission="skill.manage", body=SkillUpdate, response=SkillEnvelope)
def update_skill(skill_id: int) -> Response:
    data = parse_body(SkillUpdate).changes()
    with committed():
        row = skills.update(current_principal().actor, skill_id, data)
    return jsonify({"data": skills.serialize(row)})


@route("/skills/<int:skill_id>", ["DELETE"], summary="Delete a skill (agents lose it)",
       tag=TAG, permission="skill.manage", status=204)
def delete_skill(skill_id: int) -> tuple[str, int]:
    with committed():
        skills.remove(current_principal().actor, skill_id)
    return "", 204


@route("/agents/<user_id>/skills", ["PUT"], summary="Set an agent's skills and proficiencies",
       tag=TAG, permission="user.manage", body=AgentSkillsBody, response=AgentSkillsEnvelope)
def put_agent_skills(user_id: str) -> Response:
    if not request.is_json:
        json_body()  # the API's own refusal of a body that is not JSON
    items = validate(AgentSkillsBody, json_payload()).root
    profile = agents.get_agent(user_id)
    with committed():
        out = skills.set_agent_skills(current_principal().actor, profile.user_id,
                                      [i.model_dump() for i in items])
    return jsonify({"data": out})


@route("/agents/<user_id>/capacity", ["PUT"], summary="Set (or with null remove) an agent's "
       "limit of open tickets for a channel", tag=TAG, permission="user.manage",
       body=CapacityBody, response=CapacityEnvelope)
def put_agent_capacity(user_id: str) -> Response:
    data = parse_body(CapacityBody)
    profile = agents.get_agent(user_id)
    with committed():
        out = capacity.set_capacity(current_principal().actor, profile, data.channel,
                                    data.max_concurrent)
    return jsonify({"data": out})


@route("/agents/<user_id>/availability", ["PUT"], summary="Mark an agent online or away "
       "(yourself, or anyone with user.manage)", tag=TAG, permission="ticket.view",
       body=AvailabilityBody, response=AvailabilityEnvelope)
def put_agent_availability(user_id: str) -> Response:
    data = parse_body(AvailabilityBody)
    principal = current_principal()
    if not principal.is_agent:
        raise PermissionDenied("Only agents have an availability.")
    if user_id not in ("me", principal.user_id) and not principal.can("user.manage"):
        raise PermissionDenied("You need the 'user.manage' permission to change another "
                               "agent's availability.")
    profile = agents.get_agent(principal.user_id if user_id == "me" else user_id)
    with committed():
        status = capacity.set_availability(principal.actor, profile, data.status)
    return jsonify({"data": {"status": status}})


