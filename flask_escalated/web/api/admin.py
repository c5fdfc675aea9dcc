"""JSON API v1: run-time settings and the audit log."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from ...models import AuditLog
from ...services import settings
from ...services.serializers import iso
from ..security import current_principal
from .base import json_body, newest_first, route
from .commit import committed


@route("/settings", ["GET"], summary="Run-time settings (stored values over the config)",
       tag="Settings", permission="settings.view")
def show_settings() -> Response:
    return jsonify({"data": settings.effective(),
                    "help": {key: spec.help for key, spec in settings.SETTINGS.items()}})


@route("/settings", ["PATCH"], summary="Change run-time settings (all or nothing)",
       tag="Settings", permission="settings.manage",
       body={key: spec.help for key, spec in settings.SETTINGS.items()})
def update_settings() -> Response:
    data = json_body()
    with committed():
        values = settings.update(current_principal().actor, data)
    return jsonify({"data": values})


def _entry(row: AuditLog) -> dict[str, Any]:
    return {"id": row.id, "action": row.action, "entity_type": row.entity_type,
            "entity_id": row.entity_id, "actor_type": row.actor_type,
            "actor_user_id": row.actor_user_id, "old_values": row.old_values,
            "new_values": row.new_values, "ip_address": row.ip_address,
            "user_agent": row.user_agent, "created_at": iso(row.created_at)}


@route("/audit-logs", ["GET"], summary="The audit log, newest first (keyset paged)",
       tag="Audit", permission="audit.view", paged=True,
       query={"entity_type": "e.g. ticket, webhook, role, settings", "entity_id": "id",
              "actor_user_id": "host user id", "action": "e.g. role.updated"})
def list_audit_logs() -> Response:
    return newest_first("audit", AuditLog, {
        name: (request.args.get(name) or "")[:100] or None
        for name in ("entity_type", "entity_id", "actor_user_id", "action")}, _entry)
