"""Side conversations on a ticket (agents only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from ....services.side_conversations import MAX_PARTICIPANTS, MAX_SUBJECT
from ._base import Body, LongText, Out, UserRef
from .common import Email, Timestamp, UserOut

Subject = Annotated[str, Field(min_length=1, max_length=MAX_SUBJECT,
                               examples=["Replacement part for order 1042?"])]


class SideConversationCreate(Body):
    """Start a side conversation with its first message; with ``to_email`` every agent message
    is also mailed there, and the answers come back into this conversation."""

    subject: Subject
    body: LongText = Field(examples=["Do you have the part in stock?"])
    participants: list[UserRef] = Field(
        [], max_length=MAX_PARTICIPANTS, description="Agents taking part (you are added).")
    to_email: Email | None = Field(None, description="An outside address (a vendor).")


class SideReplyCreate(Body):
    body: LongText = Field(examples=["Thanks, please ship it."])


class SideReplyOut(Out):
    id: int
    author_type: Literal["agent", "outside"]
    author: UserOut | None
    author_email: str | None
    body: str
    channel: str
    created_at: datetime


class SideConversationOut(Out):
    id: int
    ticket_id: int
    subject: str
    status: Literal["open", "closed"]
    created_by: UserOut | None
    participants: list[UserOut | None]
    to_email: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: Timestamp
    replies: list[SideReplyOut]


class SideConversationEnvelope(Out):
    data: SideConversationOut


class SideConversationPage(Out):
    data: list[SideConversationOut]
    next_cursor: str | None
