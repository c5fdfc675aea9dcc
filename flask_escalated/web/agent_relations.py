"""The agent ticket page's relations: merge (with a picker that works as a plain form),
split replies into a new ticket, and the links panel.

The panel's data comes from :func:`relations_panel`, a template helper of the agent
blueprint, so the ticket page only includes ``escalated/agent/_relations.html``.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from pydantic import Field

from ..models import Ticket
from ..services import ext, relations
from ..services.errors import ServiceError
from ..services.permissions import can_act_on_ticket
from .api.schemas import Empty
from .api.schemas._base import Body, Id
from .api.schemas.relations import LinkTypeIn
from .page_forms import read_page, reads
from .security import current_principal, load_ticket, requires

Ident = Annotated[str, Field(min_length=1, max_length=40)]
LIST = {"widget": "checkboxes"}
#: The link types the panel offers, with their labels (read "this ticket ... that one").
LINK_LABELS = {"related": "Related to", "duplicate": "Duplicate of", "blocks": "Blocks",
               "blocked_by": "Blocked by", "parent": "Parent of", "child": "Child of",
               "split": "Split"}


class MergeForm(Body):
    """Merge this ticket into the one named (id or reference)."""

    into: Ident


class SplitForm(Body):
    """Split the chosen replies into a new ticket."""

    reply_ids: Annotated[list[Id], Field(min_length=1, max_length=relations.MAX_SPLIT_REPLIES)]
    subject: Annotated[str, Field(max_length=500)] | None = None


class LinkForm(Body):
    """Link this ticket to the one named."""

    ticket: Ident
    type: LinkTypeIn = "related"  # type: ignore[valid-type]


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/tickets/<ident>/merge", "merge_picker", merge_picker)
    bp.add_url_rule("/tickets/<ident>/merge", "merge", merge, methods=["POST"])
    bp.add_url_rule("/tickets/<ident>/split", "split", split, methods=["POST"])
    bp.add_url_rule("/tickets/<ident>/links", "link", add_link, methods=["POST"])
    bp.add_url_rule("/tickets/<ident>/links/<escalated_id:link_id>/delete", "unlink", remove_link,
                    methods=["POST"])
    bp.context_processor(lambda: {"relations_panel": relations_panel})


def relations_panel(ticket: Ticket) -> dict[str, Any]:
    """What the ticket page's relations include shows: the live ticket of a merged one, its
    links (one statement) and what the signed-in agent may do."""
    principal = current_principal()
    return {
        "merged_into": relations.merged_into(ticket),
        "links": relations.list_links(ticket, principal),
        "labels": LINK_LABELS,
        "types": relations.USER_LINK_TYPES,
        "may_merge": can_act_on_ticket(principal, ticket, "ticket.merge")
        and ticket.merged_into_id is None,
        "may_split": can_act_on_ticket(principal, ticket, "ticket.split"),
        "may_link": can_act_on_ticket(principal, ticket, "ticket.edit"),
    }


def _back(ticket: Ticket) -> Any:
    return redirect(url_for(".ticket", ident=ticket.reference), 303)


@requires("ticket.merge")
def merge_picker(ident: str) -> str:
    """The merge picker: tickets found by reference or subject, each with a merge button."""
    ticket, principal = load_ticket(ident, "ticket.merge")
    q = (request.args.get("q") or "")[:200]
    found = relations.merge_candidates(principal, ticket, q) if q.strip() else []
    return render_template("escalated/agent/merge.html", ticket=ticket, q=q, found=found)


@requires("ticket.merge")
@reads(MergeForm)
def merge(ident: str) -> Any:
    ticket, principal = load_ticket(ident, "ticket.merge")
    data = read_page(MergeForm)
    try:
        with ext().unit_of_work():
            target = relations.merge(principal, ticket, data.into)
            ref, into = ticket.reference, target.reference
    except ServiceError as exc:
        flash(exc.message, "error")
        return _back(ticket)
    flash(f"{ref} was merged into this ticket.", "success")
    return redirect(url_for(".ticket", ident=into), 303)


@requires("ticket.split")
@reads(SplitForm)
def split(ident: str) -> Any:
    ticket, principal = load_ticket(ident, "ticket.split")
    data = read_page(SplitForm, reply_ids=LIST)
    try:
        with ext().unit_of_work():
            new = relations.split(principal, ticket, data.reply_ids, data.subject)
            ref = new.reference
    except ServiceError as exc:
        flash(exc.message, "error")
        return _back(ticket)
    flash(f"Split from {ticket.reference}.", "success")
    return redirect(url_for(".ticket", ident=ref), 303)


@requires("ticket.edit")
@reads(LinkForm)
def add_link(ident: str) -> Any:
    ticket, principal = load_ticket(ident, "ticket.edit")
    data = read_page(LinkForm)
    try:
        with ext().unit_of_work():
            view = relations.link(principal, ticket, data.ticket, data.type)
            message = f"Linked: {LINK_LABELS[view.type].lower()} {view.other.reference}."
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash(message, "success")
    return _back(ticket)


@requires("ticket.edit")
@reads(Empty)
def remove_link(ident: str, link_id: int) -> Any:
    ticket, principal = load_ticket(ident, "ticket.edit")
    read_page(Empty)
    try:
        with ext().unit_of_work():
            relations.unlink(principal, ticket, link_id)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash("The link was removed.", "success")
    return _back(ticket)
