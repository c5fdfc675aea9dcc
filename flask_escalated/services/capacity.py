"""Agent capacity and availability: who may take one more ticket right now.

Limits live in :class:`~flask_escalated.models.AgentCapacity` rows, one per agent and channel
(``default`` limits all the agent's open tickets together, a named channel only the tickets
that came in through it), plus the profile's older overall ``max_open_tickets``. The load is
always counted from the live tickets (assigned and in an open status category), never kept
in a counter, so it cannot drift when tickets are closed, reopened, merged or deleted.

Automatic assignment goes through :func:`claim`, which locks the candidates' profile rows
(``SELECT ... FOR UPDATE``, in user id order so two workers never wait on each other in a
circle) and counts their load again under the lock: a second worker assigning at the same
moment waits, then sees the first one's ticket, so nobody is pushed over their limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, select

from ..domain import CHANNELS, OPEN_CATEGORIES
from ..events import Actor
from ..models import AgentCapacity, AgentProfile, Ticket
from ..models.base import table
from . import audit, session
from .errors import ValidationError

DEFAULT_CHANNEL = "default"
#: A limit names ``default`` (all open tickets) or one of the ticket channels.
CAPACITY_CHANNELS: tuple[str, ...] = (DEFAULT_CHANNEL, *CHANNELS)
MAX_CONCURRENT = 10_000
ONLINE, AWAY = "online", "away"
AVAILABILITY: tuple[str, ...] = (ONLINE, AWAY)

_BY_ASSIGNEE = f"ix_{table('tickets')}_assignee_id_status_category_updated_at_id"
#: Why :func:`claim` found nobody.
ALL_AWAY = "all_away"
AT_CAPACITY = "at_capacity"


# ---------------------------------------------------------------------------- reading
def capacities_of(user_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """``{user_id: {channel: max_concurrent}}`` in one query."""
    ids = list(user_ids)
    out: dict[str, dict[str, int]] = {uid: {} for uid in ids}
    if ids:
        for row in session().execute(
            select(AgentCapacity).where(AgentCapacity.user_id.in_(ids))
            .order_by(AgentCapacity.user_id, AgentCapacity.channel)
        ).scalars():
            out[row.user_id][row.channel] = row.max_concurrent
    return out


def loads(user_ids: Sequence[str], channel: str | None = None, *,
          fresh: bool = False) -> dict[str, tuple[int, int]]:
    """Open tickets assigned to each agent: ``(all of them, those of channel)``, in one
    grouped query. ``fresh`` reads the newest committed rows (a locking read on MariaDB and
    MySQL, whose REPEATABLE READ snapshot would otherwise hide another worker's commit;
    PostgreSQL's READ COMMITTED sees it with each statement)."""
    out = dict.fromkeys(user_ids, (0, 0))
    if not user_ids:
        return out
    stmt = (select(Ticket.assignee_id, Ticket.channel, func.count())
            .where(Ticket.assignee_id.in_(list(user_ids)),
                   Ticket.status_category.in_(OPEN_CATEGORIES))
            .group_by(Ticket.assignee_id, Ticket.channel))
    db = session()
    if fresh and db.get_bind().dialect.name in ("mysql", "mariadb"):
        # Through the assignee index only: a full scan would also lock (and wait for) the
        # rows another worker has just inserted while it waits for our profile locks.
        stmt = stmt.with_for_update(read=True).with_hint(Ticket, f"FORCE INDEX ({_BY_ASSIGNEE})",
                                                         "mysql")
    for uid, ch, count in db.execute(stmt):
        total, same = out[str(uid)]
        out[str(uid)] = (total + int(count), same + (int(count) if ch == channel else 0))
    return out


def open_load(user_ids: Sequence[str]) -> dict[str, int]:
    """All open tickets assigned to each agent."""
    return {uid: total for uid, (total, _) in loads(user_ids).items()}


def _has_room(load: tuple[int, int], limits: dict[str, int], legacy: int | None,
              channel: str | None) -> bool:
    total, same = load
    if legacy is not None and total >= legacy:
        return False
    if DEFAULT_CHANNEL in limits and total >= limits[DEFAULT_CHANNEL]:
        return False
    return not (channel in limits and channel != DEFAULT_CHANNEL and same >= limits[channel])


def with_room(profiles: Sequence[AgentProfile], channel: str | None, *,
              fresh: bool = False) -> list[str]:
    """The user ids of ``profiles`` (order kept) below every limit that applies to one more
    ticket of ``channel``."""
    ids = [p.user_id for p in profiles]
    current = loads(ids, channel, fresh=fresh)
    limits = capacities_of(ids)
    return [p.user_id for p in profiles
            if _has_room(current[p.user_id], limits[p.user_id], p.max_open_tickets, channel)]


def _profiles(user_ids: Sequence[str], *, lock: bool = False) -> dict[str, AgentProfile]:
    if not user_ids:
        return {}
    stmt = (select(AgentProfile).where(AgentProfile.user_id.in_(list(user_ids)),
                                       AgentProfile.is_active.is_(True))
            .order_by(AgentProfile.user_id))
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return {p.user_id: p for p in session().execute(stmt).scalars()}


def claim(ranked: Sequence[str], channel: str | None) -> tuple[str | None, str | None]:
    """The first agent of ``ranked`` who is online and has room for one more ticket of
    ``channel``, with their profile row locked until the transaction ends; or ``None`` and
    why (:data:`ALL_AWAY`, :data:`AT_CAPACITY`)."""
    online = [uid for uid, p in _profiles(ranked).items() if p.availability == ONLINE]
    if not online:
        return None, ALL_AWAY
    locked = _profiles(online, lock=True)  # user id order: no lock cycles between workers
    ordered = [locked[uid] for uid in ranked if uid in locked
               and locked[uid].availability == ONLINE]
    room = with_room(ordered, channel, fresh=True)
    if not room:
        return None, AT_CAPACITY if ordered else ALL_AWAY
    return room[0], None


# ---------------------------------------------------------------------------- changing
def set_capacity(actor: Actor, profile: AgentProfile, channel: Any,
                 max_concurrent: Any) -> dict[str, int]:
    """Set (or with ``None`` remove) the agent's limit for ``channel``; the agent's limits."""
    errors = {}
    if channel not in CAPACITY_CHANNELS:
        errors["channel"] = f"one of {', '.join(CAPACITY_CHANNELS)}"
    if max_concurrent is not None and (
            isinstance(max_concurrent, bool) or not isinstance(max_concurrent, int)
            or not 0 <= max_concurrent <= MAX_CONCURRENT):
        errors["max_concurrent"] = f"a whole number from 0 to {MAX_CONCURRENT}, or null"
    if errors:
        raise ValidationError("The capacity is not valid.", errors)
    db = session()
    old = capacities_of([profile.user_id])[profile.user_id]
    row = db.execute(select(AgentCapacity).where(
        AgentCapacity.user_id == profile.user_id, AgentCapacity.channel == channel)
    ).scalar_one_or_none()
    if max_concurrent is None:
        db.execute(delete(AgentCapacity).where(AgentCapacity.user_id == profile.user_id,
                                               AgentCapacity.channel == channel))
    elif row is None:
        db.add(AgentCapacity(user_id=profile.user_id, channel=channel,
                             max_concurrent=max_concurrent))
    else:
        row.max_concurrent = max_concurrent
    db.flush()
    new = capacities_of([profile.user_id])[profile.user_id]
    if new != old:
        audit.log(actor, "agent.capacity_changed", "agent", profile.user_id,
                  old={"capacity": old}, new={"capacity": new})
    return new


def set_availability(actor: Actor, profile: AgentProfile, status: Any) -> str:
    """Mark the agent ``online`` or ``away`` (away agents get no automatic assignments)."""
    if status not in AVAILABILITY:
        raise ValidationError("The availability is not valid.",
                              {"status": f"one of {', '.join(AVAILABILITY)}"})
    if profile.availability != status:
        old = profile.availability
        profile.availability = status
        session().flush()
        audit.log(actor, "agent.availability_changed", "agent", profile.user_id,
                  old={"availability": old}, new={"availability": status})
    return str(status)
