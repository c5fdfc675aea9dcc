"""JSON API v1: departments, tags, statuses and transitions, agents, and the caller."""

from __future__ import annotations

from flask import Response, jsonify

from ...services import agents, departments, serializers, statuses, tags
from ..security import current_principal
from .base import route
from .commit import committed
from .schemas import parse_body
from .schemas.common import AgentList, MeEnvelope
from .schemas.departments import (
    DepartmentCreate,
    DepartmentEnvelope,
    DepartmentList,
    DepartmentUpdate,
)
from .schemas.statuses import (
    StatusCreate,
    StatusEnvelope,
    StatusList,
    StatusUpdate,
    TransitionsEnvelope,
    TransitionTable,
)
from .schemas.tags import TagCreate, TagEnvelope, TagList, TagUpdate


@route("/me", ["GET"], summary="Who the API thinks you are", tag="Account",
       response=MeEnvelope)
def me() -> Response:
    principal = current_principal()
    people = serializers.People([principal.user_id])
    return jsonify({"data": {
        "user": people.user(principal.user_id),
        "is_agent": principal.is_agent,
        "is_admin": principal.is_admin,
        "role": principal.role,
        "permissions": sorted(principal.permissions),
        "department_permissions": {str(d): sorted(p) for d, p in
                                   sorted(principal.department_permissions.items())},
        "abilities": sorted(principal.abilities) if principal.abilities is not None else None,
    }})


# ---------------------------------------------------------------------------- departments
@route("/departments", ["GET"], summary="List departments", tag="Departments",
       permission="department.view", response=DepartmentList)
def list_departments() -> Response:
    return jsonify({"data": [serializers.department_full(d)
                             for d in departments.list_departments()]})


@route("/departments", ["POST"], summary="Create a department", tag="Departments",
       permission="department.create", body=DepartmentCreate, status=201,
       response=DepartmentEnvelope)
def create_department() -> tuple[Response, int]:
    data = parse_body(DepartmentCreate).changes()
    with committed():
        row = departments.create_department(current_principal().actor, data)
    return jsonify({"data": serializers.department_full(row)}), 201


@route("/departments/<int:dept_id>", ["GET"], summary="Show a department",
       tag="Departments", permission="department.view", response=DepartmentEnvelope)
def show_department(dept_id: int) -> Response:
    return jsonify({"data": serializers.department_full(departments.get_department(dept_id))})


@route("/departments/<int:dept_id>", ["PATCH"], summary="Update a department",
       tag="Departments", permission="department.edit", body=DepartmentUpdate,
       response=DepartmentEnvelope)
def update_department(dept_id: int) -> Response:
    data = parse_body(DepartmentUpdate).changes()
    with committed():
        row = departments.update_department(current_principal().actor, dept_id, data)
    return jsonify({"data": serializers.department_full(row)})


@route("/departments/<int:dept_id>", ["DELETE"], summary="Delete a department",
       tag="Departments", permission="department.delete", status=204)
def delete_department(dept_id: int) -> tuple[str, int]:
    with committed():
        departments.delete_department(current_principal().actor, dept_id)
    return "", 204


# ---------------------------------------------------------------------------- tags
@route("/tags", ["GET"], summary="List tags", tag="Tags", permission="tag.view", response=TagList)
def list_tags() -> Response:
    return jsonify({"data": [serializers.tag(t) for t in tags.list_tags()]})


@route("/tags", ["POST"], summary="Create a tag", tag="Tags", permission="tag.manage",
       body=TagCreate, status=201, response=TagEnvelope)
def create_tag() -> tuple[Response, int]:
    data = parse_body(TagCreate)
    with committed():
        row = tags.create_tag(current_principal().actor, data.name, data.color)
    return jsonify({"data": serializers.tag(row)}), 201


@route("/tags/<int:tag_id>", ["PATCH"], summary="Rename or recolour a tag", tag="Tags",
       permission="tag.manage", body=TagUpdate, response=TagEnvelope)
def update_tag(tag_id: int) -> Response:
    data = parse_body(TagUpdate)
    with committed():
        row = tags.update_tag(current_principal().actor, tag_id, data.name, data.color)
    return jsonify({"data": serializers.tag(row)})


@route("/tags/<int:tag_id>", ["DELETE"], summary="Delete a tag", tag="Tags",
       permission="tag.manage", status=204)
def delete_tag(tag_id: int) -> tuple[str, int]:
    with committed():
        tags.delete_tag(current_principal().actor, tag_id)
    return "", 204


# ---------------------------------------------------------------------------- statuses
@route("/statuses", ["GET"], summary="List statuses (built-in and custom)", tag="Statuses",
       permission="status.view", response=StatusList)
def list_statuses() -> Response:
    return jsonify({"data": [s.as_dict() for s in statuses.all_statuses(include_inactive=True)]})


@route("/statuses", ["POST"], summary="Create a custom status", tag="Statuses",
       permission="status.manage", status=201, body=StatusCreate,
       response=StatusEnvelope)
def create_status() -> tuple[Response, int]:
    data = parse_body(StatusCreate)
    with committed():
        statuses.create_status(
            current_principal().actor, slug=data.slug, label=data.label,
            category=data.category, color=data.color, position=data.position,
            pauses_sla=data.pauses_sla,
        )
    return jsonify({"data": statuses.resolve(data.slug).as_dict()}), 201


@route("/statuses/<slug>", ["PATCH"], summary="Update a custom status", tag="Statuses",
       permission="status.manage", body=StatusUpdate, response=StatusEnvelope)
def update_status(slug: str) -> Response:
    data = parse_body(StatusUpdate).changes()
    with committed():
        row = statuses.update_status(current_principal().actor, slug, **data)
    return jsonify({"data": {"slug": row.slug, "label": row.label, "category": row.category,
                             "color": row.color, "position": row.position,
                             "is_active": row.is_active, "pauses_sla": row.pauses_sla,
                             "builtin": False}})


@route("/statuses/<slug>", ["DELETE"], summary="Delete an unused custom status",
       tag="Statuses", permission="status.manage", status=204)
def delete_status(slug: str) -> tuple[str, int]:
    with committed():
        statuses.delete_status(current_principal().actor, slug)
    return "", 204


@route("/status-transitions", ["GET"], summary="The transition table", tag="Statuses",
       permission="status.view", response=TransitionsEnvelope)
def get_transitions() -> Response:
    return jsonify({"data": statuses.transition_table()})


@route("/status-transitions", ["PUT"], summary="Replace the transition table",
       tag="Statuses", permission="status.manage",
       body=TransitionTable, response=TransitionsEnvelope)
def put_transitions() -> Response:
    data = parse_body(TransitionTable).root
    with committed():
        table = statuses.set_transition_table(data, current_principal().actor)
    return jsonify({"data": table})


# ---------------------------------------------------------------------------- agents
@route("/agents", ["GET"], summary="List agents (for assignment)", tag="Agents",
       permission="ticket.assign", response=AgentList)
def list_agents() -> Response:
    rows = agents.list_agents()
    people = serializers.People(a.user_id for a in rows)
    return jsonify({"data": [
        {**(people.user(a.user_id) or {"type": "user", "id": a.user_id, "name": None,
                                        "email": None}), "role": a.role,
         "max_open_tickets": a.max_open_tickets}
        for a in rows
    ]})
