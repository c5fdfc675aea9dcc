"""Side conversations: agents' own threads on a ticket, optionally with an outside party.

A side conversation is where agents ask a colleague or a vendor about a ticket without the
customer seeing it: a subject, participating agents, open or closed, its own replies. With a
``to_email`` every agent reply is also mailed to that outside address through the mail outbox,
with the conversation's own Message-ID thread and a signed Reply-To (:mod:`.mail_ids`), so the
answer comes back here through the inbound webhook (:mod:`.inbound_side`), never into the
customer's thread.

Only agents who can see the ticket may read a side conversation; writing (starting, replying,
closing) takes ``reply.create_internal`` in the ticket's department, as an internal note does.
Nothing here is ever shown to a customer: the replies sit in their own table, the activity rows
are not in the customer timeline's allowlist and the events are agent-only webhook events
(``side_conversation.*``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app, render_template
from sqlalchemy import select

from ..clock import now
from ..config import Config
from ..events import Actor, record
from ..models import OutboundEmail, SideConversation, SideConversationReply, Ticket
from . import activity, audit, ext, mail, mail_headers, mail_ids, session, settings
from .contacts import normalize_email
from .errors import Conflict, NotFound, ValidationError
from .ids import parse_id
from .permissions import Principal, can_act_on_ticket, can_view_ticket
from .replies import _body

MAX_SUBJECT = 500
MAX_PARTICIPANTS = 50
READ = "ticket.view"
WRITE = "reply.create_internal"
OPEN, CLOSED = "open", "closed"


# ---------------------------------------------------------------------------- access
def check_access(principal: Principal, ticket: Ticket, *, write: bool = False) -> None:
    """Agents who can see the ticket read; writing also takes ``reply.create_internal`` there.
    Anyone else gets a 404, as if the ticket (or the conversation) did not exist."""
    from .errors import PermissionDenied

    if not principal.is_agent or not can_view_ticket(principal, ticket):
        raise NotFound("No such ticket.")
    if write and not can_act_on_ticket(principal, ticket, WRITE):
        raise PermissionDenied(f"You need the '{WRITE}' permission for this.")


# ---------------------------------------------------------------------------- reading
def page_for_ticket(ticket: Ticket, *, limit: int, after_id: int | None = None
                    ) -> tuple[list[SideConversation], int | None]:
    """A keyset page of a ticket's side conversations, oldest first, and the next cursor."""
    query = select(SideConversation).where(SideConversation.ticket_id == ticket.id)
    if after_id is not None:
        query = query.where(SideConversation.id > after_id)
    rows = list(session().execute(query.order_by(SideConversation.id).limit(limit + 1)).scalars())
    next_after = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_after


def get(ticket: Ticket, ident: object) -> SideConversation:
    """A side conversation of this ticket (404 for another ticket's)."""
    conversation_id = parse_id(str(ident))
    row = session().get(SideConversation, conversation_id) if conversation_id else None
    if row is None or row.ticket_id != ticket.id:
        raise NotFound("No such side conversation on this ticket.")
    return row


def replies_for(conversations: Iterable[SideConversation]
                ) -> dict[int, list[SideConversationReply]]:
    """The replies of each conversation, oldest first, in one query."""
    ids = [c.id for c in conversations]
    found: dict[int, list[SideConversationReply]] = {i: [] for i in ids}
    if ids:
        rows = session().execute(
            select(SideConversationReply)
            .where(SideConversationReply.side_conversation_id.in_(ids))
            .order_by(SideConversationReply.side_conversation_id, SideConversationReply.id))
        for reply in rows.scalars():
            found[reply.side_conversation_id].append(reply)
    return found


def summary(conversation: SideConversation) -> dict[str, Any]:
    """What events, webhooks and audit rows carry: never the replies' text."""
    return {"id": conversation.id, "subject": conversation.subject,
            "status": conversation.status, "participants": list(conversation.participants or []),
            "to_email": conversation.to_email}


