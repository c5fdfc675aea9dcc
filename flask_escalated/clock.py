"""The injectable clock.

Every "now" in the package comes from :func:`now`, so tests and benchmarks travel in time with
:func:`frozen` (or by setting a clock callable) instead of patching ``datetime``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

Clock = Callable[[], datetime]


def _system() -> datetime:
    return datetime.now(timezone.utc)


_clock: Clock = _system


def now() -> datetime:
    """Aware UTC now, from the active clock."""
    value = _clock()
    if value.tzinfo is None:
        raise ValueError("the clock returned a naive datetime")
    return value.astimezone(timezone.utc)


def set_clock(clock: Clock | None) -> None:
    """Install ``clock`` (``None`` restores the system clock)."""
    global _clock
    _clock = clock or _system


class FrozenClock:
    """A clock that stands still until moved; ``advance`` travels forward."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current = self.current + timedelta(**delta)
        return self.current


@contextlib.contextmanager
def frozen(start: datetime) -> Iterator[FrozenClock]:
    """Freeze the package clock at ``start`` for the block."""
    previous = _clock
    clock = FrozenClock(start)
    set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)
