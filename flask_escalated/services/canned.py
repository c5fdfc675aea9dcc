"""Canned responses: saved reply texts an agent inserts into the composer.

A response is *personal* (its author's: only they see and change it) or *shared* (creating,
changing and deleting one needs ``canned.manage``). A shared response with a department is
offered only to that department's members (and to the people who manage responses); one
without a department is offered to every agent.

Placeholders are the family's ``{{word}}`` form (``{{ticket.reference}}``,
``{{requester.name}}`` ...). :func:`render` substitutes them in **one pass of plain text
replacement**: never a template engine, so a value is inserted literally and never read again
(a requester called ``{{agent.name}}`` stays that text), HTML in a value is text that every
page escapes when it shows it (and reply Markdown is rendered without raw HTML), and a
placeholder nobody knows stays exactly as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.exc import IntegrityError

from ..config import Config
from ..events import record
from ..models import CannedResponse, Department, DepartmentMember, Ticket
from ..models.canned import SHARED_SCOPE
from . import audit, config, ext, savepoint, session
from .errors import Conflict, NotFound, PermissionDenied, ValidationError
from .ids import parse_id
from .permissions import Principal

FIELDS = frozenset({"title", "body", "shortcut", "department_id", "shared"})
MAX_TITLE = 200
MAX_QUERY = 100
#: A shortcut as typed after "/" in the composer: lower-case letters, digits, ``_ . -``.
SHORTCUT = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}\Z")
#: ``{{word}}`` or ``{{word.word}}``, spaces inside the braces allowed.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*)\s*\}\}")
#: The placeholders every desk knows (custom fields add ``custom_field.<key>``).
PLACEHOLDERS = (
    "ticket.reference",
    "ticket.subject",
    "ticket.status",
    "ticket.priority",
    "requester.name",
    "requester.email",
    "agent.name",
    "department.name",
)


# ---------------------------------------------------------------------------- visibility
def _member_departments(principal: Principal) -> Any:
    return (
        select(DepartmentMember.department_id)
        .where(DepartmentMember.user_id == principal.user_id)
        .scalar_subquery()
    )


def visible(principal: Principal) -> ColumnElement[bool]:
    """The responses ``principal`` may see and use: their own, and the shared ones of their
    departments or of none (all shared ones for the people who manage them)."""
    if not principal.is_agent or principal.user_id is None:
        return false()
    own = and_(
        CannedResponse.is_shared.is_(False), CannedResponse.owner_user_id == principal.user_id
    )
    if principal.can("canned.manage"):
        shared: ColumnElement[bool] = CannedResponse.is_shared.is_(True)
    else:
        shared = and_(
            CannedResponse.is_shared.is_(True),
            or_(
                CannedResponse.department_id.is_(None),
                CannedResponse.department_id.in_(_member_departments(principal)),
            ),
        )
    return or_(own, shared)


def get(principal: Principal, canned_id: object) -> CannedResponse:
    ident = parse_id(canned_id)
    row = (
        session()
        .execute(select(CannedResponse).where(CannedResponse.id == ident, visible(principal)))
        .scalar_one_or_none()
        if ident is not None
        else None
    )
    if row is None:
        raise NotFound("No such canned response.")
    return row


def load(canned_id: object) -> CannedResponse:
    """A response by id whoever asks (the console, which lists shared ones only to managers)."""
    ident = parse_id(canned_id)
    row = session().get(CannedResponse, ident) if ident is not None else None
    if row is None:
        raise NotFound("No such canned response.")
    return row


def list_page(
    principal: Principal,
    *,
    limit: int,
    after: tuple[str, int] | None = None,
    q: str | None = None,
    shared: bool | None = None,
    department_id: int | None = None,
) -> tuple[list[CannedResponse], bool]:
    """A keyset page by title (then id) of what ``principal`` may use, and whether more
    follow. ``q``: type-ahead, the title contains it or the shortcut starts with it (any
    case)."""
    stmt = (
        select(CannedResponse)
        .where(visible(principal))
        .order_by(CannedResponse.title, CannedResponse.id)
        .limit(limit + 1)
    )
    if q is not None and q.strip():
        typed = q.strip()[:MAX_QUERY]
        stmt = stmt.where(
            or_(
                CannedResponse.title.icontains(typed, autoescape=True),
                CannedResponse.shortcut.startswith(typed.lstrip("/").lower(), autoescape=True),
            )
        )
    if shared is not None:
        stmt = stmt.where(CannedResponse.is_shared.is_(shared))
    if department_id is not None:
        stmt = stmt.where(CannedResponse.department_id == department_id)
    if after is not None:
        title, ident = after
        stmt = stmt.where(
            or_(
                CannedResponse.title > title,
                and_(CannedResponse.title == title, CannedResponse.id > ident),
            )
        )
    rows = list(session().execute(stmt).scalars())
    return rows[:limit], len(rows) > limit


def available(principal: Principal, limit: int = 500) -> list[CannedResponse]:
    """What the composer's picker offers, by title."""
    return list_page(principal, limit=limit)[0]


