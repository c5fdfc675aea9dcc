"""Business-time arithmetic, held to its laws with property-based tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_escalated.services import business_hours as bh
from flask_escalated.services.errors import ValidationError

UTC = timezone.utc
NINE_TO_FIVE = {d: [{"start": "09:00", "end": "17:00"}] for d in bh.WEEKDAYS[:5]}


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("Europe/Berlin"))


def new_york(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("America/New_York"))


SCHEDULES = {
    "berlin-9-5": bh.build("Europe/Berlin", NINE_TO_FIVE, holidays=[date(2026, 12, 24)],
                           recurring=[(1, 1), (12, 25)]),
    "ny-split": bh.build("America/New_York", {
        d: [{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "17:30"}]
        for d in bh.WEEKDAYS[:5]
    }),
    "overnight": bh.build("Europe/Berlin", {
        d: [{"start": "22:00", "end": "06:00"}] for d in bh.WEEKDAYS
    }),
    "weekend-only": bh.build("Asia/Tokyo", {
        "saturday": [{"start": "00:00", "end": "24:00"}],
        "sunday": {"start": "10:00", "end": "14:00"},
    }),
    "calendar": bh.calendar(),
}

instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
minutes = st.integers(min_value=0, max_value=60 * 24 * 30)
schedules = st.sampled_from(sorted(SCHEDULES))


@settings(max_examples=150, deadline=None)
@given(schedules, instants, minutes, minutes)
def test_adding_x_then_y_equals_adding_x_plus_y(name: str, t: datetime, x: int, y: int) -> None:
    s = SCHEDULES[name]
    assert bh.add(s, bh.add(s, t, x), y) == bh.add(s, t, x + y)


@settings(max_examples=150, deadline=None)
@given(schedules, instants, minutes, minutes)
def test_adding_is_monotone(name: str, t: datetime, x: int, y: int) -> None:
    s = SCHEDULES[name]
    low, high = sorted((x, y))
    assert bh.add(s, t, low) <= bh.add(s, t, high)
    assert bh.add(s, t, low) >= t


@settings(max_examples=150, deadline=None)
@given(schedules, instants, minutes)
def test_counting_undoes_adding(name: str, t: datetime, x: int) -> None:
    s = SCHEDULES[name]
    assert bh.between(s, t, bh.add(s, t, x)) == timedelta(minutes=x)


@settings(max_examples=150, deadline=None)
@given(schedules, instants, minutes)
def test_subtracting_undoes_adding(name: str, t: datetime, x: int) -> None:
    s = SCHEDULES[name]
    later = bh.add(s, t, x)
    assert bh.between(s, bh.subtract(s, later, x), later) == timedelta(minutes=x)
    assert bh.subtract(s, later, x) <= later


@settings(max_examples=100, deadline=None)
@given(schedules, instants, instants, instants)
def test_counting_is_additive(name: str, a: datetime, b: datetime, c: datetime) -> None:
    s = SCHEDULES[name]
    a, b, c = sorted((a, b, c))
    assert bh.between(s, a, b) + bh.between(s, b, c) == bh.between(s, a, c)


def test_plain_day_and_weekend() -> None:
    s = SCHEDULES["berlin-9-5"]
    # Friday 16:00 + 2h → Monday 10:00 (Berlin).
    assert bh.add(s, berlin(2026, 3, 6, 16, 0), 120) == berlin(2026, 3, 9, 10, 0)
    # Landing exactly on the end of the day stays there.
    assert bh.add(s, berlin(2026, 3, 6, 9, 0), 480) == berlin(2026, 3, 6, 17, 0)
    # Before opening: counting starts at 09:00.
    assert bh.add(s, berlin(2026, 3, 9, 7, 30), 30) == berlin(2026, 3, 9, 9, 30)


def test_business_hours_are_in_the_schedule_time_zone() -> None:
    # Monday 14:00 UTC + 4h on New York 08:00-12:00/13:00-17:30 (EST, UTC-5).
    s = SCHEDULES["ny-split"]
    start = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 New York
    assert bh.add(s, start, 240) == new_york(2026, 3, 2, 14, 0)


def test_dst_spring_forward_week_berlin() -> None:
    s = SCHEDULES["berlin-9-5"]
    # Clocks go forward on Sunday 29 March 2026: still 8 business hours on Friday and Monday.
    fri, mon = berlin(2026, 3, 27, 9, 0), berlin(2026, 3, 30, 9, 0)
    assert bh.between(s, fri, mon) == timedelta(hours=8)
    assert bh.add(s, berlin(2026, 3, 27, 13, 0), 8 * 60) == berlin(2026, 3, 30, 13, 0)


def test_dst_fall_back_week_new_york() -> None:
    s = SCHEDULES["ny-split"]
    # Clocks go back on Sunday 1 November 2026.
    fri = new_york(2026, 10, 30, 16, 30)
    assert bh.add(s, fri, 120) == new_york(2026, 11, 2, 9, 0)
    assert bh.between(s, new_york(2026, 10, 30, 0, 0), new_york(2026, 11, 3, 0, 0)) == \
        timedelta(hours=8.5 * 2)


def test_overnight_shift_across_dst_counts_real_hours() -> None:
    s = SCHEDULES["overnight"]
    # 28→29 March 2026 in Berlin: 22:00-06:00 local is only 7 real hours.
    night = bh.between(s, berlin(2026, 3, 28, 21, 0), berlin(2026, 3, 29, 7, 0))
    assert night == timedelta(hours=7)
    # A normal night is 8 hours.
    normal = bh.between(s, berlin(2026, 3, 10, 21, 0), berlin(2026, 3, 11, 7, 0))
    assert normal == timedelta(hours=8)
    # Started inside yesterday's shift: 01:00 + 2h = 03:00.
    assert bh.add(s, berlin(2026, 3, 11, 1, 0), 120) == berlin(2026, 3, 11, 3, 0)


def test_holidays_one_off_recurring_and_on_a_weekend() -> None:
    s = SCHEDULES["berlin-9-5"]
    # Thu 24 Dec (one-off) and Fri 25 Dec (recurring) are off: Wed 16:00 + 2h → Mon 28th 10:00.
    assert bh.add(s, berlin(2026, 12, 23, 16, 0), 120) == berlin(2026, 12, 28, 10, 0)
    # 1 January 2028 is a Saturday: a holiday on a weekend changes nothing.
    assert bh.add(s, berlin(2027, 12, 31, 16, 0), 120) == berlin(2028, 1, 3, 10, 0)
    # Year end: Thu 31 Dec 2026 16:00 + 2h → Fri 1 Jan is a holiday → Mon 4 Jan 10:00.
    assert bh.add(s, berlin(2026, 12, 31, 16, 0), 120) == berlin(2027, 1, 4, 10, 0)


def test_is_open() -> None:
    s = SCHEDULES["overnight"]
    assert bh.is_open(s, berlin(2026, 3, 11, 1, 0))
    assert not bh.is_open(s, berlin(2026, 3, 11, 12, 0))


@pytest.mark.parametrize("spec", [
    {"funday": []},
    {"monday": [{"start": "9", "end": "17:00"}]},
    {"monday": [{"start": "24:00", "end": "02:00"}]},
    {"monday": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]},
    {"monday": "09:00-17:00"},
    {"monday": [{"start": "09:00", "end": "24:30"}]},
])
def test_bad_schedules_are_refused(spec: dict) -> None:
    with pytest.raises(ValidationError):
        bh.build("UTC", spec)


def test_bad_zone_and_empty_schedule() -> None:
    with pytest.raises(ValidationError):
        bh.build("Mars/Olympus", NINE_TO_FIVE)
    empty = bh.build("UTC", {})
    with pytest.raises(ValidationError):
        bh.add(empty, datetime(2026, 1, 1, tzinfo=UTC), 10)
    assert bh.between(empty, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)) \
        == timedelta(0)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        bh.add(SCHEDULES["calendar"], datetime(2026, 1, 1), 1)
