"""Which slots a day offers: pure, from the office's schedule and `[booking]`.

A slot is `slot_minutes` long, starts at opening or right after the previous one and ends by
closing; a slot that would overlap the day's shared break (ISHOMA, the Friday prayer) is not
offered: nobody is there to serve it. A holiday, a closed weekday or a day out of the booking
window has none. The schedule is the same one the kiosks obey, so a booking is never made for
a time the office would refuse a ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from antrian.config import BookingConfig
from antrian.schedule import OfficeSchedule


@dataclass(frozen=True)
class Slot:
    """One slot: its start and end, instants in the office's time zone."""

    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        """ "08:30": how the page and the table name the slot within its day."""
        return self.start.strftime("%H:%M")

    @property
    def label(self) -> str:
        """ "08.30-09.00": as Indonesian clocks are written (and read in English too)."""
        return f"{self.start:%H.%M}-{self.end:%H.%M}"


def slots_on(schedule: OfficeSchedule, cfg: BookingConfig, day: date) -> list[Slot]:
    """The slots of `day`, in order; none on a day the office is closed."""
    hours = schedule.hours_on(day)
    if hours is None:
        return []
    step = timedelta(minutes=cfg.slot_minutes)
    out: list[Slot] = []
    start = hours.opening
    while start + step <= hours.closing:
        slot = Slot(start, start + step)
        lunch = hours.lunch
        if lunch is not None and slot.start < lunch[1] and lunch[0] < slot.end:
            start = lunch[1]  # the slots go on after the break
            continue
        out.append(slot)
        start += step
    return out


def booking_window(cfg: BookingConfig, today: date) -> tuple[date, date]:
    """The first and last day a booking may be made for: tomorrow to `days_ahead` days on.
    Today is not offered: who comes today takes a ticket at the kiosk."""
    return today + timedelta(days=1), today + timedelta(days=cfg.days_ahead)


def bookable_days(schedule: OfficeSchedule, cfg: BookingConfig, today: date) -> list[tuple[date, list[Slot]]]:
    """The days of the booking window that have slots, each with its slots."""
    first, last = booking_window(cfg, today)
    out: list[tuple[date, list[Slot]]] = []
    d = first
    while d <= last:
        slots = slots_on(schedule, cfg, d)
        if slots:
            out.append((d, slots))
        d += timedelta(days=1)
    return out
