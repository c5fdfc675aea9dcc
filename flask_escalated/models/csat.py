"""Customer satisfaction: one survey per ticket, answered once through a single-use token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UserId, table, utcnow
from .people import Contact
from .tickets import Ticket


class SatisfactionRating(Base):
    __tablename__ = table("satisfaction_ratings")
    __table_args__ = (
        # Reports: ratings given in a period, per department and agent, from the index alone.
        Index("ix_escalated_satisfaction_ratings_report", "rated_at", "department_id",
              "agent_id", "rating"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey(Ticket.id, ondelete="CASCADE"), unique=True)
    #: SHA-256 of the survey token; NULL once used.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column()
    #: The assignee when the survey was sent: the agent the rating is about.
    agent_id: Mapped[str | None] = mapped_column(UserId, index=True)
    #: The ticket's department when the survey was sent (reports count the rating there).
    department_id: Mapped[int | None] = mapped_column(BigId)
    requester_user_id: Mapped[str | None] = mapped_column(UserId)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey(Contact.id, ondelete="SET NULL"))
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
