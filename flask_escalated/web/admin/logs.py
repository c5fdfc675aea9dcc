"""The console's logs: inbound e-mail (with "reprocess") and the audit log.

Both lists are keyset paged and filtered by the API's own query schemas
(:class:`..api.schemas.mail.InboundList`, :class:`..api.schemas.audit.AuditList`) through
the same service queries, so a filter the API refuses is refused here too, with the field
named. Names (ticket references, actors) come in one query a page, whatever its length.

A message's page shows what arrived as the pipeline reads it (headers, the text body, escaped
like every value on the page), what became of it, and a "Reprocess" button that calls
:func:`...services.inbound_pipeline.reprocess`, as ``POST /api/v1/inbound-emails/<id>/
reprocess`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, url_for
from markupsafe import Markup

from ...models import AuditLog, InboundEmail
from ...services import audit, inbound, inbound_pipeline, serializers, session
from ...services.errors import NotFound
from ..api.schemas.audit import AuditList
from ..api.schemas.mail import STATUSES, InboundList
from ..forms import FieldSpec
from ..security import current_principal, requires
from .crud import Column, Page, Resource, link, register

INBOUND_PERMISSION = "inbound_email.manage"
#: Every agent may read the audit log through the API; the console shows it to those who
#: may enter the console.
AUDIT_PERMISSION = "audit.view"
#: How much of a message's text its page shows.
BODY_LIMIT = 20_000


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "—"


def _before(cursor: Any) -> int | None:
    return cursor if isinstance(cursor, int) and not isinstance(cursor, bool) else None


def _page(rows: list[Any], limit: int) -> tuple[list[Any], int | None]:
    """The page's rows and the next page's cursor (from one row fetched past the page)."""
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1].id if more and rows else None


# ---------------------------------------------------------------------------- inbound mail
@dataclass(frozen=True)
class MessageRow:
    """A logged message and the reference of the ticket it reached."""

    message: InboundEmail
    reference: str | None

    @property
    def id(self) -> int:
        return self.message.id


def _messages(filters: InboundList, cursor: Any, limit: int) -> Page:
    found = inbound.list_messages(limit=limit + 1, before=_before(cursor),
                                  status=filters.status, ticket_id=filters.ticket_id,
                                  q=filters.q or None)
    rows, nxt = _page(found, limit)
    references = inbound.ticket_references(rows)
    return Page([MessageRow(m, references.get(m.ticket_id or 0)) for m in rows], nxt)


def _message(ident: int) -> MessageRow:
    row = inbound.get(ident)
    return MessageRow(row, inbound.ticket_references([row]).get(row.ticket_id or 0))


def _sender(row: MessageRow) -> str:
    m = row.message
    if m.from_name and m.from_email:
        return f"{m.from_name} <{m.from_email}>"
    return m.from_email or m.from_name or "(unknown sender)"


def _ticket_link(row: MessageRow) -> Markup | str:
    if row.message.ticket_id is None:
        return "—"
    return Markup('<a href="{}">{}</a>').format(
        url_for("escalated.agent.ticket", ident=row.reference or row.message.ticket_id),
        row.reference or f"#{row.message.ticket_id}")


def _status(row: MessageRow) -> Markup:
    m = row.message
    return Markup('<span class="esc-status esc-inbound-{}">{}</span>{}').format(
        m.status, m.status, Markup(" ({})").format(m.outcome.replace("_", " "))
        if m.outcome else "")


def _inbound_filters() -> list[FieldSpec]:
    return [FieldSpec("q", "Sender or subject", max_length=200),
            FieldSpec("status", "Status", widget="select", blank="— any —",
                      choices=[(s, s) for s in STATUSES])]


def _message_context(row: MessageRow | None) -> dict[str, Any]:
    """What arrived, read as the pipeline reads it (nothing is changed)."""
    if row is None:
        return {}
    m = row.message
    parsed, problem = inbound_pipeline.read(m)
    text = (parsed.text if parsed is not None else "") or ""
    # The log's columns are filled when a message is applied; before that (or when applying
    # failed early) the headers come from reading it.
    head = {"from_name": m.from_name, "from_email": m.from_email, "to": m.to_email,
            "subject": m.subject, "message_id": m.message_id, "in_reply_to": m.in_reply_to}
    if parsed is not None:
        read = {"from_name": parsed.from_name, "from_email": parsed.from_email,
                "to": ", ".join(parsed.to), "subject": parsed.subject,
                "message_id": parsed.message_id, "in_reply_to": parsed.in_reply_to}
        head = {k: v or read[k] for k, v in head.items()}
        head["date"] = parsed.headers.get("date")
    return {"parsed": parsed, "head": head, "read_problem": problem,
            "body": text[:BODY_LIMIT],
            "body_cut": len(text) > BODY_LIMIT,
            "may_reprocess": current_principal().can_anywhere(INBOUND_PERMISSION)
            and row.message.status != "processed"}


INBOUND_EMAILS = Resource(
    name="inbound-emails", label="Inbound e-mail", singular="message",
    view=INBOUND_PERMISSION, load=_message, serialize=lambda row: {},
    title=lambda row: row.message.subject or f"message {row.message.id}",
    rows=_messages, filters=InboundList, filter_specs=_inbound_filters,
    columns=[Column("Received", link("inbound-emails", lambda r: _when(r.message.created_at))),
             Column("From", _sender),
             Column("Subject", lambda r: r.message.subject or "—"),
             Column("Status", _status),
             Column("Ticket", _ticket_link)],
    form_template="escalated/admin/inbound_email.html", context=_message_context,
    intro="Every message the inbound mail webhook received, newest first, and what became "
          "of it. A failed message can be reprocessed once the cause is fixed.")


@requires(INBOUND_PERMISSION)
def reprocess(ident: int) -> Any:
    status, body = inbound_pipeline.reprocess(current_principal().actor, ident)
    if status >= 400:
        flash(f"Reprocessing failed: {body['error']['message']}", "error")
    else:
        outcome = str(body.get("outcome") or body.get("status")).replace("_", " ")
        flash(f"The message was reprocessed: {outcome}.", "success")
    return redirect(url_for(INBOUND_EMAILS.endpoint("edit"), ident=ident))


# ---------------------------------------------------------------------------- audit log
@dataclass(frozen=True)
class EntryRow:
    """An audit entry and its actor as the host names them."""

    entry: AuditLog
    actor: dict[str, Any] | None

    @property
    def id(self) -> int:
        return self.entry.id

    @property
    def actor_label(self) -> str:
        e = self.entry
        if e.actor_user_id is None:
            return e.actor_type
        person = self.actor or {}
        return person.get("name") or person.get("email") or f"user {e.actor_user_id}"


def _with_actors(rows: list[AuditLog]) -> list[EntryRow]:
    people = serializers.People({e.actor_user_id for e in rows if e.actor_user_id})
    return [EntryRow(e, people.user(e.actor_user_id)) for e in rows]


def _entries(filters: AuditList, cursor: Any, limit: int) -> Page:
    found = audit.list_entries(filters.filters(), limit=limit + 1, before=_before(cursor))
    rows, nxt = _page(found, limit)
    return Page(_with_actors(rows), nxt)


def _entry(ident: int) -> EntryRow:
    row = session().get(AuditLog, ident)
    if row is None:
        raise NotFound("No such audit entry.")
    return _with_actors([row])[0]


def _filter_link(label: str, **query: Any) -> Markup:
    return Markup('<a href="{}">{}</a>').format(
        url_for(AUDIT_LOGS.endpoint("list"), **query), label)


def _actor(row: EntryRow) -> Markup | str:
    if row.entry.actor_user_id is None:
        return row.actor_label
    return _filter_link(row.actor_label, actor_user_id=row.entry.actor_user_id)


def _subject(row: EntryRow) -> Markup:
    e = row.entry
    kind = _filter_link(e.entity_type, entity_type=e.entity_type)
    if e.entity_id is None:
        return kind
    return Markup("{} {}").format(kind, _filter_link(
        e.entity_id, entity_type=e.entity_type, entity_id=e.entity_id))


def _audit_filters() -> list[FieldSpec]:
    return [FieldSpec("actor_user_id", "Actor (user id)", max_length=100),
            FieldSpec("action", "Action", max_length=100,
                      help="e.g. webhook.created, api_token.revoked"),
            FieldSpec("entity_type", "Subject type", max_length=100,
                      help="e.g. ticket, webhook, role"),
            FieldSpec("entity_id", "Subject id", max_length=100),
            FieldSpec("from", "From", widget="date", help="YYYY-MM-DD, in the desk's time "
                      "zone (as reports count days)."),
            FieldSpec("to", "To", widget="date", help="Included.")]


def _changes(row: EntryRow | None) -> dict[str, Any]:
    """Each key the entry recorded, with its old and new value (absent: ``None``)."""
    if row is None:
        return {}
    old, new = row.entry.old_values or {}, row.entry.new_values or {}
    keys = list(dict.fromkeys([*old, *new]))
    return {"changes": [(k, old.get(k), new.get(k), k in old, k in new) for k in keys]}


AUDIT_LOGS = Resource(
    name="audit-logs", label="Audit log", singular="entry", view=AUDIT_PERMISSION,
    load=_entry, serialize=lambda row: {}, title=lambda row: row.entry.action,
    rows=_entries, filters=AuditList, filter_specs=_audit_filters,
    columns=[Column("When", link("audit-logs", lambda r: _when(r.entry.created_at))),
             Column("Actor", _actor),
             Column("Action", lambda r: _filter_link(r.entry.action, action=r.entry.action)),
             Column("Subject", _subject),
             Column("From address", lambda r: r.entry.ip_address or "—")],
    form_template="escalated/admin/audit_entry.html", context=_changes,
    intro="Every change to the desk's set-up and every destructive ticket change: who, "
          "what, when, and the values before and after (secrets are never recorded).")


def register_all(bp: Blueprint) -> None:
    register(bp, INBOUND_EMAILS)
    bp.add_url_rule(f"/{INBOUND_EMAILS.name}/<escalated_id:ident>/reprocess",
                    "inbound_emails_reprocess", reprocess, methods=["POST"])
    register(bp, AUDIT_LOGS)
