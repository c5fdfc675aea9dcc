"""Escalation rules, time-based automations, event-driven workflows, macros, and the rules'
firing memory and logs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, JSONType, TimestampMixin, table, utcnow
from .tickets import Ticket


class RuleMixin(TimestampMixin):
    """``conditions`` is a group ``{"all": [...]} | {"any": [...]}`` of conditions
    ``{"field", "operator", "value"}`` or nested groups; ``actions`` is a list of
    ``{"type", "value"}``."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    conditions: Mapped[dict[str, Any]] = mapped_column()
    actions: Mapped[list[Any]] = mapped_column(JSONType)
    last_run_at: Mapped[datetime | None] = mapped_column()


class EscalationRule(RuleMixin, Base):
    """Evaluated by ``flask escalated evaluate-escalations``."""

    __tablename__ = table("escalation_rules")


class Automation(RuleMixin, Base):
    """A time-based rule, run by ``flask escalated run-automations``."""

    __tablename__ = table("automations")


class Workflow(RuleMixin, Base):
    """An event-driven rule: runs when one of ``trigger_events`` happens to a ticket."""

    __tablename__ = table("workflows")

    #: Dotted event names (``ticket.created``, ``reply.created`` ...).
    trigger_events: Mapped[list[str]] = mapped_column(JSONType)


class Macro(TimestampMixin, Base):
    """A named list of actions an agent applies to a ticket by hand: no conditions, no
    triggers. Personal (``owner_user_id``) or shared with every agent."""

    __tablename__ = table("macros")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    actions: Mapped[list[Any]] = mapped_column(JSONType)
    is_shared: Mapped[bool] = mapped_column(Boolean, default=True)
    owner_user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class RuleFiring(Base):
    """"This rule already acted on this ticket in the current condition window."

    Written when a rule acts; deleted when the rule's condition is found false for the ticket
    again, which re-arms it. The unique key makes a second concurrent firing impossible.
    """

    __tablename__ = table("rule_firings")
    __table_args__ = (
        UniqueConstraint("rule_kind", "rule_id", "ticket_id"),
        Index(None, "ticket_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule_kind: Mapped[str] = mapped_column(String(20))
    rule_id: Mapped[int] = mapped_column(BigId)
    ticket_id: Mapped[int] = mapped_column(ForeignKey(Ticket.id, ondelete="CASCADE"))
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)


class RuleLog(Base):
    """One row per evaluation that acted: which rule, which ticket, what it did."""

    __tablename__ = table("rule_logs")
    __table_args__ = (Index(None, "rule_kind", "rule_id", "id"), Index(None, "ticket_id"),
                      Index(None, "created_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule_kind: Mapped[str] = mapped_column(String(20))
    rule_id: Mapped[int] = mapped_column(BigId)
    rule_name: Mapped[str] = mapped_column(String(120))
    ticket_id: Mapped[int] = mapped_column(ForeignKey(Ticket.id, ondelete="CASCADE"))
    actions: Mapped[list[Any]] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
