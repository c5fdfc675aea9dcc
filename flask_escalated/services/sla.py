"""SLA policies on business hours: attaching, pausing, re-projecting, and reporting state.

Each ticket with a policy has one *SLA clock*: business time (on the policy's schedule) that runs
while the ticket is not paused. ``sla_used_seconds`` is the clock reading at ``sla_clock_at``;
while ``sla_paused_at`` is set the clock stands still. Every target is an offset on that clock:
first response and resolution from zero, next response from the reading at the customer's
message (``next_response_from_seconds``). The due columns hold the projection of each target
onto wall time, and the warning columns the projection less the policy's lead time, so the
sweep (:mod:`.sla_sweep`) is an indexed range query rather than arithmetic per ticket.

Re-projecting (priority or policy change, resume) never restarts the clock: the business time
already used is kept and only the remainder is laid out again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, g
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..config import Config
from ..domain import CLOSED_CATEGORIES, PRIORITIES, WAITING_ON_CUSTOMER
from ..models import BusinessSchedule, SlaPolicy, Ticket, TicketStatus
from . import business_hours as bh
from . import cache, session
from .errors import ValidationError

TARGETS = ("first_response", "next_response", "resolution")
_CACHE = "_escalated_sla_cache"


# ---------------------------------------------------------------------------- configuration
def _cache() -> dict[str, Any]:
    return g.setdefault(_CACHE, {})  # type: ignore[no-any-return]


def forget() -> None:
    """Drop cached policies and schedules (after an admin edits them)."""
    g.pop(_CACHE, None)
    cache.changed()


def enabled() -> bool:
    return bool(current_app.config[Config.SLA].get("enabled", True))


def active_policies() -> list[SlaPolicy]:
    local = _cache()
    if "policies" not in local:
        local["policies"] = cache.cached("sla:policies", _load_policies)
    return local["policies"]  # type: ignore[no-any-return]


def _load_policies() -> tuple[SlaPolicy, ...]:
    """The active policies with their schedules and holidays, loaded in a session of their own
    on the same connection and detached, so every session of the process can read them (and
    the caller's session keeps its own instances). Nobody writes to these copies."""
    with Session(bind=session().connection(), expire_on_commit=False) as own:
        policies = tuple(own.execute(
            select(SlaPolicy).where(SlaPolicy.is_active.is_(True))
            .order_by(SlaPolicy.position, SlaPolicy.id)
        ).scalars())
        for policy in policies:
            if policy.schedule is not None:
                list(policy.schedule.holidays)
        own.expunge_all()
    return policies


def config_schedule(spec: dict[str, Any]) -> bh.Schedule:
    """The schedule of an ``ESCALATED_SLA["business_hours"]`` mapping."""
    days = spec.get("days", [1, 2, 3, 4, 5])
    interval = {"start": spec.get("start", "09:00"), "end": spec.get("end", "17:00")}
    week = {bh.WEEKDAYS[d - 1]: [interval] for d in days if 1 <= int(d) <= 7}
    return bh.build(spec.get("timezone", "UTC"), week)


def _config_schedule() -> bh.Schedule:
    """The business hours from ``ESCALATED_SLA`` (used when a policy names no schedule but
    ``business_hours_only`` is set, and as the desk's schedule when no schedule is default)."""
    return config_schedule(current_app.config[Config.SLA].get("business_hours", {}))


def desk_schedule() -> bh.Schedule:
    """The desk's schedule: the default business schedule (``is_default``), else the hours in
    ``ESCALATED_SLA["business_hours"]``. Reports take their time zone from it, and business
    time is counted on it for tickets whose policy names no schedule of its own."""
    local = _cache()
    if "desk" not in local:
        local["desk"] = cache.cached("sla:desk_schedule", _load_desk_schedule)
    return local["desk"]  # type: ignore[no-any-return]


def _load_desk_schedule() -> bh.Schedule:
    row = session().execute(
        select(BusinessSchedule).where(BusinessSchedule.is_default.is_(True))
        .order_by(BusinessSchedule.id).limit(1)).scalar_one_or_none()
    return to_schedule(row) if row is not None else _config_schedule()


def to_schedule(row: BusinessSchedule) -> bh.Schedule:
    return bh.Schedule(
        bh.zone(row.timezone),
        bh.parse_week(row.hours or {}),
        frozenset(h.date for h in row.holidays if not h.recurring),
        frozenset((h.date.month, h.date.day) for h in row.holidays if h.recurring),
    )


def schedule_for(policy: SlaPolicy | None) -> bh.Schedule:
    """The schedule a policy counts on: its own, else the config's business hours when
    ``business_hours_only`` is set, else calendar time."""
    cache = _cache()
    key = f"schedule:{policy.schedule_id if policy else None}"
    if key not in cache:
        if policy is not None and policy.schedule is not None:
            cache[key] = to_schedule(policy.schedule)
        elif current_app.config[Config.SLA].get("business_hours_only"):
            cache[key] = _config_schedule()
        else:
            cache[key] = bh.calendar()
    return cache[key]  # type: ignore[no-any-return]


def pausing_statuses() -> frozenset[str]:
    """Statuses that stop the clock: waiting on the customer, and custom ones so flagged."""
    local = _cache()
    if "pausing" not in local:
        local["pausing"] = cache.cached("sla:pausing", _load_pausing)
    return local["pausing"]  # type: ignore[no-any-return]


def _load_pausing() -> frozenset[str]:
    custom = session().execute(
        select(TicketStatus.slug).where(TicketStatus.pauses_sla.is_(True))).scalars()
    return frozenset({WAITING_ON_CUSTOMER, *custom})


def target_minutes(policy: SlaPolicy, priority: str, target: str) -> float | None:
    value = (policy.targets or {}).get(priority, {}).get(target)
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value > 0 else None


def matches(policy: SlaPolicy, ticket: Ticket) -> bool:
    cond = policy.conditions or {}
    if cond.get("priorities") and ticket.priority not in cond["priorities"]:
        return False
    if cond.get("department_ids") and ticket.department_id not in cond["department_ids"]:
        return False
    if cond.get("tags") and not {t.slug for t in ticket.tags} & set(cond["tags"]):
        return False
    kind = "user" if ticket.requester_user_id else "contact"
    return not (cond.get("requester_types") and kind not in cond["requester_types"])


def pick_policy(ticket: Ticket) -> SlaPolicy | None:
    if not enabled():
        return None
    return next((p for p in active_policies() if matches(p, ticket)), None)


# ---------------------------------------------------------------------------- the clock
def is_paused(ticket: Ticket) -> bool:
    return ticket.sla_paused_at is not None


def should_pause(ticket: Ticket, at: datetime) -> bool:
    snoozed = ticket.snoozed_until is not None and ticket.snoozed_until > at
    done = ticket.status_category in CLOSED_CATEGORIES
    return snoozed or done or ticket.status in pausing_statuses()


def used_seconds(ticket: Ticket, at: datetime, schedule: bh.Schedule | None = None) -> float:
    """The clock reading at ``at``."""
    if ticket.sla_clock_at is None:
        return 0.0
    if is_paused(ticket):
        return float(ticket.sla_used_seconds)
    schedule = schedule or schedule_for(_policy(ticket))
    running = bh.between(schedule, ticket.sla_clock_at, max(at, ticket.sla_clock_at))
    return float(ticket.sla_used_seconds) + running.total_seconds()


def _checkpoint(ticket: Ticket, at: datetime, schedule: bh.Schedule) -> float:
    used = used_seconds(ticket, at, schedule)
    ticket.sla_used_seconds = round(used)
    ticket.sla_clock_at = at
    return used


def policy_of(ticket: Ticket) -> SlaPolicy | None:
    """The ticket's SLA policy (from the per-request cache when it is active)."""
    return _policy(ticket)


def _policy(ticket: Ticket) -> SlaPolicy | None:
    if ticket.sla_policy_id is None:
        return None
    for policy in active_policies():
        if policy.id == ticket.sla_policy_id:
            return policy
    return session().get(SlaPolicy, ticket.sla_policy_id)


def _fulfilled(ticket: Ticket, target: str) -> bool:
    if target == "first_response":
        return ticket.first_response_at is not None
    if target == "next_response":
        return ticket.next_response_from_seconds is None
    return ticket.status_category in CLOSED_CATEGORIES


def _start(ticket: Ticket, target: str) -> float:
    if target == "next_response":
        return float(ticket.next_response_from_seconds or 0)
    return 0.0


def project(ticket: Ticket, at: datetime | None = None) -> None:
    """Lay every unfulfilled target out onto wall time from the current clock reading."""
    at = at or now()
    policy = _policy(ticket)
    if policy is None:
        for target in TARGETS:
            _set(ticket, target, None, None)
        return
    schedule = schedule_for(policy)
    used = used_seconds(ticket, at, schedule)
    # A schedule open no hour of the week never reaches a target: no due times, rather than
    # refusing the change that asked for a projection (a new ticket, a new priority).
    never = not schedule.has_hours
    for target in TARGETS:
        minutes = target_minutes(policy, ticket.priority, target)
        if minutes is None or never or _fulfilled(ticket, target) or is_paused(ticket):
            _set(ticket, target, None, None)
            continue
        goal = _start(ticket, target) + minutes * 60
        left = (goal - used) / 60
        due = bh.add(schedule, at, left) if left >= 0 else bh.subtract(schedule, at, -left)
        lead = min(float(policy.warning_minutes or 0), minutes)
        warn = bh.subtract(schedule, due, lead) if lead else due
        _set(ticket, target, due, warn)


def _set(ticket: Ticket, target: str, due: datetime | None, warn: datetime | None) -> None:
    old_due = getattr(ticket, f"{target}_due_at")
    setattr(ticket, f"{target}_due_at", due)
    setattr(ticket, f"{target}_warning_at", warn)
    if due != old_due and getattr(ticket, f"{target}_breached_at") is None:
        # A new due time may deserve its own warning.
        setattr(ticket, f"{target}_warned_at", None)


# ---------------------------------------------------------------------------- lifecycle hooks
def on_created(ticket: Ticket) -> None:
    """Attach the first matching policy and start the clock at the ticket's birth."""
    policy = pick_policy(ticket)
    if policy is None:
        return
    ticket.sla_policy_id = policy.id
    ticket.sla_used_seconds = 0
    ticket.sla_clock_at = ticket.created_at
    ticket.sla_paused_at = ticket.created_at if should_pause(ticket, ticket.created_at) else None
    project(ticket, max(now(), ticket.created_at))


def reconsider(ticket: Ticket, at: datetime | None = None) -> None:
    """After priority, department, tags or status change: switch policy if another matches
    now, pause or resume the clock, and re-project — keeping the time already used."""
    at = at or now()
    current = _policy(ticket)
    schedule = schedule_for(current)
    if ticket.sla_clock_at is not None:
        _checkpoint(ticket, at, schedule)
    chosen = pick_policy(ticket)
    if chosen is not None and (current is None or chosen.id != current.id):
        ticket.sla_policy_id = chosen.id
        if ticket.sla_clock_at is None:
            ticket.sla_clock_at = at
    elif chosen is None and current is not None and not enabled():
        ticket.sla_policy_id = None
    if ticket.sla_policy_id is None:
        project(ticket, at)
        return
    pause = should_pause(ticket, at)
    if pause and ticket.sla_paused_at is None:
        ticket.sla_paused_at = at
    elif not pause and ticket.sla_paused_at is not None:
        ticket.sla_paused_at = None
        ticket.sla_clock_at = at
    project(ticket, at)


def on_agent_reply(ticket: Ticket) -> None:
    """An agent's public reply fulfils first response and any pending next response."""
    if ticket.sla_policy_id is None:
        return
    ticket.next_response_from_seconds = None
    ticket.next_response_breached_at = None
    reconsider(ticket)


def on_customer_reply(ticket: Ticket) -> None:
    """After the first response, a customer's message starts a next-response window."""
    if ticket.sla_policy_id is None:
        return
    at = now()
    policy = _policy(ticket)
    schedule = schedule_for(policy)
    if ticket.first_response_at is not None and ticket.next_response_from_seconds is None:
        ticket.next_response_from_seconds = round(used_seconds(ticket, at, schedule))
        ticket.next_response_breached_at = None
        ticket.next_response_warned_at = None
    reconsider(ticket, at)


# ---------------------------------------------------------------------------- state
@dataclass(frozen=True)
class TargetState:
    target: str
    state: str  # ok | warning | breached | fulfilled | paused
    due_at: datetime | None
    remaining_minutes: float | None  # negative when overdue
    breached_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        from .serializers import iso

        return {
            "target": self.target,
            "state": self.state,
            "due_at": iso(self.due_at),
            "remaining_minutes": None if self.remaining_minutes is None
            else round(self.remaining_minutes, 1),
            "breached_at": iso(self.breached_at),
        }


def state(ticket: Ticket, at: datetime | None = None) -> list[TargetState]:
    """Per target of the ticket's policy: due time, remaining business time, and state."""
    at = at or now()
    policy = _policy(ticket)
    if policy is None:
        return []
    schedule = schedule_for(policy)
    used = used_seconds(ticket, at, schedule)
    result = []
    for target in TARGETS:
        minutes = target_minutes(policy, ticket.priority, target)
        if minutes is None:
            continue
        breached_at = getattr(ticket, f"{target}_breached_at")
        waiting = ticket.next_response_from_seconds is not None
        if target == "next_response" and not waiting and breached_at is None:
            continue
        if _fulfilled(ticket, target) and target != "next_response":
            result.append(TargetState(target, "breached" if breached_at else "fulfilled",
                                      None, None, breached_at))
            continue
        remaining = (_start(ticket, target) + minutes * 60 - used) / 60
        due = getattr(ticket, f"{target}_due_at")
        warn = getattr(ticket, f"{target}_warning_at")
        if is_paused(ticket):
            label = "paused"
        elif remaining < 0 or breached_at is not None:
            label = "breached"
        elif warn is not None and warn <= at:
            label = "warning"
        else:
            label = "ok"
        result.append(TargetState(target, label, due, remaining, breached_at))
    return result


# ---------------------------------------------------------------------------- validation
def clean_targets(raw: Any) -> dict[str, dict[str, int]]:
    """Validate ``{"<priority>": {"<target>": minutes}}``."""
    if not isinstance(raw, dict):
        raise ValidationError("targets must be an object keyed by priority.",
                              {"targets": "expected an object"})
    clean: dict[str, dict[str, int]] = {}
    for priority, spec in raw.items():
        if priority not in PRIORITIES:
            raise ValidationError(f"Unknown priority '{str(priority)[:20]}' in targets.",
                                  {"targets": f"priorities: {', '.join(PRIORITIES)}"})
        if not isinstance(spec, dict):
            raise ValidationError("Each priority maps targets to minutes.",
                                  {"targets": "expected an object"})
        row: dict[str, int] = {}
        for target, minutes in spec.items():
            if target not in TARGETS:
                raise ValidationError(f"Unknown target '{str(target)[:30]}'.",
                                      {"targets": f"targets: {', '.join(TARGETS)}"})
            if minutes is None:
                continue
            if isinstance(minutes, bool) or not isinstance(minutes, int) or not \
                    0 < minutes <= 60 * 24 * 366:
                raise ValidationError("Target minutes are whole numbers from 1 to 527040.",
                                      {"targets": f"{priority}.{target}"})
            row[target] = minutes
        clean[priority] = row
    return clean



def stop(ticket: Ticket, at: datetime | None = None) -> None:
    """Stop the clock for good (a ticket merged into another): paused, nothing due, so no
    sweep warns or breaches it again."""
    at = at or now()
    if ticket.sla_clock_at is not None and ticket.sla_paused_at is None:
        _checkpoint(ticket, at, schedule_for(_policy(ticket)))
    ticket.sla_paused_at = ticket.sla_paused_at or at
    for target in TARGETS:
        _set(ticket, target, None, None)
