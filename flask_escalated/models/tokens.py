"""API tokens: only a SHA-256 hash of the secret is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, JSONType, TimestampMixin, UserId, table


class ApiToken(TimestampMixin, Base):
    __tablename__ = table("api_tokens")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[str] = mapped_column(UserId, index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: First characters of the plain token, so people can tell their tokens apart.
    token_prefix: Mapped[str] = mapped_column(String(12))
    abilities: Mapped[list[str]] = mapped_column(JSONType)
    expires_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    last_used_ip: Mapped[str | None] = mapped_column(String(45))
    revoked_at: Mapped[datetime | None] = mapped_column()
