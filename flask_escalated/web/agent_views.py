"""The queue's saved-view forms: save the current filters as a view, make a view the default.

The queue's filter inputs (``status``, ``priority``, ``department`` ...) come with the form as
hidden inputs and become the ticket list's parameters (``department_id``, ``snoozed`` ...), the
shape a view stores, checked as the API checks them.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, flash, redirect, url_for
from pydantic import Field

from ..domain import CLOSED_CATEGORIES, STATUS_LABELS
from ..services import ext, views
from .api.schemas import Empty
from .api.schemas._base import Body
from .api.views import _check_filters
from .page_forms import read_page, reads
from .security import current_principal, requires

Short = Annotated[str, Field(max_length=80)]


class ViewSave(Body):
    """Save as view: a name, whether to share it, and the queue's current filters."""

    name: Annotated[str, Field(min_length=1, max_length=views.MAX_NAME)]
    shared: bool = False
    status: Short | None = None
    priority: Short | None = None
    department: Short | None = None
    assignee: Short | None = None
    tag: Short | None = None
    q: Annotated[str, Field(max_length=200)] | None = None
    sort: Short | None = None
    sla: Short | None = None


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/tickets/views", "save_view", save_view, methods=["POST"])
    bp.add_url_rule(
        "/tickets/views/<int:ident>/default", "default_view", default_view, methods=["POST"]
    )


def filters_of(form: ViewSave) -> dict[str, Any]:
    """The queue's inputs as the ticket list's parameters."""
    out: dict[str, Any] = {}
    if form.status == "any":
        out["snoozed"] = "any"
    elif form.status == "snoozed":
        out["snoozed"] = "true"
    elif form.status:
        out["status"] = [form.status]
    else:
        out["status_category"] = sorted(c for c in STATUS_LABELS if c not in CLOSED_CATEGORIES)
    for key, name in (
        ("priority", "priority"),
        ("department_id", "department"),
        ("assignee", "assignee"),
        ("tag", "tag"),
        ("q", "q"),
    ):
        value = getattr(form, name)
        if value:
            out[key] = [value] if key == "priority" else value
    return out


@requires("ticket.view")
@reads(ViewSave)
def save_view() -> Any:
    form = read_page(ViewSave)
    data = _check_filters(
        {
            "name": form.name,
            "filters": filters_of(form),
            "shared": form.shared,
            "sort": form.sort or None,
        }
    )
    with ext().unit_of_work():
        row = views.create(current_principal(), data)
        ident, name = row.id, row.name
    flash(f"The view “{name}” was saved.", "success")
    return redirect(url_for(".queue", view=ident), 303)


@requires("ticket.view")
@reads(Empty)
def default_view(ident: int) -> Any:
    read_page(Empty)
    with ext().unit_of_work():
        views.set_default(current_principal(), ident)
    flash("The queue now opens on this view.", "success")
    return redirect(url_for(".queue", view=ident), 303)
