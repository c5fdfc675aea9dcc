"""Key/value settings that admins change at run time; they override the config."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, JSONType, TimestampMixin, table


class Setting(TimestampMixin, Base):
    __tablename__ = table("settings")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    value: Mapped[Any] = mapped_column(JSONType)
