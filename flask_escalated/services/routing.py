"""Routing: the order in which automatic assignment offers a ticket to agents, and what is
left when nobody can take it.

Every strategy starts from the same pool (:func:`.assignment.candidates`: active agents, the
department's members when the ticket has one) and ranks it:

- ``round_robin``: the next agent after the department's cursor, wrapping around;
- ``least_loaded``: fewest open tickets, then user id;
- ``skills`` (the .NET/Phoenix ``SkillRoutingService``): the ticket requires the union of the
  skills routed from its tags and its department (none: nobody is a candidate); candidates hold
  *all* of them; highest sum of proficiency first, then fewest open tickets, then user id.

:func:`.capacity.claim` then takes the first ranked agent who is online and below their
limits. When it finds nobody, the ticket stays unassigned and an :class:`UnroutedTicket` row
says why, for the queue's ``assignee=unrouted`` filter and the dashboard's count.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, select

from ..clock import now
from ..domain import OPEN_CATEGORIES
from ..models import AgentProfile, Department, Ticket, UnroutedTicket
from . import capacity, session, skills
from .errors import Conflict

NO_AGENTS = "no_agents"
NO_SKILLS = "no_skills"
NO_SKILLED_AGENT = "no_skilled_agent"
AGENT_AWAY = "agent_away"
AGENT_AT_CAPACITY = "agent_at_capacity"
#: Why a ticket is unrouted, as the queue shows it.
REASONS: dict[str, str] = {
    NO_AGENTS: "no agent in the department",
    NO_SKILLS: "no skill is routed from its tags or department",
    NO_SKILLED_AGENT: "no agent holds every skill it needs",
    capacity.ALL_AWAY: "every fitting agent is away",
    capacity.AT_CAPACITY: "every fitting agent is at capacity",
    AGENT_AWAY: "the rule's agent is away",
    AGENT_AT_CAPACITY: "the rule's agent is at capacity",
}


def rank(ticket: Ticket, strategy: str, department: Department | None) -> tuple[list[str],
                                                                            str | None]:
    """The candidates for ``ticket`` in the order ``strategy`` offers it to them, or an empty
    list and why."""
    from .assignment import candidates

    pool = candidates(ticket.department_id)
    if not pool:
        return [], NO_AGENTS
    if strategy == "skills":
        required = skills.required_for(ticket)
        if not required:
            return [], NO_SKILLS
        sums = skills.proficiency_sums(pool, required)
        pool = [u for u in pool if u in sums]
        if not pool:
            return [], NO_SKILLED_AGENT
        load = capacity.open_load(pool)
        return sorted(pool, key=lambda u: (-sums[u], load[u], u)), None
    if strategy == "least_loaded":
        load = capacity.open_load(pool)
        return sorted(pool, key=lambda u: (load[u], u)), None
    cursor = department.last_assigned_user_id if department is not None else None
    after = [u for u in pool if cursor is None or u > cursor]
    return after + [u for u in pool if u not in after], None


def route(ticket: Ticket, strategy: str, department: Department | None) -> str | None:
    """The agent ``strategy`` gives ``ticket`` to (their profile locked until the transaction
    ends), or ``None`` with the ticket marked unrouted."""
    ranked, reason = rank(ticket, strategy, department)
    chosen = None
    if ranked:
        chosen, reason = capacity.claim(ranked, ticket.channel)
    if chosen is None:
        mark_unrouted(ticket, reason or NO_AGENTS)
    return chosen


class Unroutable(Conflict):
    """A rule named an agent who is away or at capacity. The rule runner rolls the action
    back, then marks the ticket unrouted with :attr:`reason` outside the rolled-back part."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The agent is unavailable ({REASONS[reason]}); the ticket was left "
                         "unassigned.", {"assignee_id": "unavailable"})
        self.reason = reason


def claim_one(ticket: Ticket, user_id: str) -> None:
    """Let ``user_id`` (named by a rule) take ``ticket`` if they are online and have room;
    :class:`Unroutable` otherwise."""
    chosen, reason = capacity.claim([user_id], ticket.channel)
    if chosen is None:
        raise Unroutable(AGENT_AWAY if reason == capacity.ALL_AWAY else AGENT_AT_CAPACITY)


def mark_unrouted(ticket: Ticket, reason: str) -> None:
    session().merge(UnroutedTicket(ticket_id=ticket.id, reason=reason, at=now()))
    session().flush()


def clear(ticket: Ticket) -> None:
    """Forget that ``ticket`` was unrouted (it has an assignee now)."""
    session().execute(delete(UnroutedTicket).where(UnroutedTicket.ticket_id == ticket.id))


def unrouted_clause() -> ColumnElement[bool]:
    """Tickets waiting for an agent because automatic assignment found nobody: unassigned,
    open, with a reason recorded."""
    return and_(Ticket.assignee_id.is_(None), Ticket.status_category.in_(OPEN_CATEGORIES),
                exists().where(UnroutedTicket.ticket_id == Ticket.id))


def unrouted_count(visible: ColumnElement[bool] | None = None) -> int:
    """How many tickets wait unrouted (of those ``visible`` keeps, when given)."""
    stmt = select(func.count()).select_from(Ticket).where(unrouted_clause())
    if visible is not None:
        stmt = stmt.where(visible)
    return int(session().execute(stmt).scalar_one())


def reasons_of(ticket_ids: list[int]) -> dict[int, str]:
    """``{ticket id: reason label}`` for the unrouted ones among ``ticket_ids``."""
    if not ticket_ids:
        return {}
    rows = session().execute(select(UnroutedTicket.ticket_id, UnroutedTicket.reason)
                             .where(UnroutedTicket.ticket_id.in_(ticket_ids)))
    return {int(t): REASONS.get(r, r) for t, r in rows}


def routing_values(profile: AgentProfile) -> dict[str, Any]:
    """An agent's skills, capacity and availability, as the agent detail shows them."""
    return {"skills": skills.agent_skills([profile.user_id])[profile.user_id],
            "capacity": capacity.capacities_of([profile.user_id])[profile.user_id],
            "availability": profile.availability}
