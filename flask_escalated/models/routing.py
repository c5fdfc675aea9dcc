"""Skills, agent capacity and the tickets automatic assignment could not place.

Skills are routed from tags and departments (``skill_tags``, ``skill_departments``): a ticket
needs every skill its tags and its department route to. ``AgentCapacity`` holds limits only;
the load is always counted from the live tickets, so it cannot drift.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, TimestampMixin, UserId, metadata, table
from .people import Department
from .tickets import Tag, Ticket


class Skill(TimestampMixin, Base):
    __tablename__ = table("skills")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str | None] = mapped_column(Text)


skill_tags = Table(
    table("skill_tags"),
    metadata,
    Column("skill_id", BigId, ForeignKey(Skill.id, ondelete="CASCADE"), primary_key=True),
    Column("tag_id", BigId, ForeignKey(Tag.id, ondelete="CASCADE"), primary_key=True),
    Index(None, "tag_id", "skill_id"),
)

skill_departments = Table(
    table("skill_departments"),
    metadata,
    Column("skill_id", BigId, ForeignKey(Skill.id, ondelete="CASCADE"), primary_key=True),
    Column("department_id", BigId, ForeignKey(Department.id, ondelete="CASCADE"),
           primary_key=True),
    Index(None, "department_id", "skill_id"),
)


class AgentSkill(Base):
    """An agent's skill with a proficiency from 1 (novice) to 5 (expert)."""

    __tablename__ = table("agent_skills")
    __table_args__ = (
        UniqueConstraint("user_id", "skill_id"),
        Index(None, "skill_id", "user_id"),
        CheckConstraint("proficiency BETWEEN 1 AND 5", name="proficiency"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[str] = mapped_column(UserId)
    skill_id: Mapped[int] = mapped_column(ForeignKey(Skill.id, ondelete="CASCADE"))
    proficiency: Mapped[int] = mapped_column(SmallInteger, default=3)


class AgentCapacity(TimestampMixin, Base):
    """At most ``max_concurrent`` open tickets of ``channel`` assigned to the agent at once;
    the ``default`` channel limits all their open tickets together."""

    __tablename__ = table("agent_capacities")
    __table_args__ = (UniqueConstraint("user_id", "channel"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[str] = mapped_column(UserId)
    channel: Mapped[str] = mapped_column(String(20), default="default")
    max_concurrent: Mapped[int] = mapped_column(Integer, default=10)


class UnroutedTicket(Base):
    """A ticket automatic assignment tried and could not place, and why. Only meaningful while
    the ticket is open and unassigned; assigning it removes the row."""

    __tablename__ = table("unrouted_tickets")
    __table_args__ = (Index(None, "at"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey(Ticket.id, ondelete="CASCADE"),
                                           primary_key=True)
    reason: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column()
