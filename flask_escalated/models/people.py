"""People the helpdesk knows about besides the host's users: contacts, agents, departments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, TimestampMixin, UserId, table


class Contact(TimestampMixin, Base):
    """A requester without a host account (widget, e-mail), deduplicated by normalized e-mail.

    ``user_id`` links the contact to a host user once that person signs up.
    """

    __tablename__ = table("contacts")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(UserId, index=True)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")


class AgentProfile(TimestampMixin, Base):
    """Makes a host user an agent. ``role`` is ``admin``, ``agent`` or ``light_agent``."""

    __tablename__ = table("agent_profiles")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[str] = mapped_column(UserId, unique=True)
    role: Mapped[str] = mapped_column(String(40), default="agent")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    max_open_tickets: Mapped[int | None] = mapped_column(Integer)
    #: ``online`` or ``away``: automatic assignment passes over agents who are away.
    availability: Mapped[str] = mapped_column(String(10), default="online",
                                              server_default="online")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    signature: Mapped[str | None] = mapped_column(Text)


class Department(TimestampMixin, Base):
    __tablename__ = table("departments")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: How new tickets in this department are assigned: manual, round_robin, least_loaded or
    #: skills.
    assignment_strategy: Mapped[str] = mapped_column(String(20), default="manual")
    #: Round-robin cursor: the agent who got the department's last auto-assigned ticket.
    last_assigned_user_id: Mapped[str | None] = mapped_column(UserId)

    members: Mapped[list[DepartmentMember]] = relationship(
        back_populates="department",
        cascade="all, delete-orphan",
        order_by="DepartmentMember.user_id",
        lazy="select",
    )

    @property
    def agent_ids(self) -> list[str]:
        return [m.user_id for m in self.members]


class DepartmentMember(Base):
    __tablename__ = table("department_members")
    __table_args__ = (
        UniqueConstraint("department_id", "user_id"),
        Index(None, "user_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    department_id: Mapped[int] = mapped_column(
        ForeignKey(Department.id, ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[str] = mapped_column(UserId)
    created_at: Mapped[datetime | None] = mapped_column()

    department: Mapped[Department] = relationship(back_populates="members")
