"""Console section: saved views (``view.manage``).

Agents save and arrange their own views in the queue; the console lists every shared view
(and, for admins, everyone's personal ones) to rename, refilter, re-share, reorder or delete
them, through the same service and schemas as ``/api/v1/views`` (the filters are the ticket
list's parameters, checked as the API checks them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Blueprint
from pydantic import BaseModel

from ...services import departments, serializers, views
from ...services.permissions import Principal
from ..api.schemas.views import ViewUpdate
from ..api.views import _check_filters
from ..forms import FieldSpec, specs_for
from ..security import current_principal
from .crud import Column, Page, Resource, link, register

PERMISSION = "view.manage"


@dataclass(frozen=True)
class ViewRow:
    """A list row: the view with its owner's name and its departments' names, read for the
    whole page at once."""

    id: int
    name: str
    view: Any
    owner: str
    departments: str


def _read_cursor(value: Any) -> tuple[int, int] | None:
    """A decoded cursor back to ``(position, id)``; anything else is the first page."""
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return value[0], value[1]
    return None


def _rows(q: Any, cursor: Any, limit: int) -> Page:
    principal: Principal = current_principal()
    rows, more = views.console_page(principal, limit=limit, after=_read_cursor(cursor))
    people = serializers.People(r.owner_user_id for r in rows if not r.is_shared)
    depts = views.department_ids(rows)
    names = {d.id: d.name for d in departments.list_departments()}

    def owner(row: Any) -> str:
        if row.is_shared:
            return "Shared"
        person = people.user(row.owner_user_id)
        return f"Personal ({person['name']})" if person else "Personal"

    out = [
        ViewRow(
            id=r.id,
            name=r.name,
            view=r,
            owner=owner(r),
            departments=", ".join(names.get(d, "?") for d in depts[r.id])
            or ("Every agent" if r.is_shared else ""),
        )
        for r in rows
    ]
    return Page(out, [rows[-1].position, rows[-1].id] if more and rows else None)


def _filters_text(row: ViewRow) -> str:
    filters = row.view.filters or {}
    return (
        ", ".join(
            f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in sorted(filters.items())
        )
        or ""
    )


def _serialize(row: Any) -> dict[str, Any]:
    return views.serialize(row, views.department_ids([row])[row.id], views.stale_parts(row))


def _specs(model: type[BaseModel]) -> list[FieldSpec]:
    choices = [(str(d.id), d.name) for d in departments.list_departments()]
    return specs_for(
        model,
        only=("name", "filters", "sort", "shared", "department_ids", "position"),
        filters={
            "help": "The ticket list's query parameters, e.g. "
            + json.dumps({"priority": ["urgent"], "assignee": "none", "q": "refund"})
            + "; custom fields as cf.<key>.",
        },
        sort={"blank": "— the queue's default —"},
        shared={"help": "Seen by every agent, or only by the departments ticked below."},
        department_ids={"widget": "checkboxes", "choices": choices, "label": "Departments"},
        position={"help": "Lower numbers come first in the queue's list of views."},
    )


def _update(ident: Any, data: dict[str, Any]) -> Any:
    return views.update(current_principal(), ident, _check_filters(data), console=True)


VIEWS = Resource(
    name="views",
    label="Saved views",
    singular="saved view",
    view=PERMISSION,
    edit_permission=PERMISSION,
    delete_permission=PERMISSION,
    load=lambda ident: views.get(current_principal(), ident, console=True),
    serialize=_serialize,
    title=lambda row: row.name,
    rows=_rows,
    columns=[
        Column("Name", link("views", lambda r: r.name)),
        Column("Owner", lambda r: r.owner),
        Column("Seen by", lambda r: r.departments),
        Column("Filters", _filters_text),
        Column("Sort", lambda r: r.view.sort or ""),
        Column("Order", lambda r: r.view.position),
    ],
    update_model=ViewUpdate,
    update=lambda actor, ident, data: _update(ident, data),
    delete=lambda actor, ident: views.remove(current_principal(), ident, console=True),
    specs=_specs,
    intro="Named queue filters agents open from the queue. Shared views are listed here; "
    "admins also see everyone's personal ones.",
    delete_note="Agents who opened the queue on this view get the plain queue. "
    "This cannot be undone.",
)


def register_all(bp: Blueprint) -> None:
    register(bp, VIEWS)
