"""The rule engine behind escalation rules and time-based automations.

Both kinds are a condition group (compiled to SQL by :mod:`.conditions`) and a list of actions.
A rule acts on a ticket once per *condition window*: when it acts it writes a ``RuleFiring`` row
(unique per rule and ticket, so two workers cannot both act), and that row is deleted — the rule
re-armed — only when an evaluation finds the condition false for the ticket again. This is the
trap Zendesk documents for automations, and the reference implementation's re-firing bug.
Every evaluation that acts writes a ``RuleLog`` row with what it did or what failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import delete, exists, not_, select
from sqlalchemy.exc import IntegrityError

from ..clock import now
from ..domain import CLOSED_CATEGORIES, PRIORITIES
from ..events import Actor
from ..models import (
    Automation,
    Department,
    EscalationRule,
    RuleFiring,
    RuleLog,
    Ticket,
    Workflow,
)
from . import (
    assignment,
    audit,
    conditions,
    deletion,
    ext,
    replies,
    routing,
    savepoint,
    session,
    statuses,
    tags,
    tickets,
)
from .errors import NotFound, ServiceError, ValidationError
from .ids import parse_id
from .sla_sweep import skip_locked

log = logging.getLogger("flask_escalated.rules")

SYSTEM = Actor.system()
RuleModel = type[EscalationRule] | type[Automation] | type[Workflow]
KINDS: dict[str, RuleModel] = {"escalation": EscalationRule, "automation": Automation,
                               "workflow": Workflow}
#: Fields each kind's body may carry; anything else is refused, so a time-based automation
#: cannot be given an event trigger (nor a workflow a schedule) by a typo or a wrong idea.
RULE_FIELDS = frozenset({"name", "description", "is_active", "position", "conditions",
                         "actions"})
KIND_FIELDS = {"escalation": RULE_FIELDS, "automation": RULE_FIELDS,
               "workflow": RULE_FIELDS | {"trigger_events"}}
#: Condition fields that measure elapsed time: the domain of automations, not workflows.
TIME_FIELDS = frozenset({"hours_since_created", "hours_since_updated", "hours_since_last_reply",
                         "hours_since_last_customer_reply", "hours_since_last_agent_reply",
                         "hours_since_resolved", "sla_due_within_minutes"})


# ---------------------------------------------------------------------------- actions
def _str(value: Any) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise ValueError("a non-empty string")
    return str(value)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 20_000:
        raise ValueError("text of 1 to 20000 characters")
    return value


def _priority(value: Any) -> str:
    if value not in PRIORITIES:
        raise ValueError(f"one of {', '.join(PRIORITIES)}")
    return str(value)


def _canned_id(value: Any) -> int:
    ident = parse_id(value)
    if ident is None:
        raise ValueError("the id of a canned response")
    return ident


def _notify(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("an object")
    return value


#: action type -> (value validator or None, kinds allowed)
ACTION_TYPES: dict[str, tuple[Callable[[Any], Any] | None, tuple[str, ...]]] = {
    "set_status": (_str, ("escalation", "automation", "workflow", "macro")),
    "escalate": (None, ("escalation", "workflow")),
    "set_priority": (_priority, ("escalation", "automation", "workflow", "macro")),
    "assign_agent": (_str, ("escalation", "automation", "workflow", "macro")),
    "assign_department": (_str, ("escalation", "workflow", "macro")),
    "add_tag": (_str, ("escalation", "automation", "workflow", "macro")),
    "remove_tag": (_str, ("automation", "workflow", "macro")),
    "add_note": (_text, ("escalation", "automation", "workflow", "macro")),
    "send_reply": (_text, ("automation", "workflow", "macro")),
    "close": (None, ("automation", "macro")),
    #: A public reply with a canned response's body, rendered for the ticket and the agent.
    "canned_reply": (_canned_id, ("macro",)),
    "notify_email": (_notify, ("escalation", "workflow")),
    "notify_webhook": (_notify, ("escalation", "workflow")),
}


def actions_for(kind: str) -> list[str]:
    """The action types a kind of rule (or a macro) takes, in the catalogue's order."""
    return [name for name, (_, kinds) in ACTION_TYPES.items() if kind in kinds]


def _bad_action(i: int, reason: str, detail: str = "") -> ValidationError:
    """A refused action, named by its place: ``{"actions": "[i]: reason"}`` (the shape of
    :func:`.conditions.validate`'s errors), so a form can show it beside the row; the message
    adds ``detail`` (the value at fault)."""
    return ValidationError(f"actions[{i}]: {reason}{detail}", {"actions": f"[{i}]: {reason}"})


