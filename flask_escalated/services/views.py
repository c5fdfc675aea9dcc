"""Saved views: a named set of the ticket list's filters and a sort.

A view is *personal* (its owner's) or *shared* (creating and changing one needs
``view.manage``): shared with every agent when it has no department, else with the members of
its departments. Its tickets are read by :func:`queries.list_tickets` exactly as the queue and
``GET /tickets`` read them, so a view shows what the same filters show there.

A filter naming something deleted since (a tag, a department, a custom field) is *stale*: the
view still loads, that part is ignored, and :func:`stale_parts` says which (``"tag=gone"``).

:func:`counts` answers the count of every visible view with one statement over the tickets
(one ``SUM(CASE ...)`` column per view, one scan), however many views there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, exists, false, func, insert, or_, select
from sqlalchemy import true as sql_true

from ..models import (
    CustomField,
    DefaultView,
    Department,
    DepartmentMember,
    SavedView,
    Tag,
    Ticket,
    ticket_tags,
    view_departments,
)
from . import audit, custom_fields, session, ticket_search
from .errors import NotFound, PermissionDenied, ValidationError
from .ids import parse_id
from .permissions import Principal
from .queries import ASSIGNEE_WORDS, TicketFilter, _apply_filters, known_assignees, list_tickets

FIELDS = frozenset({"name", "filters", "sort", "shared", "department_ids", "position"})
MAX_NAME = 120
MAX_FILTERS = 30
#: The ticket list's query parameters a view may hold (``cf.<key>`` besides).
FILTER_KEYS = frozenset(
    {
        "status",
        "status_category",
        "priority",
        "assignee",
        "department_id",
        "tag",
        "q",
        "requester_user_id",
        "created_after",
        "created_before",
        "snoozed",
    }
)
LIST_KEYS = frozenset({"status", "status_category", "priority"})


# ---------------------------------------------------------------------------- visibility
def _my_departments(principal: Principal) -> Any:
    return (
        select(DepartmentMember.department_id)
        .where(DepartmentMember.user_id == principal.user_id)
        .scalar_subquery()
    )


def visible(principal: Principal) -> ColumnElement[bool]:
    """Views ``principal`` sees: their own, shared ones with no department, and shared ones
    with one of their departments (every shared one for those who manage them)."""
    if not principal.is_agent or principal.user_id is None:
        return false()
    own = and_(SavedView.is_shared.is_(False), SavedView.owner_user_id == principal.user_id)
    if principal.can("view.manage"):
        return or_(own, SavedView.is_shared.is_(True))
    linked = exists().where(view_departments.c.view_id == SavedView.id)
    mine = exists().where(
        view_departments.c.view_id == SavedView.id,
        view_departments.c.department_id.in_(_my_departments(principal)),
    )
    return or_(own, and_(SavedView.is_shared.is_(True), or_(~linked, mine)))


def manageable(principal: Principal) -> ColumnElement[bool]:
    """Views the console lists for ``principal``: every shared one (``view.manage``), and
    everyone's personal ones too for admins, who answer for the desk's data."""
    if principal.is_admin:
        return sql_true()
    if principal.is_agent and principal.can("view.manage"):
        return SavedView.is_shared.is_(True)
    return false()


def _agents_only(principal: Principal) -> None:
    if not principal.is_agent or principal.user_id is None:
        raise PermissionDenied("Views are for agents.")


def list_views(principal: Principal) -> list[SavedView]:
    """The visible views in navigation order (position, then id)."""
    _agents_only(principal)
    return list(
        session()
        .execute(
            select(SavedView).where(visible(principal)).order_by(SavedView.position, SavedView.id)
        )
        .scalars()
    )


def console_page(
    principal: Principal, *, limit: int, after: tuple[int, int] | None = None
) -> tuple[list[SavedView], bool]:
    """A keyset page of the console's views (:func:`manageable`), in navigation order
    (position, then id), and whether more follow. ``after`` is the last row's
    ``(position, id)``."""
    _agents_only(principal)
    stmt = select(SavedView).where(manageable(principal))
    if after is not None:
        position, ident = after
        stmt = stmt.where(
            or_(
                SavedView.position > position,
                and_(SavedView.position == position, SavedView.id > ident),
            )
        )
    rows = list(
        session()
        .execute(stmt.order_by(SavedView.position, SavedView.id).limit(limit + 1))
        .scalars()
    )
    return rows[:limit], len(rows) > limit


def get(principal: Principal, view_id: object, *, console: bool = False) -> SavedView:
    """A view ``principal`` sees (in the console: one they manage, :func:`manageable`)."""
    _agents_only(principal)
    ident = parse_id(view_id)
    scope = manageable(principal) if console else visible(principal)
    row = (
        session()
        .execute(select(SavedView).where(SavedView.id == ident, scope))
        .scalar_one_or_none()
        if ident is not None
        else None
    )
    if row is None:
        raise NotFound("No such view.")
    return row


def department_ids(rows: Iterable[SavedView]) -> dict[int, list[int]]:
    """``{view id: [department ids]}`` for ``rows``, in one query."""
    ids = [r.id for r in rows]
    found: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        for view_id, dept in session().execute(
            select(view_departments.c.view_id, view_departments.c.department_id)
            .where(view_departments.c.view_id.in_(ids))
            .order_by(view_departments.c.department_id)
        ):
            found[view_id].append(dept)
    return found


# ---------------------------------------------------------------------------- filters
def _as_list(value: Any) -> list[str]:
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(v).strip() for v in items if str(v).strip()]


@dataclass
class Known:
    """What exists now, read once for all the views at hand: tag slugs, department ids, the
    active custom fields by key and the user ids an assignee filter may name."""

    tags: set[str] = field(default_factory=set)
    departments: set[int] = field(default_factory=set)
    fields: dict[str, CustomField] = field(default_factory=dict)
    assignees: set[str] = field(default_factory=set)


def known_for(rows: Iterable[SavedView]) -> Known:
    """At most three queries and one lookup of assignees (only the kinds the views' filters
    name), whatever their count."""
    tags: set[str] = set()
    depts: set[int] = set()
    assignees: set[str] = set()
    wants_fields = False
    for row in rows:
        filters = row.filters or {}
        if filters.get("tag"):
            tags.add(str(filters["tag"]))
        if filters.get("assignee") and str(filters["assignee"]) not in ASSIGNEE_WORDS:
            assignees.add(str(filters["assignee"]))
        dept = parse_id(filters.get("department_id"))
        if dept is not None:
            depts.add(dept)
        wants_fields = wants_fields or any(k.startswith("cf.") for k in filters)
    db = session()
    known = Known()
    if tags:
        known.tags = set(db.execute(select(Tag.slug).where(Tag.slug.in_(tags))).scalars())
    if depts:
        known.departments = set(
            db.execute(select(Department.id).where(Department.id.in_(depts))).scalars()
        )
    if wants_fields:
        known.fields = {f.key: f for f in custom_fields.list_fields("ticket", active_only=True)}
    if assignees:
        known.assignees = known_assignees(assignees)
    return known


def to_filter(row: SavedView, known: Known) -> tuple[TicketFilter, list[str]]:
    """The view's :class:`TicketFilter` without its stale parts, and those parts."""
    filters: Mapping[str, Any] = row.filters or {}
    flt = TicketFilter(sort=row.sort or None)
    stale: list[str] = []
    for key, value in filters.items():
        if key in LIST_KEYS:
            setattr(flt, "category" if key == "status_category" else key, _as_list(value))
        elif key == "department_id":
            if value == "none":
                flt.no_department = True
            elif parse_id(value) in known.departments:
                flt.department_id = parse_id(value)
            else:
                stale.append(f"department_id={value}")
        elif key == "tag":
            if value in known.tags:
                flt.tag = value
            else:
                stale.append(f"tag={value}")
        elif key == "assignee":
            if not value or str(value) in ASSIGNEE_WORDS or str(value) in known.assignees:
                flt.assignee = str(value) or None
            else:
                stale.append(f"assignee={value}")
        elif key.startswith("cf."):
            field_key, _, op = key[3:].partition("__")
            if field_key in known.fields:
                flt.custom_fields.append((field_key, op or "eq", str(value)))
            else:
                stale.append(f"{key}={value}")
        elif key in ("created_after", "created_before"):
            setattr(flt, key, datetime.fromisoformat(str(value)))
        elif key == "snoozed":
            flt.snoozed = {"false": None, "true": True, "any": False}.get(str(value))
        elif key in FILTER_KEYS:
            setattr(flt, key, str(value))
    if flt.sort and flt.sort.lstrip("-") == "relevance" and not flt.q:
        flt.sort = None
    return flt, stale


