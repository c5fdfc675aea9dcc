"""Canned responses: saved reply texts an agent inserts into the composer."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, LongText, TimestampMixin, UserId, table
from .people import Department

#: ``scope`` of a shared response; a personal one's scope is ``user:<owner id>``.
SHARED_SCOPE = "shared"


class CannedResponse(TimestampMixin, Base):
    """A titled Markdown text with ``{{word}}`` placeholders, personal (its author's) or shared.

    ``scope`` ("shared" or "user:<owner id>") exists so the database itself keeps a shortcut
    unique where an agent types it: among the shared responses, and among one agent's own.
    The service sets it from ``is_shared`` and ``owner_user_id``; nothing else writes it.
    """

    __tablename__ = table("canned_responses")
    __table_args__ = (
        UniqueConstraint("scope", "shortcut"),
        # The picker's lists: an agent's own, and the shared ones (by department), by title.
        Index(None, "owner_user_id", "is_shared", "title", "id"),
        Index(None, "is_shared", "department_id", "title", "id"),
        # Type-ahead: a title or a shortcut starting with what was typed.
        Index(None, "title"),
        Index(None, "shortcut"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(LongText)
    shortcut: Mapped[str | None] = mapped_column(String(40))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            Department.id, ondelete="SET NULL", name="fk_escalated_canned_responses_department_id"
        )
    )
    is_shared: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_user_id: Mapped[str | None] = mapped_column(UserId)
    scope: Mapped[str] = mapped_column(String(80))
