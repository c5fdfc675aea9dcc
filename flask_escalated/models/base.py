"""The extension's own declarative base, metadata and column types.

Our tables live on their own ``MetaData`` (not the host's ``db.Model``) so the host's
``flask db migrate`` never proposes to create or drop them, and our shipped migrations never
depend on the host's. Queries still run through the host's ``db.session``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

TABLE_PREFIX = "escalated_"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: Primary keys: BIGINT on servers, INTEGER on SQLite (only INTEGER PRIMARY KEY autoincrements).
BigId = BigInteger().with_variant(Integer(), "sqlite")

# The server-specific types below are decorators that pick their form once the dialect is
# known, rather than ``with_variant`` instances built at import: building those imports the
# PostgreSQL and MySQL dialects into every process (3.3 MiB), SQLite deployments included.


class JSONDocument(TypeDecorator[Any]):
    """JSON: JSONB on PostgreSQL, native JSON elsewhere."""

    impl = JSON
    cache_ok = True
    hashable = False

    @property
    def should_evaluate_none(self) -> bool:  # type: ignore[override]
        # As JSON's own: a Python ``None`` is stored as JSON ``null``, not SQL NULL.
        return bool(self.impl_instance.should_evaluate_none)

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return self.impl_instance


class LongTextType(TypeDecorator[str]):
    """Bodies that may reach ``ESCALATED_MAX_BODY_LENGTH`` characters: MySQL's TEXT holds only
    64 KiB, so MEDIUMTEXT (16 MiB) there; TEXT is unbounded elsewhere."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import MEDIUMTEXT

            return dialect.type_descriptor(MEDIUMTEXT())
        return self.impl_instance


#: JSON columns (JSONB on PostgreSQL).
JSONType = JSONDocument()

#: Long bodies (MEDIUMTEXT on MySQL and MariaDB).
LongText = LongTextType()

#: Host user ids: strings so integer, UUID and string keys all fit (Flask-Login's ``get_id()``).
UserId = String(64)


class UTCDateTime(TypeDecorator[datetime]):
    """Store naive UTC, return aware UTC, on every backend.

    SQLite and MariaDB have no time zone in their datetime types; normalising at the edge means
    every datetime the package sees is aware UTC, whatever the database.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "mysql":
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        if dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import DATETIME as SQLITE_DATETIME

            return dialect.type_descriptor(SQLITE_DATETIME())
        return dialect.type_descriptor(DateTime(timezone=False))

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of every flask-escalated model."""

    metadata = metadata
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType}


def utcnow() -> datetime:
    """Current time from the active clock (injectable in tests)."""
    from ..clock import now

    return now()


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False)


def table(name: str) -> str:
    """The prefixed table name for ``name``."""
    return TABLE_PREFIX + name
