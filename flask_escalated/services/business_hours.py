"""Business-time arithmetic: add N business minutes to an instant, and count business time
between two instants, on a weekly schedule in an IANA time zone with holidays.

Pure functions over a :class:`Schedule` (no database access), so SLA code, sweeps and tests share
one implementation. Days are walked, never minutes: the cost grows with the number of calendar
days spanned, not with the amount of time.

Rules:
- A schedule has, per weekday, zero or more intervals of *local wall-clock* time. An interval
  whose end is not after its start runs overnight into the next day (``22:00-06:00``), and
  belongs to the day it starts on; ``end`` may be ``24:00``.
- Holidays are local dates (one-off) or month/day pairs (recurring every year). A holiday
  removes the intervals that *start* on that date.
- Business time is real elapsed time inside the intervals, measured in UTC, so an interval
  that spans a DST change counts the hours that really passed.
- ``add(t, 0)`` is ``t``; adding lands exactly on an interval's end when the budget runs out
  there (a due time of 17:00, not next morning).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ValidationError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
#: Safety stop: a schedule whose holidays leave no working day for this long is broken.
MAX_DAYS = 366 * 20


@dataclass(frozen=True)
class Interval:
    """Local wall-clock minutes from midnight: ``start`` < 1440, ``end`` ≤ 2880 (overnight)."""

    start: int
    end: int


@dataclass(frozen=True)
class Schedule:
    tz: ZoneInfo
    week: tuple[tuple[Interval, ...], ...]  # index 0 = Monday
    holidays: frozenset[date] = field(default_factory=frozenset)
    recurring: frozenset[tuple[int, int]] = field(default_factory=frozenset)

    @property
    def has_hours(self) -> bool:
        return any(self.week)

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.recurring

    def intervals_on(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The UTC instants of the intervals that start on local date ``day``."""
        if self.is_holiday(day):
            return
        midnight = datetime(day.year, day.month, day.day)
        for iv in self.week[day.weekday()]:
            start = _to_utc(midnight + timedelta(minutes=iv.start), self.tz)
            end = _to_utc(midnight + timedelta(minutes=iv.end), self.tz)
            if end > start:
                yield start, end


def _to_utc(local_naive: datetime, tz: ZoneInfo) -> datetime:
    return local_naive.replace(tzinfo=tz).astimezone(timezone.utc)


def _minutes(text: Any, name: str) -> int:
    if not isinstance(text, str) or not _HHMM.match(text):
        raise ValidationError(f"{name} must be HH:MM.", {name: "expected HH:MM"})
    hours, minutes = int(text[:2]), int(text[3:])
    if hours == 24 and minutes:
        raise ValidationError(f"{name} must be at most 24:00.", {name: "after 24:00"})
    return hours * 60 + minutes


def parse_week(spec: Mapping[str, Any]) -> tuple[tuple[Interval, ...], ...]:
    """``{"monday": [{"start": "09:00", "end": "17:00"}, ...], ...}`` → intervals per weekday.

    A weekday may also map to a single ``{"start", "end"}`` object (the family's format).
    """
    if not isinstance(spec, Mapping):
        raise ValidationError("Business hours must map weekdays to intervals.", {"hours": "?"})
    unknown = set(spec) - set(WEEKDAYS)
    if unknown:
        raise ValidationError(f"Unknown weekdays: {', '.join(sorted(unknown))}.",
                              {"hours": "weekday names monday..sunday"})
    week: list[tuple[Interval, ...]] = []
    for name in WEEKDAYS:
        raw = spec.get(name) or []
        items = [raw] if isinstance(raw, Mapping) else raw
        if not isinstance(items, list):
            raise ValidationError(f"{name} must be a list of intervals.", {name: "expected list"})
        day: list[Interval] = []
        for item in items:
            if not isinstance(item, Mapping):
                raise ValidationError(f"{name}: intervals are objects.", {name: "expected object"})
            start = _minutes(item.get("start"), f"{name}.start")
            end = _minutes(item.get("end"), f"{name}.end")
            if start >= 1440:
                raise ValidationError(f"{name}: a shift cannot start at 24:00.",
                                      {name: "start before 24:00"})
            if end <= start:
                end += 1440  # overnight
            day.append(Interval(start, end))
        day.sort(key=lambda iv: iv.start)
        for a, b in itertools.pairwise(day):
            if b.start < a.end:
                raise ValidationError(f"{name}: intervals overlap.", {name: "overlapping"})
        week.append(tuple(day))
    return tuple(week)


