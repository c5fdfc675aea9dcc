"""Guest access without an account: capability tokens for one ticket, and mailbox proofs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, table, utcnow
from .tickets import Ticket


class GuestToken(Base):
    """Opens one ticket to whoever holds the token. Only a SHA-256 digest is stored; tokens
    expire, and each new link mints a new token (older ones keep working until they expire)."""

    __tablename__ = table("guest_tokens")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey(Ticket.id, ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GuestChallenge(Base):
    """A short-lived code mailed to an address to prove the sender reads that mailbox."""

    __tablename__ = table("guest_challenges")
    __table_args__ = (Index(None, "email_hash", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
