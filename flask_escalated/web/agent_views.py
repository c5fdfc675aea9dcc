"""The queue's saved-view forms: save the current filters as a view, make a view the default,
and, for a view open in the queue, update it with the filters changed since, rename or delete it.

The queue's filter inputs (``status``, ``priority``, ``department`` ...) come with the form as
hidden inputs and become the ticket list's parameters (``department_id``, ``snoozed`` ...), the
shape a view stores, checked as the API checks them. What a view filters on beyond the queue's
inputs (custom fields, dates, requester: :func:`views.beyond_queue`) is kept when the queue
rewrites its filters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from flask import Blueprint, flash, redirect, request, url_for
from pydantic import Field

from ..domain import CLOSED_CATEGORIES, STATUS_LABELS
from ..models import SavedView
from ..services import ext, views
from ..services.queries import TicketFilter
from .api.schemas import Empty
from .api.schemas._base import Body
from .api.views import _check_filters
from .page_forms import read_page, reads
from .security import current_principal, requires

Short = Annotated[str, Field(max_length=80)]


Name = Annotated[str, Field(min_length=1, max_length=views.MAX_NAME)]
#: The queue's filter inputs (the names of its GET form).
QUEUE_INPUTS = ("status", "priority", "department", "assignee", "tag", "q", "sort", "sla")


class ViewFilters(Body):
    """Update view: the queue's current filters, which replace the open view's."""

    status: Short | None = None
    priority: Short | None = None
    department: Short | None = None
    assignee: Short | None = None
    tag: Short | None = None
    q: Annotated[str, Field(max_length=200)] | None = None
    sort: Short | None = None
    sla: Short | None = None


class ViewSave(ViewFilters):
    """Save as view: a name, whether to share it, and the queue's current filters."""

    name: Name
    shared: bool = False


class ViewRename(Body):
    """Rename the open view."""

    name: Name


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/tickets/views", "save_view", save_view, methods=["POST"])
    for action, endpoint, view in (
        ("default", "default_view", default_view),
        ("filters", "update_view", update_view),
        ("rename", "rename_view", rename_view),
        ("delete", "delete_view", delete_view),
    ):
        bp.add_url_rule(
            f"/tickets/views/<escalated_id:ident>/{action}", endpoint, view, methods=["POST"]
        )


def filters_of(form: ViewFilters) -> dict[str, Any]:
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


def form_of(row: SavedView) -> dict[str, str]:
    """The queue's filter inputs showing ``row``'s filters (the inverse of :func:`filters_of`;
    a list the queue's single choice cannot show is shown by its first value)."""
    filters = row.filters or {}

    def items(key: str) -> list[str]:
        value = filters.get(key)
        return [str(v) for v in (value if isinstance(value, list) else [value] if value else [])]

    def first(key: str) -> str:
        return next(iter(items(key)), "")

    status = {"any": "any", "true": "snoozed"}.get(str(filters.get("snoozed")), "")
    if not status and items("status"):
        status = first("status")
    elif not status and sorted(items("status_category")) != sorted(
        c for c in STATUS_LABELS if c not in CLOSED_CATEGORIES
    ):
        status = "any"  # no status filter, or categories the form has no choice for
    return {
        "status": status,
        "priority": first("priority"),
        "sla": "",
        "department": first("department_id"),
        "assignee": first("assignee"),
        "tag": first("tag"),
        "q": first("q"),
        "sort": row.sort or "",
    }


def refiltered(args: Mapping[str, Any]) -> bool:
    """Whether the queue's request changes the open view's filters (its filter form, which
    carries the view, was submitted, or a column was sorted) rather than just opening it."""
    return any(key in args for key in QUEUE_INPUTS)


def open_view(
    row: SavedView, flt: TicketFilter, form: dict[str, str]
) -> tuple[TicketFilter, dict[str, str], list[str], bool]:
    """The queue's filter, form and stale parts with ``row`` open, and whether the agent has
    changed its filters: unchanged, the view's own filters (and the form shows them); changed,
    the form's filters narrowed by what the view holds beyond them."""
    if refiltered(request.args):
        stale = views.narrow(flt, row)
        return flt, form, stale, True
    flt, stale = views.to_filter(row, views.known_for([row]))
    return flt, form_of(row), stale, False


def queue_args(
    row: SavedView, form: dict[str, str], refiltered: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The query of the queue's links with ``row`` open: the pager's (the view alone, or with
    the changed filters) and the sort headers' (always the filters shown, so sorting a view
    keeps its filters and offers to update it)."""
    shown = {
        "view": row.id,
        "status": form.get("status", ""),
        **{k: v for k, v in form.items() if v},
    }
    return (shown if refiltered else {"view": row.id}), shown


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
@reads(ViewFilters)
def update_view(ident: int) -> Any:
    form = read_page(ViewFilters)
    principal = current_principal()
    with ext().unit_of_work():
        row = views.get(principal, ident)
        data = _check_filters(
            {
                "filters": {**filters_of(form), **views.beyond_queue(row.filters)},
                "sort": form.sort or None,
            }
        )
        views.update(principal, ident, data)
        name = row.name
    flash(f"The view “{name}” now uses these filters.", "success")
    return redirect(url_for(".queue", view=ident), 303)


@requires("ticket.view")
@reads(ViewRename)
def rename_view(ident: int) -> Any:
    form = read_page(ViewRename)
    with ext().unit_of_work():
        name = views.update(current_principal(), ident, {"name": form.name}).name
    flash(f"The view is now called “{name}”.", "success")
    return redirect(url_for(".queue", view=ident), 303)


@requires("ticket.view")
@reads(Empty)
def delete_view(ident: int) -> Any:
    read_page(Empty)
    principal = current_principal()
    with ext().unit_of_work():
        name = views.get(principal, ident).name
        views.remove(principal, ident)
    flash(f"The view “{name}” was deleted.", "success")
    return redirect(url_for(".queue"), 303)


@requires("ticket.view")
@reads(Empty)
def default_view(ident: int) -> Any:
    read_page(Empty)
    with ext().unit_of_work():
        views.set_default(current_principal(), ident)
    flash("The queue now opens on this view.", "success")
    return redirect(url_for(".queue", view=ident), 303)