def zone(name: Any) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ValidationError("A time zone is required.", {"timezone": "required"})
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"Unknown time zone '{name[:60]}'.",
                              {"timezone": "an IANA name such as Europe/Berlin"}) from None


def build(
    timezone_name: str,
    week: Mapping[str, Any],
    holidays: Iterable[date] = (),
    recurring: Iterable[tuple[int, int]] = (),
) -> Schedule:
    return Schedule(zone(timezone_name), parse_week(week), frozenset(holidays),
                    frozenset(recurring))


def _check(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("business-time arithmetic needs aware datetimes")
    return instant.astimezone(timezone.utc)


def _days_from(schedule: Schedule, instant: datetime) -> Iterator[date]:
    # Start a day early: an overnight interval from yesterday may still be running.
    day = instant.astimezone(schedule.tz).date() - timedelta(days=1)
    for _ in range(MAX_DAYS):
        yield day
        day += timedelta(days=1)
    raise ValidationError(
        "The schedule has no working time for years ahead (check its hours and holidays).",
        {"schedule": "no working time"},
    )


def add(schedule: Schedule, instant: datetime, minutes: float) -> datetime:
    """The instant after ``minutes`` of business time have passed from ``instant``."""
    start = _check(instant)
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    remaining = timedelta(minutes=minutes)
    if not remaining:
        return start
    if not schedule.has_hours:
        raise ValidationError("The schedule has no business hours.", {"schedule": "empty"})
    cursor = start
    for day in _days_from(schedule, start):
        for iv_start, iv_end in schedule.intervals_on(day):
            if iv_end <= cursor:
                continue
            begin = max(iv_start, cursor)
            available = iv_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
            cursor = iv_end
    raise AssertionError("unreachable")  # pragma: no cover


def subtract(schedule: Schedule, instant: datetime, minutes: float) -> datetime:
    """The instant from which ``minutes`` of business time lead up to ``instant``
    (the inverse of :func:`add` for instants inside business hours)."""
    end = _check(instant)
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    remaining = timedelta(minutes=minutes)
    if not remaining:
        return end
    if not schedule.has_hours:
        raise ValidationError("The schedule has no business hours.", {"schedule": "empty"})
    cursor = end
    day = end.astimezone(schedule.tz).date()
    for _ in range(MAX_DAYS):
        for iv_start, iv_end in reversed(list(schedule.intervals_on(day))):
            if iv_start >= cursor:
                continue
            finish = min(iv_end, cursor)
            available = finish - iv_start
            if remaining <= available:
                return finish - remaining
            remaining -= available
            cursor = iv_start
        day -= timedelta(days=1)
    raise ValidationError("The schedule has no working time for years back.",
                          {"schedule": "no working time"})


def between(schedule: Schedule, a: datetime, b: datetime) -> timedelta:
    """Business time in ``[a, b)``; zero when ``b`` is not after ``a``."""
    start, end = _check(a), _check(b)
    if end <= start or not schedule.has_hours:
        return timedelta(0)
    total = timedelta(0)
    last_day = end.astimezone(schedule.tz).date()
    for day in _days_from(schedule, start):
        if day > last_day:
            break
        for iv_start, iv_end in schedule.intervals_on(day):
            lo, hi = max(iv_start, start), min(iv_end, end)
            if hi > lo:
                total += hi - lo
    return total


def minutes_between(schedule: Schedule, a: datetime, b: datetime) -> float:
    return between(schedule, a, b) / timedelta(minutes=1)


def is_open(schedule: Schedule, instant: datetime) -> bool:
    """Whether ``instant`` falls inside business hours."""
    moment = _check(instant)
    day = moment.astimezone(schedule.tz).date()
    return any(
        lo <= moment < hi
        for d in (day - timedelta(days=1), day)
        for lo, hi in schedule.intervals_on(d)
    )


def calendar() -> Schedule:
    """Every minute counts (policies on calendar time)."""
    full = (Interval(0, 1440),)
    return Schedule(ZoneInfo("UTC"), (full,) * 7)
