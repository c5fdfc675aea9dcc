"""Custom roles and the role grants that give agents extra permissions, optionally per department.

The system roles (``admin``, ``agent``, ``light_agent``) live in code so their meaning cannot
drift between installations; this table holds the roles admins define. An agent's base role is
on their :class:`~flask_escalated.models.AgentProfile`; grants add roles on top of it, either
everywhere (``department_id`` is NULL) or for one department's tickets only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, JSONType, TimestampMixin, UserId, table, utcnow
from .people import Department


class Role(TimestampMixin, Base):
    __tablename__ = table("roles")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    #: Permission patterns: exact slugs (``ticket.view``), ``group.*`` or ``*``.
    permissions: Mapped[list[str]] = mapped_column(JSONType)


class RoleGrant(Base):
    __tablename__ = table("role_grants")
    __table_args__ = (Index(None, "user_id", "role_slug"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[str] = mapped_column(UserId)
    #: A system role's slug or a :class:`Role` slug (system roles have no row to point at).
    role_slug: Mapped[str] = mapped_column(String(60), index=True)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey(Department.id, ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
