"""Ticket lists: filters, visibility, sorting and keyset pagination.

Pages are found by a row comparison on ``(sort key, id)``, never by OFFSET, so page 1,000 costs
what page 1 costs. Related rows (tags, department, contact) are loaded with one query each for
the whole page, and host users with one ``users_loader`` call, so a page is a fixed number of
queries whatever its length.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, false, literal, or_, select, tuple_
from sqlalchemy.orm import selectinload

from ..clock import now
from ..domain import PRIORITIES, STATUS_CATEGORIES
from ..models import Activity, Tag, Ticket, ticket_tags
from . import session, ticket_search
from .agents import agents_among
from .errors import ValidationError
from .permissions import Principal, visible_tickets

SORTS: dict[str, Any] = {
    "created_at": Ticket.created_at,
    "updated_at": Ticket.updated_at,
    "priority": Ticket.priority_rank,
    "id": Ticket.id,
}
#: The full-text sort (best match first); the default whenever ``q`` is given.
RELEVANCE = "relevance"
MAX_SEARCH = 200
#: SLA states a queue can be filtered by (see :func:`sla_clause`).
SLA_STATES = ("ok", "warning", "breached", "paused")
#: What an assignee filter may say besides a user id.
ASSIGNEE_WORDS = ("me", "none", "unrouted")
_DUE = (Ticket.first_response_due_at, Ticket.next_response_due_at, Ticket.resolution_due_at)
_WARN = (Ticket.first_response_warning_at, Ticket.next_response_warning_at,
         Ticket.resolution_warning_at)


@dataclass
class TicketFilter:
    status: list[str] = field(default_factory=list)
    category: list[str] = field(default_factory=list)
    priority: list[str] = field(default_factory=list)
    assignee: str | None = None  # a user id, "me", "none" or "unrouted"
    department_id: int | None = None
    no_department: bool = False
    tag: str | None = None
    requester_user_id: str | None = None
    contact_id: int | None = None
    q: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    #: None: hide tickets snoozed into the future (the active queue); True: only those; False:
    #: everything.
    snoozed: bool | None = None
    #: One of ``SLA_STATES``: the state of the ticket's running SLA targets.
    sla: str | None = None
    #: A key of ``SORTS`` or ``relevance`` (prefix ``-`` for descending); ``None``: by relevance
    #: when searching, else the most recently updated first.
    sort: str | None = None
    #: Custom field filters ``(key, "eq" | "gte" | "lte", raw value)``.
    custom_fields: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def effective_sort(self) -> str:
        if self.sort:
            return self.sort
        return "-" + RELEVANCE if self.q and self.q.strip() else "-updated_at"

    def validate(self) -> None:
        errors: dict[str, str] = {}
        bad = [c for c in self.category if c not in STATUS_CATEGORIES]
        if bad:
            errors["category"] = f"one of {', '.join(STATUS_CATEGORIES)}"
        if any(p not in PRIORITIES for p in self.priority):
            errors["priority"] = f"one of {', '.join(PRIORITIES)}"
        key = self.effective_sort.lstrip("-")
        if key not in SORTS and key != RELEVANCE:
            errors["sort"] = (f"one of {', '.join([*SORTS, RELEVANCE])} "
                              "(prefix '-' for descending)")
        elif key == RELEVANCE and not (self.q and self.q.strip()):
            errors["sort"] = "relevance needs a search (q)"
        if self.sla is not None and self.sla not in SLA_STATES:
            errors["sla"] = f"one of {', '.join(SLA_STATES)}"
        if self.q is not None and len(self.q) > MAX_SEARCH:
            errors["q"] = f"at most {MAX_SEARCH} characters"
        if self.assignee and self.assignee not in ASSIGNEE_WORDS \
                and not known_assignees([self.assignee]):
            errors["assignee"] = f"{', '.join(ASSIGNEE_WORDS)} or an agent's user id"
        if errors:
            raise ValidationError("The filters are not valid: " + "; ".join(
                f"{name}: {rule}" if rule.startswith("relevance") else f"{name} must be {rule}"
                for name, rule in errors.items()) + ".", errors)


def known_assignees(user_ids: Iterable[str]) -> set[str]:
    """Of ``user_ids``, those an assignee filter may name: agents (one host lookup), and
    anyone tickets are still assigned to, such as a former agent (one query for the rest)."""
    wanted = {str(u) for u in user_ids}
    found = agents_among(wanted)
    rest = wanted - found
    if rest:
        found.update(uid for uid in session().execute(
            select(Ticket.assignee_id).where(Ticket.assignee_id.in_(rest)).distinct()
        ).scalars() if uid is not None)
    return found


def _apply_filters(query: Select[Any], flt: TicketFilter, principal: Principal) -> Select[Any]:
    clause = visible_tickets(principal)
    if clause is not None:
        query = query.where(clause)
    if flt.status:
        query = query.where(Ticket.status.in_(flt.status))
    if flt.category:
        query = query.where(Ticket.status_category.in_(flt.category))
    if flt.priority:
        query = query.where(Ticket.priority.in_(flt.priority))
    if flt.assignee == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif flt.assignee == "unrouted":
        from .routing import unrouted_clause

        query = query.where(unrouted_clause())
    elif flt.assignee == "me":
        query = query.where(Ticket.assignee_id == principal.user_id)
    elif flt.assignee:
        query = query.where(Ticket.assignee_id == flt.assignee)
    if flt.no_department:
        query = query.where(Ticket.department_id.is_(None))
    elif flt.department_id is not None:
        query = query.where(Ticket.department_id == flt.department_id)
    if flt.tag:
        query = query.where(_tag_clause(flt.tag))
    if flt.custom_fields:
        from . import custom_fields

        query = query.where(*custom_fields.filter_clauses(
            flt.custom_fields, for_customer=not principal.is_agent))
    if flt.requester_user_id:
        query = query.where(Ticket.requester_user_id == flt.requester_user_id)
    if flt.contact_id is not None:
        query = query.where(Ticket.contact_id == flt.contact_id)
    if flt.snoozed is None:
        query = query.where(or_(Ticket.snoozed_until.is_(None), Ticket.snoozed_until <= now()))
    elif flt.snoozed:
        query = query.where(Ticket.snoozed_until > now())
    if flt.created_after is not None:
        query = query.where(Ticket.created_at >= flt.created_after)
    if flt.created_before is not None:
        query = query.where(Ticket.created_at < flt.created_before)
    if flt.sla:
        query = query.where(sla_clause(flt.sla, now()))
    return query


def sla_clause(state: str, at: datetime) -> Any:
    """Tickets whose SLA is in ``state`` at ``at``, read from the projected due and warning
    columns (no per-ticket arithmetic): ``breached`` (a running target is overdue), ``warning``
    (inside a warning window, none overdue), ``paused`` (the clock stands still), ``ok`` (a
    running target, none in its warning window)."""
    overdue = or_(*(due <= at for due in _DUE))
    warned = or_(*(warn <= at for warn in _WARN))
    running = or_(*(due.is_not(None) for due in _DUE))
    if state == "breached":
        return overdue
    if state == "warning":
        return and_(warned, *(or_(due.is_(None), due > at) for due in _DUE))
    if state == "paused":
        return and_(Ticket.sla_policy_id.is_not(None), Ticket.sla_paused_at.is_not(None))
    return and_(running, *(or_(warn.is_(None), warn > at) for warn in _WARN))


def sla_label(ticket: Ticket, at: datetime) -> str | None:
    """The same states as :func:`sla_clause` for one loaded ticket (``None``: no SLA)."""
    dues = [getattr(ticket, c.key) for c in _DUE]
    warns = [getattr(ticket, c.key) for c in _WARN]
    if any(d is not None and d <= at for d in dues):
        return "breached"
    if any(w is not None and w <= at for w in warns):
        return "warning"
    if ticket.sla_policy_id is not None and ticket.sla_paused_at is not None:
        return "paused"
    if any(d is not None for d in dues):
        return "ok"
    return None


#: Up to this many tickets, a tag filter becomes an id list (see ``_tag_clause``).
RARE_TAG_LIMIT = 2000


def _tag_clause(slug: str) -> Any:
    """Tickets carrying tag ``slug``.

    The planner cannot tell a rare tag from a common one through a join on the slug, and walks
    the whole sort index looking for matches (seconds at 1M tickets for a tag on a handful).
    So read the tag's ticket ids first: few of them become an ``IN`` list the index serves
    directly; many keep the ``EXISTS`` form, which the sort index serves well when matches are
    dense.
    """
    db = session()
    tag_id = db.execute(select(Tag.id).where(Tag.slug == slug)).scalar()
    if tag_id is None:
        return false()
    ids = list(db.execute(
        select(ticket_tags.c.ticket_id).where(ticket_tags.c.tag_id == tag_id)
        .limit(RARE_TAG_LIMIT + 1)
    ).scalars())
    if len(ids) <= RARE_TAG_LIMIT:
        return Ticket.id.in_(ids) if ids else false()
    return exists().where(ticket_tags.c.ticket_id == Ticket.id, ticket_tags.c.tag_id == tag_id)


def _after(column: Any, descending: bool, value: Any, last_id: int, dialect: str) -> Any:
    """``(column, id)`` strictly after the cursor in the sort direction."""
    if dialect in ("postgresql", "sqlite"):
        # Typed literals: the value must go through the column's type (UTC normalisation),
        # not as a bare timestamptz that the server reads in its session time zone.
        left = tuple_(column, Ticket.id)
        right = tuple_(literal(value, column.type), literal(last_id, Ticket.id.type))
        return left < right if descending else left > right
    # MariaDB plans the expanded form as a range scan; it does not for row constructors.
    if descending:
        return or_(column < value, and_(column == value, Ticket.id < last_id))
    return or_(column > value, and_(column == value, Ticket.id > last_id))


def _decode_value(sort_key: str, raw: Any) -> Any:
    if sort_key in ("created_at", "updated_at"):
        if not isinstance(raw, str):
            raise ValueError
        value = datetime.fromisoformat(raw)
        if value.tzinfo is None:
            raise ValueError
        return value
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValueError
    return raw


def _encode_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def list_tickets(
    principal: Principal, flt: TicketFilter, *, limit: int, cursor: list[Any] | None = None
) -> tuple[list[Ticket], list[Any] | None]:
    """One page of tickets and the cursor (``[sort value, id]``) of the next, if any."""
    flt.validate()
    sort = flt.effective_sort
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    query = _apply_filters(select(Ticket), flt, principal)
    db = session()
    dialect = db.get_bind().dialect.name
    rank = None
    if flt.q and flt.q.strip():
        # The search documents of tickets changed in this transaction are brought up to date
        # first, so the search sees them.
        ticket_search.bring_current(db)
        hits, rank = ticket_search.ranked(
            flt.q, include_notes=principal.is_agent, dialect=dialect,
            candidates=ticket_search.RANK_CANDIDATES if key == RELEVANCE else None)
        query = query.join(hits, hits.c.ticket_id == Ticket.id)
        if key == RELEVANCE:
            query = query.add_columns(rank.label("relevance"))
    column: Any = rank if key == RELEVANCE else SORTS[key]
    if cursor is not None:
        try:
            value, last_id = _decode_value(key, cursor[0]), int(cursor[1])
        except (ValueError, TypeError, IndexError):
            raise ValidationError("The cursor is not valid.", {"cursor": "invalid"}) from None
        query = query.where(_after(column, descending, value, last_id, dialect))
    order = (column.desc(), Ticket.id.desc()) if descending else (column.asc(), Ticket.id.asc())
    query = (
        query.order_by(*order)
        .limit(limit + 1)
        .options(
            selectinload(Ticket.tags),
            selectinload(Ticket.department),
            selectinload(Ticket.contact),
        )
    )
    result = list(db.execute(query))
    rows = [r[0] for r in result]
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    value = int(result[limit - 1][1]) if key == RELEVANCE else getattr(last, column.key)
    return rows, [_encode_value(value), last.id]


#: The activity types a customer's timeline shows: an allow-list, so a type added later (SLA
#: warnings and breaches, snoozes, tags, notes, followers, rule firings ...) stays agents-only
#: until someone decides otherwise. Their properties are trimmed by
#: ``serializers.CUSTOMER_ACTIVITY_PROPERTIES``.
CUSTOMER_ACTIVITY_TYPES = ("created", "reply_added", "status_changed", "priority_changed",
                           "department_changed", "assigned", "unassigned", "attachment_added")


def list_activity(
    ticket: Ticket, *, limit: int, after_id: int | None = None, include_internal: bool = True
) -> tuple[list[Activity], int | None]:
    query = select(Activity).where(Activity.ticket_id == ticket.id)
    if after_id is not None:
        query = query.where(Activity.id > after_id)
    if not include_internal:
        query = query.where(Activity.type.in_(CUSTOMER_ACTIVITY_TYPES))
    rows = list(session().execute(query.order_by(Activity.id).limit(limit + 1)).scalars())
    next_after = rows[limit - 1].id if len(rows) > limit else None
    rows = rows[:limit]
    if not include_internal:
        # Internal attachments are flagged in the row's properties (portable across databases,
        # unlike a JSON query); a page may come back short, the cursor stays exact.
        rows = [r for r in rows if not (r.properties or {}).get("internal")]
    return rows, next_after
