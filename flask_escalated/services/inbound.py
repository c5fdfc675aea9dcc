"""Inbound e-mail: file every message, drop machine mail, thread replies, open tickets.

The pipeline for one message:

1. :func:`receive` stores it (raw bytes in attachment storage, a row in the inbound log) before
   anything can fail, so an admin can always see what arrived and reprocess it.
2. :func:`process` drops auto-replies, bounces, bulk and list mail and our own mail (each
   logged as ignored with the reason); refuses mail whose sender checks failed
   (``Authentication-Results`` dmarc/spf/dkim=fail, or the provider's verdicts); applies each
   Message-ID once; files an answer to a side conversation's own address or thread in that
   side conversation (:mod:`.inbound_side`), never in the customer's thread; resolves the
   ticket in the family's order (In-Reply-To, References, signed
   envelope-To, ``[REF]`` in the subject, the legacy Message-ID table; with
   ``ESCALATED_REPLY_SECRET`` set only the signed address counts); accepts the reply only from
   the ticket's requester, a follower or, through the agent-signed address only, an agent;
   and otherwise opens a new ticket through the one ticket-creation service.

A ``From`` header alone never carries an agent's authority: an agent's mail that names a
ticket without the agent-signed Reply-To address is refused and logged, never posted.

Quoted history and signatures are cut from the stored reply; the full text and the sanitized
HTML stay in the reply's metadata and the raw message in storage.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..clock import now
from ..config import Config
from ..domain import CLOSED
from ..events import Actor
from ..hosts import user_id_of
from ..models import InboundEmail, Ticket, TicketFollower
from . import attachments, ext, mail_ids, replies, session, storage, tickets
from .contacts import find_or_create, normalize_email
from .errors import NotFound, ServiceError
from .ids import parse_id
from .inbound_parse import InboundAttachment, ParsedMail
from .sanitize import clean_html, html_to_text

MATCH_ORDER = ("in_reply_to", "references", "envelope_to", "subject_reference",
               "legacy_message_id", "none")
_MACHINE_SENDERS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|auto-?reply)[@+.-]", re.I)
_SUBJECT_REF = re.compile(r"\[([A-Z][A-Z0-9]{0,9}-\d{1,18})\]")


@dataclass
class Outcome:
    status: str
    outcome: str
    matched_by: str | None = None
    ticket: Ticket | None = None
    reply_id: int | None = None
    #: Why a message was ignored or refused (kept in the log's ``error`` column).
    reason: str | None = None

    def as_dict(self, inbound_id: int) -> dict[str, Any]:
        return {"inbound_id": inbound_id, "status": self.status, "outcome": self.outcome,
                "matched_by": self.matched_by,
                "ticket_id": self.ticket.id if self.ticket is not None else None,
                "ticket_reference": self.ticket.reference if self.ticket is not None else None,
                "reply_id": self.reply_id, "reason": self.reason}


# ---------------------------------------------------------------------------- storing
def receive(adapter: str, raw: bytes) -> InboundEmail:
    """Log a message as it arrived (raw bytes kept in storage), before any parsing."""
    db = session()
    key = storage.save(db, raw) if raw else None
    row = InboundEmail(adapter=adapter, raw_key=key, raw_size=len(raw), status="received")
    db.add(row)
    db.flush()
    return row


def raw_of(row: InboundEmail) -> bytes:
    if not row.raw_key:
        return b""
    with storage.get_storage().open(row.raw_key) as fh:
        return fh.read()


def record_parsed(row: InboundEmail, parsed: ParsedMail) -> None:
    row.message_id = (parsed.message_id or "")[:255] or None
    row.from_email = parsed.from_email
    row.from_name = parsed.from_name
    row.to_email = ", ".join(parsed.to)[:320] or None
    row.subject = parsed.subject[:500] or None
    row.in_reply_to = (parsed.in_reply_to or "")[:255] or None
    row.reference_ids = parsed.references


def fail(row: InboundEmail, error: str, outcome: str = "error") -> None:
    row.status, row.outcome, row.error, row.processed_at = "failed", outcome, error[:5000], now()


# ---------------------------------------------------------------------------- machine mail
def machine_mail(parsed: ParsedMail) -> tuple[str, str] | None:
    """(outcome, reason) when this message must not be filed (auto-reply, bounce, bulk or
    list mail, our own mail), or None."""
    h = parsed.headers
    auto = h.get("auto-submitted", "").lower()
    if auto and auto != "no":
        return "auto_reply", f"Auto-Submitted: {auto[:60]}"
    precedence = h.get("precedence", "").lower()
    if precedence == "auto_reply":
        return "auto_reply", "Precedence: auto_reply"
    if precedence in ("bulk", "list", "junk"):
        return "bulk", f"Precedence: {precedence}"
    if "list-id" in h or "list-unsubscribe" in h:
        name = "List-Id" if "list-id" in h else "List-Unsubscribe"
        return "bulk", f"{name}: {h.get(name.lower(), '')[:120]}"
    if "x-autoreply" in h or "x-autorespond" in h or ("x-auto-response-suppress" in h \
            and h.get("x-auto-response-suppress", "").lower() in ("all", "oof", "autoreply")):
        return "auto_reply", "An auto-responder header"
    sender = parsed.from_email or ""
    content_type = h.get("content-type", "").lower()
    if _MACHINE_SENDERS.match(sender) or "report-type=delivery-status" in content_type \
            or (not sender and h.get("return-path", "") in ("<>", "")):
        return "bounce", "A delivery report or a mailer daemon"
    cfg = current_app.config
    own = normalize_email(cfg[Config.MAIL_FROM]) if cfg[Config.MAIL_FROM] else None
    domain = (cfg[Config.MAIL_DOMAIN] or "").lower()
    if sender and (sender == own or (domain and sender.endswith("@" + domain))):
        return "loop", "Sent from our own address"
    if "x-escalated-ticket-id" in h:
        return "loop", "One of our own notifications"
    return None


# ---------------------------------------------------------------------------- resolution
def resolve(parsed: ParsedMail) -> tuple[Ticket | None, str]:
    """The ticket a message belongs to, and how it was found (``none``: a new ticket).

    Finding the ticket is not authority: see :func:`agent_signed` and :func:`participant`."""
    db = session()

    def existing(ticket_id: int) -> Ticket | None:
        return db.get(Ticket, ticket_id)

    signed = [s.ticket_id for s in map(mail_ids.verify_reply_address, parsed.to) if s]
    if current_app.config[Config.REPLY_SECRET]:
        for tid in signed:
            if (t := existing(tid)) is not None:
                return t, "envelope_to"
        return None, "none"
    for tid in mail_ids.ticket_ids_in(parsed.in_reply_to):
        if (t := existing(tid)) is not None:
            return t, "in_reply_to"
    for tid in mail_ids.ticket_ids_in(parsed.references):
        if (t := existing(tid)) is not None:
            return t, "references"
    for tid in signed:
        if (t := existing(tid)) is not None:
            return t, "envelope_to"
    match = _SUBJECT_REF.search(parsed.subject or "")
    if match:
        t = db.execute(select(Ticket).where(Ticket.reference == match.group(1).upper())
                       ).scalar_one_or_none()
        if t is not None:
            return t, "subject_reference"
    known = mail_ids.message_ids_in(parsed.in_reply_to) + mail_ids.message_ids_in(
        parsed.references)
    if known:
        legacy = db.execute(
            select(InboundEmail.ticket_id)
            .where(InboundEmail.message_id.in_(known[:50]), InboundEmail.ticket_id.is_not(None))
            .order_by(InboundEmail.id.desc()).limit(1)).scalar_one_or_none()
        if legacy is not None and (t := existing(legacy)) is not None:
            return t, "legacy_message_id"
    return None, "none"


class UnverifiedAgent(Exception):
    """An agent's address wrote to a ticket without the agent-signed Reply-To address."""


