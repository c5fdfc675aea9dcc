"""Tickets that relate: merge one into another, split replies into a new ticket, typed links.

Each operation checks the actor's permission in *both* tickets' departments (an agent who may
merge in one department must not pull a ticket out of another), refuses a ticket the actor
cannot see as if it did not exist, and records activity on both tickets, an audit row and a
domain event (``ticket_merged``, ``ticket_split``, ``ticket_linked``, ``ticket_unlinked``;
webhooks and realtime hang off those).

A merged ticket stays addressable: :func:`live_ticket` follows ``merged_into_id`` to the
ticket that took it over, so mail, guest links, portal pages and API calls that name the old
ticket land on the live one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError

from ..domain import CLOSED
from ..events import Actor, record
from ..models import Attachment, Reply, Ticket, TicketFollower, TicketLink
from . import activity, audit, fresh, savepoint, session, sla, tickets
from .errors import Conflict, NotFound, PermissionDenied, ValidationError
from .ids import parse_id
from .permissions import Principal, can_act_on_ticket, can_view_ticket, visible_tickets

#: The one vocabulary, read "this ticket <type> that ticket".
LINK_TYPES = ("related", "duplicate", "blocks", "blocked_by", "parent", "child", "split")
#: Types an agent may create by hand (``split`` links come from :func:`split`).
USER_LINK_TYPES = ("related", "duplicate", "blocks", "blocked_by", "parent", "child")
#: How the other ticket reads a link (types missing here read the same from both ends).
INVERSE = {"blocks": "blocked_by", "blocked_by": "blocks", "parent": "child", "child": "parent"}
#: The family's other spellings (NestJS, .NET, the shared frontend), mapped on input.
ALIASES = {
    "relates_to": "related", "related_to": "related", "relates": "related",
    "duplicates": "duplicate", "duplicate_of": "duplicate", "duplicated_by": "duplicate",
    "is_blocked_by": "blocked_by", "blocking": "blocks", "blocked": "blocked_by",
    "parent_child": "parent", "parent_of": "parent", "child_of": "child",
    "problem_incident": "parent", "problem": "parent", "incident": "child",
}
#: How far a chain of merges is followed before it is called broken.
MAX_CHAIN = 20
MAX_SPLIT_REPLIES = 100


# ---------------------------------------------------------------------------- lookups
def live_ticket(ticket: Ticket) -> Ticket:
    """The ticket that ``ticket`` was merged into, followed to the end of the chain (itself
    when not merged). A cycle, or a chain longer than :data:`MAX_CHAIN`, is a ``Conflict``."""
    seen = {ticket.id}
    current = ticket
    while current.merged_into_id is not None:
        nxt = session().get(Ticket, current.merged_into_id)
        if nxt is None:  # the target was deleted: the last ticket standing is the live one
            return current
        if nxt.id in seen or len(seen) > MAX_CHAIN:
            raise Conflict(f"{ticket.reference} is part of a merge cycle; it has no live "
                           "ticket.", {"merged_into": "cycle"})
        seen.add(nxt.id)
        current = nxt
    return current


def _other(principal: Principal, ident: object, field: str) -> Ticket:
    """The ticket ``ident`` names, if ``principal`` may see it (a 404 naming ``field``)."""
    try:
        ticket = tickets.get_ticket(ident)
    except NotFound:
        ticket = None
    if ticket is None or not can_view_ticket(principal, ticket):
        raise NotFound(f"No ticket '{str(ident)[:40]}'.", {field: "no such ticket"})
    return ticket


def _require(principal: Principal, permission: str, *items: Ticket) -> None:
    for t in items:
        if not can_act_on_ticket(principal, t, permission):
            raise PermissionDenied(
                f"You need the '{permission}' permission in the department of "
                f"{t.reference} for this.", {"permission": permission})


def _system_note(ticket: Ticket, text: str, **meta: Any) -> Reply:
    """An internal note written by the system, marked as such in its metadata."""
    from . import replies

    note = replies.add_reply(ticket, text, Actor.system(), internal=True)
    note.metadata_ = {"system_note": True, **meta}
    return note


def _ref(ticket: Ticket) -> dict[str, Any]:
    return {"id": ticket.id, "reference": ticket.reference}


# ---------------------------------------------------------------------------- merge
def merge(principal: Principal, source: Ticket, into: object) -> Ticket:
    """Merge ``source`` into the ticket ``into`` names (id or reference); return the target.

    In this one unit of work: the source's description, replies, notes and attachments move
    to the target (keeping their times, so the target's timeline stays in time order; each
    reply marked with ``merged_from_id``), followers and tags are added to the target, the
    source's requester follows the target when they differ, both get a system note, and the
    source is closed with ``merged_into_id`` set and its SLA clock stopped.

    A target that was itself merged is followed to its live ticket. Refused: merging a ticket
    into itself or into a ticket merged into it (a cycle), a source already merged, a target
    the actor cannot see (404), and a missing ``ticket.merge`` permission in either
    department (403).
    """
    _require(principal, "ticket.merge", source)
    if source.merged_into_id is not None:
        done = live_ticket(source)
        raise Conflict(f"{source.reference} was already merged into {done.reference}.",
                       {"into": "the source is already merged"})
    named = _other(principal, into, "into")
    if named.id == source.id:
        raise ValidationError("A ticket cannot be merged into itself.",
                              {"into": "the same ticket"})
    target = live_ticket(named)
    if target.id == source.id:
        raise Conflict(f"{named.reference} was merged into {source.reference}; merging back "
                       "would make a cycle.", {"into": "cycle"})
    if target.id != named.id and not can_view_ticket(principal, target):
        raise NotFound(f"No ticket '{str(into)[:40]}'.", {"into": "no such ticket"})
    _require(principal, "ticket.merge", target)

    actor = principal.actor
    db = session()
    carried = _carry_conversation(source, target)
    _carry_people(source, target, actor)
    if source.tags:
        from . import tags as tag_service

        tag_service.add_tags(target, [t.name for t in source.tags], actor)
    _recount(target)
    source.reply_count = 0

    _system_note(target, f"Ticket {source.reference} was merged into this ticket.",
                 merged_from=_ref(source))
    _system_note(source, f"This ticket was merged into {target.reference}.",
                 merged_into=_ref(target))
    old_status = source.status
    source.merged_into_id = target.id
    if source.status_category != CLOSED:
        tickets.change_status(source, CLOSED, actor, auto=True, reason="merged")
    else:
        tickets.touch(source)
    sla.stop(source)
    tickets.touch(target)
    activity.record(source, "merged", actor, into=target.id, reference=target.reference)
    activity.record(target, "merge_received", actor, **{"from": source.id},
                    reference=source.reference, replies=carried)
    audit.log(actor, "ticket.merged", "ticket", source.id,
              old={"status": old_status, "merged_into": None},
              new={"status": source.status, "merged_into": target.reference,
                   "replies_moved": carried})
    record(db, "ticket_merged", actor=actor, ticket=source, target=target)
    return target


def _carry_conversation(source: Ticket, target: Ticket) -> int:
    """Move the source's description (as a reply by its requester), replies, notes and files
    onto the target; return how many replies moved. ORM updates, not one bulk UPDATE, so
    the search index hears that both tickets' text changed."""
    db = session()
    rows = list(db.execute(select(Reply).where(Reply.ticket_id == source.id)).scalars())
    for r in rows:
        r.ticket_id = target.id
        r.merged_from_id = r.merged_from_id or source.id
    db.add(Reply(
        ticket_id=target.id, author_user_id=source.requester_user_id,
        author_contact_id=source.contact_id,
        author_type="customer" if source.requester_user_id else "contact",
        body=source.description, is_internal=False, channel=source.channel,
        department_id=source.department_id, merged_from_id=source.id,
        metadata_={"merged_description": True},
        created_at=source.created_at, updated_at=source.created_at,
    ))
    for a in db.execute(select(Attachment).where(Attachment.ticket_id == source.id)).scalars():
        a.ticket_id = target.id
    db.flush()
    return len(rows) + 1


