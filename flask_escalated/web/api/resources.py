"""JSON API v1: departments, tags, statuses and transitions, agents, and the caller."""

from __future__ import annotations

from flask import Response, jsonify

from ...services import agents, departments, serializers, statuses, tags
from ..security import current_principal
from .base import json_body, route
from .commit import committed

DEPARTMENT_BODY = {
    "name": "string (required)", "slug": "string", "description": "string",
    "is_active": "boolean", "assignment_strategy": "manual|round_robin|least_loaded",
    "agent_ids": "array of user ids",
}


@route("/me", ["GET"], summary="Who the API thinks you are", tag="Account")
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
       permission="department.view")
def list_departments() -> Response:
    return jsonify({"data": [serializers.department_full(d)
                             for d in departments.list_departments()]})


@route("/departments", ["POST"], summary="Create a department", tag="Departments",
       permission="department.create", body=DEPARTMENT_BODY, status=201)
def create_department() -> tuple[Response, int]:
    data = json_body()
    with committed():
        row = departments.create_department(current_principal().actor, data)
    return jsonify({"data": serializers.department_full(row)}), 201


@route("/departments/<int:dept_id>", ["GET"], summary="Show a department",
       tag="Departments", permission="department.view")
def show_department(dept_id: int) -> Response:
    return jsonify({"data": serializers.department_full(departments.get_department(dept_id))})


@route("/departments/<int:dept_id>", ["PATCH"], summary="Update a department",
       tag="Departments", permission="department.edit", body=DEPARTMENT_BODY)
def update_department(dept_id: int) -> Response:
    data = json_body()
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
@route("/tags", ["GET"], summary="List tags", tag="Tags", permission="tag.view")
def list_tags() -> Response:
    return jsonify({"data": [serializers.tag(t) for t in tags.list_tags()]})


@route("/tags", ["POST"], summary="Create a tag", tag="Tags", permission="tag.manage",
       body={"name": "string (required)", "color": "#rrggbb"}, status=201)
def create_tag() -> tuple[Response, int]:
    data = json_body()
    with committed():
        row = tags.create_tag(current_principal().actor, data.get("name"), data.get("color"))
    return jsonify({"data": serializers.tag(row)}), 201


@route("/tags/<int:tag_id>", ["PATCH"], summary="Rename or recolour a tag", tag="Tags",
       permission="tag.manage", body={"name": "string", "color": "#rrggbb"})
def update_tag(tag_id: int) -> Response:
    data = json_body()
    with committed():
        row = tags.update_tag(current_principal().actor, tag_id, data.get("name"),
                              data.get("color"))
    return jsonify({"data": serializers.tag(row)})


@route("/tags/<int:tag_id>", ["DELETE"], summary="Delete a tag", tag="Tags",
       permission="tag.manage", status=204)
def delete_tag(tag_id: int) -> tuple[str, int]:
    with committed():
        tags.delete_tag(current_principal().actor, tag_id)
    return "", 204


# ---------------------------------------------------------------------------- statuses
@route("/statuses", ["GET"], summary="List statuses (built-in and custom)", tag="Statuses",
       permission="status.view")
def list_statuses() -> Response:
    return jsonify({"data": [s.as_dict() for s in statuses.all_statuses(include_inactive=True)]})


@route("/statuses", ["POST"], summary="Create a custom status", tag="Statuses",
       permission="status.manage", status=201,
       body={"slug": "string (required)", "label": "string (required)",
             "category": "one of the eight built-in statuses", "color": "#rrggbb",
             "position": "integer", "pauses_sla": "boolean (stops the SLA clock)"})
def create_status() -> tuple[Response, int]:
    data = json_body()
    with committed():
        statuses.create_status(
            current_principal().actor, slug=data.get("slug"), label=data.get("label"),
            category=data.get("category"), color=data.get("color"),
            position=data.get("position", 0), pauses_sla=data.get("pauses_sla", False),
        )
    return jsonify({"data": statuses.resolve(data["slug"]).as_dict()}), 201


@route("/statuses/<slug>", ["PATCH"], summary="Update a custom status", tag="Statuses",
       permission="status.manage",
       body={"label": "string", "color": "#rrggbb", "position": "integer",
             "is_active": "boolean", "pauses_sla": "boolean"})
def update_status(slug: str) -> Response:
    data = json_body()
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
       permission="status.view")
def get_transitions() -> Response:
    return jsonify({"data": statuses.transition_table()})


@route("/status-transitions", ["PUT"], summary="Replace the transition table",
       tag="Statuses", permission="status.manage",
       body={"<status>": "array of statuses it may move to"})
def put_transitions() -> Response:
    data = json_body()
    with committed():
        table = statuses.set_transition_table(data, current_principal().actor)
    return jsonify({"data": table})


# ---------------------------------------------------------------------------- agents
@route("/agents", ["GET"], summary="List agents (for assignment)", tag="Agents",
       permission="ticket.assign")
def list_agents() -> Response:
    rows = agents.list_agents()
    people = serializers.People(a.user_id for a in rows)
    return jsonify({"data": [
        {**(people.user(a.user_id) or {}), "role": a.role,
         "max_open_tickets": a.max_open_tickets}
        for a in rows
    ]})
