"""JSON API v1: escalation rules and automations, with their logs."""

from __future__ import annotations

from flask import Response, jsonify

from ...services import rules
from ...services.serializers import iso
from ..security import current_principal
from .base import decode_cursor, encode_cursor, page_limit, route
from .commit import committed
from .schemas import Body, parse_body
from .schemas.rules import (
    RuleCreate,
    RuleEnvelope,
    RuleList,
    RuleLogPage,
    RuleUpdate,
    WorkflowCreate,
    WorkflowUpdate,
)

#: The body models of each kind: workflows also take their trigger events.
MODELS: dict[str, tuple[type[Body], type[Body]]] = {
    "escalation": (RuleCreate, RuleUpdate), "automation": (RuleCreate, RuleUpdate),
    "workflow": (WorkflowCreate, WorkflowUpdate)}


def _crud(kind: str, path: str, perm: str, tag: str) -> None:
    """Declare list/create/show/update/delete/logs routes for one rule kind."""
    create_model, update_model = MODELS[kind]

    def list_() -> Response:
        return jsonify({"data": [rules.serialize(r) for r in rules.list_rules(kind)]})

    def create() -> tuple[Response, int]:
        data = parse_body(create_model).changes()
        with committed():
            rule = rules.create(kind, current_principal().actor, data)
        return jsonify({"data": rules.serialize(rule)}), 201

    def show(rule_id: int) -> Response:
        return jsonify({"data": rules.serialize(rules.get(kind, rule_id))})

    def update(rule_id: int) -> Response:
        data = parse_body(update_model).changes()
        with committed():
            rule = rules.update(kind, current_principal().actor, rule_id, data)
        return jsonify({"data": rules.serialize(rule)})

    def delete(rule_id: int) -> tuple[str, int]:
        with committed():
            rules.remove(kind, current_principal().actor, rule_id)
        return "", 204

    def logs(rule_id: int) -> Response:
        rules.get(kind, rule_id)
        before = decode_cursor(f"{kind}-logs")
        if before is not None and (isinstance(before, bool) or not isinstance(before, int)):
            before = None
        limit = page_limit()
        rows = rules.logs(kind, rule_id, limit=limit + 1, before=before)
        more = len(rows) > limit
        rows = rows[:limit]
        return jsonify({
            "data": [{"id": r.id, "ticket_id": r.ticket_id, "actions": r.actions,
                      "error": r.error, "created_at": iso(r.created_at)} for r in rows],
            "next_cursor": encode_cursor(f"{kind}-logs", rows[-1].id) if more else None,
        })

    for fn, name in ((list_, "list"), (create, "create"), (show, "show"), (update, "update"),
                     (delete, "delete"), (logs, "logs")):
        fn.__name__ = f"{name}_{kind}_rule"
    route(path, ["GET"], summary=f"List {tag.lower()}", tag=tag, permission=f"{perm}.view",
          response=RuleList)(list_)
    route(path, ["POST"], summary=f"Create ({tag.lower()})", tag=tag, permission=f"{perm}.manage",
          body=create_model, status=201, response=RuleEnvelope)(create)
    route(f"{path}/<int:rule_id>", ["GET"], summary="Show one", tag=tag,
          permission=f"{perm}.view", response=RuleEnvelope)(show)
    route(f"{path}/<int:rule_id>", ["PATCH"], summary="Update one", tag=tag,
          permission=f"{perm}.manage", body=update_model, response=RuleEnvelope)(update)
    route(f"{path}/<int:rule_id>", ["DELETE"], summary="Delete one", tag=tag,
          permission=f"{perm}.manage", status=204)(delete)
    route(f"{path}/<int:rule_id>/logs", ["GET"], summary="What the rule did (paged)", tag=tag,
          permission=f"{perm}.view", paged=True, response=RuleLogPage)(logs)


_crud("escalation", "/escalation-rules", "escalation", "Escalation rules")
_crud("automation", "/automations", "automation", "Automations")
_crud("workflow", "/workflows", "workflow", "Workflows")
