"""The audit log: who changed what, with old and new values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UserId, table, utcnow


class AuditLog(Base):
    __tablename__ = table("audit_logs")
    __table_args__ = (
        Index(None, "entity_type", "entity_id"),
        Index(None, "actor_user_id"),
        Index(None, "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    actor_user_id: Mapped[str | None] = mapped_column(UserId)
    actor_type: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    old_values: Mapped[dict[str, Any] | None] = mapped_column()
    new_values: Mapped[dict[str, Any] | None] = mapped_column()
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
