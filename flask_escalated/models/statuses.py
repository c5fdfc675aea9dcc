"""Admin-defined ticket statuses, each mapped onto one of the eight lifecycle categories."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, TimestampMixin, table


class TicketStatus(TimestampMixin, Base):
    """A custom status. The eight built-in statuses are not rows: they always exist."""

    __tablename__ = table("ticket_statuses")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(30))
    color: Mapped[str] = mapped_column(String(16), default="#6b7280")
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: While a ticket is in this status its SLA clock stands still ("waiting on third party").
    pauses_sla: Mapped[bool] = mapped_column(Boolean, default=False)
