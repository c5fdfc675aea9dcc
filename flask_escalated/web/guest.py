"""Pages for people without an account: a guest's ticket (``/guest/<token>``) and the
satisfaction survey (``/rate/<token>``). The token in the URL is the key; forms carry the CSRF
token; every failure to open a token reads the same. Rate-limited per address (``guest``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..config import Config
from ..models import Ticket
from ..services import attachments, csat, ext, guest_access, replies
from ..services.errors import ServiceError
from .html import install_html_errors
from .security import csrf_token, protect_form, public


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
    rows = replies.list_replies(ticket, include_internal=False)
    files = attachments.list_for_ticket(ticket, include_internal=False)
    rating = csat.for_ticket(ticket.id)
    page = render_template(
        "escalated/guest/ticket.html", ticket=ticket, replies=rows, files=files, token=token,
        rating=rating, can_reply=ticket.status_category != "closed",
        can_rate=rating is None and current_app.config[Config.ENABLE_CSAT]
        and ticket.status_category in ("resolved", "closed"))
    ext().session.commit()  # last_used_at
    return page, 200


def _act_on(token: str, action: Callable[[Ticket], object], done: str) -> Response:
    """Run ``action`` on the token's ticket; a bad token is a 404, other problems a message."""
    try:
        with ext().unit_of_work():
            action(guest_access.resolve(token))
    except ServiceError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for(".ticket", token=token))


@public
def guest_reply(token: str) -> Response:
    return _act_on(token, lambda t: replies.add_reply(
        t, request.form.get("body"), guest_access.actor_for(t), channel="web"),
        "Your reply was sent.")


@public
def guest_rate(token: str) -> Response:
    return _act_on(token, lambda t: csat.submit_for_ticket(
        t, request.form.get("rating"), request.form.get("comment")),
        "Thank you for your rating!")


@public
def survey(token: str) -> Any:
    row = csat.pending_for_token(token)
    errors: dict[str, Any] = {}
    if request.method == "POST":
        try:
            with ext().unit_of_work():
                csat.submit_with_token(token, request.form.get("rating"),
                                       request.form.get("comment"))
        except ServiceError as exc:
            if exc.status == 404:
                raise
            errors = exc.fields or {"form": exc.message}
        else:
            return render_template("escalated/guest/rated.html"), 200
    chosen = request.form.get("rating") or request.args.get("rating") or ""
    return render_template("escalated/guest/survey.html", rating=row, chosen=chosen,
                           errors=errors, labels=csat.LABELS), 422 if errors else 200
