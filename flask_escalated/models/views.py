"""Saved views: a named set of queue filters and a sort, personal or shared."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, JSONType, TimestampMixin, UserId, metadata, table
from .people import Department


class SavedView(TimestampMixin, Base):
    """``filters`` is an object whose keys are the ticket list's query parameters
    (``{"priority": "urgent", "cf.kind": "billing"}``). A shared view is seen by every agent
    when it has no department, else by the members of its departments (``view_departments``)."""

    __tablename__ = table("saved_views")
    __table_args__ = (
        # The navigation's lists: an agent's own, and the shared ones, in order.
        Index(None, "owner_user_id", "position", "id"),
        Index(None, "is_shared", "position", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    filters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    sort: Mapped[str | None] = mapped_column(String(20))
    owner_user_id: Mapped[str | None] = mapped_column(UserId)
    is_shared: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


view_departments = Table(
    table("saved_view_departments"),
    metadata,
    Column("view_id", BigId, ForeignKey(SavedView.id, ondelete="CASCADE"), primary_key=True),
    Column("department_id", BigId, ForeignKey(Department.id, ondelete="CASCADE"), primary_key=True),
    Index(None, "department_id", "view_id"),
)


class DefaultView(Base):
    """The view an agent's queue opens on when it is opened without filters."""

    __tablename__ = table("saved_view_defaults")

    user_id: Mapped[str] = mapped_column(UserId, primary_key=True)
    view_id: Mapped[int] = mapped_column(ForeignKey(SavedView.id, ondelete="CASCADE"))