def validate_actions(kind: str, actions: Any) -> list[dict[str, Any]]:
    if not isinstance(actions, list) or not actions or len(actions) > 20:
        raise ValidationError("actions must be a list of 1 to 20 actions.",
                              {"actions": "expected a list of 1 to 20 actions"})
    clean = []
    for i, action in enumerate(actions):
        if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
            raise _bad_action(i, f"type must be one of {', '.join(sorted(actions_for(kind)))}.")
        check, kinds = ACTION_TYPES[action["type"]]
        if kind not in kinds:
            raise _bad_action(i, f"'{action['type']}' is not a {kind} action.")
        value = action.get("value")
        if check is not None:
            try:
                value = check(value)
            except ValueError as exc:
                raise _bad_action(i, f"value must be {exc}.") from None
            if action["type"] in ("notify_email", "notify_webhook"):
                from . import notify

                try:
                    value = notify.validate(action["type"], value)
                except ValidationError as exc:
                    raise _bad_action(i, exc.message) from None
        clean.append({"type": action["type"], "value": value})
    _check_references(clean)
    return clean


def _check_references(actions: list[dict[str, Any]]) -> None:
    """What an action names must exist when it is saved, or it could never run: an active
    status, an agent, an active department. Tags are created when used; a macro's canned
    responses are checked by the macro service."""
    escalated = ext()
    for i, action in enumerate(actions):
        kind, value = action["type"], action.get("value")
        if kind == "set_status":
            if not any(s.slug == value for s in statuses.all_statuses()):
                raise _bad_action(i, "no such status", f" '{str(value)[:40]}'.")
        elif kind == "assign_agent":
            if not escalated.is_agent(escalated.load_user(str(value))):
                raise _bad_action(i, "not an agent", f": user '{str(value)[:40]}'.")
        elif kind == "assign_department":
            ident = parse_id(value)
            department = session().get(Department, ident) if ident is not None else None
            if department is None or not department.is_active:
                raise _bad_action(i, "no such department", f" '{str(value)[:40]}'.")


def _fill(text: str, ticket: Ticket) -> str:
    """Literal placeholders only: rule texts are never evaluated as templates."""
    return text.replace("{reference}", ticket.reference or "").replace("{subject}",
                                                                       ticket.subject)


def apply_action(action: dict[str, Any], ticket: Ticket, rule: Any,
                 actor: Actor = SYSTEM) -> None:
    """Carry out one validated action on ``ticket`` as ``actor`` (the system for rules, the
    agent for a macro)."""
    kind, value = action["type"], action.get("value")
    value = cast(Any, value)
    if kind == "set_status":
        tickets.change_status(ticket, value, actor)
    elif kind == "escalate":
        tickets.change_status(ticket, "escalated", actor, auto=True,
                              reason=f"Escalation rule: {rule.name}")
    elif kind == "close":
        tickets.change_status(ticket, "closed", actor, auto=True)
    elif kind == "set_priority":
        tickets.change_priority(ticket, value, actor)
    elif kind == "assign_agent":
        if actor.is_agent:  # a macro run by hand: the agent's own decision
            assignment.assign(ticket, value, actor)
        else:
            assignment.assign_by_rule(ticket, value, actor)
    elif kind == "assign_department":
        tickets.change_department(ticket, value, actor)
        dept = ticket.department
        if dept is not None and dept.assignment_strategy != "manual":
            assignment.auto_assign(ticket, actor, strategy=dept.assignment_strategy)
    elif kind == "add_tag":
        tags.add_tags(ticket, [value], actor)
    elif kind == "remove_tag":
        tags.remove_tags(ticket, [value], actor)
    elif kind == "add_note":
        replies.add_reply(ticket, _fill(value, ticket), actor, internal=True)
    elif kind == "send_reply":
        replies.add_reply(ticket, _fill(value, ticket), actor)
    elif kind == "canned_reply":
        from . import canned

        body = canned.render(canned.load(value), ticket, actor.user_id)
        replies.add_reply(ticket, body, actor)
    elif kind in ("notify_email", "notify_webhook"):
        from . import notify

        notify.queue(kind, value, ticket, rule.name)


