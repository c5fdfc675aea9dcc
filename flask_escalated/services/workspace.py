"""What the agent workspace reads: the dashboard's panels and a ticket's merged timeline.

The dashboard is a fixed number of queries whatever the queue holds: counts come from grouped
aggregates on indexed columns, each list is one keyset page (its related rows loaded in bulk),
and host users for every panel are loaded with one ``users_loader`` call by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import selectinload

from ..clock import now
from ..domain import OPEN_CATEGORIES, STATUS_CATEGORIES
from ..models import Activity, Attachment, Reply, Ticket
from . import ext, queries, replies, session
from .permissions import Principal, visible_tickets
from .queries import TicketFilter

PANEL_SIZE = 10
#: Activity rows that repeat what the conversation already shows.
_SHOWN_AS_MESSAGES = frozenset({"reply_added", "note_added"})
TIMELINE_LIMIT = 500


@dataclass
class Dashboard:
    mine: list[Ticket]
    unassigned: list[Ticket]
    at_risk: list[Ticket]
    #: Open tickets per status slug (all the caller may see).
    by_status: dict[str, int]
    #: My open tickets per status category, and how many of them are past an SLA target.
    workload: dict[str, int]
    my_total: int
    my_breached: int
    unassigned_total: int
    at: datetime = field(default_factory=now)
    #: Open tickets automatic assignment found nobody for, and the caller's availability.
    unrouted_total: int = 0
    availability: str = "online"

    def user_ids(self) -> list[str | None]:
        return [i for t in (*self.mine, *self.unassigned, *self.at_risk)
                for i in (t.requester_user_id, t.assignee_id)]


def _visible(query: Any, principal: Principal) -> Any:
    clause = visible_tickets(principal)
    return query if clause is None else query.where(clause)


def dashboard(principal: Principal) -> Dashboard:
    at = now()
    db = session()
    open_ = Ticket.status_category.in_(sorted(OPEN_CATEGORIES))
    by_status = {
        str(slug): int(n) for slug, n in db.execute(
            _visible(select(Ticket.status, func.count()).where(open_), principal)
            .group_by(Ticket.status)
        )
    }
    breached = queries.sla_clause("breached", at)
    workload: dict[str, int] = {}
    my_breached = 0
    for category, n, late in db.execute(
        _visible(select(Ticket.status_category, func.count(),
                        func.sum(case((breached, 1), else_=0)))
                 .where(open_, Ticket.assignee_id == principal.user_id), principal)
        .group_by(Ticket.status_category)
    ):
        workload[str(category)] = int(n)
        my_breached += int(late or 0)
    workload = {c: workload[c] for c in STATUS_CATEGORIES if c in workload}
    unassigned_total = db.execute(
        _visible(select(func.count()).select_from(Ticket)
                 .where(open_, Ticket.assignee_id.is_(None)), principal)
    ).scalar_one()
    open_list = sorted(OPEN_CATEGORIES)
    mine, _ = queries.list_tickets(
        principal, TicketFilter(category=open_list, assignee="me"), limit=PANEL_SIZE)
    unassigned, _ = queries.list_tickets(
        principal, TicketFilter(category=open_list, assignee="none"), limit=PANEL_SIZE)
    soonest = func.coalesce(Ticket.first_response_due_at, Ticket.next_response_due_at,
                            Ticket.resolution_due_at)
    at_risk = list(db.execute(
        _visible(select(Ticket).where(
            open_, or_(queries.sla_clause("warning", at), breached)), principal)
        .order_by(soonest.asc(), Ticket.id.asc()).limit(PANEL_SIZE)
        .options(selectinload(Ticket.tags), selectinload(Ticket.department),
                 selectinload(Ticket.contact))
    ).scalars())
    return Dashboard(mine=mine, unassigned=unassigned, at_risk=at_risk, by_status=by_status,
                     workload=workload, my_total=sum(workload.values()),
                     my_breached=my_breached, unassigned_total=int(unassigned_total), at=at,
                     **_routing(principal))


def _routing(principal: Principal) -> dict[str, Any]:
    from .routing import unrouted_count

    profile = ext().agent_profile(principal.user_id) if principal.user_id else None
    return {"unrouted_total": unrouted_count(visible_tickets(principal)),
            "availability": getattr(profile, "availability", "online")}


# ---------------------------------------------------------------------------- the timeline
@dataclass
class TimelineItem:
    """A reply, a note, or an activity row, in the order they happened."""

    kind: str  # "message" | "event"
    at: datetime
    reply: Reply | None = None
    event: Activity | None = None
    files: list[Attachment] = field(default_factory=list)

    @property
    def sort_key(self) -> tuple[datetime, int, int]:
        row_id = self.reply.id if self.reply is not None else (
            self.event.id if self.event is not None else 0)
        return (self.at, 0 if self.kind == "message" else 1, row_id)


@dataclass
class Timeline:
    items: list[TimelineItem]
    pinned: list[Reply]
    #: Files not attached to a reply (uploaded with the ticket or on their own).
    loose_files: list[Attachment]
    truncated: bool

    def user_ids(self) -> list[str | None]:
        ids: list[str | None] = []
        for item in self.items:
            if item.reply is not None:
                ids.append(item.reply.author_user_id)
            if item.event is not None:
                ids.append(item.event.actor_user_id)
                props = item.event.properties or {}
                ids += [str(props[k]) for k in ("assignee_id", "previous", "user_id")
                        if props.get(k) is not None]
        return ids


def timeline(ticket: Ticket) -> Timeline:
    """Replies and internal notes interleaved with the activity rows, oldest first."""
    rows = replies.list_replies(ticket, include_internal=True)
    files = replies.attachments_by_reply(rows, include_internal=True)
    events, more = queries.list_activity(ticket, limit=TIMELINE_LIMIT, include_internal=True)
    items = [TimelineItem("message", r.created_at, reply=r, files=files.get(r.id, []))
             for r in rows]
    items += [TimelineItem("event", e.created_at, event=e) for e in events
              if e.type not in _SHOWN_AS_MESSAGES]
    items.sort(key=lambda i: i.sort_key)
    loose = list(session().execute(
        select(Attachment).where(Attachment.ticket_id == ticket.id,
                                 Attachment.reply_id.is_(None)).order_by(Attachment.id)
    ).scalars())
    return Timeline(items=items, pinned=[r for r in rows if r.is_pinned],
                    loose_files=loose, truncated=more is not None)
