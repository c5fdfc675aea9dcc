"""Followers: agents who get told about a ticket's changes without owning it."""

from __future__ import annotations

from sqlalchemy import select

from ..events import Actor
from ..models import Ticket, TicketFollower
from . import activity, ext, fresh, session
from .errors import ValidationError


def list_followers(ticket: Ticket) -> list[str]:
    if fresh.nothing_written(ticket.id, "TicketFollower"):
        return []
    return list(
        session().execute(
            select(TicketFollower.user_id)
            .where(TicketFollower.ticket_id == ticket.id)
            .order_by(TicketFollower.id)
        ).scalars()
    )


def follow(ticket: Ticket, user_id: object, actor: Actor) -> bool:
    """Add a follower; returns False if they already follow."""
    if isinstance(user_id, bool) or not isinstance(user_id, str | int):
        raise ValidationError("user_id must be a user id.", {"user_id": "invalid"})
    uid = str(user_id)
    escalated = ext()
    if not escalated.is_agent(escalated.load_user(uid)):
        raise ValidationError("Only agents can follow tickets.", {"user_id": "not an agent"})
    if uid in list_followers(ticket):
        return False
    session().add(TicketFollower(ticket_id=ticket.id, user_id=uid))
    activity.record(ticket, "follower_added", actor, user_id=uid)
    return True


def unfollow(ticket: Ticket, user_id: object, actor: Actor) -> bool:
    row = session().execute(
        select(TicketFollower).where(
            TicketFollower.ticket_id == ticket.id, TicketFollower.user_id == str(user_id)
        )
    ).scalar_one_or_none()
    if row is None:
        return False
    session().delete(row)
    activity.record(ticket, "follower_removed", actor, user_id=str(user_id))
    return True
