"""Pages for people without an account: a guest's ticket (``/guest/<token>``) and the
satisfaction survey (``/rate/<token>``). The token in the URL is the key; forms carry the CSRF
token; every failure to open a token reads the same. Rate-limited per address (``guest``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from pydantic import BaseModel

from ..config import Config
from ..models import Ticket
from ..services import attachments, csat, ext, guest_access, replies
from ..services.errors import PermissionDenied, ServiceError
from .api.schemas.feedback import RatingIn
from .api.schemas.replies import ReplyCreate
from .html import install_html_errors
from .page_forms import by_input, read_page, reads
from .security import csrf_token, protect_form, public

M = TypeVar("M", bound=BaseModel)


def create_guest_blueprint() -> Blueprint:
    bp = Blueprint("guest", __name__)
    bp.before_request(protect_form)
    bp.context_processor(lambda: {"csrf_token": csrf_token})
    install_html_errors(bp)
    bp.add_url_rule("/guest/<token>", "ticket", guest_ticket)
    bp.add_url_rule("/guest/<token>/reply", "reply", guest_reply, methods=["POST"])
    bp.add_url_rule("/guest/<token>/rate", "rate", guest_rate, methods=["POST"])
    bp.add_url_rule("/rate/<token>", "survey", survey, methods=["GET", "POST"])
    return bp


@public
def guest_ticket(token: str) -> tuple[str, int]:
    ticket = guest_access.resolve(token)
    page = _ticket_page(ticket, token)
    ext().session.commit()  # last_used_at
    return page, 200


def _ticket_page(ticket: Ticket, token: str, *, draft: dict[str, str] | None = None,
                 errors: dict[str, Any] | None = None) -> str:
    rows = replies.list_replies(ticket, include_internal=False)
    files = attachments.list_for_ticket(ticket, include_internal=False)
    rating = csat.for_ticket(ticket.id)
    return render_template(
        "escalated/guest/ticket.html", ticket=ticket, replies=rows, files=files, token=token,
        rating=rating, can_reply=ticket.status_category != "closed",
        can_rate=rating is None and current_app.config[Config.ENABLE_CSAT]
        and ticket.status_category in ("resolved", "closed"),
        draft=draft or {}, errors=by_input(errors))


def _act_on(token: str, model: type[M], action: Callable[[Ticket, M], object], done: str, *,
            only: tuple[str, ...] | None = None, draft: tuple[str, ...] = ()) -> Any:
    """Read the form through ``model`` and run ``action`` on the token's ticket. A bad token
    is a 404; a refused form (422) shows the ticket again with the fields named and the text
    kept; other problems become a message."""
    try:
        data = read_page(model, only=only)
        with ext().unit_of_work():
            action(guest_access.resolve(token), data)
    except ServiceError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
        if exc.status == 422:
            typed = {name: request.form.get(name, "") for name in draft}
            page = _ticket_page(guest_access.resolve(token), token, draft=typed,
                                errors=exc.fields)
            return page, 422
    else:
        flash(done, "success")
    return redirect(url_for(".ticket", token=token))


def _reply(ticket: Ticket, data: ReplyCreate) -> None:
    if data.is_note:
        raise PermissionDenied("You need the 'reply.create_internal' permission for this.")
    replies.add_reply(ticket, data.body, guest_access.actor_for(ticket), channel="web")


@public
@reads(ReplyCreate)
def guest_reply(token: str) -> Any:
    return _act_on(token, ReplyCreate, _reply, "Your reply was sent.", only=("body",),
                   draft=("body",))


@public
@reads(RatingIn)
def guest_rate(token: str) -> Any:
    return _act_on(token, RatingIn, lambda t, data: csat.submit_for_ticket(
        t, data.rating, data.comment), "Thank you for your rating!",
        draft=("rating", "comment"))


@public
@reads(RatingIn)
def survey(token: str) -> Any:
    row = csat.pending_for_token(token)
    errors: dict[str, Any] = {}
    if request.method == "POST":
        try:
            data = read_page(RatingIn)
            with ext().unit_of_work():
                csat.submit_with_token(token, data.rating, data.comment)
        except ServiceError as exc:
            if exc.status == 404:
                raise
            errors = exc.fields or {"form": exc.message}
            flash(exc.message, "error")
        else:
            return render_template("escalated/guest/rated.html"), 200
    chosen = request.form.get("rating") or request.args.get("rating") or ""
    return render_template("escalated/guest/survey.html", rating=row, chosen=chosen,
                           comment=request.form.get("comment", ""), errors=by_input(errors),
                           labels=csat.LABELS), 422 if errors else 200
