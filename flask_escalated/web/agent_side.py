"""The agent ticket page's side-conversation panel: start one, reply, close, reopen.

The forms read through the API's own schemas (a refused form shows the ticket page again with
the field named and the text kept), the changes go through :mod:`..services.side_conversations`,
and the panel's data comes from a template helper, so the ticket page itself only includes
``escalated/agent/_side_conversations.html``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Blueprint, flash, redirect, request, url_for
from pydantic import BaseModel

from ..models import SideConversation, SideConversationReply, Ticket
from ..services import agents, ext, mail, serializers
from ..services import side_conversations as sides
from ..services.errors import ServiceError
from ..services.permissions import Principal, can_act_on_ticket
from .api.schemas import Empty
from .api.schemas.side_conversations import SideConversationCreate, SideReplyCreate
from .page_forms import read_page, reads
from .security import current_principal, load_ticket, requires

M = TypeVar("M", bound=BaseModel)
PARTICIPANTS = {"widget": "checkboxes"}


def register(bp: Blueprint) -> None:
    base = "/tickets/<ident>/side-conversations"
    bp.add_url_rule(base, "side_start", start, methods=["POST"])
    bp.add_url_rule(base + "/<escalated_id:sc>/reply", "side_reply", reply, methods=["POST"])
    bp.add_url_rule(base + "/<escalated_id:sc>/close", "side_close", close, methods=["POST"])
    bp.add_url_rule(base + "/<escalated_id:sc>/reopen", "side_reopen", reopen, methods=["POST"])
    bp.app_context_processor(lambda: {"escalated_side_panel": panel})


@dataclass
class Panel:
    conversations: list[SideConversation]
    replies: dict[int, list[SideConversationReply]]
    people: serializers.People
    agents: list[str]
    may_write: bool
    more: bool = False
    #: Outgoing mail is configured: without it the start form offers no outside address.
    mail_on: bool = True
    draft: dict[str, Any] = field(default_factory=dict)


def panel(ticket: Ticket, limit: int = 50) -> Panel | None:
    """What the panel shows (None for someone who may not see side conversations)."""
    principal = current_principal()
    try:
        sides.check_access(principal, ticket)
    except ServiceError:
        return None
    rows, more = sides.page_for_ticket(ticket, limit=limit)
    found = sides.replies_for(rows)
    agent_ids = [a.user_id for a in agents.list_agents()]
    ids: set[str | None] = set(agent_ids)
    for row in rows:
        ids.update([row.created_by, *(row.participants or [])])
        ids.update(r.author_user_id for r in found[row.id])
    return Panel(rows, found, serializers.People(i for i in ids if i), agent_ids,
                 can_act_on_ticket(principal, ticket, sides.WRITE), more is not None,
                 mail_on=mail.enabled())


def _act(ident: str, model: type[M], change: Callable[[Ticket, Principal, M], str],
         draft: dict[str, str], prefix: str = "side_", **overrides: Any) -> Any:
    """Read the form, make the change in one unit of work, PRG to the panel; a refusal shows
    the ticket page again with the error, each field's beside its input (keyed with
    ``prefix``, apart from the composer's) and the typed text."""
    from .agent import _after_failure

    ticket, principal = load_ticket(ident)
    try:
        sides.check_access(principal, ticket, write=True)
        data = read_page(model, **overrides)
        with ext().unit_of_work():
            message = change(ticket, principal, data)
    except ServiceError as exc:
        return _after_failure(ident, exc, draft, prefix=prefix)
    flash(message, "success")
    return redirect(url_for(".ticket", ident=ticket.reference) + "#side-conversations", 303)


def _typed(*names: str, prefix: str = "side_") -> dict[str, str]:
    return {prefix + n: request.form.get(n, "") for n in names}


@requires("reply.create_internal")
@reads(SideConversationCreate)
def start(ident: str) -> Any:
    def apply(ticket: Ticket, principal: Principal, data: SideConversationCreate) -> str:
        sides.start(ticket, principal.actor, subject=data.subject, body=data.body,
                    participants=data.participants, to_email=data.to_email)
        return "Side conversation started."

    return _act(ident, SideConversationCreate, apply,
                _typed("subject", "body", "to_email"), participants=PARTICIPANTS)


@requires("reply.create_internal")
@reads(SideReplyCreate)
def reply(ident: str, sc: int) -> Any:
    def apply(ticket: Ticket, principal: Principal, data: SideReplyCreate) -> str:
        sides.reply(sides.get(ticket, sc), ticket, principal.actor, data.body)
        return "Reply added to the side conversation."

    return _act(ident, SideReplyCreate, apply, {f"side_reply_{sc}": request.form.get("body", "")},
                prefix=f"side_reply_{sc}_")


@requires("reply.create_internal")
@reads(Empty)
def close(ident: str, sc: int) -> Any:
    def apply(ticket: Ticket, principal: Principal, data: Empty) -> str:
        sides.close(sides.get(ticket, sc), ticket, principal.actor)
        return "Side conversation closed."

    return _act(ident, Empty, apply, {})


@requires("reply.create_internal")
@reads(Empty)
def reopen(ident: str, sc: int) -> Any:
    def apply(ticket: Ticket, principal: Principal, data: Empty) -> str:
        sides.reopen(sides.get(ticket, sc), ticket, principal.actor)
        return "Side conversation reopened."

    return _act(ident, Empty, apply, {})
