"""A clock the test moves by hand, for everything that takes `clock=` (core, queue, speaker).

Time-dependent rules (closing time, the working day's rollover, a clock that jumps back) are
tested by moving this clock, never by waiting or by reading the machine's time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: 08.00 WIB on a Monday: the office has just opened.
MORNING = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


class Clock:
    """`clock()` is the current time; set `clock.now`, or move it with `advance`/`tick`."""

    def __init__(self, now: datetime = MORNING) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forwards (or backwards, with negative values) by a `timedelta(**delta)`."""
        self.now += timedelta(**delta)
        return self.now

    def tick(self, minutes: float = 1) -> datetime:
        """Move forwards by `minutes` and return the new time (one step of a simulated day)."""
        return self.advance(minutes=minutes)


#: The office's zone in the test offices (WIB, no daylight saving).
WIB = timedelta(hours=7)


def wib(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """An instant given as the office's wall clock (WIB): what a test about hours reads as."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - WIB
