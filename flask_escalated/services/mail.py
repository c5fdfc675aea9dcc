"""Outbound e-mail: notifications per domain event, rendered into an outbox, sent after commit.

Mail is on when ``ESCALATED_MAIL_FROM`` and ``ESCALATED_MAIL_DOMAIN`` are set; otherwise
nothing here runs and everything else works. Each notification is rendered (branded HTML and
plain text, from overridable templates under ``escalated/email/``) into an
:class:`~flask_escalated.models.OutboundEmail` row in the same transaction as the change, then
queued on ``escalated-mail`` (or sent from a background thread without Redis). A failed send is
retried with backoff by ``flask escalated deliver-mail``; the request never waits on SMTP.

Threading follows the family's format (see :mod:`.mail_ids`). Every notification carries
``Auto-Submitted: auto-generated`` so well-behaved auto-responders do not answer it, and is
never sent to our own addresses.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime
from typing import Any, cast

from flask import Flask, current_app, render_template
from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session

from ..clock import now
from ..config import Config
from ..events import DomainEvent, on_after_commit, on_before_commit
from ..models import Contact, DepartmentMember, OutboundEmail, Reply, Ticket, TicketFollower
from . import ext, mail_headers, mail_ids, settings
from .contacts import normalize_email
from .errors import ValidationError

log = logging.getLogger("flask_escalated.mail")
_NEW = "escalated.new_mail"
CLAIM = timedelta(minutes=2)
MAX_ATTEMPTS = 6

#: Every notification, switchable in the ``mail_notifications`` setting.
NOTIFICATIONS: dict[str, str] = {
    "new_ticket_requester": "A new ticket: confirmation to the requester",
    "new_ticket_department": "A new ticket: to the agents of its department",
    "agent_reply": "An agent's public reply: to the requester",
    "customer_reply": "A customer's reply: to the assignee and followers",
    "assigned": "A ticket assigned: to the new assignee",
    "status_changed": "A status change: to the requester",
    "sla_warning": "An SLA target close to breach: to the assignee",
    "sla_breached": "An SLA target breached: to the assignee",
    "csat_request": "After resolution: a satisfaction survey to the requester",
}


def enabled() -> bool:
    cfg = current_app.config
    return bool(cfg[Config.MAIL_FROM] and cfg[Config.MAIL_DOMAIN])


def _one_line(text: str | None, limit: int = 255) -> str:
    """Header-safe text: no line breaks or other control characters."""
    return mail_headers.one_line(text, limit)


@dataclass
class Recipient:
    email: str
    name: str | None = None
    user_id: str | None = None
    #: An agent: their mail's Reply-To is signed with the agent key (see :mod:`.mail_ids`).
    agent: bool = False


# ---------------------------------------------------------------------------- recipients
class _People:
    """Resolves user ids and contacts to addresses, a bulk load at a time."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.cache: dict[str, Recipient | None] = {}

    def users(self, ids: Sequence[str | None]) -> list[Recipient]:
        wanted = [i for i in dict.fromkeys(ids) if i is not None and i not in self.cache]
        if wanted:
            loaded = ext().load_users(wanted)
            for uid in wanted:
                user = loaded.get(uid)
                name, email = ext().display(user)
                self.cache[uid] = Recipient(email, name, uid, ext().is_agent(user)) \
                    if email else None
        return [r for i in ids if i is not None and (r := self.cache.get(i)) is not None]

    def requester(self, ticket: Ticket) -> Recipient | None:
        if ticket.requester_user_id:
            found = self.users([ticket.requester_user_id])
            if found:
                return found[0]
        if ticket.contact_id:
            contact = self.db.get(Contact, ticket.contact_id)
            if contact is not None:
                return Recipient(contact.email, contact.name)
        return None

    def department(self, ticket: Ticket) -> list[Recipient]:
        if ticket.department_id is None:
            return []
        ids = list(self.db.execute(select(DepartmentMember.user_id).where(
            DepartmentMember.department_id == ticket.department_id)).scalars())
        return self.users(ids)

    def followers(self, ticket: Ticket) -> list[Recipient]:
        ids = list(self.db.execute(select(TicketFollower.user_id).where(
            TicketFollower.ticket_id == ticket.id)).scalars())
        return self.users(ids)


