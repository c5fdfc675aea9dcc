"""Departments and their agent members."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..events import Actor
from ..models import Department, DepartmentMember
from . import audit, deletion, session
from .agents import agents_among
from .assignment import STRATEGIES
from .errors import Conflict, NotFound, ValidationError
from .ids import parse_id
from .tags import slugify


def list_departments(include_inactive: bool = True) -> list[Department]:
    query = select(Department).order_by(Department.name, Department.id)
    if not include_inactive:
        query = query.where(Department.is_active.is_(True))
    return list(session().execute(query).scalars())


def get_department(dept_id: object) -> Department:
    ident = parse_id(str(dept_id))
    row = session().get(Department, ident) if ident is not None else None
    if row is None:
        raise NotFound("No such department.")
    return row


def _values(row: Department) -> dict[str, Any]:
    return {
        "name": row.name, "slug": row.slug, "description": row.description,
        "is_active": row.is_active, "assignment_strategy": row.assignment_strategy,
        "agent_ids": row.agent_ids,
    }


def _apply(row: Department, data: dict[str, Any], *, creating: bool) -> None:
    errors: dict[str, str] = {}
    if creating or "name" in data:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 120:
            errors["name"] = "required, at most 120 characters"
        else:
            row.name = name.strip()
            if creating and not data.get("slug"):
                row.slug = slugify(name)
    if "slug" in data and data["slug"] is not None:
        if not isinstance(data["slug"], str) or not slugify(data["slug"]):
            errors["slug"] = "letters, digits and dashes"
        else:
            row.slug = slugify(data["slug"])
    if "description" in data:
        if data["description"] is not None and not isinstance(data["description"], str):
            errors["description"] = "must be a string"
        else:
            row.description = data["description"]
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors["is_active"] = "must be true or false"
        else:
            row.is_active = data["is_active"]
    if "assignment_strategy" in data:
        if data["assignment_strategy"] not in STRATEGIES:
            errors["assignment_strategy"] = f"one of {', '.join(STRATEGIES)}"
        else:
            row.assignment_strategy = data["assignment_strategy"]
    if "agent_ids" in data:
        ids = data["agent_ids"]
        if not isinstance(ids, list) or not all(
            isinstance(i, str | int) and not isinstance(i, bool) for i in ids
        ):
            errors["agent_ids"] = "must be a list of user ids"
        else:
            wanted = list(dict.fromkeys(str(i) for i in ids))
            added = [u for u in wanted if u not in row.agent_ids]
            if strangers := _not_agents(added):
                errors["agent_ids"] = "not agents: " + ", ".join(u[:64] for u in strangers[:10])
            else:
                row.members = [m for m in row.members if m.user_id in wanted] + [
                    DepartmentMember(user_id=u) for u in added
                ]
    if errors:
        raise ValidationError("The department is not valid.", errors)


def _not_agents(user_ids: list[str]) -> list[str]:
    """Those of ``user_ids`` who are not agents: unknown to the host, customers, agents whose
    access was removed. Asked through the host's hooks, as a follower is. Only the members a
    change adds are asked about, so a member the host no longer counts as an agent does not
    block every later edit of the department; they are dropped by leaving them out."""
    agents = agents_among(user_ids)
    return [u for u in user_ids if u not in agents]


def create_department(actor: Actor, data: dict[str, Any]) -> Department:
    row = Department(is_active=True, assignment_strategy="manual")
    row.members = []
    _change(row, data, creating=True)
    session().add(row)
    session().flush()
    audit.log(actor, "department.created", "department", row.id, new=_values(row))
    return row


def update_department(actor: Actor, dept_id: object, data: dict[str, Any]) -> Department:
    row = get_department(dept_id)
    old = _values(row)
    _change(row, data, creating=False)
    session().flush()
    audit.log(actor, "department.updated", "department", row.id, old=old, new=_values(row))
    return row


def delete_department(actor: Actor, dept_id: object) -> None:
    row = get_department(dept_id)
    audit.log(actor, "department.deleted", "department", row.id, old=_values(row))
    deletion.delete_with_dependants(row)


def _change(row: Department, data: dict[str, Any], *, creating: bool) -> None:
    """Apply ``data`` to ``row`` and check that its slug is free, with nothing flushed
    meanwhile: the check's query would otherwise autoflush the changed row first, and a taken
    slug would meet the database's unique key (a 500) before the check refused it (a 409)."""
    with session().no_autoflush:
        _apply(row, data, creating=creating)
        _unique_slug(row)


def _unique_slug(row: Department) -> None:
    clash = session().execute(
        select(Department.id).where(Department.slug == row.slug, Department.id != row.id)
        if row.id is not None
        else select(Department.id).where(Department.slug == row.slug)
    ).first()
    if clash:
        raise Conflict(f"A department '{row.slug}' already exists.", {"slug": "taken"})
