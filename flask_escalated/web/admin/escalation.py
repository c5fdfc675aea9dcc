"""The console's escalation rules: the API's ``/escalation-rules`` as pages.

A :func:`.rules.rule_resource` like automations and workflows, with two parts of their own:
conditions and actions are edited as the table of rows of :mod:`.escalation_builder`, and the
edit page shows what the rule did (its evaluation log: one row per ticket it acted on, what
it did and what failed), newest first and paged by ``?log_before=<id>``.
"""

from __future__ import annotations

from flask import Blueprint, request

from ...models import EscalationRule, RuleLog
from ...services import rules
from ...services.ids import parse_id
from ...services.serializers import iso
from . import escalation_builder
from .crud import Column, register
from .rules import LogPanel, RuleEditor, rule_resource

KIND = "escalation"
#: Log rows on one page of a rule's evaluation log.
LOG_PAGE = 25


def evaluation_log(row: EscalationRule) -> tuple[list[RuleLog], int | None]:
    """One page of the rule's log (``?log_before=<id>`` pages back) and the next page's key."""
    before = parse_id(request.args.get("log_before") or "")
    found = rules.logs(KIND, row.id, limit=LOG_PAGE + 1, before=before)
    return found[:LOG_PAGE], (found[LOG_PAGE - 1].id if len(found) > LOG_PAGE else None)


ESCALATION_RULES = rule_resource(
    KIND, name="escalation-rules", label="Escalation rules", singular="escalation rule",
    permission="escalation",
    intro="Escalation rules run on a schedule (flask escalated evaluate-escalations) and act "
          "once on each open ticket that meets their conditions, until it no longer does.",
    editor=RuleEditor(escalation_builder.read, escalation_builder.page_context),
    log=LogPanel("escalated/admin/escalation_log.html",
                 lambda kind, row: {"rule_log": evaluation_log(row), "iso": iso}),
    columns=[Column("When", lambda r: escalation_builder.describe(r.conditions))],
    switch=False)


def register_all(bp: Blueprint) -> None:
    register(bp, ESCALATION_RULES)