# ---------------------------------------------------------------------------- rendering
def _link(ticket: Ticket, *, agent: bool) -> str | None:
    base = current_app.config[Config.APP_URL]
    if not base:
        return None
    prefix = current_app.config[Config.ROUTE_PREFIX].rstrip("/")
    path = "/agent/tickets/" if agent else "/tickets/"
    return f"{base.rstrip('/')}{prefix}{path}{ticket.reference}"


def _subject(kind: str, ticket: Ticket, *, neutral: bool = False) -> str:
    """``neutral``: quote nothing of the ticket (see :func:`_confirmation_to`)."""
    ref, subject = ticket.reference, _one_line(ticket.subject, 200)
    return _one_line({
        "new_ticket_requester": f"[{ref}] We received your request"
                                + ("" if neutral else f": {subject}"),
        "new_ticket_department": f"[{ref}] New ticket: {subject}",
        "agent_reply": f"[{ref}] Re: {subject}",
        "customer_reply": f"[{ref}] Re: {subject}",
        "assigned": f"[{ref}] Assigned to you: {subject}",
        "status_changed": f"[{ref}] Status update: {subject}",
        "sla_warning": f"[{ref}] SLA at risk: {subject}",
        "sla_breached": f"[{ref}] SLA breached: {subject}",
        "csat_request": f"[{ref}] How did we do? {subject}",
    }[kind], 500)


def _render(kind: str, ticket: Ticket, to: Recipient, context: dict[str, Any]) -> tuple[str, str]:
    values = settings.effective()
    branding = {**current_app.config[Config.BRANDING], **values["branding"]}
    ctx = {"ticket": ticket, "recipient": to, "app_name": values["app_name"],
           "branding": branding, "kind": kind, **context}
    text = render_template(f"escalated/email/{kind}.txt", **ctx)
    html = render_template(f"escalated/email/{kind}.html", **ctx)
    return text, html


# ---------------------------------------------------------------------------- the outbox
@on_before_commit
def write_mail_outbox(db: Session, events: list[DomainEvent]) -> None:
    """Render the notifications these events call for into outbox rows (same transaction)."""
    if not enabled():
        return
    switches = settings.value("mail_notifications")
    own = {normalize_email(current_app.config[Config.MAIL_FROM])}
    domain = str(current_app.config[Config.MAIL_DOMAIN]).lower()
    people = _People(db)
    rows: list[OutboundEmail] = []
    for event in events:
        for kind, ticket, recipients, context in _plan(event, people):
            if not switches.get(kind, True) or ticket is None:
                continue
            seen: set[str] = set()
            for to in recipients:
                address = _address_of(to)
                if not address or address in own or address.endswith("@" + domain) \
                        or address in seen:
                    continue
                seen.add(address)
                rows.append(_row(kind, ticket, to, address, context))
    if rows:
        db.add_all(rows)
        db.flush()
        db.info.setdefault(_NEW, []).extend(r.id for r in rows)


def _address_of(to: Recipient) -> str:
    """The recipient's address, lower-cased; one that is not an address at all is still
    written (cut to the column), so its row fails with the reason instead of the change."""
    if not to.email:
        return ""
    try:
        return normalize_email(to.email)
    except ValidationError:
        return mail_headers.one_line(to.email, 320).lower()


def _plan(event: DomainEvent, people: _People) -> list[tuple[str, Ticket, list[Recipient],
                                                             dict[str, Any]]]:
    """(kind, ticket, recipients, context) for each notification ``event`` calls for."""
    t = event.ticket
    if t is None:
        return []
    actor_id = event.actor.user_id
    out: list[tuple[str, Ticket, list[Recipient], dict[str, Any]]] = []

    def not_actor(recipients: list[Recipient]) -> list[Recipient]:
        return [r for r in recipients if r.user_id is None or r.user_id != actor_id]

    requester = people.requester(t)
    if event.name == "ticket_created":
        confirm = _confirmation_to(requester, event)
        if confirm is not None:
            neutral = confirm.user_id is None or _from_stranger(event)
            out.append(("new_ticket_requester", t, [confirm], {"neutral": neutral}))
        out.append(("new_ticket_department", t, not_actor(people.department(t)), {}))
    elif event.name == "reply_created":
        reply = event.data.get("reply")
        if not isinstance(reply, Reply) or reply.is_internal:
            return []
        if reply.author_type == "agent":
            if requester is not None:
                out.append(("agent_reply", t, [requester], {"reply": reply}))
        else:
            targets = people.users([t.assignee_id]) + people.followers(t)
            out.append(("customer_reply", t, not_actor(targets), {"reply": reply}))
    elif event.name == "ticket_assigned":
        out.append(("assigned", t, not_actor(people.users([event.data.get("assignee_id")])), {}))
    elif event.name == "ticket_status_changed":
        # The requester hears of deliberate moves by someone else; the automatic moves that
        # follow a reply or an assignment would only echo the mail they already got.
        category = t.status_category
        if requester is not None and not event.data.get("automatic") \
                and category != "resolved" and event.actor.kind != "customer" \
                and event.actor.kind != "contact":
            out.append(("status_changed", t, [requester], dict(event.data)))
    elif event.name == "ticket_resolved":
        if requester is not None:
            out.append(("status_changed", t, [requester], {"new_status": t.status}))
            survey = _csat_link(t)
            if survey:
                out.append(("csat_request", t, [requester], {"survey_url": survey}))
    elif event.name in ("sla_warning", "sla_breached"):
        out.append((event.name, t, people.users([t.assignee_id]), dict(event.data)))
    return out


