"""Assignment: manual, round-robin within a department, and least-loaded.

Auto-assignment considers agents with an active agent profile (in the department's member list
when the ticket has a department), skipping agents at their ``max_open_tickets`` capacity.
Round-robin keeps its cursor on the department row, which is locked (``FOR UPDATE`` on servers)
while the next agent is picked, so two workers never hand out the same turn.
"""

from __future__ import annotations

from sqlalchemy import func, select

from ..domain import OPEN_CATEGORIES
from ..events import Actor, record
from ..models import AgentProfile, Department, DepartmentMember, Ticket
from . import activity, ext, session, tickets
from .errors import ValidationError

STRATEGIES = ("manual", "round_robin", "least_loaded")


def _check_assignee(user_id: object) -> str:
    if isinstance(user_id, bool) or not isinstance(user_id, str | int):
        raise ValidationError("assignee_id must be a user id.", {"assignee_id": "invalid"})
    uid = str(user_id)
    escalated = ext()
    user = escalated.load_user(uid)
    if user is None or not escalated.is_agent(user):
        raise ValidationError(
            f"User '{uid[:40]}' is not an agent and cannot be assigned.",
            {"assignee_id": "not an agent"},
        )
    return uid


def assign(
    ticket: Ticket, user_id: object, actor: Actor, *, version: object = None,
    strategy: str = "manual",
) -> Ticket:
    """Assign ``ticket`` to an agent; an ``open`` ticket moves to ``in_progress``."""
    tickets.check_version(ticket, version)
    uid = _check_assignee(user_id)
    if uid == ticket.assignee_id:
        return ticket
    previous = ticket.assignee_id
    ticket.assignee_id = uid
    tickets.touch(ticket)
    activity.record(ticket, "assigned", actor, assignee_id=uid, previous=previous,
                    strategy=strategy)
    record(session(), "ticket_assigned", actor=actor, ticket=ticket, assignee_id=uid,
           previous_assignee_id=previous, strategy=strategy)
    tickets.auto_status_after_assignment(ticket, actor)
    return ticket


def unassign(ticket: Ticket, actor: Actor, *, version: object = None) -> Ticket:
    tickets.check_version(ticket, version)
    if ticket.assignee_id is None:
        return ticket
    previous = ticket.assignee_id
    ticket.assignee_id = None
    tickets.touch(ticket)
    activity.record(ticket, "unassigned", actor, previous=previous)
    record(session(), "ticket_unassigned", actor=actor, ticket=ticket,
           previous_assignee_id=previous)
    return ticket


def candidates(department_id: int | None) -> list[str]:
    """Active agents eligible for auto-assignment, ordered by user id."""
    query = select(AgentProfile.user_id).where(AgentProfile.is_active.is_(True))
    if department_id is not None:
        query = query.join(
            DepartmentMember,
            (DepartmentMember.user_id == AgentProfile.user_id)
            & (DepartmentMember.department_id == department_id),
        )
    return sorted(session().execute(query).scalars())


def open_loads(user_ids: list[str]) -> dict[str, int]:
    """Open tickets per agent, in one grouped query."""
    if not user_ids:
        return {}
    rows = session().execute(
        select(Ticket.assignee_id, func.count())
        .where(Ticket.assignee_id.in_(user_ids), Ticket.status_category.in_(OPEN_CATEGORIES))
        .group_by(Ticket.assignee_id)
    )
    loads = dict.fromkeys(user_ids, 0)
    loads.update({str(uid): int(count) for uid, count in rows})
    return loads


def _with_capacity(user_ids: list[str], loads: dict[str, int]) -> list[str]:
    caps: dict[str, int | None] = {
        uid: cap
        for uid, cap in session().execute(
            select(AgentProfile.user_id, AgentProfile.max_open_tickets).where(
                AgentProfile.user_id.in_(user_ids)
            )
        )
    }

    def has_room(uid: str) -> bool:
        cap = caps.get(uid)
        return cap is None or loads.get(uid, 0) < cap

    return [u for u in user_ids if has_room(u)]


def pick_round_robin(department: Department) -> str | None:
    pool = candidates(department.id)
    pool = _with_capacity(pool, open_loads(pool))
    if not pool:
        return None
    cursor = department.last_assigned_user_id
    after = [u for u in pool if cursor is None or u > cursor]
    chosen = after[0] if after else pool[0]
    department.last_assigned_user_id = chosen
    return chosen


def pick_least_loaded(department_id: int | None) -> str | None:
    pool = candidates(department_id)
    loads = open_loads(pool)
    pool = _with_capacity(pool, loads)
    if not pool:
        return None
    return min(pool, key=lambda u: (loads[u], u))


def auto_assign(ticket: Ticket, actor: Actor, *, strategy: str) -> Ticket:
    """Assign by ``round_robin`` or ``least_loaded``; leaves the ticket alone if nobody fits."""
    if strategy not in ("round_robin", "least_loaded"):
        raise ValidationError(
            f"Unknown assignment strategy '{strategy}'.",
            {"strategy": "round_robin or least_loaded"},
        )
    chosen: str | None
    if strategy == "round_robin":
        if ticket.department_id is None:
            raise ValidationError(
                "Round-robin assigns within a department; the ticket has none.",
                {"strategy": "needs a department"},
            )
        department = session().execute(
            select(Department).where(Department.id == ticket.department_id).with_for_update()
        ).scalar_one()
        chosen = pick_round_robin(department)
    else:
        chosen = pick_least_loaded(ticket.department_id)
    if chosen is None:
        return ticket
    return assign(ticket, chosen, actor, strategy=strategy)