def run_logged(kind: str, rule: Any, ticket: Ticket, at: datetime) -> None:
    """Apply each of a rule's actions in its own SAVEPOINT (a failing one is skipped, the
    others stand) and log what was done and what failed."""
    db = session()
    done, errors = [], []
    for action in rule.actions or []:
        try:
            with savepoint():
                apply_action(action, ticket, rule)
            done.append(action["type"])
        except (ServiceError, ValueError) as exc:
            errors.append(f"{action.get('type')}: {getattr(exc, 'message', exc)}")
            if isinstance(exc, routing.Unroutable):  # visible in the queue, not only the log
                routing.mark_unrouted(ticket, exc.reason)
    db.add(RuleLog(rule_kind=kind, rule_id=rule.id, rule_name=rule.name, ticket_id=ticket.id,
                   actions=done, error="; ".join(errors) or None, created_at=at))


# ---------------------------------------------------------------------------- evaluation
def _names_status(group: dict[str, Any]) -> bool:
    items = next(iter(group.values()))
    return any(
        _names_status(i) if set(i) & {"all", "any"} else i.get("field") in ("status",
                                                                          "status_category")
        for i in items
    )


def evaluate(kind: str, at: datetime | None = None, limit: int = 500) -> int:
    """Run every active rule of ``kind`` once over matching tickets; returns tickets acted on
    (the caller commits and calls again until 0)."""
    at = at or now()
    model = KINDS[kind]
    db = session()
    dialect = db.get_bind().dialect.name
    handled = 0
    rules = list(db.execute(
        select(model).where(model.is_active.is_(True)).order_by(model.position, model.id)
    ).scalars())
    for rule in rules:
        if handled >= limit:
            break
        handled += _evaluate_rule(kind, rule, at, limit - handled, dialect)
    return handled


def _evaluate_rule(kind: str, rule: Any, at: datetime, limit: int, dialect: str) -> int:
    db = session()
    try:
        cond = conditions.compile_group(conditions.validate(rule.conditions), at)
    except ValidationError as exc:
        log.warning("%s rule %s has invalid conditions: %s", kind, rule.id, exc.message)
        return 0
    # Re-arm: tickets this rule acted on whose condition is false again.
    stale = list(db.execute(
        select(RuleFiring.id).join(Ticket, Ticket.id == RuleFiring.ticket_id).where(
            RuleFiring.rule_kind == kind, RuleFiring.rule_id == rule.id, not_(cond))
    ).scalars())
    if stale:
        db.execute(delete(RuleFiring).where(RuleFiring.id.in_(stale)))
    fired = exists().where(RuleFiring.rule_kind == kind, RuleFiring.rule_id == rule.id,
                           RuleFiring.ticket_id == Ticket.id)
    query = select(Ticket).where(cond, not_(fired))
    if kind == "escalation" or not _names_status(rule.conditions):
        query = query.where(Ticket.status_category.not_in(CLOSED_CATEGORIES))
    candidates = list(db.execute(skip_locked(query.order_by(Ticket.id).limit(limit), dialect))
                      .scalars())
    acted = 0
    for ticket in candidates:
        try:
            with savepoint():
                db.add(RuleFiring(rule_kind=kind, rule_id=rule.id, ticket_id=ticket.id,
                                  fired_at=at))
        except IntegrityError:
            continue  # another worker got there first
        run_logged(kind, rule, ticket, at)
        acted += 1
    rule.last_run_at = at
    return acted


# ---------------------------------------------------------------------------- CRUD
def _values(rule: Any) -> dict[str, Any]:
    values = {"name": rule.name, "description": rule.description, "is_active": rule.is_active,
              "position": rule.position, "conditions": rule.conditions,
              "actions": rule.actions}
    if isinstance(rule, Workflow):
        values["trigger_events"] = rule.trigger_events
    return values


def serialize(rule: Any) -> dict[str, Any]:
    from .serializers import iso

    return {"id": rule.id, **_values(rule), "last_run_at": iso(rule.last_run_at),
            "created_at": iso(rule.created_at), "updated_at": iso(rule.updated_at)}


