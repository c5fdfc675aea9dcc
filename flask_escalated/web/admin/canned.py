"""Console section: the desk's shared canned responses (``canned.manage``).

Personal responses belong to their authors, who keep them in the agent workspace or through
the API; the console lists, creates, edits and deletes the shared ones, through the same
service and schemas as ``/api/v1/canned-responses``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from pydantic import BaseModel

from ...services import canned, departments
from ..api.schemas.canned import CannedCreate, CannedUpdate
from ..forms import FieldSpec, specs_for
from ..security import current_principal
from .crud import Column, Page, Resource, link, register

PERMISSION = "canned.manage"


def _rows(q: str | None, cursor: Any, limit: int) -> Page:
    departments.list_departments()  # one query: the column's names come from the session
    rows, more = canned.list_page(
        current_principal(), limit=limit, q=q, shared=True, after=canned.read_cursor(cursor)
    )
    return Page(rows, canned.cursor_of(rows[-1]) if more and rows else None)


def _specs(model: type[BaseModel]) -> list[FieldSpec]:
    choices = [(str(d.id), d.name) for d in departments.list_departments()]
    return specs_for(
        model,
        only=("title", "shortcut", "department_id", "body"),
        title={"required": model is CannedCreate},
        shortcut={"help": "Agents type /shortcut in the composer's picker (optional)."},
        department_id={
            "widget": "select",
            "choices": choices,
            "blank": "— every agent —",
            "label": "Department",
            "help": "Offered only to this department's agents.",
        },
        body={
            "widget": "textarea",
            "rows": 12,
            "label": "Body (Markdown)",
            "required": model is CannedCreate,
            "help": "Placeholders: "
            + ", ".join("{{" + p + "}}" for p in canned.PLACEHOLDERS)
            + ", {{custom_field.<key>}}. Unknown ones stay as written.",
        },
    )


def _input() -> tuple[dict[str, Any], tuple[str, ...]]:
    """An emptied title or body is sent empty (for the schema to refuse, not read as "leave
    it alone"); browsers send a textarea's line breaks as CRLF, the body keeps LF."""
    form = request.form
    extra: dict[str, Any] = {n: "" for n in ("title", "body") if form.get(n) == ""}
    if form.get("body"):
        extra["body"] = form["body"].replace("\r\n", "\n")
    return extra, ()


def _department(row: Any) -> str:
    if row.department_id is None:
        return "Every agent"
    found = departments.get_department(row.department_id)
    return found.name


CANNED = Resource(
    name="canned-responses",
    label="Canned responses",
    singular="canned response",
    view=PERMISSION,
    create_permission=PERMISSION,
    edit_permission=PERMISSION,
    delete_permission=PERMISSION,
    load=lambda ident: canned.get(current_principal(), ident),
    serialize=canned.serialize,
    title=lambda row: row.title,
    rows=_rows,
    searchable=True,
    columns=[
        Column("Title", link("canned-responses", lambda c: c.title)),
        Column("Shortcut", lambda c: f"/{c.shortcut}" if c.shortcut else ""),
        Column("Offered to", _department),
    ],
    create_model=CannedCreate,
    update_model=CannedUpdate,
    create=lambda actor, data: canned.create(current_principal(), {**data, "shared": True}),
    update=lambda actor, ident, data: canned.update(current_principal(), ident, data),
    delete=lambda actor, ident: canned.remove(current_principal(), ident),
    specs=_specs,
    extra_input=_input,
    intro="Shared replies agents insert from the composer's picker, with the ticket's "
    "values filled in. Agents keep personal ones of their own.",
)


def register_all(bp: Blueprint) -> None:
    register(bp, CANNED)
