"""Custom fields: the catalogue (CRUD) and the values tickets carry.

The conditional display rules are enforced here, on the server, for every door a value comes
through (API, portal, widget, agent page): :func:`validate_values` decides which fields are
visible for the values at hand, refuses a value posted for a hidden field, requires the
visible required ones, checks types and options, and keeps customers to the fields they may
edit. Errors name the field as ``custom_fields.<key>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..events import Actor
from ..models import CustomField, CustomFieldValue, Ticket
from ..models.custom_fields import CONDITION_OPERATORS, FIELD_CONTEXTS, FIELD_TYPES
from . import audit, cache, deletion, fresh, session
from .errors import Conflict, NotFound, ValidationError, refuse_unknown

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CHOICE_TYPES = ("select", "multi_select")
MAX_TEXT = 255
MAX_TEXTAREA = 10_000
MAX_OPTIONS = 200
MAX_CONDITIONS = 20
#: The settable attributes and their defaults on create.
ATTRIBUTES: dict[str, Any] = {
    "key": None, "label": None, "description": None, "type": None, "options": [],
    "required": False, "context": "ticket", "position": 0, "active": True,
    "customer_visible": False, "customer_editable": False, "conditions": [],
}


def _err(name: str, message: str) -> ValidationError:
    return ValidationError(f"{name}: {message}", {name: message})


# ---------------------------------------------------------------------------- catalogue
def active_fields(context: str = "ticket") -> list[CustomField]:
    """The active fields, as read-only detached copies from the process cache (validation
    reads them on every write; edit the ones :func:`list_fields` returns)."""

    def load() -> tuple[CustomField, ...]:
        with Session(bind=session().connection(), expire_on_commit=False) as own:
            rows = tuple(own.execute(
                select(CustomField).where(CustomField.context == context,
                                          CustomField.active.is_(True))
                .order_by(CustomField.position, CustomField.id)).scalars())
            own.expunge_all()
        return rows

    return list(cache.cached(f"custom_fields:{context}", load))


def list_fields(context: str = "ticket", *, active_only: bool = False) -> list[CustomField]:
    query = select(CustomField).where(CustomField.context == context)
    if active_only:
        query = query.where(CustomField.active.is_(True))
    return list(session().execute(
        query.order_by(CustomField.position, CustomField.id)).scalars())


def get_field(field_id: int) -> CustomField:
    row = session().get(CustomField, field_id)
    if row is None:
        raise NotFound("No such custom field.")
    return row


def as_dict(row: CustomField) -> dict[str, Any]:
    return {"id": row.id, **{name: getattr(row, name) for name in ATTRIBUTES}}


def create_field(actor: Actor, data: Mapping[str, Any]) -> CustomField:
    unknown = set(data) - set(ATTRIBUTES)
    if unknown:
        raise _err(sorted(unknown)[0], "unknown attribute")
    values = {name: data.get(name, default) for name, default in ATTRIBUTES.items()}
    _check_definition(values, None)
    row = CustomField(**values)
    db = session()
    db.add(row)
    db.flush()
    audit.log(actor, "custom_field.created", "custom_field", row.id, new=_audited(row))
    return row


def update_field(actor: Actor, field_id: int, changes: Mapping[str, Any]) -> CustomField:
    row = get_field(field_id)
    unknown = set(changes) - set(ATTRIBUTES)
    if unknown:
        raise _err(sorted(unknown)[0], "unknown attribute")
    if "type" in changes and changes["type"] != row.type and _has_values(row):
        raise Conflict("A field with values cannot change its type.", {"type": "has values"})
    old = _audited(row)
    values = {**{name: getattr(row, name) for name in ATTRIBUTES}, **changes}
    _check_definition(values, row)
    for name, value in values.items():
        setattr(row, name, value)
    audit.log(actor, "custom_field.updated", "custom_field", row.id, old=old, new=_audited(row))
    return row


def delete_field(actor: Actor, field_id: int) -> None:
    row = get_field(field_id)
    users = [f.key for f in list_fields(row.context)
             if any(c.get("field") == row.key for c in f.conditions or [])]
    if users:
        raise Conflict(f"Conditions of {', '.join(users)} refer to this field.",
                       {"key": "referenced by " + ", ".join(users)})
    audit.log(actor, "custom_field.deleted", "custom_field", row.id, old=_audited(row))
    deletion.delete_with_dependants(row)


def _audited(row: CustomField) -> dict[str, Any]:
    return {name: getattr(row, name) for name in ATTRIBUTES}


def _has_values(row: CustomField) -> bool:
    return session().execute(
        select(CustomFieldValue.id).where(CustomFieldValue.field_id == row.id).limit(1)
    ).first() is not None


def _check_definition(values: dict[str, Any], current: CustomField | None) -> None:
    """Validate a whole definition; conditions must name other fields of the same context
    and must not form a cycle."""
    key = values["key"]
    if not isinstance(key, str) or not _KEY.match(key):
        raise _err("key", "lowercase letters, digits and _, starting with a letter (max 64)")
    label = values["label"]
    if not isinstance(label, str) or not label.strip() or len(label) > 120:
        raise _err("label", "1 to 120 characters")
    if values["description"] is not None and (
            not isinstance(values["description"], str) or len(values["description"]) > 2000):
        raise _err("description", "at most 2000 characters")
    if values["type"] not in FIELD_TYPES:
        raise _err("type", f"one of {', '.join(FIELD_TYPES)}")
    if values["context"] not in FIELD_CONTEXTS:
        raise _err("context", f"one of {', '.join(FIELD_CONTEXTS)}")
    for flag in ("required", "active", "customer_visible", "customer_editable"):
        if not isinstance(values[flag], bool):
            raise _err(flag, "true or false")
    if isinstance(values["position"], bool) or not isinstance(values["position"], int):
        raise _err("position", "an integer")
    if values["customer_editable"] and not values["customer_visible"]:
        raise _err("customer_editable", "a field the customer edits must be customer_visible")
    values["options"] = _check_options(values["type"], values["options"])
    others = {f.key: f for f in list_fields(values["context"])
              if current is None or f.id != current.id}
    if key in others:
        raise Conflict(f"A custom field '{key}' already exists.", {"key": "taken"})
    values["conditions"] = _check_conditions(key, values["conditions"], others)
    # A rename must not strand conditions that refer to the old key.
    if current is not None and key != current.key:
        users = [f.key for f in others.values()
                 if any(c.get("field") == current.key for c in f.conditions or [])]
        if users:
            raise _err("key", "referenced by the conditions of " + ", ".join(users))


def _check_options(kind: str, options: Any) -> list[dict[str, str]]:
    if kind not in CHOICE_TYPES:
        if options:
            raise _err("options", f"only {' and '.join(CHOICE_TYPES)} fields have options")
        return []
    if not isinstance(options, list) or not options or len(options) > MAX_OPTIONS:
        raise _err("options", f"1 to {MAX_OPTIONS} options")
    clean: list[dict[str, str]] = []
    for i, option in enumerate(options):
        if not isinstance(option, dict) or set(option) != {"value", "label"} or not all(
                isinstance(option[k], str) and option[k].strip() and len(option[k]) <= MAX_TEXT
                for k in ("value", "label")):
            raise _err("options", f"[{i}]: an option is {{value, label}}, non-empty strings")
        if any(o["value"] == option["value"] for o in clean):
            raise _err("options", f"[{i}]: duplicate value {option['value']!r}")
        clean.append({"value": option["value"], "label": option["label"]})
    return clean


def _check_conditions(key: str, conditions: Any, others: dict[str, CustomField]
                      ) -> list[dict[str, Any]]:
    if not isinstance(conditions, list) or len(conditions) > MAX_CONDITIONS:
        raise _err("conditions", f"a list of at most {MAX_CONDITIONS} conditions")
    clean: list[dict[str, Any]] = []
    for i, cond in enumerate(conditions):
        where = f"[{i}]"
        if isinstance(cond, dict):
            refuse_unknown(cond, ("field", "operator", "value"), f"conditions{where}")
        if not isinstance(cond, dict) or not {"field", "operator"} <= set(cond) or \
                set(cond) - {"field", "operator", "value"}:
            raise _err("conditions", f"{where}: a condition is {{field, operator, value}}")
        if cond["field"] == key:
            raise _err("conditions", f"{where}: a field cannot depend on itself")
        if cond["field"] not in others:
            raise _err("conditions", f"{where}: unknown field {cond['field']!r}")
        if cond["operator"] not in CONDITION_OPERATORS:
            raise _err("conditions", f"{where}: operator one of {', '.join(CONDITION_OPERATORS)}")
        value = cond.get("value")
        if cond["operator"] in ("is_empty", "is_not_empty"):
            value = None
        elif not isinstance(value, str) or len(value) > MAX_TEXT:
            raise _err("conditions", f"{where}: value must be a string")
        clean.append({"field": cond["field"], "operator": cond["operator"], "value": value})
    # Cycle check: follow the dependencies from this field through the others.
    graph = {k: [c["field"] for c in (f.conditions or [])] for k, f in others.items()}
    graph[key] = [c["field"] for c in clean]
    seen: set[str] = set()
    stack = list(graph[key])
    while stack:
        name = stack.pop()
        if name == key:
            raise _err("conditions", "the conditions form a cycle")
        if name not in seen:
            seen.add(name)
            stack.extend(graph.get(name, []))
    return clean


# ---------------------------------------------------------------------------- values
def _coerce(row: CustomField, value: Any) -> Any:
    """The normalized value, ``None`` for empty; raises a message string on a bad value."""
    if value is None or value == "" or value == []:
        return None
    kind = row.type
    if kind in ("text", "textarea"):
        limit = MAX_TEXT if kind == "text" else MAX_TEXTAREA
        if not isinstance(value, str) or len(value) > limit:
            raise _Bad(f"text of at most {limit} characters")
        return value.strip() or None
    if kind == "number":
        if isinstance(value, str):
            try:
                value = float(value) if "." in value or "e" in value.lower() else int(value)
            except ValueError:
                raise _Bad("a number") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                value != value or abs(value) > 1e15:
            raise _Bad("a number")
        return int(value) if float(value).is_integer() else float(value)
    if kind == "date":
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(value).isoformat() if isinstance(value, str) and \
                len(value) == 10 else _raise("a date YYYY-MM-DD")
        except ValueError:
            raise _Bad("a date YYYY-MM-DD") from None
    if kind == "checkbox":
        if isinstance(value, str) and value in ("true", "false", "1", "0", "on"):
            return value in ("true", "1", "on")
        if not isinstance(value, bool):
            raise _Bad("true or false")
        return value
    allowed = [o["value"] for o in row.options or []]
    if kind == "select":
        if not isinstance(value, str) or value not in allowed:
            raise _Bad(f"one of {', '.join(allowed)}")
        return value
    # multi_select
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items) or \
            any(v not in allowed for v in items):
        raise _Bad(f"a list of {', '.join(allowed)}")
    return [v for v in allowed if v in items] or None


class _Bad(Exception):
    pass


def _raise(message: str) -> Any:
    raise _Bad(message)


def _holds(cond: Mapping[str, Any], current: Any) -> bool:
    op = cond["operator"]
    empty = current is None or current == [] or current == ""
    if op == "is_empty":
        return empty
    if op == "is_not_empty":
        return not empty
    wanted = cond["value"]
    if isinstance(current, list):
        text_values = current
    elif isinstance(current, bool):
        text_values = ["true" if current else "false"]
    else:
        text_values = [] if empty else [str(current)]
    if op == "equals":
        return wanted in text_values
    if op == "not_equals":
        return wanted not in text_values
    return any(wanted in v for v in text_values)  # contains


def visible_keys(fields: Iterable[CustomField], values: Mapping[str, Any]) -> set[str]:
    """The keys shown for ``values``: every condition holds, a hidden field's value counting
    as empty."""
    by_key = {f.key: f for f in fields}
    memo: dict[str, bool] = {}

    def shown(key: str) -> bool:
        if key not in memo:
            memo[key] = False  # cycles are refused at save; this guards anyway
            field = by_key.get(key)
            memo[key] = field is not None and all(
                _holds(c, values.get(c["field"]) if shown(c["field"]) else None)
                for c in field.conditions or [])
        return memo[key]

    return {key for key in by_key if shown(key)}


def validate_values(
    ticket_context: Mapping[str, Any] | None,
    values: Mapping[str, Any] | None,
    actor_is_customer: bool,
    *,
    context: str = "ticket",
) -> dict[str, Any]:
    """Check posted ``values`` against the fields and their rules; returns the changes to
    store (``key -> value``, ``None`` clears).

    ``ticket_context`` is the ticket's current values (``None`` when the ticket is being
    created: then every visible required field must be given)."""
    if values is not None and not isinstance(values, Mapping):
        raise _err("custom_fields", "an object of values by field key")
    values = dict(values or {})
    fields = active_fields(context)
    if not values and ticket_context is not None:
        return {}
    by_key = {f.key: f for f in fields}
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key, raw in values.items():
        field = by_key.get(key)
        if field is None or (actor_is_customer and not field.customer_visible):
            errors[f"custom_fields.{key}"] = "unknown field"
            continue
        if actor_is_customer and not field.customer_editable:
            errors[f"custom_fields.{key}"] = "customers cannot set this field"
            continue
        try:
            clean[key] = _coerce(field, raw)
        except _Bad as exc:
            errors[f"custom_fields.{key}"] = str(exc)
    if errors:
        raise _invalid(errors)
    current = dict(ticket_context or {})
    merged = {k: v for k, v in {**current, **clean}.items() if v is not None}
    shown_before = visible_keys(fields, current) if ticket_context is not None else set()
    shown = visible_keys(fields, merged)
    for key, value in clean.items():
        if key not in shown and value is not None:
            errors[f"custom_fields.{key}"] = "hidden by its display conditions; no value taken"
    for field in fields:
        if field.key not in shown or not field.required:
            continue
        if actor_is_customer and not field.customer_editable:
            continue
        checked = ticket_context is None or field.key in clean or field.key not in shown_before
        if checked and merged.get(field.key) is None:
            errors[f"custom_fields.{field.key}"] = "required"
    if errors:
        raise _invalid(errors)
    # Values of fields the change hides are cleared, so a stale answer does not linger.
    for key in current:
        if key in by_key and key not in shown and key not in clean:
            clean[key] = None
    return clean


def _invalid(errors: dict[str, str]) -> ValidationError:
    detail = "; ".join(f"{name.split('.', 1)[1]}: {why}" for name, why in errors.items())
    return ValidationError(f"Some custom fields are invalid ({detail}).", errors)


def custom_field_values(ticket: Ticket, *, for_customer: bool = False) -> dict[str, Any]:
    """``{key: value}`` of a ticket (what placeholders, serializers and conditions read);
    a customer sees only the customer-visible fields."""
    return values_for([ticket.id], for_customer=for_customer).get(ticket.id, {})


def values_for(ticket_ids: Iterable[int], *, for_customer: bool = False
               ) -> dict[int, dict[str, Any]]:
    """The values of many tickets in one query."""
    ids = [i for i in ticket_ids if not fresh.nothing_written(i, "CustomFieldValue")]
    if not ids:
        return {}
    query = (select(CustomFieldValue, CustomField)
             .join(CustomField, CustomField.id == CustomFieldValue.field_id)
             .where(CustomFieldValue.ticket_id.in_(ids), CustomField.active.is_(True))
             .order_by(CustomFieldValue.id))
    if for_customer:
        query = query.where(CustomField.customer_visible.is_(True))
    found: dict[int, dict[str, Any]] = {}
    for value, field in session().execute(query).all():
        bucket = found.setdefault(value.ticket_id, {})
        decoded = _decode(field, value)
        if field.type == "multi_select":
            bucket.setdefault(field.key, []).append(decoded)
        else:
            bucket[field.key] = decoded
    return found


def _decode(field: CustomField, row: CustomFieldValue) -> Any:
    if field.type == "number":
        number = row.value_number
        return int(number) if number is not None and float(number).is_integer() else number
    if field.type == "checkbox":
        return bool(row.value_number)
    if field.type == "date":
        return row.value_date.isoformat() if row.value_date else None
    if field.type == "textarea":
        return row.value_long
    return row.value_text


def encode(field: CustomField, value: Any) -> list[dict[str, Any]]:
    """The value rows (column values) of one field's value."""
    if value is None:
        return []
    if field.type == "multi_select":
        return [{"value_text": v} for v in value]
    if field.type in ("number", "checkbox"):
        return [{"value_number": float(value)}]
    if field.type == "date":
        return [{"value_date": date.fromisoformat(value)}]
    if field.type == "textarea":
        return [{"value_long": value}]
    return [{"value_text": value}]