def agent_signed(ticket: Ticket, parsed: ParsedMail) -> bool:
    """Whether the message went to this ticket's agent-signed address."""
    return any(s is not None and s.agent and s.ticket_id == ticket.id
               for s in map(mail_ids.verify_reply_address, parsed.to))


def participant(ticket: Ticket, sender: str | None, *, agent_signed: bool) -> Actor | None:
    """The actor a reply from ``sender`` is filed as, if they take part in the ticket.

    An agent is one only through the agent-signed address (``agent_signed``); otherwise their
    address proves nothing and :class:`UnverifiedAgent` is raised (the message is refused)."""
    if not sender:
        return None
    escalated = ext()
    user = escalated.find_user_by_email(sender)
    uid = None
    if user is not None:
        uid = user_id_of(user)
    if uid is not None:
        if uid == ticket.requester_user_id:
            return Actor.customer(uid)
        if escalated.is_agent(user):
            if not agent_signed:
                raise UnverifiedAgent()
            return Actor.agent(uid)
        follows = session().execute(select(TicketFollower.id).where(
            TicketFollower.ticket_id == ticket.id, TicketFollower.user_id == uid)).first()
        if follows:
            return Actor.customer(uid)
    if ticket.contact_id is not None:
        contact = ticket.contact  # kept on the ticket: its search document reads it again
        if contact is not None and contact.email == sender:
            if contact.user_id and contact.user_id == ticket.requester_user_id:
                return Actor.customer(contact.user_id)
            return Actor.contact(contact.id)
    if ticket.requester_user_id and uid is None:
        # The requester's address as the host knows it (they may have no contact row).
        name_email = escalated.display(escalated.load_user(ticket.requester_user_id))
        if name_email[1] and normalize_email(name_email[1]) == sender:
            return Actor.customer(ticket.requester_user_id)
    return None


