"""JSON API v1: run-time settings and the audit log."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ...models import AuditLog
from ...services import audit, settings
from ...services.serializers import iso
from ..security import current_principal
from .base import keyset_page, route
from .commit import committed
from .schemas import parse_body, parse_query
from .schemas.audit import AuditList, AuditPage
from .schemas.settings import SettingsEnvelope, SettingsUpdate


@route("/settings", ["GET"], summary="Run-time settings (stored values over the config)",
       tag="Settings", permission="settings.view", response=SettingsEnvelope)
def show_settings() -> Response:
    return jsonify({"data": settings.effective(),
                    "help": {key: spec.help for key, spec in settings.SETTINGS.items()}})


@route("/settings", ["PATCH"], summary="Change run-time settings (all or nothing)",
       tag="Settings", permission="settings.manage",
       body=SettingsUpdate, response=SettingsEnvelope)
def update_settings() -> Response:
    data = parse_body(SettingsUpdate).changes()
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
       query=AuditList, response=AuditPage)
def list_audit_logs() -> Response:
    args = parse_query(AuditList)
    return keyset_page("audit", lambda before, limit: audit.list_entries(
        args.filters(), before=before, limit=limit), _entry)
