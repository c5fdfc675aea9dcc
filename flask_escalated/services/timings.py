"""Response timings stored on the ticket: seconds to first response and to resolution.

When an agent first answers and when a ticket is resolved, the time since its creation is
stored twice: calendar seconds, and business seconds on the schedule of the ticket's SLA policy
when the policy names one, else on the desk's schedule (:func:`.sla.desk_schedule`, the one
reports take their time zone from). A reopen clears the resolution pair; resolving again stores
the time from creation to the new resolution. Reports then aggregate these columns in SQL
instead of working out business time per ticket (see :mod:`.reports.catalogue`).

:class:`BusinessClock` does the same arithmetic for many instants at once (the migration's
backfill and the benchmark generator): the schedule's intervals are laid out once with a
running total, so each instant costs one binary search.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime, timedelta, timezone

from ..clock import now
from ..models import Ticket
from . import business_hours as bh
from . import sla


def schedule_for(ticket: Ticket) -> bh.Schedule:
    """The schedule the ticket's business time counts on."""
    policy = sla.policy_of(ticket)
    if policy is not None and policy.schedule_id is not None:
        return sla.schedule_for(policy)
    return sla.desk_schedule()


def measure(schedule: bh.Schedule, start: datetime, end: datetime) -> tuple[int, int]:
    """``(calendar seconds, business seconds)`` from ``start`` to ``end`` (0 if not after)."""
    if end <= start:
        return 0, 0
    calendar = round((end - start).total_seconds())
    return calendar, round(bh.between(schedule, start, end).total_seconds())


def _since_creation(ticket: Ticket, end: datetime) -> tuple[int, int]:
    return measure(schedule_for(ticket), ticket.created_at or now(), end)


def record_first_response(ticket: Ticket) -> None:
    """Store the time to ``first_response_at`` (once: later replies do not change it)."""
    if ticket.first_response_at is None:
        return
    ticket.first_response_seconds, ticket.first_response_business_seconds = _since_creation(
        ticket, ticket.first_response_at)


def record_resolution(ticket: Ticket) -> None:
    """Store the time to ``resolved_at``, or clear it when the ticket is no longer resolved."""
    if ticket.resolved_at is None:
        ticket.resolution_seconds = ticket.resolution_business_seconds = None
        return
    ticket.resolution_seconds, ticket.resolution_business_seconds = _since_creation(
        ticket, ticket.resolved_at)


class BusinessClock:
    """``F(t)``: business seconds on ``schedule`` from ``first`` to ``t`` (epoch seconds), for
    ``first <= t <= last``; ``F(b) - F(a)`` is the business time between ``a`` and ``b``.

    Agrees with :func:`.business_hours.between` (holidays, overnight shifts, DST).
    """

    def __init__(self, schedule: bh.Schedule, first: float, last: float) -> None:
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.before: list[float] = []
        if not schedule.has_hours or last <= first:
            return
        day = datetime.fromtimestamp(first, timezone.utc).astimezone(schedule.tz).date()
        day -= timedelta(days=1)  # an overnight shift from the day before may be running
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

    def intervals(self) -> list[tuple[float, float, float]]:
        """``(start, end, business seconds before start)`` per interval, in order."""
        return list(zip(self.starts, self.ends, self.before, strict=True))

    def at(self, t: float) -> float:
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0.0
        return self.before[i] + min(max(t - self.starts[i], 0.0), self.ends[i] - self.starts[i])

    def between(self, a: float, b: float) -> float:
        return max(self.at(b) - self.at(a), 0.0) if b > a else 0.0
