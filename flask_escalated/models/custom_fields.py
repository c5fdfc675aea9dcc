"""Custom fields: the admin-defined field catalogue and the typed values tickets carry.

Values live in a typed value table (one row per ticket and field, one row per chosen option of a
``multi_select``) rather than a JSON column on the ticket: the same composite indexes
``(field_id, value_*, ticket_id)`` serve equality and range filters on PostgreSQL, MariaDB and
SQLite alike, where JSON expression indexes differ per database (and MariaDB has none).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, JSONType, TimestampMixin, table
from .tickets import Ticket

#: The family's field types.
FIELD_TYPES = ("text", "textarea", "number", "date", "select", "multi_select", "checkbox")
#: Where a field applies; only tickets for now (contacts later).
FIELD_CONTEXTS = ("ticket", "contact")
#: Operators of the conditional display rules.
CONDITION_OPERATORS = ("equals", "not_equals", "contains", "is_empty", "is_not_empty")


class CustomField(TimestampMixin, Base):
    """``options`` is ``[{"value", "label"}]`` (select types); ``conditions`` is a list of
    ``{"field": <other key>, "operator", "value"}``, ANDed: the field is shown (and may be
    required) only while all hold."""

    __tablename__ = table("custom_fields")
    __table_args__ = (UniqueConstraint("context", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    context: Mapped[str] = mapped_column(String(20), default="ticket")
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(20))
    options: Mapped[list[Any]] = mapped_column(JSONType)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    customer_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    customer_editable: Mapped[bool] = mapped_column(Boolean, default=False)
    conditions: Mapped[list[Any]] = mapped_column(JSONType)


class CustomFieldValue(Base):
    """One value of one field on one ticket. Exactly one ``value_*`` column is set, by type:
    text/select/multi_select in ``value_text`` (textarea in ``value_long``), number and
    checkbox (0/1) in ``value_number``, date in ``value_date``."""

    __tablename__ = table("custom_field_values")
    __table_args__ = (
        # Explicit short names: the conventional ones pass MariaDB's 64-character limit.
        Index("ix_escalated_cfv_field_text", "field_id", "value_text", "ticket_id"),
        Index("ix_escalated_cfv_field_number", "field_id", "value_number", "ticket_id"),
        Index("ix_escalated_cfv_field_date", "field_id", "value_date", "ticket_id"),
        Index("ix_escalated_cfv_ticket_field", "ticket_id", "field_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey(Ticket.id, ondelete="CASCADE", name="fk_escalated_cfv_ticket"), nullable=False
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey(CustomField.id, ondelete="CASCADE", name="fk_escalated_cfv_field"),
        nullable=False
    )
    value_text: Mapped[str | None] = mapped_column(String(255))
    value_long: Mapped[str | None] = mapped_column(Text)
    value_number: Mapped[float | None] = mapped_column(Double)
    value_date: Mapped[date | None] = mapped_column(Date)
