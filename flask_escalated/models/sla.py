"""Business schedules, holidays and SLA policies."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, TimestampMixin, table


class BusinessSchedule(TimestampMixin, Base):
    """Working hours in an IANA time zone: ``hours`` maps weekday names to interval lists,
    e.g. ``{"monday": [{"start": "09:00", "end": "17:00"}], ...}``."""

    __tablename__ = table("business_schedules")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    hours: Mapped[dict[str, Any]] = mapped_column()
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    holidays: Mapped[list[Holiday]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan", order_by="Holiday.date",
        lazy="selectin",
    )


class Holiday(TimestampMixin, Base):
    """A day off: one date, or (``recurring``) the same month and day every year."""

    __tablename__ = table("holidays")
    __table_args__ = (Index(None, "schedule_id", "date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey(BusinessSchedule.id, ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(120))
    date: Mapped[date] = mapped_column(Date)
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)

    schedule: Mapped[BusinessSchedule] = relationship(back_populates="holidays")


class SlaPolicy(TimestampMixin, Base):
    """Targets per priority, for the tickets its conditions pick.

    ``conditions``: ``{"priorities": [...], "department_ids": [...], "tags": [...],
    "requester_types": ["user" | "contact"]}`` (absent or empty = any).
    ``targets``: ``{"<priority>": {"first_response": minutes, "next_response": minutes,
    "resolution": minutes}}``; a missing target means none for that priority.
    ``schedule_id`` ``None`` means calendar time.
    """

    __tablename__ = table("sla_policies")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    conditions: Mapped[dict[str, Any]] = mapped_column()
    targets: Mapped[dict[str, Any]] = mapped_column()
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey(BusinessSchedule.id, ondelete="SET NULL")
    )
    #: Warn this many minutes (of business time) before a target is due.
    warning_minutes: Mapped[int] = mapped_column(Integer, default=30)

    schedule: Mapped[BusinessSchedule | None] = relationship(lazy="selectin")