# ---------------------------------------------------------------------------- bodies
_QUOTE_HEADERS = (
    re.compile(r"^\s*On .{1,300}wrote:\s*$", re.I),
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*_{10,}\s*$"),
    re.compile(r"^\s*From:\s.+$", re.I),
    re.compile(r"^\s*Le .{1,300}a écrit\s*:\s*$", re.I),
    re.compile(r"^\s*Am .{1,300}schrieb .{1,200}:\s*$", re.I),
)
_SIGNATURES = (re.compile(r"^-- ?$"), re.compile(r"^Sent from my \w+", re.I))


def strip_quoted(text: str) -> str:
    """The new part of a reply: quoted history, reply headers and signatures removed."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if any(p.match(line) for p in _QUOTE_HEADERS) or any(p.match(line) for p in _SIGNATURES):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    result = "\n".join(kept).strip()
    return result or text.strip()


def _bodies(parsed: ParsedMail) -> tuple[str, str]:
    """(full text, sanitized HTML): the text part, else the HTML part as text."""
    html = clean_html(parsed.html) if parsed.html else ""
    full = parsed.text.strip() if parsed.text and parsed.text.strip() else html_to_text(html)
    return full, html


def _uploads(items: list[InboundAttachment]) -> list[attachments.Upload]:
    import io

    cfg = current_app.config
    limit, size = cfg[Config.MAX_ATTACHMENTS], cfg[Config.MAX_ATTACHMENT_SIZE]
    kept = [a for a in items if 0 < len(a.data) <= size][:limit]
    return [attachments.Upload(a.filename, io.BytesIO(a.data)) for a in kept]


# ---------------------------------------------------------------------------- processing
def dedupe_key(message_id: str | None) -> str | None:
    if not message_id:
        return None
    return hashlib.sha256(message_id.strip().lower().encode()).hexdigest()


def process(row: InboundEmail, parsed: ParsedMail) -> Outcome:
    """Apply a parsed message (the caller commits). Never drops mail silently: every path
    records its outcome on ``row``, with the parsed headers (set with the outcome, so the
    row is written once, not once for the headers and again for the outcome)."""
    machine = machine_mail(parsed)
    if machine is not None:
        return finish(row, Outcome("ignored", machine[0], reason=machine[1]), parsed)
    if not parsed.from_email:
        record_parsed(row, parsed)
        fail(row, "The message has no usable From address.", "no_sender")
        return Outcome("failed", "no_sender")
    if parsed.auth_failures:
        return finish(row, Outcome("ignored", "unauthenticated", reason=(
            "The provider reports " + ", ".join(parsed.auth_failures) + " for "
            f"{parsed.from_email}: the sender is not who the From header says, so the "
            "message is neither a reply nor a new ticket.")), parsed)
    # A copy of a message already applied is found by the unique key when this one is
    # claimed (:func:`_claim`): the whole transaction rolls back and the caller records the
    # duplicate. No lookup first: copies are rare (a provider's retry), every message paid it.
    key = dedupe_key(parsed.message_id)
    if not parsed.subject.strip() and not parsed.text.strip() and not parsed.html.strip() \
            and not parsed.attachments:
        return finish(row, Outcome("ignored", "empty", reason="No subject, text or files"),
                      parsed)

    from . import inbound_side

    side = inbound_side.resolve(parsed)
    if side is not None:  # a side conversation's own thread: never the customer's
        return inbound_side.process(row, parsed, side)
    ticket, matched_by = resolve(parsed)
    full, html = _bodies(parsed)
    if ticket is not None:
        origin, ticket = ticket, _live(ticket)
        try:
            # Authority comes from the ticket the message was addressed to; a merged one
            # forwards the reply to the ticket that took it over.
            actor = participant(origin, parsed.from_email,
                                agent_signed=agent_signed(origin, parsed))
            if actor is None and origin is not ticket:
                actor = participant(ticket, parsed.from_email,
                                    agent_signed=agent_signed(ticket, parsed))
        except UnverifiedAgent:
            return finish(row, Outcome("ignored", "unverified_agent", matched_by, ticket,
                                       reason=(
                f"{parsed.from_email} is an agent's address, but the message did not go to "
                "the ticket's agent-signed Reply-To address: a From header alone is no "
                "proof, so nothing was posted. Agents reply from the notification mail.")),
                          parsed)
        if actor is not None and ticket.status_category != CLOSED:
            reply = replies.add_reply(ticket, strip_quoted(full) or "(no text)", actor,
                                      uploads=_uploads(parsed.attachments), channel="email",
                                      metadata={"email": {"message_id": parsed.message_id,
                                                          "full_text": full[:200_000],
                                                          "html": html[:200_000]}})
            return _claim(row, Outcome("processed", "reply_added", matched_by, ticket, reply.id),
                          key, parsed)
    new = _new_ticket(parsed, full, html)
    return _claim(row, Outcome("processed", "ticket_created", matched_by, new), key, parsed)


def _live(ticket: Ticket) -> Ticket:
    """A merged ticket's live successor (itself on a broken chain: the mail is still filed)."""
    from .relations import merged_into

    return merged_into(ticket) or ticket


