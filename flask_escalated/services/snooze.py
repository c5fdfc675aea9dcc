"""Snooze: a ticket leaves the active queue until a chosen time, its SLA clock stopped.

Snoozing keeps the ticket's status, so waking it (``wake-snoozed``, an agent, or the customer
writing in) simply lets the status it had show again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from ..clock import now
from ..events import Actor, record
from ..models import AgentProfile, Ticket
from . import activity, session, sla, tickets
from .errors import ValidationError
from .sla_sweep import lock_for_sweep, skip_locked

PRESETS = ("1h", "4h", "tomorrow", "next_monday")
MAX_AHEAD = timedelta(days=366)


def agent_zone(user_id: str | None) -> ZoneInfo:
    name = None
    if user_id is not None:
        name = session().execute(
            select(AgentProfile.timezone).where(AgentProfile.user_id == user_id)
        ).scalar()
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def resolve_preset(preset: str, zone: ZoneInfo, at: datetime) -> datetime:
    """``1h``, ``4h``, ``tomorrow`` (09:00) or ``next_monday`` (09:00) in ``zone``."""
    if preset == "1h":
        return at + timedelta(hours=1)
    if preset == "4h":
        return at + timedelta(hours=4)
    local = at.astimezone(zone)
    if preset == "tomorrow":
        day = local.date() + timedelta(days=1)
    elif preset == "next_monday":
        day = local.date() + timedelta(days=(7 - local.weekday()) or 7)
    else:
        raise ValidationError(f"Unknown snooze preset '{str(preset)[:20]}'.",
                              {"preset": ", ".join(PRESETS)})
    nine = datetime(day.year, day.month, day.day, 9, 0, tzinfo=zone)
    return nine.astimezone(at.tzinfo)


def parse_until(preset: object, until: object, actor: Actor) -> datetime:
    at = now()
    if preset is not None and until is not None:
        raise ValidationError("Give a preset or an until time, not both.",
                              {"preset": "not with until", "until": "not with preset"})
    if preset is not None:
        if not isinstance(preset, str):
            raise ValidationError("preset must be a string.", {"preset": ", ".join(PRESETS)})
        return resolve_preset(preset, agent_zone(actor.user_id), at)
    if isinstance(until, str):
        try:
            until = datetime.fromisoformat(until.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError("until must be an ISO 8601 date-time.",
                                  {"until": "invalid"}) from None
    if not isinstance(until, datetime):
        raise ValidationError("Give a preset or an until time.", {"until": "required"})
    if until.tzinfo is None:
        raise ValidationError("until needs a time zone (e.g. 'Z').", {"until": "no time zone"})
    if until <= at:
        raise ValidationError("until must be in the future.", {"until": "in the past"})
    if until - at > MAX_AHEAD:
        raise ValidationError("Snooze for at most a year.", {"until": "too far ahead"})
    return until


def snooze(ticket: Ticket, until: datetime, actor: Actor) -> Ticket:
    if ticket.status_category in ("resolved", "closed"):
        raise ValidationError("Resolved and closed tickets are not snoozed.",
                              {"ticket": "not open"})
    ticket.snoozed_until = until
    ticket.snoozed_by_id = actor.user_id
    tickets.touch(ticket)
    sla.reconsider(ticket)
    activity.record(ticket, "snoozed", actor, until=until.isoformat())
    record(session(), "ticket_snoozed", actor=actor, ticket=ticket, until=until)
    return ticket


def unsnooze(ticket: Ticket, actor: Actor, *, reason: str = "manual") -> Ticket:
    if ticket.snoozed_until is None:
        return ticket
    ticket.snoozed_until = None
    ticket.snoozed_by_id = None
    tickets.touch(ticket)
    sla.reconsider(ticket)
    activity.record(ticket, "woken", actor, reason=reason)
    record(session(), "ticket_woken", actor=actor, ticket=ticket, reason=reason)
    return ticket


def wake_batch(at: datetime | None = None, limit: int = 500) -> int:
    """Wake up to ``limit`` tickets whose snooze has run out; returns how many."""
    at = at or now()
    dialect = session().get_bind().dialect.name
    lock_for_sweep(dialect)
    query = (select(Ticket).where(Ticket.snoozed_until.is_not(None), Ticket.snoozed_until <= at)
             .order_by(Ticket.snoozed_until, Ticket.id).limit(limit))
    due = list(session().execute(skip_locked(query, dialect)).scalars())
    for ticket in due:
        unsnooze(ticket, Actor.system(), reason="time")
    return len(due)