def store(ticket: Ticket, changes: Mapping[str, Any], *, context: str = "ticket"
          ) -> dict[str, dict[str, Any]]:
    """Write validated ``changes``; returns the diff ``key -> {old, new}`` of what changed."""
    if not changes:
        return {}
    by_key = {f.key: f for f in list_fields(context)}
    before = custom_field_values(ticket) if ticket.id is not None else {}
    diff = {k: {"old": before.get(k), "new": v} for k, v in changes.items()
            if before.get(k) != v}
    if not diff:
        return {}
    db = session()
    ids = [by_key[k].id for k in diff]
    db.execute(delete(CustomFieldValue).where(CustomFieldValue.ticket_id == ticket.id,
                                              CustomFieldValue.field_id.in_(ids)))
    for key, change in diff.items():
        field = by_key[key]
        for columns in encode(field, change["new"]):
            db.add(CustomFieldValue(ticket_id=ticket.id, field_id=field.id, **columns))
    db.flush()
    return diff


# ---------------------------------------------------------------------------- filtering
_COLUMNS = {"text": "value_text", "select": "value_text", "multi_select": "value_text",
            "number": "value_number", "checkbox": "value_number", "date": "value_date"}
RANGE_TYPES = ("number", "date")


def _column_value(field: CustomField, raw: Any) -> Any:
    value = _coerce(field, raw)
    if field.type == "multi_select":
        value = value[0] if value else None
    if value is None:
        raise _Bad("a value")
    if field.type == "date":
        return date.fromisoformat(value)
    if field.type in ("number", "checkbox"):
        return float(value)
    return value


