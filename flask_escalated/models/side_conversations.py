"""Side conversations: internal threads on a ticket, optionally e-mailed to an outside address.

A side conversation belongs to its ticket but never to the ticket's public thread: its replies
live in their own table, so no query written for customers (portal, widget, guest pages, the
API's reply lists, the search index) can reach them by accident.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, JSONType, LongText, TimestampMixin, UserId, table, utcnow
from .tickets import Ticket


class SideConversation(TimestampMixin, Base):
    """``participants`` are host user ids of agents; ``to_email`` the outside address (a
    vendor) the conversation is mailed to, whose answers come back into it."""

    __tablename__ = table("side_conversations")
    __table_args__ = (Index(None, "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey(Ticket.id, ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(500))
    #: open | closed
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_by: Mapped[str | None] = mapped_column(UserId)
    participants: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    to_email: Mapped[str | None] = mapped_column(String(320))
    closed_at: Mapped[datetime | None] = mapped_column()


class SideConversationReply(Base):
    """A message in a side conversation: an agent's (``author_type`` ``agent``) or one that
    came back by mail from the outside address (``outside``, with ``author_email``)."""

    __tablename__ = table("side_conversation_replies")
    # Explicit short names: the conventional ones pass MySQL's 64 characters.
    __table_args__ = (Index("ix_escalated_scr_conversation_id", "side_conversation_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    side_conversation_id: Mapped[int] = mapped_column(
        ForeignKey(SideConversation.id, ondelete="CASCADE", name="fk_escalated_scr_conversation"))
    author_type: Mapped[str] = mapped_column(String(20))
    author_user_id: Mapped[str | None] = mapped_column(UserId)
    author_email: Mapped[str | None] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(LongText)
    #: web | email
    channel: Mapped[str] = mapped_column(String(20), default="web")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
