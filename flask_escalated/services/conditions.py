"""Rule conditions: validated JSON compiled to one SQL WHERE clause over tickets.

A condition group is ``{"all": [...]}`` or ``{"any": [...]}`` whose items are conditions
``{"field": ..., "operator": ..., "value": ...}`` or nested groups. Compiling to SQL keeps rule
evaluation set-based: the database finds the matching tickets, no Python loop over the queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, true

from ..domain import CHANNELS, PRIORITIES, STATUS_CATEGORIES, TICKET_TYPES
from ..models import Tag, Ticket, ticket_tags
from .errors import ValidationError, refuse_unknown
from .ids import is_id, parse_id

_TARGETS = ("first_response", "next_response", "resolution")
_MAX_DEPTH = 5
_MAX_ITEMS = 50


@dataclass(frozen=True)
class Field:
    kind: str  # "enum", "id", "bool", "hours", "minutes"
    build: Callable[[str, Any, datetime], ColumnElement[bool]]
    choices: tuple[str, ...] = ()


def _compare(column: Any, operator: str, value: Any) -> ColumnElement[bool]:
    if operator == "eq":
        return column.is_(None) if value is None else column == value
    if operator == "neq":
        return column.is_not(None) if value is None else or_(column != value, column.is_(None))
    if operator == "in":
        return column.in_(value)
    if operator == "not_in":
        return or_(column.not_in(value), column.is_(None))
    if operator == "is_null":
        return column.is_(None)
    if operator == "is_not_null":
        return column.is_not(None)
    raise AssertionError(operator)  # pragma: no cover - validated before


def _column(name: str) -> Callable[[str, Any, datetime], ColumnElement[bool]]:
    return lambda op, value, now: _compare(getattr(Ticket, name), op, value)


def _since(name: str) -> Callable[[str, Any, datetime], ColumnElement[bool]]:
    """``hours_since_X op N``: compares the timestamp with ``now - N hours`` (portable)."""

    def build(op: str, value: Any, now: datetime) -> ColumnElement[bool]:
        column = getattr(Ticket, name)
        edge = now - timedelta(hours=float(value))
        # More hours since X means X lies further back.
        flipped = {"gt": column < edge, "gte": column <= edge, "lt": column > edge,
                   "lte": column >= edge}
        return and_(column.is_not(None), flipped[op])

    return build


def _tag(op: str, value: Any, now: datetime) -> ColumnElement[bool]:
    slugs = [value] if isinstance(value, str) else list(value)
    has = exists().where(ticket_tags.c.ticket_id == Ticket.id, ticket_tags.c.tag_id == Tag.id,
                         Tag.slug.in_(slugs))
    return not_(has) if op in ("neq", "not_in") else has


def _bool(clause: Callable[[], ColumnElement[bool]]) -> Callable[..., ColumnElement[bool]]:
    def build(op: str, value: Any, now: datetime) -> ColumnElement[bool]:
        wanted = value if op == "eq" else not value
        return clause() if wanted else not_(clause())

    return build


def _breached(*targets: str) -> Callable[[], ColumnElement[bool]]:
    return lambda: or_(*(getattr(Ticket, f"{t}_breached_at").is_not(None) for t in targets))


def _requester_type(op: str, value: Any, now: datetime) -> ColumnElement[bool]:
    values = [value] if isinstance(value, str) else list(value)
    parts = [Ticket.requester_user_id.is_not(None) if v == "user"
             else Ticket.requester_user_id.is_(None) for v in values]
    clause = or_(*parts)
    return not_(clause) if op in ("neq", "not_in") else clause


def _due_within(op: str, value: Any, now: datetime) -> ColumnElement[bool]:
    edge = now + timedelta(minutes=float(value))
    return or_(*(getattr(Ticket, f"{t}_due_at") <= edge for t in _TARGETS))


FIELDS: dict[str, Field] = {
    "status": Field("enum", _column("status")),
    "status_category": Field("enum", _column("status_category"), STATUS_CATEGORIES),
    "priority": Field("enum", _column("priority"), PRIORITIES),
    "channel": Field("enum", _column("channel"), CHANNELS),
    "ticket_type": Field("enum", _column("ticket_type"), TICKET_TYPES),
    "assignee_id": Field("id", _column("assignee_id")),
    "department_id": Field("id", _column("department_id")),
    "tag": Field("enum", _tag),
    "requester_type": Field("enum", _requester_type, ("user", "contact")),
    "unassigned": Field("bool", _bool(lambda: Ticket.assignee_id.is_(None))),
    "sla_breached": Field("bool", _bool(_breached(*_TARGETS))),
    "first_response_breached": Field("bool", _bool(_breached("first_response"))),
    "next_response_breached": Field("bool", _bool(_breached("next_response"))),
    "resolution_breached": Field("bool", _bool(_breached("resolution"))),
    "sla_due_within_minutes": Field("minutes", _due_within),
    "hours_since_created": Field("hours", _since("created_at")),
    "hours_since_updated": Field("hours", _since("updated_at")),
    "hours_since_last_reply": Field("hours", _since("last_reply_at")),
    "hours_since_last_customer_reply": Field("hours", _since("last_customer_reply_at")),
    "hours_since_last_agent_reply": Field("hours", _since("last_agent_reply_at")),
    "hours_since_resolved": Field("hours", _since("resolved_at")),
}

OPERATORS = {
    "enum": ("eq", "neq", "in", "not_in"),
    "id": ("eq", "neq", "in", "not_in", "is_null", "is_not_null"),
    "bool": ("eq", "neq"),
    "hours": ("gt", "gte", "lt", "lte"),
    "minutes": ("lte",),
}


def _fail(path: str, message: str) -> ValidationError:
    return ValidationError(f"conditions{path}: {message}", {"conditions": f"{path}: {message}"})


def validate(group: Any, path: str = "", depth: int = 0) -> dict[str, Any]:
    """Check a condition group; returns it unchanged or raises naming the bad item."""
    if isinstance(group, dict) and len(group) > 1 and set(group) & {"all", "any"} and \
            not {"all", "any"} <= set(group):
        # A misspelled key is an error naming its path, never a group that means less.
        refuse_unknown(group, ("all", "any"), f"conditions{path}")
    if not isinstance(group, dict) or len(group) != 1 or next(iter(group)) not in ("all", "any"):
        raise _fail(path, 'a group is {"all": [...]} or {"any": [...]}')
    if depth >= _MAX_DEPTH:
        raise _fail(path, f"groups nest at most {_MAX_DEPTH} deep")
    key = next(iter(group))
    items = group[key]
    if not isinstance(items, list) or not items or len(items) > _MAX_ITEMS:
        raise _fail(f"{path}.{key}", f"a list of 1 to {_MAX_ITEMS} conditions")
    for i, item in enumerate(items):
        where = f"{path}.{key}[{i}]"
        if isinstance(item, dict) and set(item) & {"all", "any"}:
            validate(item, where, depth + 1)
        else:
            _validate_condition(item, where)
    return group


def _validate_condition(item: Any, path: str) -> None:
    if isinstance(item, dict) and "field" in item:
        refuse_unknown(item, ("field", "operator", "value"), f"conditions{path}")
    if not isinstance(item, dict) or set(item) - {"field", "operator", "value"}:
        raise _fail(path, "a condition is {field, operator, value}")
    if isinstance(item.get("field"), str) and item["field"].startswith(CUSTOM_PREFIX):
        _validate_custom(item, path)
        return
    field = FIELDS.get(item.get("field"))  # type: ignore[arg-type]
    if field is None:
        raise _fail(path, f"unknown field; one of {', '.join(sorted(FIELDS))}")
    op = item.get("operator")
    if op not in OPERATORS[field.kind]:
        raise _fail(path, f"operator one of {', '.join(OPERATORS[field.kind])}")
    value = item.get("value")
    if op in ("is_null", "is_not_null"):
        return
    if field.kind == "bool":
        if not isinstance(value, bool):
            raise _fail(path, "value must be true or false")
    elif field.kind in ("hours", "minutes"):
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not 0 <= value <= 24 * 366 * (60 if field.kind == "minutes" else 1):
            raise _fail(path, "value must be a non-negative number")
    elif op in ("in", "not_in"):
        if not isinstance(value, list) or not value or not all(
                isinstance(v, str | int) and not isinstance(v, bool) for v in value):
            raise _fail(path, "value must be a non-empty list")
        _check_choices(field, value, path)
    else:
        if not (value is None and field.kind == "id") and (
                isinstance(value, bool) or not isinstance(value, str | int)):
            raise _fail(path, "value must be a string or number")
        if value is not None:
            _check_choices(field, [value], path)
    if item["field"] == "department_id" and value is not None:
        for v in value if isinstance(value, list) else [value]:
            if not is_id(v):
                raise _fail(path, "department ids are numbers")


def _check_choices(field: Field, values: list[Any], path: str) -> None:
    if field.choices and any(v not in field.choices for v in values):
        raise _fail(path, f"values one of {', '.join(field.choices)}")


def compile_group(group: dict[str, Any], now: datetime) -> ColumnElement[bool]:
    """The WHERE clause of a validated group, evaluated at ``now``."""
    key = next(iter(group))
    parts = []
    for item in group[key]:
        if set(item) & {"all", "any"}:
            parts.append(compile_group(item, now))
        elif item["field"].startswith(CUSTOM_PREFIX):
            parts.append(_custom_clause(item))
        else:
            field = FIELDS[item["field"]]
            value = item.get("value")
            if field.kind == "id" and value is not None:
                value = [str(v) for v in value] if isinstance(value, list) else str(value)
                if item["field"] == "department_id":
                    value = ([parse_id(v) for v in value] if isinstance(value, list)
                             else parse_id(value))
            parts.append(field.build(item["operator"], value, now))
    if not parts:
        return true() if key == "all" else false()
    return and_(*parts) if key == "all" else or_(*parts)


# ---------------------------------------------------------------------------- custom fields
#: ``custom_field.<key>``: a ticket's custom field value.
CUSTOM_PREFIX = "custom_field."
CUSTOM_OPERATORS = ("eq", "neq", "in", "not_in", "is_null", "is_not_null")
CUSTOM_RANGE_OPERATORS = ("gt", "gte", "lt", "lte")


def _custom_field(item: dict[str, Any]) -> Any:
    from .custom_fields import list_fields

    key = item["field"][len(CUSTOM_PREFIX):]
    return next((f for f in list_fields() if f.key == key), None)


def _validate_custom(item: dict[str, Any], path: str) -> None:
    from .custom_fields import RANGE_TYPES, _Bad, _column_value

    field = _custom_field(item)
    if field is None:
        raise _fail(path, f"unknown custom field {item['field'][len(CUSTOM_PREFIX):]!r}")
    allowed = CUSTOM_OPERATORS + (CUSTOM_RANGE_OPERATORS if field.type in RANGE_TYPES else ())
    op = item.get("operator")
    if op not in allowed or field.type == "textarea":
        raise _fail(path, f"operator one of {', '.join(allowed)}")
    if op in ("is_null", "is_not_null"):
        return
    value = item.get("value")
    values = value if op in ("in", "not_in") else [value]
    if not isinstance(values, list) or not values:
        raise _fail(path, "value must be a non-empty list")
    for v in values:
        try:
            _column_value(field, v)
        except _Bad as exc:
            raise _fail(path, f"value must be {exc}") from None


def _custom_clause(item: dict[str, Any]) -> ColumnElement[bool]:
    """Set-based like the rest: ticket ids from the value table's ``(field_id, value_*)``
    index."""
    from sqlalchemy import select

    from ..models import CustomFieldValue
    from .custom_fields import _COLUMNS, _column_value

    field = _custom_field(item)
    if field is None:  # deleted since the rule was saved: matches nothing
        return false()
    op = item["operator"]
    rows = select(CustomFieldValue.ticket_id).where(CustomFieldValue.field_id == field.id)
    if op in ("is_null", "is_not_null"):
        has = Ticket.id.in_(rows)
        return not_(has) if op == "is_null" else has
    column = getattr(CustomFieldValue, _COLUMNS[field.type])
    raw = item["value"]
    values = [_column_value(field, v) for v in (raw if isinstance(raw, list) else [raw])]
    if op in ("gt", "gte", "lt", "lte"):
        test = {"gt": column > values[0], "gte": column >= values[0],
                "lt": column < values[0], "lte": column <= values[0]}[op]
        return Ticket.id.in_(rows.where(test))
    hit = Ticket.id.in_(rows.where(column.in_(values)))
    return not_(hit) if op in ("neq", "not_in") else hit