def _value_test(field: CustomField, op: str, raw: Any) -> Any:
    column = getattr(CustomFieldValue, _COLUMNS[field.type])
    value = _column_value(field, raw)
    return {"eq": column == value, "gte": column >= value, "lte": column <= value}[op]


def matching_tickets(field: CustomField, op: str, raw: Any, *more: tuple[str, Any]) -> Any:
    """``SELECT ticket_id`` of the value rows matching; served by the composite index
    ``(field_id, value_*, ticket_id)`` (an index range scan, no table or ticket scan).
    ``more`` adds ``(op, raw)`` tests on the same value row: both bounds of a range, so the
    scan stops at the upper bound instead of reading every value above the lower one."""
    tests = [_value_test(field, op, raw), *(_value_test(field, o, r) for o, r in more)]
    return select(CustomFieldValue.ticket_id).where(CustomFieldValue.field_id == field.id,
                                                    *tests)


def filter_clauses(wanted: Iterable[tuple[str, str, str]], *, for_customer: bool,
                   context: str = "ticket") -> list[Any]:
    """WHERE clauses over tickets for ``(key, op, raw)`` filters (op ``eq``, ``gte``,
    ``lte``); unknown keys, wrong operators and bad values are refused naming ``cf.<key>``."""
    wanted = list(wanted)
    if not wanted:
        return []
    by_key = {f.key: f for f in list_fields(context, active_only=True)
              if f.customer_visible or not for_customer}
    errors: dict[str, str] = {}
    checked: list[tuple[CustomField, str, Any]] = []
    for key, op, raw in wanted:
        name = f"cf.{key}" + ("" if op == "eq" else f"__{op}")
        field = by_key.get(key)
        if field is None:
            errors[name] = "unknown custom field"
        elif field.type == "textarea":
            errors[name] = "long text fields are not filterable"
        elif op != "eq" and field.type not in RANGE_TYPES:
            errors[name] = "ranges apply to number and date fields"
        else:
            try:
                _column_value(field, raw)
            except _Bad as exc:
                errors[name] = str(exc)
                continue
            checked.append((field, op, raw))
    if errors:
        raise ValidationError("Unknown or invalid custom field filters.", errors)
    return field_clauses(checked)


