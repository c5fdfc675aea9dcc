"""Statuses and the transition table.

The eight built-in statuses always exist; admins add custom statuses, each mapped onto one of
the eight *categories*. The transition table maps a status (or category) to the statuses (or
categories) it may move to. It starts as the family's table and admins may replace it; it is
stored in the settings store under ``status_transitions``.

A move ``a -> b`` is allowed when the table's row for ``a`` (or, if ``a`` has no row of its own,
for ``a``'s category) names ``b`` or ``b``'s category. So a custom status inherits its category's
transitions until an admin gives it a row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import g
from sqlalchemy import func, select

from ..domain import (
    DEFAULT_TRANSITIONS,
    STATUS_CATEGORIES,
    STATUS_LABELS,
    WAITING_ON_CUSTOMER,
)
from ..events import Actor
from ..models import Ticket, TicketStatus
from . import audit, cache, session, settings, sla
from .errors import Conflict, InvalidTransition, NotFound, ValidationError

TRANSITIONS_KEY = "status_transitions"
_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class StatusInfo:
    slug: str
    label: str
    category: str
    color: str
    builtin: bool
    position: int
    #: Stops the SLA clock (waiting on the customer, and custom statuses so flagged).
    pauses_sla: bool = False
    is_active: bool = True

    def as_dict(self) -> dict[str, object]:
        return {
            "slug": self.slug,
            "label": self.label,
            "category": self.category,
            "color": self.color,
            "builtin": self.builtin,
            "position": self.position,
        }


_BUILTIN_COLORS = {
    "open": "#2563eb", "in_progress": "#7c3aed", "waiting_on_customer": "#d97706",
    "waiting_on_agent": "#db2777", "escalated": "#dc2626", "resolved": "#16a34a",
    "closed": "#4b5563", "reopened": "#0891b2",
}


_CACHE_KEY = "_escalated_status_cache"


def _cache() -> dict[str, Any]:
    """Per app-context cache: status lists and the table are read on every status change."""
    return g.setdefault(_CACHE_KEY, {})  # type: ignore[no-any-return]


def _forget() -> None:
    g.pop(_CACHE_KEY, None)
    cache.changed()
    sla.forget()  # which statuses pause the clock may have changed


def all_statuses(include_inactive: bool = False) -> list[StatusInfo]:
    key = f"statuses:{include_inactive}"
    local = _cache()
    if key not in local:
        local[key] = tuple(cache.cached(key, lambda: _load_statuses(include_inactive)))
    return list(local[key])


def _load_statuses(include_inactive: bool) -> list[StatusInfo]:
    items = [
        StatusInfo(slug, STATUS_LABELS[slug], slug, _BUILTIN_COLORS[slug], True, pos,
                   pauses_sla=slug == WAITING_ON_CUSTOMER)
        for pos, slug in enumerate(STATUS_CATEGORIES)
    ]
    query = select(TicketStatus).order_by(TicketStatus.position, TicketStatus.id)
    if not include_inactive:
        query = query.where(TicketStatus.is_active.is_(True))
    for row in session().execute(query).scalars():
        items.append(
            StatusInfo(row.slug, row.label, row.category, row.color, False, 100 + row.position,
                       pauses_sla=row.pauses_sla, is_active=row.is_active)
        )
    return items


def resolve(slug: str) -> StatusInfo:
    """The status named ``slug`` (built-in or active custom) or a validation error."""
    for info in all_statuses():
        if info.slug == slug:
            return info
    raise ValidationError(f"Unknown status '{slug}'.", {"status": "unknown status"})


def get_status(slug: str) -> StatusInfo:
    """The status named ``slug``, built-in or custom (inactive ones too), or 404."""
    for info in all_statuses(include_inactive=True):
        if info.slug == slug:
            return info
    raise NotFound(f"No status '{slug[:40]}'.")


def category_of(slug: str) -> str:
    return resolve(slug).category


def transition_table() -> dict[str, list[str]]:
    local = _cache()
    if "table" not in local:
        local["table"] = cache.cached("status_transitions", _load_table)
    return {k: list(v) for k, v in local["table"].items()}


def _load_table() -> dict[str, list[str]]:
    stored = settings.get(TRANSITIONS_KEY)
    if isinstance(stored, dict):
        return {str(k): [str(x) for x in v] for k, v in stored.items()}
    return {k: list(v) for k, v in DEFAULT_TRANSITIONS.items()}


def allowed_targets(current: str) -> list[StatusInfo]:
    """Every status a ticket in ``current`` may move to."""
    table = transition_table()
    cur = resolve(current)
    row = table.get(cur.slug, table.get(cur.category, []))
    return [
        s for s in all_statuses()
        if s.slug != cur.slug and (s.slug in row or s.category in row)
    ]


def check_transition(current: str, target: str) -> StatusInfo:
    """Return the target status if ``current -> target`` is allowed, else raise."""
    target_info = resolve(target)
    if target_info.slug == current:
        raise InvalidTransition(f"The ticket is already {target_info.label} ('{current}').",
                                {"status": "unchanged"})
    if not any(s.slug == target_info.slug for s in allowed_targets(current)):
        raise InvalidTransition(
            f"A ticket cannot move from '{current}' to '{target}'.",
            {"status": f"allowed: {', '.join(s.slug for s in allowed_targets(current))}"},
        )
    return target_info


def set_transition_table(table: object, actor: Actor) -> dict[str, list[str]]:
    """Replace the table after checking every name in it is a known status or category."""
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
        for k, v in table.items()
    ):
        raise ValidationError(
            "The transition table must map status names to lists of status names.",
            {"transitions": "expected an object of string lists"},
        )
    known = {s.slug for s in all_statuses()}
    unknown = sorted({n for k, v in table.items() for n in [k, *v]} - known)
    if unknown:
        raise ValidationError(
            f"Unknown statuses in the table: {', '.join(unknown)}.", {"transitions": unknown}
        )
    old = transition_table()
    clean = {k: sorted(set(v)) for k, v in table.items()}
    settings.set_value(TRANSITIONS_KEY, clean)
    _forget()
    audit.log(actor, "status_transitions.updated", "status_transitions", None, old=old, new=clean)
    return clean


def create_status(
    actor: Actor, *, slug: object, label: object, category: object, color: object = None,
    position: object = 0, pauses_sla: object = False,
) -> TicketStatus:
    errors: dict[str, str] = {}
    if not isinstance(slug, str) or not _SLUG.match(slug):
        errors["slug"] = "1-40 lower-case letters, digits or underscores, starting with a letter"
    elif slug in STATUS_CATEGORIES:
        errors["slug"] = "is a built-in status"
    if not isinstance(label, str) or not label.strip() or len(label) > 80:
        errors["label"] = "required, at most 80 characters"
    if category not in STATUS_CATEGORIES:
        errors["category"] = f"one of {', '.join(STATUS_CATEGORIES)}"
    if color is not None and not (isinstance(color, str) and _COLOR.match(color)):
        errors["color"] = "expected #rrggbb"
    if isinstance(position, bool) or not isinstance(position, int):
        errors["position"] = "must be an integer"
    if not isinstance(pauses_sla, bool):
        errors["pauses_sla"] = "must be true or false"
    if errors:
        raise ValidationError("The status is not valid.", errors)
    assert isinstance(slug, str) and isinstance(label, str) and isinstance(category, str)
    if session().execute(select(TicketStatus.id).where(TicketStatus.slug == slug)).first():
        raise Conflict(f"A status '{slug}' already exists.", {"slug": "taken"})
    row = TicketStatus(
        slug=slug, label=label.strip(), category=category,
        color=color if isinstance(color, str) else "#6b7280", position=position,
        pauses_sla=pauses_sla,
    )
    session().add(row)
    session().flush()
    _forget()
    audit.log(actor, "status.created", "status", row.id, new=_status_values(row))
    return row


def update_status(actor: Actor, slug: str, **changes: object) -> TicketStatus:
    row = _custom(slug)
    old = _status_values(row)
    if "label" in changes:
        label = changes["label"]
        if not isinstance(label, str) or not label.strip() or len(label) > 80:
            raise ValidationError("The status is not valid.", {"label": "required, ≤ 80 chars"})
        row.label = label.strip()
    if "color" in changes:
        color = changes["color"]
        if not isinstance(color, str) or not _COLOR.match(color):
            raise ValidationError("The status is not valid.", {"color": "expected #rrggbb"})
        row.color = color
    if "position" in changes and isinstance(changes["position"], int):
        row.position = changes["position"]
    if "is_active" in changes and isinstance(changes["is_active"], bool):
        row.is_active = changes["is_active"]
    if "pauses_sla" in changes and isinstance(changes["pauses_sla"], bool):
        row.pauses_sla = changes["pauses_sla"]
    _forget()
    audit.log(actor, "status.updated", "status", row.id, old=old, new=_status_values(row))
    return row


def delete_status(actor: Actor, slug: str) -> None:
    row = _custom(slug)
    in_use = session().execute(
        select(func.count()).select_from(Ticket).where(Ticket.status == slug)
    ).scalar_one()
    if in_use:
        raise Conflict(
            f"{in_use} tickets are in status '{slug}'; move them or deactivate the status.",
            {"status": "in use"},
        )
    audit.log(actor, "status.deleted", "status", row.id, old=_status_values(row))
    session().delete(row)
    _forget()


def status_values(slug: str) -> dict[str, object]:
    """A custom status's stored values (what its edit form starts from)."""
    return _status_values(_custom(slug))


def _custom(slug: str) -> TicketStatus:
    if slug in STATUS_CATEGORIES:
        raise ValidationError("Built-in statuses cannot be changed.", {"slug": "built-in"})
    row = session().execute(select(TicketStatus).where(TicketStatus.slug == slug)).scalar()
    if row is None:
        raise NotFound(f"No status '{slug}'.")
    return row


def _status_values(row: TicketStatus) -> dict[str, object]:
    return {"slug": row.slug, "label": row.label, "category": row.category, "color": row.color,
            "position": row.position, "is_active": row.is_active, "pauses_sla": row.pauses_sla}
