"""The report's period: local dates in the desk's time zone, and their UTC edges.

The desk's time zone is the default business schedule's (``is_default``), else the one in
``ESCALATED_SLA["business_hours"]["timezone"]`` (``UTC`` unless the host set it). The same
schedule is the one business time is counted on, so "business hours" and "a day" agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from zoneinfo import ZoneInfo

from ..errors import ValidationError
from ..sla import desk_schedule

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "Window", "desk_schedule"]

#: The longest period one report covers (a year and a day: "last year" with a leap day).
MAX_DAYS = 366
#: The default period: the last 30 days, today included.
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Window:
    """Local dates ``first``..``last`` (both included) in ``tz``."""

    first: date
    last: date
    tz: ZoneInfo

    @classmethod
    def build(cls, first: date | None, last: date | None, tz: ZoneInfo,
              today: date) -> Window:
        """The period a request asks for; missing ends default to the last 30 days."""
        if last is None:
            last = today if first is None else min(first + timedelta(days=DEFAULT_DAYS - 1),
                                                   max(first, today))
        if first is None:
            first = last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise ValidationError("'from' must not be after 'to'.", {"from": "after 'to'"})
        if (last - first).days + 1 > MAX_DAYS:
            raise ValidationError(f"A report covers at most {MAX_DAYS} days.",
                                  {"to": f"at most {MAX_DAYS} days after 'from'"})
        return cls(first, last, tz)

    def midnight(self, day: date) -> datetime:
        """The UTC instant local ``day`` begins (the first valid wall time on a DST day)."""
        local = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        return local.astimezone(timezone.utc)

    @property
    def start(self) -> datetime:
        return self.midnight(self.first)

    @property
    def end(self) -> datetime:
        """Exclusive: the start of the day after ``last``."""
        return self.midnight(self.last + timedelta(days=1))

    @cached_property
    def days(self) -> list[date]:
        n = (self.last - self.first).days + 1
        return [self.first + timedelta(days=i) for i in range(n)]

    def offsets(self, until: datetime) -> list[tuple[datetime | None, int]]:
        """The zone's UTC offset (seconds) over ``[start - 1 day, until]`` as segments:
        ``[(None, off0), (t1, off1), ...]`` where ``off_i`` holds from ``t_i`` on.

        A day bucket is ``floor((epoch + offset) / 86400)``; a zone changes offset a couple of
        times a year, so this is a short CASE instead of a per-row time-zone lookup (SQLite
        has no zone data and MariaDB's is often not loaded).
        """
        cursor = self.start - timedelta(days=1)
        segments: list[tuple[datetime | None, int]] = [(None, self._offset(cursor))]
        step = timedelta(minutes=15)
        while cursor < until:
            nxt = cursor + timedelta(days=1)
            if self._offset(nxt) != segments[-1][1]:
                probe = cursor
                while self._offset(probe) == segments[-1][1]:
                    probe += step
                lo, hi = probe - step, probe  # the change lies in (lo, hi]
                while hi - lo > timedelta(seconds=1):
                    mid = lo + (hi - lo) / 2
                    if self._offset(mid) == segments[-1][1]:
                        lo = mid
                    else:
                        hi = mid
                segments.append((hi.replace(microsecond=0), self._offset(hi)))
            cursor = nxt
        return segments

    def _offset(self, instant: datetime) -> int:
        delta = instant.astimezone(self.tz).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    def day_number(self, day: date) -> int:
        return (day - date(1970, 1, 1)).days