def _carry_people(source: Ticket, target: Ticket, actor: Actor) -> None:
    """The source's followers, and its requester when not the target's, follow the target
    (so their mail replies to the old thread are accepted on the new one)."""
    db = session()
    have = set(db.execute(select(TicketFollower.user_id)
                          .where(TicketFollower.ticket_id == target.id)).scalars())
    wanted = list(db.execute(select(TicketFollower.user_id)
                             .where(TicketFollower.ticket_id == source.id)
                             .order_by(TicketFollower.id)).scalars())
    requester = source.requester_user_id
    if requester and requester != target.requester_user_id:
        wanted.append(requester)
    for uid in wanted:
        if uid in have:
            continue
        have.add(uid)
        db.add(TicketFollower(ticket_id=target.id, user_id=uid))
        activity.record(target, "follower_added", actor, user_id=uid, via="merge")


def _recount(ticket: Ticket) -> None:
    """The reply counter and last-reply times from the replies the ticket now holds."""
    db = session()
    db.flush()
    public = and_(Reply.ticket_id == ticket.id, Reply.is_internal.is_(False))
    count, last, last_agent, last_customer = db.execute(
        select(func.count(Reply.id), func.max(Reply.created_at),
               func.max(case((Reply.author_type == "agent", Reply.created_at))),
               func.max(case((Reply.author_type.in_(("customer", "contact")),
                              Reply.created_at))))
        .where(public)).one()
    ticket.reply_count = count
    ticket.last_reply_at = last
    ticket.last_agent_reply_at = last_agent
    ticket.last_customer_reply_at = last_customer


