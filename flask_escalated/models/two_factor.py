"""Second factors for agents: a TOTP secret, the last accepted time step, hashed recovery codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, JSONType, TimestampMixin, UserId, table


class TwoFactorCredential(TimestampMixin, Base):
    __tablename__ = table("two_factor")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[str] = mapped_column(UserId, unique=True)
    #: Base32 TOTP secret. Until ``confirmed_at`` is set the enrolment is pending.
    secret: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None] = mapped_column()
    #: The TOTP time step last accepted: a code for this step or an earlier one is a replay.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)
    #: SHA-256 hex digests of the unused recovery codes.
    recovery_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
