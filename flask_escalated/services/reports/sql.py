"""The few expressions that differ per database: seconds since the epoch, local days, and
percentiles.

Everything else in the reports is portable SQLAlchemy. Durations are not worked out here: the
tickets store their calendar and business seconds to first response and to resolution
(:mod:`..timings`), so the timing reports are percentiles over columns, computed in SQL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.types import BigInteger, Float, Integer

from .. import session
from .window import Window

#: A column or an ORM attribute standing for one.
Column = ColumnElement[Any] | QueryableAttribute[Any]

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


# ---------------------------------------------------------------------------- percentiles
#: The percentiles every timing report gives: the median and the 90th.
QUANTILES = (0.5, 0.9)


@dataclass
class Spread:
    """One group's count, its percentiles per value column, and its conditional counts."""

    count: int
    quantiles: list[dict[float, float]]  # per value column: quantile -> value
    counts: list[int]


def spread(where: Sequence[ColumnElement[bool]], values: Sequence[Column], *,
           group: Column | None = None,
           counts: Sequence[ColumnElement[bool]] = ()) -> dict[Any, Spread]:
    """Per value of ``group`` (one group, key ``None``, without it): how many rows match
    ``where`` with every column of ``values`` set, the :data:`QUANTILES` of each value
    column (linear interpolation between closest ranks, as ``percentile_cont``), and how
    many rows meet each of ``counts``. One statement, whatever the number of rows.

    PostgreSQL has ``percentile_cont``. Elsewhere each row is ranked per group with
    ``ROW_NUMBER()`` and ``COUNT(*) OVER``, and only the rows next to each percentile's
    position come back (at most two per percentile and column), to be interpolated here.
    """
    where = [*where, *(v.is_not(None) for v in values)]
    if dialect() == "postgresql":
        return _spread_aggregate(where, values, group, counts)
    return _spread_ranked(where, values, group, counts)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def _spread_aggregate(where: Sequence[ColumnElement[bool]],
                      values: Sequence[Column], group: Column | None,
                      counts: Sequence[ColumnElement[bool]]) -> dict[Any, Spread]:
    key = group if group is not None else literal(None)
    stmt = select(key, func.count(),
                  *(func.percentile_cont(q).within_group(v) for v in values for q in QUANTILES),
                  *(_count_if(c) for c in counts)).where(*where)
    if group is not None:
        stmt = stmt.group_by(group)
    out: dict[Any, Spread] = {}
    width = len(QUANTILES)
    for g, n, *rest in session().execute(stmt):
        if not n:
            continue
        found = rest[:len(values) * width]
        out[g] = Spread(int(n), [
            {q: float(found[i * width + j]) for j, q in enumerate(QUANTILES)}
            for i in range(len(values))], [int(c or 0) for c in rest[len(values) * width:]])
    return out


def _next_to(rank: Any, n: Any, q: float) -> ColumnElement[bool]:
    """``rank`` (from 0) is ``floor(p)`` or ``floor(p) + 1`` where ``p = (n - 1) * q``, in
    integer arithmetic (``q`` as a fraction) so every database agrees on the boundary."""
    f = Fraction(q).limit_denominator(1000)
    p = (n - 1) * f.numerator
    return and_((rank - 1) * f.denominator <= p, (rank + 1) * f.denominator > p)


def _spread_ranked(where: Sequence[ColumnElement[bool]], values: Sequence[Column],
                   group: Column | None,
                   counts: Sequence[ColumnElement[bool]]) -> dict[Any, Spread]:
    part = [group] if group is not None else None
    columns: list[Any] = [(group if group is not None else literal(0)).label("g"),
                          func.count().over(partition_by=part).label("n")]
    for i, v in enumerate(values):
        columns += [v.label(f"v{i}"),
                    (func.row_number().over(partition_by=part, order_by=v) - 1).label(f"r{i}")]
    columns += [_count_if(c).over(partition_by=part).label(f"c{j}")
                for j, c in enumerate(counts)]
    ranked = select(*columns).where(*where).subquery()
    near = [_next_to(ranked.c[f"r{i}"], ranked.c.n, q)
            for i in range(len(values)) for q in QUANTILES]
    picked: dict[Any, tuple[int, list[dict[int, float]], list[int]]] = {}
    for row in session().execute(select(ranked).where(or_(*near))).mappings():
        key = row["g"] if group is not None else None
        if key not in picked:
            picked[key] = (int(row["n"]), [{} for _ in values],
                           [int(row[f"c{j}"] or 0) for j in range(len(counts))])
        for i in range(len(values)):
            picked[key][1][i][int(row[f"r{i}"])] = float(row[f"v{i}"])
    return {key: Spread(n, [{q: _interpolate(ranks, n, q) for q in QUANTILES}
                            for ranks in by_rank], extra)
            for key, (n, by_rank, extra) in picked.items()}


def _interpolate(ranks: dict[int, float], n: int, q: float) -> float:
    position = (n - 1) * Fraction(q).limit_denominator(1000)
    lo = math.floor(position)
    hi = min(lo + 1, n - 1)
    return ranks[lo] + (ranks[hi] - ranks[lo]) * float(position - lo)
