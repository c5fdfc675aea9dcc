"""Console sections for the rule engine: automations, workflows and macros.

Each is a :class:`.crud.Resource` on the services and schemas the JSON API uses
(``web/api/rules.py``, ``web/api/macros.py``); conditions and actions are edited with the
builder (:mod:`.builder`) instead of JSON. Rules also get an on/off switch in their list (a
one-field update through the same service) and, on their edit page, the evaluation log: every
time the rule acted on a ticket, what it did and what failed (``RuleLog``, the rows the API's
``/<resource>/<id>/logs`` pages through).

:func:`rule_resource` builds the section of any kind of rule; escalation rules
(:mod:`.escalation`) take one call too, with their own row editor and log as parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, url_for
from markupsafe import Markup
from pydantic import BaseModel
from werkzeug.wrappers import Response

from ...services import ext, macros, rules
from ...services.errors import ServiceError
from ...services.webhooks import EVENTS
from ..api.schemas.macros import MacroCreate, MacroUpdate
from ..api.schemas.rules import RuleCreate, RuleUpdate, WorkflowCreate, WorkflowUpdate
from ..forms import FieldSpec, read_form, specs_for
from ..security import csrf_token, current_principal, requires
from . import builder
from .crud import Column, Resource, link, register, simple_rows

#: Rows of a rule's evaluation log per page.
LOG_PAGE = 25
FORM_TEMPLATE = "escalated/admin/builder_form.html"


def _actions(row: Any) -> str:
    return ", ".join(builder.action_label(a.get("type")) for a in row.actions or []
                     if isinstance(a, dict)) or "—"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "never"


#: What a rule without conditions does, per kind (the service refuses none for the others).
EMPTY_NOTES = {"workflow": "With no conditions, it acts on every event it runs on."}


@dataclass(frozen=True)
class RuleEditor:
    """How a form page edits a rule's conditions and actions (``admin/builder_form.html``).

    ``read`` is the :attr:`.crud.Resource.extra_input` that turns the posted inputs into the
    API's ``conditions`` and ``actions``; ``context(kind, stored rule or None)`` gives the
    template ``builder(errors)`` (the editor to draw, with the refusals on their rows) and
    ``builder_summary(errors)`` (the refusals for the summary at the top);
    ``refresh_inputs`` are its submits that re-render the form instead of saving it."""

    read: Callable[[], tuple[dict[str, Any], Sequence[str]]]
    context: Callable[[str, Mapping[str, Any] | None], dict[str, Any]]
    refresh_inputs: Sequence[str] = ()


def _tree_context(kind: str, stored: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"builder": lambda errors: builder.Builder.for_page(kind, stored, errors),
            "builder_summary": builder.summary_errors, "empty_note": EMPTY_NOTES.get(kind)}


#: The builder of :mod:`.builder`: nested groups of rows and "Add rows" buttons.
TREE = RuleEditor(builder.read_input, _tree_context, builder.REFRESH_INPUTS)


def _page_context(kind: str, serialize: Callable[[Any], dict[str, Any]],
                  editor: RuleEditor = TREE) -> Callable[[Any], dict[str, Any]]:
    """A form page's context: ``editor``'s, for the row (serialized) or a new one."""
    return lambda row: editor.context(kind, serialize(row) if row is not None else None)


# ---------------------------------------------------------------------------- rules
def _rule_specs(model: type[BaseModel]) -> list[FieldSpec]:
    only = ["name", "description"]
    if "trigger_events" in model.model_fields:
        only.append("trigger_events")
    return specs_for(
        model, only=[*only, "is_active", "position"],
        description={"widget": "textarea", "rows": 2},
        trigger_events={"choices": [(e, e) for e in EVENTS], "label": "Runs on",
                        "help": "The events that run it; its conditions are checked on the "
                                "ticket the event happened to."},
        is_active={"label": "Active", "help": "Inactive rules are kept but never run."},
        position={"label": "Order", "help": "Rules run in this order, lowest first."})


def _active_cell(name: str, permission: str) -> Callable[[Any], Any]:
    """The list's on/off switch: a one-button form (plain text for those who may not)."""
    endpoint = f"escalated.admin.{name.replace('-', '_')}_active"

    def cell(rule: Any) -> Any:
        state = "On" if rule.is_active else "Off"
        if not current_principal().can_anywhere(permission):
            return state
        return Markup(
            '<form method="post" action="{}" class="esc-toggle">'
            '<input type="hidden" name="csrf_token" value="{}">'
            '<input type="hidden" name="is_active" value="{}">'
            '<span class="esc-toggle-state esc-toggle-{}">{}</span> '
            '<button type="submit" class="esc-button-secondary">Turn {}'
            '<span class="esc-visually-hidden"> “{}”</span></button></form>').format(
                url_for(endpoint, ident=rule.id), csrf_token(),
                "false" if rule.is_active else "true", state.lower(), state,
                "off" if rule.is_active else "on", rule.name)

    return cell