def cursor_of(row: CannedResponse) -> list[Any]:
    return [row.title, row.id]


def read_cursor(value: Any) -> tuple[str, int] | None:
    """A decoded cursor back to ``(title, id)``; anything else is the first page."""
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    ):
        return value[0], value[1]
    return None


# ---------------------------------------------------------------------------- shapes
def _values(row: CannedResponse) -> dict[str, Any]:
    return {
        "title": row.title,
        "body": row.body,
        "shortcut": row.shortcut,
        "department_id": row.department_id,
        "shared": row.is_shared,
    }


def _summary(row: CannedResponse) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "shared": row.is_shared,
        "owner_user_id": row.owner_user_id,
        "department_id": row.department_id,
    }


def serialize(row: CannedResponse) -> dict[str, Any]:
    from .serializers import iso

    return {
        "id": row.id,
        **_values(row),
        "owner_user_id": row.owner_user_id,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


# ---------------------------------------------------------------------------- changes
def _title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TITLE:
        raise ValidationError(
            "A canned response needs a title.", {"title": f"1-{MAX_TITLE} characters"}
        )
    return " ".join(value.split())


def _body(value: Any) -> str:
    limit = int(config(Config.MAX_BODY_LENGTH))  # type: ignore[call-overload]
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValidationError("A canned response needs a body.", {"body": f"1-{limit} characters"})
    return value.replace("\r\n", "\n")


def _shortcut(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    clean = value.strip().lstrip("/").lower() if isinstance(value, str) else None
    if clean is None or not SHORTCUT.match(clean):
        raise ValidationError(
            "A shortcut is 1-40 lower-case letters, digits, '_', '.' or '-'.",
            {"shortcut": "letters, digits, _ . - (at most 40)"},
        )
    return clean


def _department(value: Any) -> int | None:
    if value is None:
        return None
    ident = parse_id(value) if not isinstance(value, bool) else None
    if ident is None or session().get(Department, ident) is None:
        raise ValidationError("No such department.", {"department_id": "no such department"})
    return ident


def _scope(row: CannedResponse) -> str:
    return SHARED_SCOPE if row.is_shared else f"user:{row.owner_user_id}"


def _apply(
    principal: Principal, row: CannedResponse, data: Mapping[str, Any], creating: bool
) -> None:
    unknown = sorted(str(k)[:40] for k in set(data) - FIELDS)
    if unknown:
        raise ValidationError(
            f"Unknown field(s): {', '.join(unknown)}.", {k: "unknown field" for k in unknown}
        )
    if creating or "title" in data:
        row.title = _title(data.get("title"))
    if creating or "body" in data:
        row.body = _body(data.get("body"))
    if "shortcut" in data:
        row.shortcut = _shortcut(data["shortcut"])
    if "department_id" in data:
        row.department_id = _department(data["department_id"])
    if "shared" in data:
        shared = data["shared"]
        if not isinstance(shared, bool):
            raise ValidationError("shared must be true or false.", {"shared": "boolean"})
        if shared != row.is_shared:
            if not principal.can("canned.manage"):
                raise PermissionDenied(
                    "Shared canned responses need the 'canned.manage' permission."
                )
            row.is_shared = shared
            if not shared:
                row.owner_user_id = principal.user_id  # a personal one is its keeper's
    row.scope = _scope(row)


def _check_shortcut_free(row: CannedResponse) -> None:
    if row.shortcut is None:
        return
    db = session()
    with db.no_autoflush:  # the changed row is not written before it is checked
        clash = db.execute(
            select(CannedResponse.id).where(
                CannedResponse.scope == row.scope,
                CannedResponse.shortcut == row.shortcut,
                CannedResponse.id != row.id if row.id is not None else true(),
            )
        ).first()
    if clash is not None:
        where = "shared responses" if row.is_shared else "your responses"
        raise Conflict(
            f"The shortcut '{row.shortcut}' is already used by one of the {where}.",
            {"shortcut": "taken"},
        )


def _flush(row: CannedResponse) -> None:
    _check_shortcut_free(row)
    try:
        with savepoint():
            session().add(row)
            session().flush()
    except IntegrityError:  # a concurrent insert took the shortcut first
        raise Conflict(
            f"The shortcut '{row.shortcut}' is already taken.", {"shortcut": "taken"}
        ) from None


def _may_change(principal: Principal, row: CannedResponse) -> None:
    if row.is_shared:
        if not principal.can("canned.manage"):
            raise PermissionDenied(
                "Changing a shared canned response needs the 'canned.manage' permission."
            )
    elif row.owner_user_id != principal.user_id:
        raise PermissionDenied("A personal canned response is changed by its author only.")


def create(principal: Principal, data: Mapping[str, Any]) -> CannedResponse:
    if not principal.is_agent or principal.user_id is None:
        raise PermissionDenied("Canned responses are for agents.")
    row = CannedResponse(owner_user_id=principal.user_id, is_shared=False)
    _apply(principal, row, data, creating=True)
    _flush(row)
    audit.log(
        principal.actor, "canned_response.created", "canned_response", row.id, new=_values(row)
    )
    record(session(), "canned_created", actor=principal.actor, canned_response=_summary(row))
    return row


def update(principal: Principal, canned_id: object, data: Mapping[str, Any]) -> CannedResponse:
    row = get(principal, canned_id)
    _may_change(principal, row)
    old = _values(row)
    # The department's lookup would autoflush a new shortcut before _flush checks it: one
    # already used would meet the unique key (a 500) instead of being refused (a 409).
    with session().no_autoflush:
        _apply(principal, row, data, creating=False)
    _flush(row)
    new = _values(row)
    changes = {k: {"old": old[k], "new": new[k]} for k in new if old[k] != new[k]}
    if changes:
        audit.log(
            principal.actor, "canned_response.updated", "canned_response", row.id, old=old, new=new
        )
        record(
            session(),
            "canned_updated",
            actor=principal.actor,
            canned_response=_summary(row),
            changes=changes,
        )
    return row


def remove(principal: Principal, canned_id: object) -> None:
    row = get(principal, canned_id)
    _may_change(principal, row)
    summary = _summary(row)
    audit.log(
        principal.actor, "canned_response.deleted", "canned_response", row.id, old=_values(row)
    )
    session().delete(row)
    session().flush()
    record(session(), "canned_deleted", actor=principal.actor, canned_response=summary)


# ---------------------------------------------------------------------------- placeholders
def _no_custom_fields(ticket: Ticket) -> Mapping[str, Any]:
    return {}


#: Where ``{{custom_field.<key>}}`` values come from: ``(ticket) -> {key: value}``. The
#: custom-fields feature installs its reader here; without it the placeholders stay as typed.
custom_field_values: Callable[[Ticket], Mapping[str, Any]] = _no_custom_fields


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _status_label(slug: str, resolve: Callable[[str], Any]) -> str:
    try:
        return str(resolve(slug).label)
    except ValidationError:
        return slug


def values_for(ticket: Ticket, agent_user_id: str | None) -> dict[str, str]:
    """Every placeholder's value for ``ticket`` answered by ``agent_user_id``."""
    from .statuses import resolve

    loaded = ext().load_users([ticket.requester_user_id, agent_user_id])
    if ticket.requester_user_id:
        requester_name, requester_email = ext().display(loaded.get(ticket.requester_user_id))
    elif ticket.contact is not None:
        requester_name = ticket.contact.name or ticket.contact.email
        requester_email = ticket.contact.email
    else:
        requester_name, requester_email = "", None
    agent_name = ext().display(loaded.get(agent_user_id))[0] if agent_user_id else ""
    values = {
        "ticket.reference": ticket.reference or "",
        "ticket.subject": ticket.subject,
        "ticket.status": _status_label(ticket.status, resolve),
        "ticket.priority": ticket.priority,
        "requester.name": requester_name or "",
        "requester.email": requester_email or "",
        "agent.name": agent_name or "",
        "department.name": ticket.department.name if ticket.department is not None else "",
    }
    for key, value in (custom_field_values(ticket) or {}).items():
        values[f"custom_field.{key}"] = _text(value)
    return values


def substitute(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each known ``{{name}}`` replaced by its value, in one pass: a value is
    never scanned again, and an unknown placeholder stays as written."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def render(canned: CannedResponse, ticket: Ticket, agent: Principal | str | None) -> str:
    """The response's body for ``ticket``, answered by ``agent`` (a principal or user id):
    plain text, to be escaped wherever it is shown."""
    agent_id = agent.user_id if isinstance(agent, Principal) else agent
    return substitute(canned.body, values_for(ticket, agent_id))


def preview(principal: Principal, canned_id: object, ticket: Ticket) -> str:
    return render(get(principal, canned_id), ticket, principal)