def field_clauses(wanted: Iterable[tuple[CustomField, str, Any]]) -> list[Any]:
    """``ticket.id IN (...)`` per validated ``(field, op, raw)`` filter; a number or date
    field's bounds share one subquery (the field has one value row per ticket, so both bounds
    test the same row): one index range bounded at both ends, not two half-open ranges."""
    clauses = []
    ranges: dict[int, tuple[CustomField, list[tuple[str, Any]]]] = {}
    for field, op, raw in wanted:
        if op == "eq":
            clauses.append(Ticket.id.in_(matching_tickets(field, op, raw)))
        else:
            ranges.setdefault(field.id, (field, []))[1].append((op, raw))
    for field, bounds in ranges.values():
        clauses.append(Ticket.id.in_(matching_tickets(field, *bounds[0], *bounds[1:])))
    return clauses


def parse_filter_args(args: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """``cf.<key>=v``, ``cf.<key>__gte=v``, ``cf.<key>__lte=v`` query parameters."""
    found = []
    for name, raw in args:
        if not name.startswith("cf.") or raw == "":
            continue
        key, _, op = name[3:].partition("__")
        if op not in ("", "gte", "lte"):
            raise _err(name, "operators are __gte and __lte")
        found.append((key, op or "eq", raw))
    return found


def from_form(form: Any, fields: Iterable[CustomField], *, clear_empty: bool = False
              ) -> dict[str, Any]:
    """``{key: value}`` from HTML inputs named ``cf.<key>`` (a multi_select repeats its name;
    a checkbox posts ``true`` when ticked). Only the fields the form offered are read;
    :func:`validate_values` checks the rest. ``clear_empty``: an empty input clears the value
    (an edit panel) instead of leaving it out (a new ticket)."""
    values: dict[str, Any] = {}
    for field in fields:
        name = f"cf.{field.key}"
        if clear_empty:
            values[field.key] = None
        if field.type == "multi_select":
            chosen = [v for v in form.getlist(name) if v]
            if chosen:
                values[field.key] = chosen
        elif field.type == "checkbox":
            if form.get(name):
                values[field.key] = True
        elif form.get(name, "") != "":
            values[field.key] = form.get(name)
    return values


def form_fields(*, for_customer: bool, context: str = "ticket") -> list[CustomField]:
    """The fields a form offers: active ones, and for a customer the editable ones."""
    return [f for f in list_fields(context, active_only=True)
            if not for_customer or f.customer_editable]