#: Filters a view may hold that the queue's filter form has no input for: they are kept when
#: the queue rewrites a view's filters, and they narrow the queue while the view is open.
BEYOND_QUEUE = frozenset({"requester_user_id", "created_after", "created_before"})


def beyond_queue(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The part of a view's filters the queue's form cannot show (``cf.<key>`` included)."""
    return {k: v for k, v in (filters or {}).items() if k in BEYOND_QUEUE or k.startswith("cf.")}


def narrow(flt: TicketFilter, row: SavedView) -> list[str]:
    """Add to the queue's ``flt`` what ``row`` filters on beyond the queue's form, so a view
    refiltered in the queue shows what it will show once updated; returns the stale parts."""
    probe = SavedView(filters=beyond_queue(row.filters))
    extra, stale = to_filter(probe, known_for([probe]))
    flt.custom_fields = [*flt.custom_fields, *extra.custom_fields]
    for key in BEYOND_QUEUE:
        if getattr(extra, key) is not None:
            setattr(flt, key, getattr(extra, key))
    return stale


def stale_parts(row: SavedView) -> list[str]:
    return to_filter(row, known_for([row]))[1]


def check_filters(filters: Any, sort: Any) -> dict[str, Any]:
    """The filters as stored, or a 422 naming ``filters.<key>``. Shapes are checked at the
    edge by the ticket list's own query schema; this checks what only the data can tell
    (custom field keys and values, the sort's fit with the search)."""
    if not isinstance(filters, dict) or len(filters) > MAX_FILTERS:
        raise ValidationError(
            "filters must be an object of the ticket list's parameters.",
            {"filters": f"an object of at most {MAX_FILTERS} keys"},
        )
    errors: dict[str, str] = {}
    for key, value in filters.items():
        if not (key in FILTER_KEYS or key.startswith("cf.")):
            errors[f"filters.{key}"] = "not a ticket list filter"
        elif isinstance(value, list) and key not in LIST_KEYS:
            errors[f"filters.{key}"] = "one value"
        elif not isinstance(value, str | list) or (
            isinstance(value, list) and not all(isinstance(v, str) for v in value)
        ):
            errors[f"filters.{key}"] = "text"
    if errors:
        raise ValidationError("The view's filters are not valid.", errors)
    probe = SavedView(filters=filters, sort=sort)
    try:
        flt = to_filter(probe, known_for([probe]))[0]
    except ValueError:
        raise ValidationError(
            "The view's filters are not valid.",
            {f"filters.{k}": "an ISO 8601 date-time" for k in filters if k.startswith("created")},
        ) from None
    try:
        flt.custom_fields = custom_fields.parse_filter_args((k, str(v)) for k, v in filters.items())
        custom_fields.filter_clauses(flt.custom_fields, for_customer=False)
        flt.sort = sort or None
        if filters.get("assignee"):  # not a stale part here: one the view would never use
            flt.assignee = str(filters["assignee"])
        flt.validate()
    except ValidationError as exc:
        raise ValidationError(
            "The view's filters are not valid.",
            {(k if k == "sort" else f"filters.{k}"): v for k, v in (exc.fields or {}).items()},
        ) from None
    return dict(filters)


# ---------------------------------------------------------------------------- reading
def tickets(
    view: SavedView, principal: Principal, cursor: list[Any] | None, limit: int
) -> tuple[list[Ticket], list[Any] | None, TicketFilter, list[str]]:
    """A keyset page of the view's tickets, as ``GET /tickets`` with its filters reads it."""
    flt, stale = to_filter(view, known_for([view]))
    rows, next_cursor = list_tickets(principal, flt, limit=limit, cursor=cursor)
    return rows, next_cursor, flt, stale


def _clause(flt: TicketFilter, known: Known, principal: Principal, dialect: str) -> Any:
    """The view's filters as one WHERE clause that runs no query of its own: the queue's
    clauses for the plain filters, sub-selects for the tag, custom fields and the search."""
    plain = TicketFilter(**{**flt.__dict__, "tag": None, "custom_fields": [], "q": None})
    parts = [
        c
        for c in [_apply_filters(select(Ticket.id), plain, principal).whereclause]
        if c is not None
    ]
    if flt.tag:
        parts.append(
            exists().where(
                ticket_tags.c.ticket_id == Ticket.id,
                ticket_tags.c.tag_id == select(Tag.id).where(Tag.slug == flt.tag).scalar_subquery(),
            )
        )
    parts += custom_fields.field_clauses(
        (known.fields[key], op, raw) for key, op, raw in flt.custom_fields)
    if flt.q and flt.q.strip():
        hits, _ = ticket_search.ranked(flt.q, include_notes=principal.is_agent, dialect=dialect)
        parts.append(Ticket.id.in_(select(hits.c.ticket_id)))
    return and_(*parts) if parts else sql_true()


def counts(principal: Principal, rows: list[SavedView] | None = None) -> dict[int, int]:
    """``{view id: tickets}`` for every visible view, from ONE statement over the tickets."""
    rows = list_views(principal) if rows is None else rows
    if not rows:
        return {}
    known = known_for(rows)
    db = session()
    dialect = db.get_bind().dialect.name
    ticket_search.bring_current(db)
    columns = []
    for row in rows:
        flt, _ = to_filter(row, known)
        try:
            clause = _clause(flt, known, principal, dialect)
        except ValidationError:  # a custom field's value no longer fits its type
            clause = false()
        columns.append(func.coalesce(func.sum(case((clause, 1), else_=0)), 0))
    values = db.execute(select(*columns).select_from(Ticket)).one()
    return {row.id: int(v) for row, v in zip(rows, values, strict=True)}


# ---------------------------------------------------------------------------- shapes
def _values(row: SavedView, depts: list[int]) -> dict[str, Any]:
    return {
        "name": row.name,
        "filters": row.filters,
        "sort": row.sort,
        "shared": row.is_shared,
        "department_ids": depts,
        "position": row.position,
    }


def serialize(
    row: SavedView, depts: list[int], stale: list[str], *, is_default: bool = False
) -> dict[str, Any]:
    from .serializers import iso

    return {
        "id": row.id,
        **_values(row, depts),
        "owner_user_id": row.owner_user_id,
        "stale": stale,
        "is_default": is_default,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


# ---------------------------------------------------------------------------- changes
def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        raise ValidationError("A view needs a name.", {"name": f"1-{MAX_NAME} characters"})
    return " ".join(value.split())


def _departments(value: Any) -> list[int]:
    ids = [parse_id(v) if not isinstance(v, bool) else None for v in (value or [])]
    if any(i is None for i in ids):
        raise ValidationError("No such department.", {"department_ids": "no such department"})
    wanted = sorted(set(ids))  # type: ignore[type-var]
    found = (
        set(session().execute(select(Department.id).where(Department.id.in_(wanted))).scalars())
        if wanted
        else set()
    )
    if found != set(wanted):
        raise ValidationError("No such department.", {"department_ids": "no such department"})
    return wanted  # type: ignore[return-value]


def _may_change(principal: Principal, row: SavedView) -> None:
    if row.is_shared:
        if not principal.can("view.manage"):
            raise PermissionDenied("Changing a shared view needs the 'view.manage' permission.")
    elif row.owner_user_id != principal.user_id and not principal.is_admin:
        raise PermissionDenied("A personal view is changed by its owner only.")


def may_change(principal: Principal, row: SavedView) -> bool:
    """Whether ``principal`` may rename, refilter or delete ``row`` (the queue's controls)."""
    try:
        _may_change(principal, row)
    except PermissionDenied:
        return False
    return True


def _apply(
    principal: Principal, row: SavedView, data: Mapping[str, Any], creating: bool
) -> list[int] | None:
    unknown = sorted(str(k)[:40] for k in set(data) - FIELDS)
    if unknown:
        raise ValidationError(
            f"Unknown field(s): {', '.join(unknown)}.", {k: "unknown field" for k in unknown}
        )
    if creating or "name" in data:
        row.name = _name(data.get("name"))
    if "sort" in data:
        row.sort = data["sort"] or None
    if creating or "filters" in data or "sort" in data:
        row.filters = check_filters(data.get("filters", row.filters or {}), row.sort)
    if "position" in data:
        if isinstance(data["position"], bool) or not isinstance(data["position"], int):
            raise ValidationError("position is a number.", {"position": "integer"})
        row.position = data["position"]
    if "shared" in data:
        shared = data["shared"]
        if not isinstance(shared, bool):
            raise ValidationError("shared must be true or false.", {"shared": "boolean"})
        if shared != row.is_shared:
            if not principal.can("view.manage"):
                raise PermissionDenied("Shared views need the 'view.manage' permission.")
            row.is_shared = shared
            if not shared:
                row.owner_user_id = principal.user_id
    depts = _departments(data["department_ids"]) if "department_ids" in data else None
    if depts and not row.is_shared:
        raise ValidationError(
            "Only a shared view is shared with departments.",
            {"department_ids": "needs shared: true"},
        )
    return depts


def _link(row: SavedView, depts: list[int]) -> None:
    db = session()
    db.execute(delete(view_departments).where(view_departments.c.view_id == row.id))
    if depts:
        db.execute(
            insert(view_departments), [{"view_id": row.id, "department_id": d} for d in depts]
        )


def create(principal: Principal, data: Mapping[str, Any]) -> SavedView:
    _agents_only(principal)
    row = SavedView(owner_user_id=principal.user_id, is_shared=False, position=0, filters={})
    depts = _apply(principal, row, data, creating=True)
    session().add(row)
    session().flush()
    if depts:
        _link(row, depts)
    audit.log(principal.actor, "view.created", "saved_view", row.id, new=_values(row, depts or []))
    return row


def update(
    principal: Principal, view_id: object, data: Mapping[str, Any], *, console: bool = False
) -> SavedView:
    row = get(principal, view_id, console=console)
    _may_change(principal, row)
    before = department_ids([row])[row.id]
    old = _values(row, before)
    depts = _apply(principal, row, data, creating=False)
    if depts is None and not row.is_shared and before:
        depts = []  # a view made personal leaves its departments
    if depts is not None:
        _link(row, depts)
    session().flush()
    new = _values(row, before if depts is None else depts)
    if new != old:
        audit.log(principal.actor, "view.updated", "saved_view", row.id, old=old, new=new)
    return row


def remove(principal: Principal, view_id: object, *, console: bool = False) -> None:
    row = get(principal, view_id, console=console)
    _may_change(principal, row)
    audit.log(
        principal.actor,
        "view.deleted",
        "saved_view",
        row.id,
        old=_values(row, department_ids([row])[row.id]),
    )
    session().delete(row)
    session().flush()


# ---------------------------------------------------------------------------- defaults
def default_view_id(principal: Principal) -> int | None:
    """The agent's default view, if they still see it."""
    if principal.user_id is None:
        return None
    return (
        session()
        .execute(
            select(SavedView.id)
            .join(DefaultView, DefaultView.view_id == SavedView.id)
            .where(DefaultView.user_id == principal.user_id, visible(principal))
        )
        .scalar()
    )


def set_default(principal: Principal, view_id: object | None) -> None:
    """Make a visible view the agent's default (``None``: no default)."""
    if principal.user_id is None:
        raise PermissionDenied("Views are for agents.")
    db = session()
    db.execute(delete(DefaultView).where(DefaultView.user_id == principal.user_id))
    if view_id is not None:
        db.add(DefaultView(user_id=principal.user_id, view_id=get(principal, view_id).id))
    db.flush()