def _new_ticket(parsed: ParsedMail, text: str, html: str) -> Ticket:
    sender = parsed.from_email or ""
    escalated = ext()
    user = escalated.find_user_by_email(sender)
    data = tickets.NewTicket(
        subject=(parsed.subject or "(no subject)")[:500],
        description=(text or "(no text)")[: current_app.config[Config.MAX_BODY_LENGTH]],
        channel="email", uploads=_uploads(parsed.attachments),
        metadata={"email": {"message_id": parsed.message_id, "html": html[:200_000]}}
        if html else {"email": {"message_id": parsed.message_id}},
    )
    if user is not None:
        data.requester_user_id = user_id_of(user)
        actor = Actor.customer(data.requester_user_id)
    else:
        from . import guests

        data.requester_email, data.requester_name = sender, parsed.from_name
        guests.apply_policy(data)
        data.contact = find_or_create(sender, parsed.from_name)
        actor = Actor.contact(data.contact.id)
    return tickets.create_ticket(data, actor)


def _claim(row: InboundEmail, outcome: Outcome, key: str | None,
           parsed: ParsedMail | None = None) -> Outcome:
    """Mark the message applied; a concurrent copy that got there first turns this into a
    duplicate (the caller's transaction rolls back and records that instead).

    No savepoint: a refused flush spoils the whole transaction, and the caller rolls all of
    it back anyway, so the unique key alone decides (two round trips fewer per message)."""
    row.dedupe_key = key
    finish(row, outcome, parsed)
    try:
        session().flush()
    except IntegrityError:
        raise DuplicateMessage() from None
    return outcome


class DuplicateMessage(ServiceError):
    status = 200
    code = "duplicate"

    def __init__(self) -> None:
        super().__init__("This message was already applied.")


def finish(row: InboundEmail, outcome: Outcome, parsed: ParsedMail | None = None) -> Outcome:
    """Record the outcome on the row (and the parsed headers, when given)."""
    if parsed is not None:
        record_parsed(row, parsed)
    row.status, row.outcome, row.matched_by = outcome.status, outcome.outcome, outcome.matched_by
    row.ticket_id = outcome.ticket.id if outcome.ticket is not None else None
    row.reply_id = outcome.reply_id
    row.processed_at = now()
    row.error = outcome.reason
    return outcome


def get(inbound_id: object) -> InboundEmail:
    ident = parse_id(str(inbound_id))
    if ident is None:
        raise NotFound("No such inbound message.")
    row = session().get(InboundEmail, ident)
    if row is None:
        raise NotFound("No such inbound message.")
    return row


def list_messages(*, limit: int, before: int | None = None, status: str | None = None,
                  ticket_id: int | None = None, q: str | None = None) -> list[InboundEmail]:
    """The inbound log newest first, a keyset page (``before``: the previous page's last id);
    ``q`` finds text in the sender's address or name or the subject (LIKE wildcards in it are
    plain text)."""
    query = select(InboundEmail).order_by(InboundEmail.id.desc()).limit(limit)
    if status is not None:
        query = query.where(InboundEmail.status == status)
    if ticket_id is not None:
        query = query.where(InboundEmail.ticket_id == ticket_id)
    if q:
        query = query.where(InboundEmail.from_email.icontains(q, autoescape=True)
                            | InboundEmail.from_name.icontains(q, autoescape=True)
                            | InboundEmail.subject.icontains(q, autoescape=True))
    if before is not None:
        query = query.where(InboundEmail.id < before)
    return list(session().execute(query).scalars())


def ticket_references(rows: list[InboundEmail]) -> dict[int, str]:
    """The reference of each row's ticket, in one query (a list shows them as links)."""
    ids = {r.ticket_id for r in rows if r.ticket_id is not None}
    if not ids:
        return {}
    found = session().execute(select(Ticket.id, Ticket.reference).where(Ticket.id.in_(ids)))
    return {ident: reference for ident, reference in found if reference}