def _confirmation_to(requester: Recipient | None, event: DomainEvent) -> Recipient | None:
    """Who gets the new-ticket confirmation.

    Anyone can open a ticket in anyone's name (the widget, an inbound mail with a forged
    ``From``), so a confirmation to someone without an account, or for a ticket a stranger
    opened, is *neutral*: it quotes nothing the sender wrote (no subject, description or name,
    not even in ``To``), only our reference and a link. When a stranger opened the ticket, the
    address's confirmation budget (:func:`.guests.confirmation_allowed`) must also allow it.
    A signed-in customer's own confirmation (portal, API) still quotes their request."""
    if requester is None:
        return None
    if _from_stranger(event):
        from .guests import confirmation_allowed

        if not confirmation_allowed(normalize_email(requester.email)):
            return None
    return requester if requester.user_id is not None else Recipient(requester.email)


def _from_stranger(event: DomainEvent) -> bool:
    """Opened by someone nobody signed in: a contact, or any mail or widget submission (an
    inbound ``From`` can name a registered customer without being them)."""
    ticket = event.ticket
    return event.actor.kind == "contact" or (
        ticket is not None and ticket.channel in ("email", "widget"))


def _csat_link(ticket: Ticket) -> str | None:
    """A single-use survey link, when CSAT is on (the token is minted by :mod:`.csat`)."""
    if not current_app.config[Config.ENABLE_CSAT]:
        return None
    from . import csat

    return csat.survey_url(ticket)


