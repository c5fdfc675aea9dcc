"""The few expressions that differ per database: seconds since the epoch, and local days.

Everything else in the reports is portable SQLAlchemy. Durations and percentiles are worked
out in Python from the epoch columns (see :mod:`.stats`): business time needs the two instants
anyway, and fetching two floats per ticket is cheaper than any per-dialect percentile.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, cast, extract, func, literal_column
from sqlalchemy.types import BigInteger, Float, Integer

from .. import session
from .window import Window

SECONDS_PER_DAY = 86400


def dialect() -> str:
    return session().get_bind().dialect.name


def epoch(column: Any) -> ColumnElement[Any]:
    """Seconds since 1970-01-01 UTC of a (naive UTC) timestamp column, as a number."""
    name = dialect()
    if name == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    if name == "postgresql":
        return cast(extract("epoch", column), Float)
    # MariaDB/MySQL: UNIX_TIMESTAMP() reads the column in the session's zone; this does not.
    return func.timestampdiff(literal_column("MICROSECOND"),
                              literal_column("'1970-01-01 00:00:00'"), column) / 1_000_000.0


def _floor(value: ColumnElement[Any]) -> ColumnElement[Any]:
    if dialect() == "sqlite":
        # Timestamps after 1970 are positive, where truncation is the floor.
        return cast(value, Integer)
    return cast(func.floor(value), BigInteger)


def local_day(column: Any, window: Window, until: datetime) -> ColumnElement[Any]:
    """The local day number (days since 1970-01-01 in the desk's zone) of ``column``."""
    segments = window.offsets(until)
    offset: Any
    if len(segments) == 1:
        offset = segments[0][1]
    else:
        whens = [(column < start, before)
                 for (start, _), (_, before) in zip(segments[1:], segments, strict=False)
                 if start is not None]
        offset = case(*whens, else_=segments[-1][1])
    return _floor((epoch(column) + offset) / SECONDS_PER_DAY)