# ---------------------------------------------------------------------------- split
def split(principal: Principal, ticket: Ticket, reply_ids: Sequence[object],
          subject: str | None = None) -> Ticket:
    """Open a new ticket from one or more public replies of ``ticket``.

    The replies stay where they are; their text (in time order) becomes the new ticket's
    description; requester, department, priority, type and tags are copied; the ticket is
    born through :func:`.tickets.create_ticket` (channel ``split``), so SLA, assignment, rules
    and webhooks apply; a ``split`` link and a system note on each ticket tie them together.
    """
    _require(principal, "ticket.split", ticket)
    ids = _reply_ids(reply_ids)
    rows = list(session().execute(
        select(Reply).where(Reply.ticket_id == ticket.id, Reply.id.in_(ids))
        .order_by(Reply.created_at, Reply.id)).scalars())
    if len(rows) != len(ids):
        raise NotFound("Some of those replies are not on this ticket.",
                       {"reply_ids": "not replies of this ticket"})
    if any(r.is_internal for r in rows):
        raise ValidationError("Internal notes are not split into a ticket the customer sees.",
                              {"reply_ids": "internal notes cannot be split"})
    actor = principal.actor
    title = subject.strip() if subject and subject.strip() else \
        f"Split from {ticket.reference}: {ticket.subject}"
    contact = ticket.contact
    new = tickets.create_ticket(tickets.NewTicket(
        subject=title[:500],
        description="\n\n".join(r.body for r in rows),
        requester_user_id=ticket.requester_user_id,
        requester_email=contact.email if contact is not None else None,
        requester_name=contact.name if contact is not None else None,
        priority=ticket.priority, department_id=ticket.department_id,
        ticket_type=ticket.ticket_type, channel="split",
        tags=[t.name for t in ticket.tags],
        metadata={"split_from": {**_ref(ticket), "reply_ids": [r.id for r in rows]}},
    ), actor)
    _insert_link(ticket, new, "split", actor)
    _system_note(ticket, f"Split to {new.reference}.", split_to=_ref(new),
                 reply_ids=[r.id for r in rows])
    _system_note(new, f"Split from {ticket.reference}.", split_from=_ref(ticket))
    activity.record(ticket, "split", actor, to=new.id, reference=new.reference,
                    reply_ids=[r.id for r in rows])
    audit.log(actor, "ticket.split", "ticket", ticket.id,
              new={"new_ticket": new.reference, "reply_ids": [r.id for r in rows]})
    record(session(), "ticket_split", actor=actor, ticket=ticket, new_ticket=new,
           reply_ids=[r.id for r in rows])
    return new


def _reply_ids(values: Sequence[object]) -> list[int]:
    if not values:
        raise ValidationError("Choose at least one reply to split.", {"reply_ids": "required"})
    if len(values) > MAX_SPLIT_REPLIES:
        raise ValidationError(f"At most {MAX_SPLIT_REPLIES} replies at once.",
                              {"reply_ids": f"at most {MAX_SPLIT_REPLIES}"})
    out: list[int] = []
    for v in values:
        rid = parse_id(v) if isinstance(v, int | str) and not isinstance(v, bool) else None
        if rid is None:
            raise ValidationError("Reply ids are whole numbers.", {"reply_ids": "invalid id"})
        if rid not in out:
            out.append(rid)
    return out