# ---------------------------------------------------------------------------- validation
def _subject(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("A subject is required.", {"subject": "required"})
    if len(value) > MAX_SUBJECT:
        raise ValidationError(f"The subject is longer than {MAX_SUBJECT} characters.",
                              {"subject": f"at most {MAX_SUBJECT}"})
    return " ".join(value.split())


def _participants(values: Iterable[object], author: str | None) -> list[str]:
    """Agents only, each once, the author first."""
    escalated = ext()
    found: list[str] = [author] if author else []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationError("participants must be user ids.", {"participants": "invalid"})
        uid = str(value)
        if uid in found:
            continue
        if not escalated.is_agent(escalated.load_user(uid)):
            raise ValidationError(f"User '{uid[:40]}' is not an agent.",
                                  {"participants": "not an agent"})
        found.append(uid)
    if len(found) > MAX_PARTICIPANTS:
        raise ValidationError(f"At most {MAX_PARTICIPANTS} participants.",
                              {"participants": f"at most {MAX_PARTICIPANTS}"})
    return found


def _outside_address(value: object) -> str | None:
    if value is None or value == "":
        return None
    try:
        address = normalize_email(value)
    except ValidationError:
        raise ValidationError("The outside address (to_email) is not an e-mail address.",
                              {"to_email": "invalid"}) from None
    if not mail.enabled():
        raise ValidationError("Outgoing mail is not configured (ESCALATED_MAIL_FROM and "
                              "ESCALATED_MAIL_DOMAIN), so nothing can be e-mailed to an "
                              "outside address.",
                              {"to_email": "outgoing mail is not configured"})
    domain = str(current_app.config[Config.MAIL_DOMAIN]).lower()
    own = normalize_email(current_app.config[Config.MAIL_FROM])
    if address == own or address.endswith("@" + domain):
        raise ValidationError("The outside address (to_email) is one of our own.",
                              {"to_email": "our own address"})
    return address


# ---------------------------------------------------------------------------- changes
def start(ticket: Ticket, actor: Actor, *, subject: object, body: object,
          participants: Iterable[object] = (), to_email: object = None) -> SideConversation:
    """Open a side conversation with its first message (mailed to ``to_email`` if given).
    A refusal names every field at fault and says why in its message."""
    errors: dict[str, str] = {}
    reasons: list[str] = []
    checked: dict[str, Any] = {}
    for name, check in (("subject", lambda: _subject(subject)), ("body", lambda: _body(body)),
                        ("participants", lambda: _participants(participants, actor.user_id)),
                        ("to_email", lambda: _outside_address(to_email))):
        try:
            checked[name] = check()
        except ValidationError as exc:
            errors.update(exc.fields or {name: exc.message})
            reasons.append(exc.message)
    if errors:
        raise ValidationError(" ".join(reasons), errors)
    conversation = SideConversation(
        ticket_id=ticket.id, subject=checked["subject"], status=OPEN, created_by=actor.user_id,
        participants=checked["participants"], to_email=checked["to_email"])
    db = session()
    db.add(conversation)
    db.flush()
    first = _add_reply(conversation, ticket, actor, checked["body"])
    activity.record(ticket, "side_conversation_started", actor,
                    side_conversation_id=conversation.id, subject=conversation.subject)
    audit.log(actor, "side_conversation.created", "side_conversation", conversation.id,
              new=summary(conversation))
    record(db, "side_conversation_created", actor=actor, ticket=ticket,
           side_conversation=summary(conversation), reply_id=first.id)
    return conversation


def reply(conversation: SideConversation, ticket: Ticket, actor: Actor,
          body: object) -> SideConversationReply:
    """An agent's reply (mailed to the outside address if the conversation has one). A reply
    to a closed conversation is refused (409): reopen it first."""
    text = _body(body)
    if conversation.status != OPEN:
        raise Conflict("This side conversation is closed; reopen it first.",
                       {"side_conversation": "closed"})
    if actor.user_id and actor.user_id not in (conversation.participants or []):
        conversation.participants = [*(conversation.participants or []), actor.user_id]
    row = _add_reply(conversation, ticket, actor, text)
    activity.record(ticket, "side_conversation_replied", actor,
                    side_conversation_id=conversation.id, side_reply_id=row.id)
    record(session(), "side_conversation_replied", actor=actor, ticket=ticket,
           side_conversation=summary(conversation), reply_id=row.id)
    return row


def receive_outside(conversation: SideConversation, ticket: Ticket, sender: str,
                    text: str) -> SideConversationReply:
    """The outside party's answer, come back by mail (the caller checked the sender). A closed
    conversation is reopened: the vendor answered, someone should read it."""
    actor = Actor.system()
    if conversation.status != OPEN:
        _set_status(conversation, ticket, actor, OPEN)
    row = SideConversationReply(side_conversation_id=conversation.id, author_type="outside",
                                author_email=sender, body=text, channel="email",
                                created_at=now())
    session().add(row)
    session().flush()
    conversation.updated_at = now()
    activity.record(ticket, "side_conversation_replied", actor,
                    side_conversation_id=conversation.id, side_reply_id=row.id, via="email")
    record(session(), "side_conversation_replied", actor=actor, ticket=ticket,
           side_conversation=summary(conversation), reply_id=row.id)
    return row


def close(conversation: SideConversation, ticket: Ticket, actor: Actor) -> SideConversation:
    if conversation.status == CLOSED:
        raise Conflict("This side conversation is already closed.",
                       {"side_conversation": "closed"})
    _set_status(conversation, ticket, actor, CLOSED)
    return conversation


def reopen(conversation: SideConversation, ticket: Ticket, actor: Actor) -> SideConversation:
    if conversation.status == OPEN:
        raise Conflict("This side conversation is open.", {"side_conversation": "open"})
    _set_status(conversation, ticket, actor, OPEN)
    return conversation


def _set_status(conversation: SideConversation, ticket: Ticket, actor: Actor,
                status: str) -> None:
    old = conversation.status
    conversation.status = status
    conversation.closed_at = now() if status == CLOSED else None
    verb = "closed" if status == CLOSED else "reopened"
    activity.record(ticket, f"side_conversation_{verb}", actor,
                    side_conversation_id=conversation.id)
    audit.log(actor, f"side_conversation.{verb}", "side_conversation", conversation.id,
              old={"status": old}, new={"status": status})
    record(session(), f"side_conversation_{verb}", actor=actor, ticket=ticket,
           side_conversation=summary(conversation))


def _add_reply(conversation: SideConversation, ticket: Ticket, actor: Actor,
               text: str) -> SideConversationReply:
    row = SideConversationReply(side_conversation_id=conversation.id, author_type="agent",
                                author_user_id=actor.user_id, body=text, channel="web",
                                created_at=now())
    db = session()
    db.add(row)
    db.flush()
    conversation.updated_at = now()
    if conversation.to_email:
        _mail_outside(conversation, ticket, row)
    return row


# ---------------------------------------------------------------------------- mail out
def _mail_outside(conversation: SideConversation, ticket: Ticket,
                  row: SideConversationReply) -> OutboundEmail:
    """Put the agent's message to the outside address in the mail outbox: the conversation's
    own thread (``<side-{id}@…>``), its own signed Reply-To, nothing of the customer's."""
    domain = str(current_app.config[Config.MAIL_DOMAIN])
    root = mail_ids.side_message_id(conversation.id, domain)
    first = session().execute(
        select(SideConversationReply.id)
        .where(SideConversationReply.side_conversation_id == conversation.id)
        .order_by(SideConversationReply.id).limit(1)).scalar_one()
    message_id = root if first == row.id else mail_ids.side_reply_message_id(
        conversation.id, row.id, domain)
    headers: dict[str, str] = {"X-Auto-Response-Suppress": "OOF"}
    if message_id != root:
        headers["In-Reply-To"] = root
        headers["References"] = root
    signed = mail_ids.side_address(conversation.id)
    if signed:
        headers["Reply-To"] = signed
    values = settings.effective()
    context = {"conversation": conversation, "reply": row, "app_name": values["app_name"],
               "branding": {**current_app.config[Config.BRANDING], **values["branding"]}}
    subject = conversation.subject if message_id == root else f"Re: {conversation.subject}"
    out = OutboundEmail(
        ticket_id=ticket.id, kind="side_conversation", to_email=conversation.to_email or "",
        from_name=mail_headers.one_line(values["app_name"], 120) or None,
        subject=mail_headers.one_line(subject, 500),
        text_body=render_template("escalated/email/side_conversation.txt", **context),
        html_body=render_template("escalated/email/side_conversation.html", **context),
        headers=headers, message_id=message_id, status="pending", attempts=0,
        next_attempt_at=now(), created_at=now())
    mail.queue(out)
    return out
