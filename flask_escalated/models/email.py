"""E-mail in and out: the outbound mail outbox and the log of every inbound message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, JSONType, LongText, UserId, table, utcnow
from .tickets import Reply, Ticket


class OutboundEmail(Base):
    """A message to send, written in the same transaction as the change that caused it.

    Rendered when written (so a retry sends exactly the same message) and sent after commit
    from the ``escalated-mail`` queue; ``flask escalated deliver-mail`` sends what is due.
    """

    __tablename__ = table("outbound_emails")
    __table_args__ = (Index(None, "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey(Ticket.id, ondelete="CASCADE"), index=True)
    reply_id: Mapped[int | None] = mapped_column(ForeignKey(Reply.id, ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(40))
    to_email: Mapped[str] = mapped_column(String(320))
    to_name: Mapped[str | None] = mapped_column(String(255))
    to_user_id: Mapped[str | None] = mapped_column(UserId)
    #: The sender's display name (the helpdesk's name when the row was written).
    from_name: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(500))
    text_body: Mapped[str] = mapped_column(LongText)
    html_body: Mapped[str] = mapped_column(LongText)
    #: Extra headers (Message-ID, In-Reply-To, References, Reply-To, ...).
    headers: Mapped[dict[str, Any]] = mapped_column(JSONType)
    message_id: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    claimed_until: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboundEmail(Base):
    """Every message the inbound webhook received, what became of it, and why.

    The raw message is kept in attachment storage (``raw_key``) so an admin can see it and
    reprocess it. ``dedupe_key`` (a digest of the Message-ID) is set once the message has been
    applied, and is unique: the same message delivered twice is applied once.
    """

    __tablename__ = table("inbound_emails")
    __table_args__ = (Index(None, "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    adapter: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[str | None] = mapped_column(String(255), index=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    from_email: Mapped[str | None] = mapped_column(String(320), index=True)
    from_name: Mapped[str | None] = mapped_column(String(255))
    to_email: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(500))
    in_reply_to: Mapped[str | None] = mapped_column(String(255))
    reference_ids: Mapped[str | None] = mapped_column(Text)
    raw_key: Mapped[str | None] = mapped_column(String(80))
    raw_size: Mapped[int] = mapped_column(Integer, default=0)
    #: received → processed | ignored | duplicate | failed
    status: Mapped[str] = mapped_column(String(20), default="received")
    #: reply_added | ticket_created | auto_reply | bulk | bounce | loop | empty | duplicate |
    #: unauthenticated | unverified_agent | side_reply_added | unverified_sender | no_sender |
    #: unreadable | sns_subscription | error
    outcome: Mapped[str | None] = mapped_column(String(30))
    matched_by: Mapped[str | None] = mapped_column(String(30))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey(Ticket.id, ondelete="SET NULL"), index=True)
    reply_id: Mapped[int | None] = mapped_column(ForeignKey(Reply.id, ondelete="SET NULL"))
    #: Why it failed, or why it was ignored (the sender checks that failed, the bulk header...).
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column()
