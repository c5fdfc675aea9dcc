"""Console sections for the desk's structure: departments and tags."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from markupsafe import Markup

from ...services import agents, departments, serializers, tags
from ..api.schemas.departments import DepartmentCreate, DepartmentUpdate
from ..api.schemas.tags import TagCreate, TagUpdate
from ..forms import FieldSpec, specs_for
from .crud import Column, Resource, link, register, simple_rows


def _agent_choices() -> list[tuple[str, str]]:
    rows = agents.list_agents()
    people = serializers.People([a.user_id for a in rows])
    return [(a.user_id, _name(people.user(a.user_id)) or a.user_id) for a in rows]


def _name(user: dict[str, Any] | None) -> str | None:
    return (user.get("name") or user.get("email")) if user else None


def _department_specs(model: Any) -> list[FieldSpec]:
    return specs_for(model, description={"widget": "textarea"},
                     is_active={"label": "Active",
                                "help": "Customers pick only active departments."},
                     agent_ids={"widget": "checkboxes", "choices": _agent_choices(),
                                "label": "Agents", "help": None},
                     assignment_strategy={"help": "How new tickets are assigned: by hand, "
                                                  "in turn, to the least loaded agent, or "
                                                  "by skills (see Skills)."})


DEPARTMENTS = Resource(
    name="departments", label="Departments", singular="department",
    view="department.edit", create_permission="department.create",
    edit_permission="department.edit", delete_permission="department.delete",
    load=departments.get_department, serialize=serializers.department_full,
    rows=simple_rows(departments.list_departments),
    columns=[Column("Name", link("departments", lambda d: d.name)),
             Column("Agents", lambda d: len(d.agent_ids)),
             Column("Assignment", lambda d: d.assignment_strategy.replace("_", " ")),
             Column("Active", lambda d: "yes" if d.is_active else "no")],
    create_model=DepartmentCreate, update_model=DepartmentUpdate,
    create=departments.create_department, update=departments.update_department,
    delete=departments.delete_department, specs=_department_specs,
    initial=lambda: {"is_active": True},  # as the API's create: a new department is open
    intro="Departments group agents; tickets in a department go to its agents by its "
          "assignment strategy.")


def _swatch(tag: Any) -> Markup:
    return Markup('<span class="esc-swatch" style="background:{}"></span>{}').format(
        tag.color or "#9ca3af", tag.color or "")


TAGS = Resource(
    name="tags", label="Tags", singular="tag", view="tag.manage",
    create_permission="tag.manage", edit_permission="tag.manage",
    delete_permission="tag.manage",
    load=tags.get_tag, serialize=serializers.tag, rows=simple_rows(tags.list_tags),
    columns=[Column("Name", link("tags", lambda t: t.name)), Column("Slug", lambda t: t.slug),
             Column("Colour", _swatch)],
    create_model=TagCreate, update_model=TagUpdate,
    create=lambda actor, data: tags.create_tag(actor, data["name"], data.get("color")),
    update=lambda actor, ident, data: tags.update_tag(actor, ident, data.get("name"),
                                                      data.get("color")),
    delete=tags.delete_tag,
    specs=lambda model: specs_for(model, color={"widget": "color"}))


def register_all(bp: Blueprint) -> None:
    for res in (DEPARTMENTS, TAGS):
        register(bp, res)