@dataclass(frozen=True)
class LogPanel:
    """A rule's evaluation log on its edit page: the panel's template, and its context for
    ``(kind, row)``."""

    template: str
    context: Callable[[str, Any], dict[str, Any]]


def _log_context(kind: str, row: Any) -> dict[str, Any]:
    """The edit page's evaluation log: newest first, keyset paged (``?cursor=``)."""
    from ..api.base import decode_cursor, encode_cursor

    before = decode_cursor(f"{kind}-logs")
    if isinstance(before, bool) or not isinstance(before, int):
        before = None
    entries = rules.logs_with_tickets(kind, row.id, limit=LOG_PAGE + 1, before=before)
    more = len(entries) > LOG_PAGE
    entries = entries[:LOG_PAGE]
    return {"rule_log": {
        "entries": entries, "paged": before is not None,
        "next": encode_cursor(f"{kind}-logs", entries[-1][0].id) if more else None}}


RULE_LOG = LogPanel("escalated/admin/rules_log.html", _log_context)


def rule_resource(kind: str, *, name: str, label: str, singular: str, permission: str,
                  intro: str, editor: RuleEditor = TREE, log: LogPanel = RULE_LOG,
                  columns: Sequence[Column] = (), switch: bool = True) -> Resource:
    """The console section of one kind of rule (``escalation``, ``automation`` or
    ``workflow``): the API's schemas and service, the rule editor, the log, the switch.

    ``columns`` go after the list's name column (what the rule runs on, or when it acts);
    ``switch`` makes the Active column an on/off button (its route: :func:`register_switch`),
    else it only says On or Off."""
    create_model, update_model = ((WorkflowCreate, WorkflowUpdate) if kind == "workflow"
                                  else (RuleCreate, RuleUpdate))
    manage = f"{permission}.manage"
    active = _active_cell(name, manage) if switch else \
        (lambda r: "On" if r.is_active else "Off")
    listed = [Column("Name", link(name, lambda r: r.name)), *columns,
              Column("Actions", _actions), Column("Active", active),
              Column("Last run", lambda r: _when(r.last_run_at)),
              Column("Order", lambda r: r.position)]
    page = _page_context(kind, rules.serialize, editor)

    def context(row: Any) -> dict[str, Any]:
        return {**page(row), **(log.context(kind, row) if row is not None else {})}

    return Resource(
        name=name, label=label, singular=singular, view=manage, create_permission=manage,
        edit_permission=manage, delete_permission=manage,
        load=lambda ident: rules.get(kind, ident), serialize=rules.serialize,
        rows=simple_rows(lambda: rules.list_rules(kind)), columns=listed,
        create_model=create_model, update_model=update_model,
        create=lambda actor, data: rules.create(kind, actor, data),
        update=lambda actor, ident, data: rules.update(kind, actor, ident, data),
        delete=lambda actor, ident: rules.remove(kind, actor, ident),
        specs=_rule_specs, extra_input=editor.read, refresh_inputs=editor.refresh_inputs,
        initial=lambda: {"is_active": True}, intro=intro, edit_panels=(log.template,),
        context=context, form_template=FORM_TEMPLATE)


