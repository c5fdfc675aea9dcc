"""The customer portal: my tickets, open a ticket, read and answer one, rate it.

Plain HTML forms that work without JavaScript; every POST carries the CSRF token. A customer
sees only their own tickets and only the public side of them: internal notes, internal files
and agent-only fields never reach these templates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from pydantic import BaseModel
from werkzeug.wrappers import Response

from ..config import Config
from ..domain import CLOSED_CATEGORIES
from ..services import (
    attachments,
    csat,
    custom_fields,
    departments,
    ext,
    queries,
    relations,
    replies,
    serializers,
    ticket_search,
    tickets,
)
from ..services.errors import NotFound, PermissionDenied, ServiceError
from ..services.permissions import can_view_ticket
from ..services.queries import TicketFilter
from .api.base import decode_cursor, encode_cursor
from .api.schemas import Empty
from .api.schemas.feedback import RatingIn
from .api.schemas.pages import PortalTicket
from .api.schemas.replies import ReplyCreate
from .downloads import send_attachment, visible_attachment
from .html import install_html_errors, relative_time, signed_in_forms
from .page_forms import by_input, read_page, reads
from .security import csrf_token, current_principal, requires

#: Tickets per page of "My tickets" (keyset paging: "Older tickets" follows a signed cursor).
PAGE_SIZE = 20
CURSOR_KIND = "portal-tickets"
NO_TICKET = "We could not find that ticket among yours."
M = TypeVar("M", bound=BaseModel)


def create_customer_blueprint() -> Blueprint:
    bp = Blueprint("customer", __name__)
    bp.before_request(signed_in_forms)
    install_html_errors(bp)
    bp.add_url_rule("/", "home", home)
    bp.add_url_rule("/tickets", "tickets", my_tickets)
    bp.add_url_rule("/tickets/new", "new_ticket", new_ticket, methods=["GET", "POST"])
    bp.add_url_rule("/tickets/<ident>", "ticket", show_ticket)
    bp.add_url_rule("/tickets/<ident>/reply", "reply", post_reply, methods=["POST"])
    bp.add_url_rule("/tickets/<ident>/close", "close", close_ticket, methods=["POST"])
    bp.add_url_rule("/tickets/<ident>/reopen", "reopen", reopen_ticket, methods=["POST"])
    bp.add_url_rule("/tickets/<ident>/rate", "rate", rate_ticket, methods=["POST"])
    bp.add_url_rule("/tickets/<ident>/files/<escalated_id:attachment_id>", "attachment",
                    download_attachment)
    bp.app_context_processor(lambda: {"csrf_token": csrf_token})
    bp.context_processor(lambda: {"escalated_ago": relative_time})
    return bp


def _uploads() -> list[attachments.Upload]:
    return [attachments.Upload(f.filename or "", f.stream)
            for f in request.files.getlist("files") if f.filename]


@requires()
def home() -> Response:
    return redirect(url_for(".tickets"))


@requires("ticket.view")
def my_tickets() -> str:
    principal = current_principal()
    q = (request.args.get("q") or "").strip()[:200] or None
    flt = TicketFilter(q=q, snoozed=False)
    if principal.is_agent:
        flt.requester_user_id = principal.user_id
    cursor = decode_cursor(CURSOR_KIND)
    if cursor is not None and not isinstance(cursor, list):
        cursor = None
    rows, next_cursor = queries.list_tickets(principal, flt, limit=PAGE_SIZE, cursor=cursor)
    # A customer's search never looks at internal notes (nor do its snippets).
    found = (ticket_search.snippets([t.id for t in rows], q, include_notes=False) if q else {})
    return render_template(
        "escalated/customer/tickets.html", tickets=rows, q=q or "", snippets=found,
        older=encode_cursor(CURSOR_KIND, next_cursor), paged=cursor is not None,
    )


@requires("ticket.create")
@reads(PortalTicket)
def new_ticket() -> Any:
    principal = current_principal()
    form: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    refused = 422
    offered = custom_fields.form_fields(for_customer=True)
    if request.method == "POST":
        form = {**request.form.to_dict(),
                **{k: request.form.getlist(k) for k in request.form if k.startswith("cf.")
                   and len(request.form.getlist(k)) > 1}}
        try:
            # The offered fields' inputs are read apart (their keys are the desk's own); one
            # that is not offered is refused as unknown.
            data = read_page(PortalTicket, consumed=[f"cf.{f.key}" for f in offered])
            new = tickets.NewTicket(
                subject=data.subject,
                description=data.description,
                priority=data.priority,
                department_id=data.department_id,
                requester_user_id=principal.user_id,
                channel="web",
                uploads=_uploads(),
                custom_fields=custom_fields.from_form(request.form, offered),
            )
            with ext().unit_of_work():
                ticket = tickets.create_ticket(new, principal.actor)
        except ServiceError as exc:
            errors = exc.fields or {"form": exc.message}
            refused = exc.status  # 422 for the form's values, 507/503 when files cannot be kept
            flash(exc.message, "error")
        else:
            flash(f"Ticket {ticket.reference} was opened. We'll reply here soon.", "success")
            return redirect(url_for(".ticket", ident=ticket.reference))
    cfg = current_app.config
    return render_template(
        "escalated/customer/new.html",
        form=form,
        errors=errors,
        fields=offered,
        departments=departments.list_departments(include_inactive=False),
        priorities=tickets.CUSTOMER_PRIORITIES,
        default_priority=cfg[Config.DEFAULT_PRIORITY],
        max_files=cfg[Config.MAX_ATTACHMENTS],
        max_size=cfg[Config.MAX_ATTACHMENT_SIZE],
    ), refused if errors else 200


def _load(ident: str) -> Any:
    principal = current_principal()
    try:
        ticket = tickets.get_ticket(ident)
    except NotFound:
        ticket = None
    if ticket is None or not can_view_ticket(principal, ticket):
        raise NotFound(NO_TICKET)  # one answer, so a 404 never tells that a ticket exists
    return ticket, principal


@requires("ticket.view")
def show_ticket(ident: str) -> Any:
    ticket, principal = _load(ident)
    live = relations.forward_for(principal, ticket, "ticket.view")
    if live is not ticket:  # merged: the conversation goes on at the live ticket
        return redirect(url_for(".ticket", ident=live.reference), 303)
    return _ticket_page(ticket, principal)


def _ticket_page(ticket: Any, principal: Any, *, draft: dict[str, str] | None = None,
                 errors: dict[str, Any] | None = None) -> str:
    rows = replies.list_replies(ticket, include_internal=False)
    files = attachments.list_for_ticket(ticket, include_internal=False)
    people = serializers.People([ticket.requester_user_id, ticket.assignee_id,
                                 *(r.author_user_id for r in rows)])
    cfg = current_app.config
    closed = ticket.status_category in CLOSED_CATEGORIES
    rating = csat.for_ticket(ticket.id)
    return render_template(
        "escalated/customer/ticket.html",
        ticket=ticket,
        replies=rows,
        opening_files=[f for f in files if f.reply_id is None],
        reply_files=_by_reply(files),
        people=people,
        can_close=cfg[Config.ALLOW_CUSTOMER_CLOSE] and not closed,
        can_reopen=closed,
        can_reply=ticket.status_category != "closed",
        can_rate=cfg[Config.ENABLE_CSAT] and closed and rating is None
        and ticket.requester_user_id == principal.user_id,
        rating=rating,
        rating_labels=csat.LABELS,
        max_files=cfg[Config.MAX_ATTACHMENTS],
        max_size=cfg[Config.MAX_ATTACHMENT_SIZE],
        draft=draft or {},
        errors=by_input(errors),
    )


def _by_reply(files: list[Any]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for f in files:
        if f.reply_id is not None:
            found.setdefault(f.reply_id, []).append(f)
    return found


def _act(ident: str, model: type[M], action: Callable[[Any, Any, M], object], done: str, *,
         only: tuple[str, ...] | None = None, draft: tuple[str, ...] = ()) -> Any:
    """Read the form through ``model`` and run ``action(ticket, principal, data)`` in one unit
    of work. A refused form (422) shows the ticket again with each field named and the text
    in ``draft`` kept; other problems become a message on the ticket."""
    ticket, principal = _load(ident)
    try:
        data = read_page(model, only=only)
        with ext().unit_of_work():
            action(ticket, principal, data)
    except ServiceError as exc:
        flash(exc.message, "error")
        if exc.status == 422:
            ticket, principal = _load(ident)
            typed = {name: request.form.get(name, "") for name in draft}
            return _ticket_page(ticket, principal, draft=typed, errors=exc.fields), 422
    else:
        flash(done, "success")
    return redirect(url_for(".ticket", ident=ticket.reference))


def _reply(ticket: Any, principal: Any, data: ReplyCreate) -> None:
    if data.is_note:  # the API's answer to a visibility alias without the note permission
        raise PermissionDenied("You need the 'reply.create_internal' permission for this.")
    replies.add_reply(ticket, data.body, principal.actor, uploads=_uploads())


@requires("reply.create")
@reads(ReplyCreate)
def post_reply(ident: str) -> Any:
    return _act(ident, ReplyCreate, _reply, "Your reply was sent.", only=("body",),
                draft=("body",))


@requires("ticket.close")
@reads(Empty)
def close_ticket(ident: str) -> Any:
    if not current_app.config[Config.ALLOW_CUSTOMER_CLOSE]:
        raise PermissionDenied("Tickets are closed by the support team here.")
    return _act(ident, Empty, lambda t, p, _: tickets.change_status(t, "closed", p.actor),
                "The ticket is closed.")


@requires("ticket.close")
@reads(Empty)
def reopen_ticket(ident: str) -> Any:
    return _act(ident, Empty, lambda t, p, _: tickets.change_status(t, "reopened", p.actor),
                "The ticket is open again.")


@requires("ticket.view")
@reads(RatingIn)
def rate_ticket(ident: str) -> Any:
    if not current_app.config[Config.ENABLE_CSAT]:
        raise NotFound("Ratings are not collected here.")
    ticket, principal = _load(ident)
    if ticket.requester_user_id != principal.user_id:
        raise PermissionDenied("Only the person who asked can rate the answer.")
    return _act(ident, RatingIn, lambda t, p, data: csat.submit_for_ticket(
        t, data.rating, data.comment), "Thank you for your rating!", draft=("rating", "comment"))


@requires("ticket.view")
def download_attachment(ident: str, attachment_id: int) -> Response:
    ticket, _ = _load(ident)
    return send_attachment(visible_attachment(
        attachment_id, lambda row: row.ticket_id == ticket.id and not row.is_internal))
