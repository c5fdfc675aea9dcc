"""Macros: named action lists an agent applies to a ticket by hand.

No conditions and no triggers — that is what makes them an agent tool rather than an admin
surface. Agents keep personal macros (``macro.create``); shared ones need ``macro.manage``.
Applying one runs its actions as the agent, and each action needs the permission the agent
would need to do it by hand, so a macro never does more than its user could.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from ..models import Macro, Ticket
from . import audit, canned, deletion, session
from .errors import NotFound, PermissionDenied, ValidationError
from .ids import parse_id
from .permissions import Principal
from .rules import apply_action, validate_actions

FIELDS = frozenset({"name", "description", "actions", "is_shared", "position"})
#: The permission each action needs when an agent runs it.
ACTION_PERMISSIONS = {
    "set_status": "ticket.edit", "close": "ticket.close", "set_priority": "ticket.edit",
    "assign_agent": "ticket.assign", "assign_department": "ticket.edit",
    "add_tag": "ticket.edit", "remove_tag": "ticket.edit",
    "add_note": "reply.create_internal", "send_reply": "reply.create",
    "canned_reply": "reply.create",
}


def _values(row: Macro) -> dict[str, Any]:
    return {"name": row.name, "description": row.description, "actions": row.actions,
            "is_shared": row.is_shared, "position": row.position}


def serialize(row: Macro) -> dict[str, Any]:
    from .serializers import iso

    return {"id": row.id, **_values(row), "owner_user_id": row.owner_user_id,
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at)}


def visible(principal: Principal) -> list[Macro]:
    return list(session().execute(
        select(Macro).where(or_(Macro.is_shared.is_(True),
                                Macro.owner_user_id == principal.user_id))
        .order_by(Macro.position, Macro.name, Macro.id)).scalars())


def get(principal: Principal, macro_id: object) -> Macro:
    ident = parse_id(macro_id)
    row = session().get(Macro, ident) if ident is not None else None
    if row is None or not (row.is_shared or row.owner_user_id == principal.user_id):
        raise NotFound("No such macro.")
    return row


def _apply_fields(principal: Principal, row: Macro, data: dict[str, Any], creating: bool) -> None:
    unknown = sorted(str(k)[:40] for k in set(data) - FIELDS)
    if unknown:
        raise ValidationError(
            f"Unknown field(s) {', '.join(unknown)}: macros have no conditions or triggers; "
            "an agent applies them by hand.", {k: "unknown field" for k in unknown})
    if creating or "name" in data:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 120:
            raise ValidationError("A macro needs a name.", {"name": "1-120 characters"})
        row.name = name.strip()
    if "description" in data:
        if data["description"] is not None and not isinstance(data["description"], str):
            raise ValidationError("description must be text.", {"description": "text"})
        row.description = data["description"]
    if creating or "actions" in data:
        row.actions = validate_actions("macro", data.get("actions"))
    if "position" in data:
        if isinstance(data["position"], bool) or not isinstance(data["position"], int):
            raise ValidationError("position must be an integer.", {"position": "integer"})
        row.position = data["position"]
    shared = data.get("is_shared", row.is_shared if not creating else False)
    if not isinstance(shared, bool):
        raise ValidationError("is_shared must be true or false.", {"is_shared": "boolean"})
    if shared and not principal.can("macro.manage"):
        raise PermissionDenied("Sharing a macro needs the 'macro.manage' permission.")
    row.is_shared = shared
    _check_canned(principal, row)


def _check_canned(principal: Principal, row: Macro) -> None:
    """A ``canned_reply`` names a response its author may use; a shared macro, a shared one
    (every agent who applies it must be able to use it)."""
    for i, action in enumerate(row.actions):
        if action["type"] != "canned_reply":
            continue
        try:
            response = canned.get(principal, action["value"])
        except NotFound:
            raise ValidationError(f"actions[{i}]: no such canned response.",
                                  {"actions": f"[{i}]: no such canned response"}) from None
        if row.is_shared and not response.is_shared:
            raise ValidationError(
                f"actions[{i}]: a shared macro can only reply with a shared canned response.",
                {"actions": f"[{i}]: not a shared canned response"})


def _may_edit(principal: Principal, row: Macro) -> None:
    if row.owner_user_id != principal.user_id and not principal.can("macro.manage"):
        raise PermissionDenied("You can change your own macros only.")


def create(principal: Principal, data: dict[str, Any]) -> Macro:
    row = Macro(owner_user_id=principal.user_id, is_shared=False, position=0)
    _apply_fields(principal, row, data, creating=True)
    session().add(row)
    session().flush()
    audit.log(principal.actor, "macro.created", "macro", row.id, new=_values(row))
    return row


def update(principal: Principal, macro_id: object, data: dict[str, Any]) -> Macro:
    row = get(principal, macro_id)
    _may_edit(principal, row)
    old = _values(row)
    _apply_fields(principal, row, data, creating=False)
    audit.log(principal.actor, "macro.updated", "macro", row.id, old=old, new=_values(row))
    return row


def remove(principal: Principal, macro_id: object) -> None:
    row = get(principal, macro_id)
    _may_edit(principal, row)
    audit.log(principal.actor, "macro.deleted", "macro", row.id, old=_values(row))
    deletion.delete_with_dependants(row)


def apply(principal: Principal, macro_id: object, ticket: Ticket) -> list[str]:
    """Run a macro's actions on ``ticket`` as the agent; all or nothing."""
    row = get(principal, macro_id)
    missing = sorted({ACTION_PERMISSIONS[a["type"]] for a in row.actions
                      if not principal.can_in(ACTION_PERMISSIONS[a["type"]],
                                              ticket.department_id)})
    if missing:
        raise PermissionDenied("This macro does things you may not do: " + ", ".join(missing))
    for action in row.actions:
        if action["type"] == "canned_reply":
            canned.get(principal, action["value"])  # one this agent may use
    for action in row.actions:
        apply_action(action, ticket, row, principal.actor)
    return [a["type"] for a in row.actions]