def _row(kind: str, ticket: Ticket, to: Recipient, address: str,
         context: dict[str, Any]) -> OutboundEmail:
    domain = str(current_app.config[Config.MAIL_DOMAIN])
    root = mail_ids.ticket_message_id(ticket.id, domain)
    reply = context.get("reply")
    headers: dict[str, str] = {
        "X-Escalated-Ticket-Id": str(ticket.id),
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    if kind == "new_ticket_requester":
        message_id = root
    elif isinstance(reply, Reply):
        message_id = mail_ids.reply_message_id(ticket.id, reply.id, domain)
    else:
        tag = f"{kind.replace('_', '-')}-{secrets.token_hex(6)}"
        message_id = f"<ticket-{ticket.id}-{tag}@{domain}>"
    if message_id != root:
        headers["In-Reply-To"] = root
        headers["References"] = root
    signed = mail_ids.reply_address(ticket.id, agent=to.agent)
    if signed:
        headers["Reply-To"] = signed
    customer_facing = kind in ("new_ticket_requester", "agent_reply", "status_changed",
                               "csat_request")
    if customer_facing and to.user_id is None:
        from . import guest_access, guests

        link: str | None = guest_access.guest_url(ticket)  # a guest: their own key
        if kind == "new_ticket_requester" and guests.policy()["mode"] == "prompt_signup":
            context = {**context, "signup_url": guests.signup_url(address)}
    else:
        link = _link(ticket, agent=not customer_facing)
    context = {**context, "link": link}
    text, html = _render(kind, ticket, to, context)
    return OutboundEmail(
        ticket_id=ticket.id, reply_id=reply.id if isinstance(reply, Reply) else None,
        kind=kind, to_email=address, to_name=_one_line(to.name) or None, to_user_id=to.user_id,
        from_name=_one_line(settings.value("app_name"), 120),
        subject=_subject(kind, ticket, neutral=bool(context.get("neutral"))), text_body=text,
        html_body=html, headers=headers,
        message_id=message_id, status="pending", attempts=0, next_attempt_at=now(),
        created_at=now())


def send_plain(kind: str, to: str, subject: str, text: str, html: str, tag: str) -> None:
    """Put a mail that belongs to no ticket (a verification code ...) in the outbox; the
    caller calls :func:`send_queued` after its commit (the sweep catches it otherwise)."""
    domain = str(current_app.config[Config.MAIL_DOMAIN])
    row = OutboundEmail(
        kind=kind, to_email=to, from_name=_one_line(settings.value("app_name"), 120),
        subject=_one_line(subject, 500), text_body=text,
        html_body=html, headers={"Auto-Submitted": "auto-generated"},
        message_id=f"<{tag}-{secrets.token_hex(16)}@{domain}>", status="pending", attempts=0,
        next_attempt_at=now(), created_at=now())
    queue(row)


def queue(row: OutboundEmail) -> None:
    """Write an outbox row; it is handed to the sender after the commit (the sweep catches it
    otherwise)."""
    db = ext().session
    db.add(row)
    db.flush()
    db.info.setdefault(_NEW, []).append(row.id)


def send_queued() -> None:
    hand_over(current_app._get_current_object(), [])  # type: ignore[attr-defined]


@on_after_commit
def hand_over(app: Flask, events: list[DomainEvent]) -> None:
    """Queue the new mail on ``escalated-mail`` (or send it from a thread without Redis)."""
    db = app.extensions["escalated"].session
    ids = db.info.pop(_NEW, None)
    if not ids:
        return
    from ..jobs.queues import MAIL_QUEUE, queue, redis_connection, run_in_background

    if redis_connection() is not None:
        from ..jobs.tasks import deliver_mail

        for mail_id in ids:
            queue(MAIL_QUEUE).enqueue(deliver_mail, mail_id)
        return
    run_in_background(app, "mail", deliver, ids)


# ---------------------------------------------------------------------------- sending
def _engine() -> Engine:
    return cast(Engine, ext().session.get_bind())


def _mailer() -> Any:
    state = current_app.extensions.get("mail")
    if state is None:
        from flask_mail import Mail

        state = Mail().init_app(current_app)  # type: ignore[arg-type]
    return state


#: Headers whose values are message ids, and those that hold one address.
_ID_HEADERS = ("Message-ID", "In-Reply-To", "References")
_ADDRESS_HEADERS = ("Reply-To",)


class Undeliverable(ValueError):
    """The mail can never be sent as it is (a bad address, a header that cannot be written,
    an international address the server cannot take): the row is dead at once, with why."""


@dataclass
class Built:
    """A message ready for SMTP: its bytes come from :meth:`as_bytes`."""

    message: EmailMessage
    envelope_from: str
    envelope_to: str
    smtputf8: bool

    def as_bytes(self) -> bytes:
        return self.message.as_bytes(policy=SMTPUTF8 if self.smtputf8 else SMTP)


def build_message(*, subject: str, sender: tuple[str | None, str], to: tuple[str | None, str],
                  headers: dict[str, str], text: str, html: str | None = None) -> Built:
    """A multipart message whose every header is written as data (see :mod:`.mail_headers`);
    raises :class:`Undeliverable` for a value that cannot be written."""
    built = EmailMessage(policy=SMTP)
    try:
        mail_headers.set_text(built, "Subject", subject)
        origin = mail_headers.set_address(built, "From", sender[1], sender[0])
        target = mail_headers.set_address(built, "To", to[1], to[0])
        built["Date"] = format_datetime(now())
        for name, value in headers.items():
            if name in _ID_HEADERS:
                mail_headers.set_message_ids(built, name, str(value).split())
            elif name in _ADDRESS_HEADERS:
                mail_headers.set_address(built, name, value)
            else:
                mail_headers.set_text(built, name, value)
    except mail_headers.UnsafeHeader as exc:
        raise Undeliverable(str(exc)) from None
    built.set_content(text, cte="quoted-printable")
    if html is not None:
        built.add_alternative(html, subtype="html", cte="quoted-printable")
    return Built(built, origin.addr_spec, target.addr_spec,
                 origin.needs_smtputf8 or target.needs_smtputf8)


def _message(row: Any) -> Built:
    """The row as a MIME message (quoted-printable bodies: no line is ever too long for
    SMTP). Everything comes from the row: sending opens no session transaction (none stays
    open while SMTP answers, and a retry sends exactly what was written)."""
    return build_message(
        subject=row.subject, sender=(row.from_name, current_app.config[Config.MAIL_FROM]),
        to=(row.to_name, row.to_email),
        headers={"Message-ID": row.message_id, **(row.headers or {})},
        text=row.text_body, html=row.html_body)


def transmit(built: Built) -> None:
    """Send through the host's Flask-Mail connection (its ``MAIL_*`` settings, and its
    suppression while testing: then only Flask-Mail's ``email_dispatched`` signal fires).

    The SMTP conversation is ours rather than Flask-Mail's ``send``, which would re-parse the
    addresses and cannot carry an international local part: such a message goes out with
    ``SMTPUTF8`` when the server offers it and is :class:`Undeliverable` otherwise."""
    from flask_mail import Message, email_dispatched

    class Prepared(Message):
        def _message(self) -> Any:
            return built.message

    prepared = Prepared(subject=str(built.message["Subject"]), sender=built.envelope_from,
                        recipients=[built.envelope_to])
    with _mailer().connect() as connection:
        host = connection.host
        if host is not None:
            options: list[str] = []
            if built.smtputf8:
                host.ehlo_or_helo_if_needed()
                if not host.has_extn("smtputf8"):
                    raise Undeliverable(
                        f"{built.envelope_to} has a non-ASCII local part and the mail server "
                        "does not offer SMTPUTF8.")
                options.append("SMTPUTF8")
            host.sendmail(built.envelope_from, [built.envelope_to], built.as_bytes(), options)
    email_dispatched.send(prepared, app=current_app._get_current_object())  # type: ignore[attr-defined]


def deliver(mail_id: int) -> str:
    """Send one outbox row once (if due and not claimed elsewhere); returns its status.

    A send that fails for the network or the server is retried with backoff; a message that
    can never go out as it is (:class:`Undeliverable`) is ``dead`` at once, with the reason."""
    at = now()
    with _engine().begin() as conn:
        claimed = conn.execute(
            update(OutboundEmail)
            .where(OutboundEmail.id == mail_id, OutboundEmail.status.in_(("pending", "failed")),
                   or_(OutboundEmail.claimed_until.is_(None), OutboundEmail.claimed_until < at))
            .values(claimed_until=at + CLAIM)).rowcount
        row = conn.execute(select(OutboundEmail).where(OutboundEmail.id == mail_id)).first() \
            if claimed else None
    if row is None:
        return "skipped"
    error, permanent = None, False
    try:
        transmit(_message(row))
    except Undeliverable as exc:
        error, permanent = f"Undeliverable: {exc}"[:500], True
        log.warning("mail %s to %s cannot be sent: %s", mail_id, row.to_email, error)
    except Exception as exc:  # any SMTP or network failure: retried later
        error = f"{type(exc).__name__}: {exc}"[:500]
        log.warning("mail %s to %s failed: %s", mail_id, row.to_email, error)
    attempts = row.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "claimed_until": None, "last_error": error}
    if error is None:
        values.update(status="sent", sent_at=now(), next_attempt_at=None)
    elif permanent or attempts >= MAX_ATTEMPTS:
        values.update(status="dead", next_attempt_at=None)
    else:
        delay = min(60 * 2 ** (attempts - 1), 6 * 3600) * random.uniform(0.8, 1.2)
        values.update(status="failed", next_attempt_at=now() + timedelta(seconds=delay))
    with _engine().begin() as conn:
        conn.execute(update(OutboundEmail).where(OutboundEmail.id == mail_id).values(values))
    return str(values["status"])


def due_ids(limit: int = 200) -> list[int]:
    at = now()
    with _engine().connect() as conn:
        return list(conn.execute(
            select(OutboundEmail.id)
            .where(OutboundEmail.status.in_(("pending", "failed")),
                   OutboundEmail.next_attempt_at <= at,
                   or_(OutboundEmail.claimed_until.is_(None), OutboundEmail.claimed_until < at))
            .order_by(OutboundEmail.next_attempt_at, OutboundEmail.id).limit(limit)
        ).scalars())