def _condition_fields(group: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    if not group:
        return found
    for item in next(iter(group.values())):
        found |= _condition_fields(item) if set(item) & {"all", "any"} else {item.get("field")}
    return found


def _apply_fields(kind: str, rule: Any, data: dict[str, Any], creating: bool) -> None:
    unknown = sorted(str(k)[:40] for k in set(data) - KIND_FIELDS[kind])
    if unknown:
        hint = {"automation": "automations run on a schedule and take no event trigger",
                "escalation": "escalation rules run on a schedule",
                "workflow": "workflows run on events"}[kind]
        raise ValidationError(f"Unknown field(s) {', '.join(unknown)}: {hint}.",
                              {k: "unknown field" for k in unknown})
    if creating or "name" in data:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 120:
            raise ValidationError("A rule needs a name.", {"name": "1-120 characters"})
        rule.name = name.strip()
    if "description" in data:
        if data["description"] is not None and not isinstance(data["description"], str):
            raise ValidationError("description must be text.", {"description": "text"})
        rule.description = data["description"]
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            raise ValidationError("is_active must be true or false.", {"is_active": "boolean"})
        rule.is_active = data["is_active"]
    if "position" in data:
        if isinstance(data["position"], bool) or not isinstance(data["position"], int):
            raise ValidationError("position must be an integer.", {"position": "integer"})
        rule.position = data["position"]
    if creating or "conditions" in data:
        given = data.get("conditions")
        if kind == "workflow" and given in (None, {"all": []}, {"any": []}):
            rule.conditions = {"all": []}  # a workflow may act on every such event
        else:
            rule.conditions = conditions.validate(given)
    if creating or "actions" in data:
        rule.actions = validate_actions(kind, data.get("actions"))
    if kind == "workflow":
        timed = sorted(_condition_fields(rule.conditions) & TIME_FIELDS)
        if timed:
            raise ValidationError("Workflows run on events, not on elapsed time; use an "
                                  "automation for " + ", ".join(timed) + ".",
                                  {"conditions": "time-based: workflows run on events; use "
                                                 "an automation for " + ", ".join(timed)})
        if creating or "trigger_events" in data:
            rule.trigger_events = _trigger_events(data.get("trigger_events"))


def _trigger_events(value: Any) -> list[str]:
    from ..signals import ALL_SIGNALS, webhook_event_name

    known = sorted(webhook_event_name(n) for n in ALL_SIGNALS)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value) \
            or set(value) - set(known):
        raise ValidationError("trigger_events must list events such as ticket.created.",
                              {"trigger_events": "one or more of " + ", ".join(known)})
    return sorted(set(value))


def create(kind: str, actor: Actor, data: dict[str, Any]) -> Any:
    rule = KINDS[kind](is_active=True, position=0)
    _apply_fields(kind, rule, data, creating=True)
    session().add(rule)
    session().flush()
    audit.log(actor, f"{kind}.created", kind, rule.id, new=_values(rule))
    return rule


def get(kind: str, rule_id: object) -> Any:
    ident = parse_id(str(rule_id))
    rule = session().get(KINDS[kind], ident) if ident is not None else None
    if rule is None:
        raise NotFound(f"No such {kind} rule.")
    return rule


def update(kind: str, actor: Actor, rule_id: object, data: dict[str, Any]) -> Any:
    rule = get(kind, rule_id)
    old = _values(rule)
    _apply_fields(kind, rule, data, creating=False)
    if rule.conditions != old["conditions"]:
        # New conditions start a new window for every ticket (the same ones sent again, as
        # a form that saves the whole rule does, change nothing).
        session().execute(delete(RuleFiring).where(
            RuleFiring.rule_kind == kind, RuleFiring.rule_id == rule.id))
    audit.log(actor, f"{kind}.updated", kind, rule.id, old=old, new=_values(rule))
    return rule


def remove(kind: str, actor: Actor, rule_id: object) -> None:
    rule = get(kind, rule_id)
    audit.log(actor, f"{kind}.deleted", kind, rule.id, old=_values(rule))
    session().execute(delete(RuleFiring).where(
        RuleFiring.rule_kind == kind, RuleFiring.rule_id == rule.id))
    deletion.delete_with_dependants(rule)


def list_rules(kind: str) -> list[Any]:
    model = KINDS[kind]
    return list(session().execute(select(model).order_by(model.position, model.id)).scalars())


def logs(kind: str, rule_id: int, *, limit: int, before: int | None) -> list[RuleLog]:
    query = select(RuleLog).where(RuleLog.rule_kind == kind, RuleLog.rule_id == rule_id)
    if before is not None:
        query = query.where(RuleLog.id < before)
    return list(session().execute(query.order_by(RuleLog.id.desc()).limit(limit)).scalars())


def logs_with_tickets(kind: str, rule_id: int, *, limit: int,
                      before: int | None) -> list[tuple[RuleLog, str | None]]:
    """:func:`logs`, each row with its ticket's reference (one query: the console's
    evaluation log links every ticket by the name agents know it by)."""
    query = (select(RuleLog, Ticket.reference).join(Ticket, Ticket.id == RuleLog.ticket_id)
             .where(RuleLog.rule_kind == kind, RuleLog.rule_id == rule_id))
    if before is not None:
        query = query.where(RuleLog.id < before)
    rows = session().execute(query.order_by(RuleLog.id.desc()).limit(limit)).all()
    return [(log_row, reference) for log_row, reference in rows]