# ---------------------------------------------------------------------------- links
@dataclass(frozen=True)
class LinkView:
    """A link as one of its tickets reads it: ``type`` from this side, the ``other`` ticket."""

    id: int
    type: str
    direction: str
    other: Ticket
    created_by_user_id: str | None
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        from .serializers import iso

        o = self.other
        return {"id": self.id, "type": self.type, "direction": self.direction,
                "ticket": {"id": o.id, "reference": o.reference, "subject": o.subject,
                           "status": o.status, "status_category": o.status_category},
                "created_by": self.created_by_user_id, "created_at": iso(self.created_at)}


def normalize_type(value: object) -> str:
    """One of :data:`LINK_TYPES` from any of the family's spellings (``Blocked-By``,
    ``duplicates``, ``parent_child`` ...)."""
    if not isinstance(value, str):
        raise ValidationError("The link type must be a string.", {"type": "must be a string"})
    key = "_".join(value.strip().lower().replace("-", " ").split())
    key = ALIASES.get(key, key)
    if key not in LINK_TYPES:
        raise ValidationError(f"Unknown link type '{value[:30]}'.",
                              {"type": f"one of {', '.join(USER_LINK_TYPES)}"})
    return key


def _view(link: TicketLink, me: Ticket | int, other: Ticket) -> LinkView:
    my_id = me if isinstance(me, int) else me.id
    outgoing = link.ticket_id == my_id
    kind = link.link_type if outgoing else INVERSE.get(link.link_type, link.link_type)
    return LinkView(link.id, kind, "outgoing" if outgoing else "incoming", other,
                    link.created_by_user_id, link.created_at)


def _existing(a: int, b: int) -> TicketLink | None:
    return session().execute(select(TicketLink).where(or_(
        and_(TicketLink.ticket_id == a, TicketLink.linked_ticket_id == b),
        and_(TicketLink.ticket_id == b, TicketLink.linked_ticket_id == a)))).scalar_one_or_none()


def _insert_link(ticket: Ticket, other: Ticket, kind: str, actor: Actor) -> TicketLink:
    """Store the link in its canonical direction, activity on both tickets."""
    left, right, stored = ticket, other, kind
    if kind in ("blocked_by", "child"):
        left, right, stored = other, ticket, INVERSE[kind]
    row = TicketLink(ticket_id=left.id, linked_ticket_id=right.id, link_type=stored,
                     created_by_user_id=actor.user_id)
    try:
        with savepoint():
            session().add(row)
            session().flush()
    except IntegrityError:
        raise Conflict(f"{ticket.reference} and {other.reference} are already linked.",
                       {"ticket": "already linked"}) from None
    for me, them in ((ticket, other), (other, ticket)):
        view = _view(row, me, them)
        activity.record(me, "linked", actor, link_id=row.id, type=view.type,
                        ticket_id=them.id, reference=them.reference)
    return row


def link(principal: Principal, ticket: Ticket, other_ident: object, link_type: object
         ) -> LinkView:
    """Link ``ticket`` to the ticket ``other_ident`` names, read "ticket <type> other".

    Refused: a self-link (422), a pair already linked either way round (409), an unknown
    type (422), a ticket the actor cannot see (404), ``ticket.edit`` missing in either
    department (403)."""
    kind = normalize_type(link_type)
    if kind not in USER_LINK_TYPES:
        raise ValidationError("Split links are made by splitting a reply.",
                              {"type": f"one of {', '.join(USER_LINK_TYPES)}"})
    _require(principal, "ticket.edit", ticket)
    other = _other(principal, other_ident, "ticket")
    if other.id == ticket.id:
        raise ValidationError("A ticket cannot be linked to itself.",
                              {"ticket": "the same ticket"})
    _require(principal, "ticket.edit", other)
    if _existing(ticket.id, other.id) is not None:
        raise Conflict(f"{ticket.reference} and {other.reference} are already linked.",
                       {"ticket": "already linked"})
    actor = principal.actor
    row = _insert_link(ticket, other, kind, actor)
    view = _view(row, ticket, other)
    audit.log(actor, "ticket.linked", "ticket", ticket.id,
              new={"link_id": row.id, "type": view.type, "ticket": other.reference})
    record(session(), "ticket_linked", actor=actor, ticket=ticket, link=_event_data(view))
    return view