def register_switch(bp: Blueprint, res: Resource, kind: str) -> None:
    """``POST /<resource>/<id>/active``: turn a rule on or off (``is_active=true|false``)
    through the API's update schema and service, then back to the list."""
    assert res.update_model is not None and res.edit_permission is not None
    model = res.update_model
    spec = FieldSpec("is_active", "Active", widget="hidden", required=True)

    def switch(ident: int) -> Response:
        rule = rules.get(kind, ident)
        form = read_form(model, [spec])
        wanted = form.model.changes().get("is_active") if form.ok else None  # type: ignore[union-attr]
        if wanted is None:
            flash("Say whether to turn it on or off (is_active: true or false).", "error")
            return redirect(url_for(res.endpoint("list")))
        try:
            with ext().unit_of_work():
                rules.update(kind, current_principal().actor, rule.id, {"is_active": wanted})
        except ServiceError as exc:
            flash(exc.message, "error")
            return redirect(url_for(res.endpoint("list")))
        flash(f"The {res.singular} “{rule.name}” is now {'on' if wanted else 'off'}.",
              "success")
        return redirect(url_for(res.endpoint("list")))

    stem = res.name.replace("-", "_")
    bp.add_url_rule(f"/{res.name}/<{res.key_rule}:ident>/active", f"{stem}_active",
                    requires(res.edit_permission)(switch), methods=["POST"])


AUTOMATIONS = rule_resource(
    "automation", name="automations", label="Automations", singular="automation",
    permission="automation", intro="Automations run on a schedule (flask escalated "
    "run-automations) and act once on each ticket their conditions match, until the "
    "conditions stop holding for it.")
WORKFLOWS = rule_resource(
    "workflow", name="workflows", label="Workflows", singular="workflow",
    permission="workflow", intro="Workflows run when an event they name happens to a "
    "ticket, inside the same change, if their conditions hold for it.",
    columns=[Column("Runs on", lambda r: ", ".join(r.trigger_events or []))])


# ---------------------------------------------------------------------------- macros
def _scope(row: Any) -> str:
    return "Shared" if row.is_shared else "Personal (yours)"


MACROS = Resource(
    name="macros", label="Macros", singular="macro", view="macro.manage",
    create_permission="macro.manage", edit_permission="macro.manage",
    delete_permission="macro.manage",
    load=lambda ident: macros.get(current_principal(), ident), serialize=macros.serialize,
    rows=simple_rows(lambda: macros.visible(current_principal())),
    columns=[Column("Name", link("macros", lambda m: m.name)), Column("Actions", _actions),
             Column("Scope", _scope), Column("Order", lambda m: m.position)],
    create_model=MacroCreate, update_model=MacroUpdate,
    create=lambda actor, data: macros.create(current_principal(), data),
    update=lambda actor, ident, data: macros.update(current_principal(), ident, data),
    delete=lambda actor, ident: macros.remove(current_principal(), ident),
    specs=lambda model: specs_for(
        model, only=("name", "description", "is_shared", "position"),
        description={"widget": "textarea", "rows": 2},
        is_shared={"label": "Shared with every agent",
                   "help": "Unticked, only you see it in the agent workspace."},
        position={"label": "Order", "help": "Macros are listed in this order."}),
    extra_input=lambda: builder.read_input(conditions=False),
    refresh_inputs=builder.REFRESH_INPUTS, initial=lambda: {"is_shared": True},
    context=_page_context("macro", macros.serialize), form_template=FORM_TEMPLATE,
    intro="Macros are saved sets of actions agents apply to a ticket by hand; each action "
          "needs the permission the agent would need to do it themselves.")


def register_all(bp: Blueprint) -> None:
    for res in (AUTOMATIONS, WORKFLOWS, MACROS):
        register(bp, res)
    register_switch(bp, AUTOMATIONS, "automation")
    register_switch(bp, WORKFLOWS, "workflow")


