"""Tickets and what hangs off them: replies, notes, tags, followers, attachments, activity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, LongText, TimestampMixin, UserId, metadata, table, utcnow
from .people import Contact, Department


class Tag(TimestampMixin, Base):
    __tablename__ = table("tags")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    color: Mapped[str] = mapped_column(String(16), default="#6b7280")


ticket_tags = Table(
    table("ticket_tags"),
    metadata,
    Column("ticket_id", BigId, ForeignKey(table("tickets") + ".id", ondelete="CASCADE"),
           primary_key=True),
    Column("tag_id", BigId, ForeignKey(table("tags") + ".id", ondelete="CASCADE"),
           primary_key=True),
    Index(None, "tag_id", "ticket_id"),
)


class Ticket(TimestampMixin, Base):
    """A support request.

    ``status`` is the status slug (built-in or custom); ``status_category`` is the lifecycle
    category it maps onto, stored so queue queries filter on one indexed column.
    ``priority_rank`` makes "sort by priority" sort by urgency. ``version`` is the optimistic
    lock a client sends back with its updates.
    """

    __tablename__ = table("tickets")
    __table_args__ = (
        Index(None, "status_category", "updated_at", "id"),
        Index(None, "assignee_id", "status_category", "updated_at", "id"),
        Index(None, "department_id", "status_category", "updated_at", "id"),
        Index(None, "requester_user_id", "created_at", "id"),
        Index(None, "contact_id", "created_at", "id"),
        Index(None, "priority_rank", "id"),
        Index(None, "created_at", "id"),
        Index(None, "updated_at", "id"),
        Index(None, "snoozed_until"),
        # Reports select the tickets answered or resolved in a period, filter them by
        # department or assignee and read their stored timings: one index-only range scan each.
        Index("ix_escalated_tickets_report_first_response", "first_response_at", "department_id",
              "assignee_id", "first_response_seconds", "first_response_business_seconds"),
        Index("ix_escalated_tickets_report_resolution", "resolved_at", "department_id",
              "assignee_id", "resolution_seconds", "resolution_business_seconds"),
        # The SLA sweep looks for "not yet recorded, and due": the recorded-at column leads, so
        # rows already recorded are not walked past again on every batch.
        Index("ix_escalated_tickets_sweep_fr_breach", "first_response_breached_at",
              "first_response_due_at"),
        Index("ix_escalated_tickets_sweep_nr_breach", "next_response_breached_at",
              "next_response_due_at"),
        Index("ix_escalated_tickets_sweep_res_breach", "resolution_breached_at",
              "resolution_due_at"),
        Index("ix_escalated_tickets_sweep_fr_warn", "first_response_warned_at",
              "first_response_warning_at"),
        Index("ix_escalated_tickets_sweep_nr_warn", "next_response_warned_at",
              "next_response_warning_at"),
        Index("ix_escalated_tickets_sweep_res_warn", "resolution_warned_at",
              "resolution_warning_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(32), unique=True)
    subject: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(LongText)
    status: Mapped[str] = mapped_column(String(40))
    status_category: Mapped[str] = mapped_column(String(30))
    priority: Mapped[str] = mapped_column(String(20))
    priority_rank: Mapped[int] = mapped_column(SmallInteger)
    ticket_type: Mapped[str] = mapped_column(String(20), default="question")
    channel: Mapped[str] = mapped_column(String(20), default="web")

    requester_user_id: Mapped[str | None] = mapped_column(UserId)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey(Contact.id, ondelete="SET NULL")
    )
    assignee_id: Mapped[str | None] = mapped_column(UserId)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey(Department.id, ondelete="SET NULL")
    )
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey(table("tickets") + ".id", ondelete="SET NULL")
    )

    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    first_response_at: Mapped[datetime | None] = mapped_column()
    last_reply_at: Mapped[datetime | None] = mapped_column()
    last_customer_reply_at: Mapped[datetime | None] = mapped_column()
    last_agent_reply_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    # Seconds from creation to ``first_response_at`` and to ``resolved_at``: calendar time and
    # business time (on the schedule of the ticket's SLA policy, else the desk's), stored when
    # they happen (:mod:`..services.timings`) so reports aggregate them in SQL. A reopen
    # clears the resolution pair.
    first_response_seconds: Mapped[int | None] = mapped_column(Integer)
    first_response_business_seconds: Mapped[int | None] = mapped_column(Integer)
    resolution_seconds: Mapped[int | None] = mapped_column(Integer)
    resolution_business_seconds: Mapped[int | None] = mapped_column(Integer)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")

    # Snooze: the ticket leaves the active queue until ``snoozed_until``.
    snoozed_until: Mapped[datetime | None] = mapped_column()
    snoozed_by_id: Mapped[str | None] = mapped_column(UserId)

    # SLA. The ticket's SLA clock counts business time while not paused: ``sla_used_seconds``
    # had elapsed at ``sla_clock_at``; ``sla_paused_at`` is set while the clock stands still.
    # Each target is an offset on that clock; the due columns hold its projection (NULL while
    # paused or fulfilled) so the sweep is an indexed range query.
    sla_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey(table("sla_policies") + ".id", ondelete="SET NULL")
    )
    sla_used_seconds: Mapped[int] = mapped_column(BigId, default=0)
    sla_clock_at: Mapped[datetime | None] = mapped_column()
    sla_paused_at: Mapped[datetime | None] = mapped_column()
    next_response_from_seconds: Mapped[int | None] = mapped_column(BigId)
    first_response_due_at: Mapped[datetime | None] = mapped_column()
    next_response_due_at: Mapped[datetime | None] = mapped_column()
    resolution_due_at: Mapped[datetime | None] = mapped_column()
    # When to warn (the due time less the policy's lead, in business time), and when a warning
    # or breach was recorded (each at most once per due time).
    first_response_warning_at: Mapped[datetime | None] = mapped_column()
    next_response_warning_at: Mapped[datetime | None] = mapped_column()
    resolution_warning_at: Mapped[datetime | None] = mapped_column()
    first_response_warned_at: Mapped[datetime | None] = mapped_column()
    next_response_warned_at: Mapped[datetime | None] = mapped_column()
    resolution_warned_at: Mapped[datetime | None] = mapped_column()
    first_response_breached_at: Mapped[datetime | None] = mapped_column()
    next_response_breached_at: Mapped[datetime | None] = mapped_column()
    resolution_breached_at: Mapped[datetime | None] = mapped_column()

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # The version is bumped by the ticket services on every property change (not on counters
    # such as reply_count); SQLAlchemy still adds "WHERE version = :old" to every UPDATE, so two
    # writers racing on one ticket cannot both win.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    contact: Mapped[Contact | None] = relationship(lazy="select")
    department: Mapped[Department | None] = relationship(lazy="select")
    tags: Mapped[list[Tag]] = relationship(
        secondary=ticket_tags, order_by=Tag.slug, lazy="select", passive_deletes=True
    )
    followers: Mapped[list[TicketFollower]] = relationship(
        back_populates="ticket", lazy="select", passive_deletes=True, cascade="all, delete-orphan",
        order_by="TicketFollower.id",
    )

    @property
    def is_open(self) -> bool:
        from ..domain import OPEN_CATEGORIES

        return self.status_category in OPEN_CATEGORIES

    def __repr__(self) -> str:
        return f"<Ticket {self.reference or self.id} {self.status}>"


class Reply(TimestampMixin, Base):
    """A public reply or an internal note (``is_internal``) on a ticket."""

    __tablename__ = table("replies")
    __table_args__ = (
        Index(None, "ticket_id", "created_at", "id"),
        # Reports: public agent replies written in a period, per author (and ticket, for the
        # filters), read from the index alone.
        Index("ix_escalated_replies_report", "created_at", "author_type", "is_internal",
              "department_id", "author_user_id", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey(Ticket.id, ondelete="CASCADE"), nullable=False
    )
    author_user_id: Mapped[str | None] = mapped_column(UserId)
    author_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey(Contact.id, ondelete="SET NULL")
    )
    author_type: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(LongText)
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    is_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(20), default="web")
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    #: The ticket's department when the reply was written (reports count it there).
    department_id: Mapped[int | None] = mapped_column(BigId)
    #: Set on replies carried over by a merge: the ticket they were written on.
    merged_from_id: Mapped[int | None] = mapped_column(
        ForeignKey(Ticket.id, ondelete="SET NULL")
    )

    attachments: Mapped[list[Attachment]] = relationship(
        lazy="select", order_by="Attachment.id", viewonly=True
    )


class TicketFollower(Base):
    __tablename__ = table("ticket_followers")
    __table_args__ = (UniqueConstraint("ticket_id", "user_id"), Index(None, "user_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey(Ticket.id, ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[str] = mapped_column(UserId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="followers")


class Attachment(Base):
    """A file on a ticket (optionally on one reply). Bytes live in the attachment storage."""

    __tablename__ = table("attachments")
    __table_args__ = (Index(None, "ticket_id", "id"), Index(None, "reply_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey(Ticket.id, ondelete="CASCADE"), nullable=False
    )
    reply_id: Mapped[int | None] = mapped_column(ForeignKey(Reply.id, ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    uploaded_by_user_id: Mapped[str | None] = mapped_column(UserId)
    uploaded_by_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey(Contact.id, ondelete="SET NULL")
    )
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Activity(Base):
    """One timeline row per change. Written only by ``services.activity.record``."""

    __tablename__ = table("activities")
    __table_args__ = (
        Index(None, "ticket_id", "id"),
        Index(None, "created_at"),
        # Reports: status changes and assignments in a period, with the department and the
        # assignee of each assignment, so the agents report reads the index alone.
        Index("ix_escalated_activities_report", "type", "created_at", "department_id",
              "assignee_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey(Ticket.id, ondelete="CASCADE"), nullable=False
    )
    type: Mapped[str] = mapped_column(String(40))
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_user_id: Mapped[str | None] = mapped_column(UserId)
    actor_contact_id: Mapped[int | None] = mapped_column(BigId)
    properties: Mapped[dict[str, Any] | None] = mapped_column()
    #: The ticket's department when the event happened (a fact: a later move does not
    #: rewrite it, and it is kept when the department is deleted).
    department_id: Mapped[int | None] = mapped_column(BigId)
    #: ``assigned`` rows: the new assignee (also in ``properties``), as a column for reports.
    assignee_id: Mapped[str | None] = mapped_column(UserId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
