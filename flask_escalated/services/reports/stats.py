"""Percentiles and business time over many (start, end) pairs at once.

Business time per ticket would walk the calendar days each ticket spans
(:func:`..business_hours.between`). Here the schedule's intervals over the whole span are laid
out once with a running total, so each pair costs two binary searches: ``F(end) - F(start)``
where ``F(t)`` is the business seconds before ``t``. The intervals come from the same
:class:`~..business_hours.Schedule` (holidays, overnight shifts, DST) as the SLA clock.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone

from .. import business_hours as bh

#: Pairs spanning more than this are clipped to it (a ticket opened years ago): the cost of
#: laying out the schedule stays bounded whatever the data holds.
MAX_SPAN_DAYS = 3 * 366


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's ``percentile_cont``)."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    lo = math.floor(position)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (position - lo)


def summary(values: Iterable[float]) -> dict[str, float | int | None]:
    """Count, median and 90th percentile (seconds, rounded to whole seconds)."""
    ordered = sorted(values)
    med, p90 = percentile(ordered, 0.5), percentile(ordered, 0.9)
    return {"count": len(ordered),
            "median": round(med) if med is not None else None,
            "p90": round(p90) if p90 is not None else None}


class BusinessClock:
    """``F(t)``: business seconds from the start of the span to ``t`` (epoch seconds)."""

    def __init__(self, schedule: bh.Schedule, first: float, last: float) -> None:
        last = min(last, first + MAX_SPAN_DAYS * 86400)
        self.floor = first
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.before: list[float] = []
        if not schedule.has_hours or last <= first:
            return
        start = datetime.fromtimestamp(first, timezone.utc)
        day = start.astimezone(schedule.tz).date() - timedelta(days=1)
        final = datetime.fromtimestamp(last, timezone.utc).astimezone(schedule.tz).date()
        total = 0.0
        while day <= final:
            for lo, hi in schedule.intervals_on(day):
                a, b = lo.timestamp(), hi.timestamp()
                if self.ends and a < self.ends[-1]:  # overlaps the previous day's overnight shift
                    a = self.ends[-1]
                if b <= a:
                    continue
                self.starts.append(a)
                self.ends.append(b)
                self.before.append(total)
                total += b - a
            day += timedelta(days=1)

    def at(self, t: float) -> float:
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0.0
        return self.before[i] + min(max(t - self.starts[i], 0.0), self.ends[i] - self.starts[i])

    def between(self, a: float, b: float) -> float:
        return max(self.at(b) - self.at(a), 0.0) if b > a else 0.0


def clock_for(pairs: Sequence[tuple[float, float]], schedule: bh.Schedule) -> BusinessClock:
    """One clock covering every pair (build it once, use it for many groups)."""
    if not pairs:
        return BusinessClock(schedule, 0.0, 0.0)
    return BusinessClock(schedule, min(a for a, _ in pairs), max(b for _, b in pairs))


def durations(pairs: Sequence[tuple[float, float]], schedule: bh.Schedule,
              clock: BusinessClock | None = None) -> tuple[list[float], list[float]]:
    """Calendar and business seconds for each ``(start, end)`` pair of epoch seconds."""
    if not pairs:
        return [], []
    clock = clock or clock_for(pairs, schedule)
    at = clock.at
    calendar = [b - a if b > a else 0.0 for a, b in pairs]
    business = [max(at(b) - at(a), 0.0) if b > a else 0.0 for a, b in pairs]
    return calendar, business
