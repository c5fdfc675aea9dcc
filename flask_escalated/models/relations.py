"""Typed links between tickets (related, duplicate, blocks, parent, split)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UserId, table, utcnow
from .tickets import Ticket


class TicketLink(Base):
    """``ticket`` *link_type* ``linked_ticket``, read left to right: ESC-1 blocks ESC-2,
    ESC-1 is the parent of ESC-2, ESC-1 was split into ESC-2.

    Only the canonical direction is stored (``blocked_by`` and ``child`` are stored as the
    other ticket's ``blocks`` and ``parent``), and one pair of tickets has at most one link
    whichever way round (the service checks the reverse pair; the unique constraint holds the
    stored one). Both tickets list the link; the far side reads the inverse type.
    """

    __tablename__ = table("ticket_links")
    __table_args__ = (
        UniqueConstraint("ticket_id", "linked_ticket_id"),
        # The far side's lookups ("links pointing at me").
        Index(None, "linked_ticket_id", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey(Ticket.id, ondelete="CASCADE"), nullable=False
    )
    linked_ticket_id: Mapped[int] = mapped_column(
        ForeignKey(Ticket.id, ondelete="CASCADE"), nullable=False
    )
    link_type: Mapped[str] = mapped_column(String(20))
    created_by_user_id: Mapped[str | None] = mapped_column(UserId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
