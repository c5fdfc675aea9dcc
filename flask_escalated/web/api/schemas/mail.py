"""The inbound mail log."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, StringConstraints

from ._base import Id, Out, absent
from .common import Paged, Timestamp

InboundStatus = Literal["received", "processed", "ignored", "duplicate", "failed"]

#: The states of a message in the log (``InboundEmail.status``).
STATUSES: tuple[str, ...] = get_args(InboundStatus)


class InboundList(Paged):
    status: InboundStatus | None = None
    ticket_id: Id | None = Field(None, description="Messages that reached this ticket.")
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = Field(
        None, description="Text in the sender's address or name, or in the subject.")


# ---------------------------------------------------------------------------- responses
class InboundOut(Out):
    id: int
    adapter: str
    status: InboundStatus
    outcome: str | None
    matched_by: str | None
    message_id: str | None
    from_email: str | None
    from_name: str | None
    to: str | None
    subject: str | None
    ticket_id: int | None
    reply_id: int | None
    error: str | None
    raw_size: int | None
    created_at: Timestamp
    processed_at: Timestamp
    raw_excerpt: str = absent(description="One message only: the first 20,000 bytes.")


class InboundEnvelope(Out):
    data: InboundOut


class InboundPage(Out):
    data: list[InboundOut]
    next_cursor: str | None


class ReprocessOut(Out):
    inbound_id: int
    status: InboundStatus
    outcome: str | None
    matched_by: str | None = absent()
    ticket_id: int | None = absent()
    ticket_reference: str | None = absent()
    reply_id: int | None = absent()
    reason: str | None = absent()


class ReprocessEnvelope(Out):
    data: ReprocessOut
