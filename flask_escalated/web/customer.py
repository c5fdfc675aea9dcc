"""The customer portal: my tickets, open a ticket, read and answer one.

Plain HTML forms that work without JavaScript; every POST carries the CSRF token.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from ..config import Config
from ..domain import CLOSED_CATEGORIES
from ..services import attachments, departments, ext, queries, replies, serializers, tickets
from ..services.errors import NotFound, ServiceError
from ..services.permissions import can_view_ticket
from ..services.queries import TicketFilter
from .html import install_html_errors, signed_in_forms
from .security import csrf_token, current_principal, requires


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
    bp.app_context_processor(lambda: {"csrf_token": csrf_token})
    return bp


@requires()
def home() -> Response:
    return redirect(url_for(".tickets"))


@requires("ticket.view")
def my_tickets() -> str:
    principal = current_principal()
    q = (request.args.get("q") or "").strip()[:200] or None
    flt = TicketFilter(q=q, sort="-updated_at")
    if principal.is_agent:
        flt.requester_user_id = principal.user_id
    rows, _ = queries.list_tickets(principal, flt, limit=50)
    return render_template("escalated/customer/tickets.html", tickets=rows, q=q or "")


@requires("ticket.create")
def new_ticket() -> Any:
    principal = current_principal()
    form: dict[str, str] = {}
    errors: dict[str, Any] = {}
    if request.method == "POST":
        form = request.form.to_dict()
        uploads = [attachments.Upload(f.filename or "", f.stream)
                   for f in request.files.getlist("files") if f.filename]
        new = tickets.NewTicket(
            subject=form.get("subject"),
            description=form.get("description"),
            priority=form.get("priority") or None,
            department_id=form.get("department_id") or None,
            requester_user_id=principal.user_id,
            channel="web",
            uploads=uploads,
        )
        try:
            with ext().unit_of_work():
                ticket = tickets.create_ticket(new, principal.actor)
        except ServiceError as exc:
            errors = exc.fields or {"form": exc.message}
            flash(exc.message, "error")
        else:
            flash(f"Ticket {ticket.reference} was opened. We'll reply here soon.", "success")
            return redirect(url_for(".ticket", ident=ticket.reference))
    status = 422 if errors else 200
    return render_template(
        "escalated/customer/new.html",
        form=form,
        errors=errors,
        departments=departments.list_departments(include_inactive=False),
        priorities=tickets.CUSTOMER_PRIORITIES,
        default_priority=current_app.config[Config.DEFAULT_PRIORITY],
    ), status


def _load(ident: str) -> Any:
    principal = current_principal()
    try:
        ticket = tickets.get_ticket(ident)
    except NotFound:
        abort(404)
    if not can_view_ticket(principal, ticket):
        abort(404)
    return ticket, principal


@requires("ticket.view")
def show_ticket(ident: str) -> str:
    ticket, _ = _load(ident)
    rows = replies.list_replies(ticket, include_internal=False)
    files = attachments.list_for_ticket(ticket, include_internal=False)
    people = serializers.People([ticket.requester_user_id, ticket.assignee_id,
                                 *(r.author_user_id for r in rows)])
    return render_template(
        "escalated/customer/ticket.html",
        ticket=ticket,
        replies=rows,
        files=files,
        people=people,
        can_close=current_app.config[Config.ALLOW_CUSTOMER_CLOSE]
        and ticket.status_category not in CLOSED_CATEGORIES,
        can_reopen=ticket.status_category in CLOSED_CATEGORIES,
        can_reply=ticket.status_category != "closed",
    )


@requires("reply.create")
def post_reply(ident: str) -> Response:
    ticket, principal = _load(ident)
    uploads = [attachments.Upload(f.filename or "", f.stream)
               for f in request.files.getlist("files") if f.filename]
    try:
        with ext().unit_of_work():
            replies.add_reply(ticket, request.form.get("body"), principal.actor,
                              uploads=uploads)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash("Your reply was sent.", "success")
    return redirect(url_for(".ticket", ident=ticket.reference))


def _move(ident: str, target: str, message: str) -> Response:
    ticket, principal = _load(ident)
    try:
        with ext().unit_of_work():
            tickets.change_status(ticket, target, principal.actor)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash(message, "success")
    return redirect(url_for(".ticket", ident=ticket.reference))


@requires("ticket.close")
def close_ticket(ident: str) -> Response:
    if not current_app.config[Config.ALLOW_CUSTOMER_CLOSE]:
        abort(403)
    return _move(ident, "closed", "The ticket is closed.")


@requires("ticket.close")
def reopen_ticket(ident: str) -> Response:
    return _move(ident, "reopened", "The ticket is open again.")
