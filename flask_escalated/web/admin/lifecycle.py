"""Console sections for a ticket's life: custom statuses and the transition table.

The transition table is a grid: one row a status a ticket leaves, one column a status it may
move to. It is saved as ``PUT /api/v1/status-transitions`` saves it (the schema, then
:func:`...services.statuses.set_transition_table`: the same checks and audit row). The grid
shows the stored table as it is: a ticked built-in column also admits the custom statuses of
that category, and a custom status whose row has nothing ticked keeps following its
category's row (it gets a row of its own once something in it is ticked).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from pydantic import BaseModel
from werkzeug.wrappers import Response

from ...domain import STATUS_CATEGORIES
from ...events import Actor
from ...services import ext, statuses
from ...services.errors import ServiceError, ValidationError
from ..api.schemas import validate
from ..api.schemas.statuses import StatusCreate, StatusUpdate, TransitionTable
from ..forms import FORM_CHROME, FieldSpec, specs_for
from ..security import current_principal, requires
from .crud import Column, Resource, link, register, simple_rows

PERMISSION = "status.manage"
#: The grid's inputs: ``row`` names each status shown, ``to-<status>`` its ticked targets.
ROW_INPUT, TARGET_PREFIX = "row", "to-"


# ---------------------------------------------------------------------------- statuses
def _status_specs(model: type[BaseModel]) -> list[FieldSpec]:
    return specs_for(model, color={"widget": "color"},
                     pauses_sla={"label": "Pauses the SLA clock",
                                 "help": "While a ticket is in this status its SLA due times "
                                         "stop counting down."},
                     is_active={"label": "Active",
                                "help": "An inactive status is no longer offered to agents."},
                     category={"help": "The built-in status whose behaviour it takes: open, "
                                       "waiting, resolved..."})


def _status_values(info: statuses.StatusInfo) -> dict[str, Any]:
    if info.builtin:
        return {**info.as_dict(), "pauses_sla": info.pauses_sla, "is_active": True}
    return statuses.status_values(info.slug)


def _swatch(info: statuses.StatusInfo) -> Markup:
    return Markup('<span class="esc-swatch" style="background:{}"></span>{}').format(
        info.color, info.category.replace("_", " "))


def _create_status(actor: Actor, data: dict[str, Any]) -> Any:
    return statuses.create_status(actor, **data)


def _update_status(actor: Actor, slug: str, data: dict[str, Any]) -> Any:
    return statuses.update_status(actor, slug, **data)


STATUSES = Resource(
    name="statuses", label="Statuses", singular="status", view=PERMISSION,
    create_permission=PERMISSION, edit_permission=PERMISSION, delete_permission=PERMISSION,
    load=statuses.get_status, serialize=lambda s: s.as_dict(), form_values=_status_values,
    rows=simple_rows(lambda: statuses.all_statuses(include_inactive=True)),
    title=lambda s: s.label, key_rule="string", key=lambda s: s.slug,
    columns=[Column("Label", link("statuses", lambda s: s.label, key=lambda s: s.slug)),
             Column("Slug", lambda s: s.slug),
             Column("Category", _swatch),
             Column("Pauses SLA", lambda s: "yes" if s.pauses_sla else "no"),
             Column("Active", lambda s: "yes" if s.is_active else "no")],
    create_model=StatusCreate, update_model=StatusUpdate,
    create=_create_status, update=_update_status, delete=statuses.delete_status,
    specs=_status_specs, initial=lambda: {"color": "#6b7280"},
    locked=lambda s: ("A built-in status: it can be neither changed nor deleted."
                      if s.builtin else None),
    intro="The eight built-in statuses always exist. A custom status takes the behaviour of "
          "its category and may pause the SLA clock; which status may follow which is set "
          "in the transition table.")


# ---------------------------------------------------------------------------- transitions
@requires(PERMISSION)
def transitions_page() -> Response | tuple[str, int]:
    shown = statuses.all_statuses()
    if request.method == "POST":
        posted, unknown = _posted_table()
        try:
            if unknown:
                raise ValidationError("The form has inputs the grid does not have.",
                                      {name[:60]: "unknown field" for name in unknown})
            table = validate(TransitionTable, posted).root
            with ext().unit_of_work():
                statuses.set_transition_table(table, current_principal().actor)
        except ServiceError as exc:
            return _grid(shown, posted, exc), exc.status
        flash("The transition table was saved.", "success")
        return redirect(url_for("escalated.admin.status_transitions"))
    return _grid(shown, statuses.transition_table(), None), 200


def _posted_table() -> tuple[dict[str, list[str]], list[str]]:
    """The table the grid posted, and any input that is not part of a grid.

    Every built-in status keeps its row (ticked or not); a custom status gets a row only when
    something in it is ticked. A cell of a row the grid did not show is kept, for the service
    to refuse as an unknown status."""
    form = request.form
    rows = form.getlist(ROW_INPUT)
    table: dict[str, list[str]] = {}
    for name in rows:
        targets = form.getlist(TARGET_PREFIX + name)
        if targets or name in STATUS_CATEGORIES:
            table[name] = targets
    unknown: list[str] = []
    for key in form:
        if key.startswith(TARGET_PREFIX):
            if key[len(TARGET_PREFIX):] not in rows:
                table[key[len(TARGET_PREFIX):]] = form.getlist(key)
        elif key not in FORM_CHROME and key != ROW_INPUT:
            unknown.append(key)
    return table, unknown


def _grid(shown: list[statuses.StatusInfo], table: dict[str, Any],
          error: ServiceError | None) -> str:
    return render_template("escalated/admin/transitions.html", statuses=shown,
                           table=table, error=error)


def register_all(bp: Blueprint) -> None:
    from . import NAV, NavItem

    register(bp, STATUSES)
    bp.add_url_rule("/status-transitions", "status_transitions", transitions_page,
                    methods=["GET", "POST"])
    item = NavItem("escalated.admin.status_transitions", "Status transitions", PERMISSION)
    if item not in NAV:
        NAV.append(item)