def unlink(principal: Principal, ticket: Ticket, link_id: object) -> None:
    """Remove a link of ``ticket`` (``ticket.edit`` in both tickets' departments)."""
    lid = parse_id(link_id) if isinstance(link_id, int | str) else None
    row = session().get(TicketLink, lid) if lid is not None else None
    if row is None or ticket.id not in (row.ticket_id, row.linked_ticket_id):
        raise NotFound(f"No link '{str(link_id)[:20]}' on {ticket.reference}.")
    other_id = row.linked_ticket_id if row.ticket_id == ticket.id else row.ticket_id
    other = session().get(Ticket, other_id)
    assert other is not None  # the foreign key cascades
    _require(principal, "ticket.edit", ticket, other)
    actor = principal.actor
    view = _view(row, ticket, other)
    for me, them in ((ticket, other), (other, ticket)):
        activity.record(me, "unlinked", actor, link_id=row.id,
                        type=_view(row, me, them).type, ticket_id=them.id,
                        reference=them.reference)
    session().delete(row)
    audit.log(actor, "ticket.unlinked", "ticket", ticket.id,
              old={"link_id": row.id, "type": view.type, "ticket": other.reference})
    record(session(), "ticket_unlinked", actor=actor, ticket=ticket, link=_event_data(view))


def _event_data(view: LinkView) -> dict[str, Any]:
    return {"id": view.id, "type": view.type, "direction": view.direction,
            "ticket": _ref(view.other)}


def list_links(ticket: Ticket, principal: Principal, *, limit: int = 100,
               after: int | None = None) -> list[LinkView]:
    """The links of ``ticket`` to tickets ``principal`` may see, oldest first, each with the
    other ticket: one statement whatever the count. Keyset: ``after`` is the last link id."""
    if fresh.nothing_written(ticket.id, "TicketLink"):
        return []
    other_id = case((TicketLink.ticket_id == ticket.id, TicketLink.linked_ticket_id),
                    else_=TicketLink.ticket_id)
    query = (select(TicketLink, Ticket).join(Ticket, Ticket.id == other_id)
             .where(or_(TicketLink.ticket_id == ticket.id,
                        TicketLink.linked_ticket_id == ticket.id)))
    scope = visible_tickets(principal)
    if scope is not None:
        query = query.where(scope)
    if after is not None:
        query = query.where(TicketLink.id > after)
    rows = session().execute(query.order_by(TicketLink.id).limit(limit)).all()
    return [_view(link_row, ticket.id, other) for link_row, other in rows]


def merged_into(ticket: Ticket) -> Ticket | None:
    """The live ticket a merged ticket forwards to (None when not merged or on a cycle)."""
    if ticket.merged_into_id is None:
        return None
    try:
        return live_ticket(ticket)
    except Conflict:
        return None


def forward(ticket: Ticket) -> Ticket:
    """Where something addressed to ``ticket`` lands: its live ticket when merged."""
    return live_ticket(ticket) if ticket.merged_into_id is not None else ticket


def forward_for(principal: Principal, ticket: Ticket, permission: str) -> Ticket:
    """Where ``principal``'s change to ``ticket`` lands: the live ticket of a merged one when
    they may do it there, else ``ticket`` itself (which then refuses as a closed ticket)."""
    if ticket.merged_into_id is None:
        return ticket
    live = merged_into(ticket)
    if live is not None and can_act_on_ticket(principal, live, permission):
        return live
    return ticket


def forward_same_requester(ticket: Ticket) -> Ticket:
    """The live ticket of a merged one when it has the same requester (a guest link or the
    widget follows a merge only into the same person's ticket), else ``ticket``."""
    live = merged_into(ticket)
    if live is None:
        return ticket
    same_user = ticket.requester_user_id is not None \
        and live.requester_user_id == ticket.requester_user_id
    same_contact = ticket.contact_id is not None and live.contact_id == ticket.contact_id
    return live if same_user or same_contact else ticket


def merge_candidates(principal: Principal, ticket: Ticket, q: str, *, limit: int = 20
                     ) -> list[Ticket]:
    """Tickets ``ticket`` could be merged into, for the merge picker: the one a reference or
    id names, or those whose subject holds ``q``; visible, live, never ``ticket`` itself;
    most recently updated first."""
    text = " ".join(q.split())[:200]
    if not text:
        return []
    named = tickets.parse_ident(text)
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    match: ColumnElement[bool] = Ticket.subject.ilike(f"%{escaped}%", escape="\\")
    if named is not None:
        match = or_(match, Ticket.id == named)
    query = (select(Ticket).where(match, Ticket.id != ticket.id,
                                  Ticket.merged_into_id.is_(None))
             .order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(limit))
    scope = visible_tickets(principal)
    if scope is not None:
        query = query.where(scope)
    return list(session().execute(query).scalars())
