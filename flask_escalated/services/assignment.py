"""Assignment: manual, and automatic by round-robin, least-loaded or skills.

Auto-assignment considers agents with an active agent profile (in the department's member list
when the ticket has a department) who are online and below their capacity (:mod:`.capacity`),
in the order :mod:`.routing` ranks them. Round-robin keeps its cursor on the department row,
which is locked (``FOR UPDATE`` on servers) while the next agent is picked, so two workers
never hand out the same turn. Manual assignment by an agent is a person's decision and may go
over a limit; every automatic one may not.
"""

from __future__ import annotations

from sqlalchemy import select

from ..events import Actor, record
from ..models import AgentProfile, Department, DepartmentMember, Ticket
from . import activity, ext, routing, session, tickets
from .errors import ValidationError

#: Automatic strategies, which respect availability and capacity (:mod:`.capacity`).
AUTO_STRATEGIES = ("round_robin", "least_loaded", "skills")
STRATEGIES = ("manual", *AUTO_STRATEGIES)


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
    routing.clear(ticket)
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


def auto_assign(ticket: Ticket, actor: Actor, *, strategy: str) -> Ticket:
    """Assign by ``round_robin``, ``least_loaded`` or ``skills`` (see :mod:`.routing`) to an
    agent who is online and has room; if nobody fits, the ticket stays unassigned and is
    marked unrouted."""
    if strategy not in AUTO_STRATEGIES:
        raise ValidationError(
            f"Unknown assignment strategy '{strategy}'.",
            {"strategy": " or ".join(AUTO_STRATEGIES)},
        )
    department = None
    if strategy == "round_robin":
        if ticket.department_id is None:
            raise ValidationError(
                "Round-robin assigns within a department; the ticket has none.",
                {"strategy": "needs a department"},
            )
        department = session().execute(
            select(Department).where(Department.id == ticket.department_id).with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
    elif ticket.department_id is not None:
        department = session().get(Department, ticket.department_id)
    chosen = routing.route(ticket, strategy, department)
    if chosen is None:
        return ticket
    if strategy == "round_robin" and department is not None:
        department.last_assigned_user_id = chosen
    return assign(ticket, chosen, actor, strategy=strategy)


def assign_by_rule(ticket: Ticket, user_id: object, actor: Actor) -> Ticket:
    """A rule's or automation's ``assign_agent``: the named agent, only if they are online
    and have room (otherwise :class:`.routing.Unroutable`: the action fails and the rule
    runner marks the ticket unrouted)."""
    uid = _check_assignee(user_id)
    if uid == ticket.assignee_id:
        return ticket
    routing.claim_one(ticket, uid)
    return assign(ticket, uid, actor, strategy="rule")
