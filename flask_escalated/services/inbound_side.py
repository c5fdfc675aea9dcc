"""Inbound mail that answers a side conversation, told apart from the customer's thread.

A side conversation mailed to an outside address has its own signed Reply-To
(``side+{id}.{hmac8}@…``) and its own Message-ID thread (``<side-{id}…@…>``), shapes the
ticket resolution in :mod:`.inbound` never matches. The signed address always identifies the
conversation; the thread headers only when no ``ESCALATED_REPLY_SECRET`` is set (the same
compatibility rule as the ticket's). Finding the conversation is not authority: only its outside
address may write into it; any other sender is refused and logged, nothing is posted.
"""

from __future__ import annotations

from flask import current_app

from ..config import Config
from ..models import InboundEmail, SideConversation, Ticket
from . import mail_ids, session, side_conversations
from .contacts import normalize_email
from .errors import ValidationError
from .inbound import Outcome, _bodies, _claim, dedupe_key, finish, strip_quoted
from .inbound_parse import ParsedMail

MATCHED_BY = "side_conversation"


def resolve(parsed: ParsedMail) -> SideConversation | None:
    """The side conversation a message answers, if any."""
    db = session()
    candidates = [i for i in map(mail_ids.verify_side_address, parsed.to) if i is not None]
    if not current_app.config[Config.REPLY_SECRET]:
        candidates += mail_ids.side_ids_in(parsed.in_reply_to)
        candidates += mail_ids.side_ids_in(parsed.references)
    for ident in candidates:
        found = db.get(SideConversation, ident)
        if found is not None:
            return found
    return None


def _sender_is(conversation: SideConversation, sender: str | None) -> bool:
    if not sender or not conversation.to_email:
        return False
    try:
        return normalize_email(sender) == conversation.to_email
    except ValidationError:
        return False


def process(row: InboundEmail, parsed: ParsedMail, conversation: SideConversation) -> Outcome:
    """File the outside party's answer in its side conversation, or refuse a forged sender."""
    ticket = session().get(Ticket, conversation.ticket_id)
    if ticket is None:  # pragma: no cover - the conversation goes with its ticket
        return finish(row, Outcome("ignored", "no_ticket", MATCHED_BY), parsed)
    if not _sender_is(conversation, parsed.from_email):
        return finish(row, Outcome("ignored", "unverified_sender", MATCHED_BY, ticket, reason=(
            f"{parsed.from_email} wrote to side conversation {conversation.id}, whose outside "
            "address is another: only that address may answer, so nothing was posted.")), parsed)
    full, _ = _bodies(parsed)
    side_conversations.receive_outside(conversation, ticket, normalize_email(parsed.from_email),
                                       strip_quoted(full) or "(no text)")
    return _claim(row, Outcome("processed", "side_reply_added", MATCHED_BY, ticket),
                  dedupe_key(parsed.message_id), parsed)
