"""The console's escalation rules: the API's ``/escalation-rules`` as pages.

A rule's conditions and actions are edited with the rows of :mod:`.escalation_builder` and
saved through :mod:`...services.rules` with the API's schemas; its edit page shows what the
rule did (its evaluation log: one row per ticket it acted on, what it did and what failed),
newest first and keyset paged.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from ...models import EscalationRule, RuleLog
from ...services import rules
from ...services.ids import parse_id
from ...services.serializers import iso
from ..api.schemas.rules import RuleCreate, RuleUpdate
from ..forms import FieldSpec, specs_for
from . import escalation_builder as builder
from .crud import Column, Resource, link, register, simple_rows

KIND = "escalation"
PERMISSION = "escalation.manage"
#: Log rows on one page of a rule's evaluation log.
LOG_PAGE = 25


def _specs(model: Any) -> list[FieldSpec]:
    return specs_for(
        model, only=["name", "description", "is_active", "position"],
        description={"widget": "textarea", "rows": 2},
        is_active={"label": "Active", "help": "Only active rules are evaluated."},
        position={"help": "Rules run from the lowest position up."})


def evaluation_log(row: EscalationRule) -> tuple[list[RuleLog], int | None]:
    """One page of the rule's log (``?log_before=<id>`` pages back) and the next page's key."""
    before = parse_id(request.args.get("log_before") or "")
    found = rules.logs(KIND, row.id, limit=LOG_PAGE + 1, before=before)
    return found[:LOG_PAGE], (found[LOG_PAGE - 1].id if len(found) > LOG_PAGE else None)


def _context(row: EscalationRule | None) -> dict[str, Any]:
    stored = rules.serialize(row) if row is not None else None
    return {"rule_editors": lambda errors: builder.editors(KIND, stored, errors),
            "rule_log": evaluation_log(row) if row is not None else ([], None),
            "iso": iso}


def _actions(rule: EscalationRule) -> str:
    return ", ".join(builder.ACTION_LABELS.get(str(a.get("type")), str(a.get("type"))).lower()
                     for a in rule.actions or [] if isinstance(a, dict)) or "—"


ESCALATION_RULES = Resource(
    name="escalation-rules", label="Escalation rules", singular="escalation rule",
    view=PERMISSION, create_permission=PERMISSION, edit_permission=PERMISSION,
    delete_permission=PERMISSION,
    load=lambda ident: rules.get(KIND, ident), serialize=rules.serialize,
    rows=simple_rows(lambda: rules.list_rules(KIND)),
    columns=[Column("Name", link("escalation-rules", lambda r: r.name)),
             Column("Active", lambda r: "yes" if r.is_active else "no"),
             Column("Position", lambda r: r.position),
             Column("When", lambda r: builder.describe(r.conditions)),
             Column("Then", _actions),
             Column("Last run", lambda r: iso(r.last_run_at) or "never")],
    create_model=RuleCreate, update_model=RuleUpdate,
    create=lambda actor, data: rules.create(KIND, actor, data),
    update=lambda actor, ident, data: rules.update(KIND, actor, ident, data),
    delete=lambda actor, ident: rules.remove(KIND, actor, ident),
    specs=_specs, extra_input=builder.read, context=_context,
    form_template="escalated/admin/escalation_form.html",
    edit_panels=["escalated/admin/escalation_log.html"],
    initial=lambda: {"is_active": True, "position": 0},
    intro="Escalation rules run on a schedule (flask escalated evaluate-escalations) and act "
          "once on each open ticket that meets their conditions, until it no longer does.")


def register_all(bp: Blueprint) -> None:
    register(bp, ESCALATION_RULES)
