"""A booking's reminders: by SMS or WhatsApp on the day before, and shortly before its slot.

A citizen who gives a number when booking (`/reservasi`, the notifications part on) is sent:
- `day_before`: on the calendar day before the booking's day at `[booking] remind_day_before_at`
  (15.00 by default). A booking made after that time on the day before gets none: the page
  that showed its code a moment ago is the reminder, and a second message then only costs.
- `hour_before`: `[booking] remind_minutes_before` minutes (60) before the slot begins.

Both are queued in the notifications outbox in the booking's own transaction, each with its due
time, so nothing scans the bookings to find what is due, a restart loses none, and the outbox
sends each at most once (unique per day, `booking:CODE` and kind). The number is sealed under
the key of the booking's day, made when the booking is, and destroyed with that day's other
numbers after its closing (`[notify] keep_after_closing_minutes`).

When a reminder is due the outbox asks `late` whether it still helps: not for a booking
cancelled (its reminders are dropped at once, `Bookings.cancel`) or checked in, nor once its
slot has begun, nor a "tomorrow" message once the day itself has begun. Those are dropped with
the reason; while a channel is down (or the hub is off) a reminder is retried until then,
however late: `[notify] give_up_minutes`, the limit of a ticket's messages, is not theirs (a
day-before reminder two hours late still helps).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final

from antrian.booking.slots import Slot
from antrian.booking.store import BOOKED, CANCELLED, BookingStore
from antrian.config import Config
from antrian.i18n import t
from antrian.notify.outbox import BOOKING_REF, Message
from antrian.queue import local_day
from antrian.schedule import date_text, weekday_name

DAY_BEFORE: Final = "day_before"
HOUR_BEFORE: Final = "hour_before"


def ref_of(code: str) -> str:
    """How the outbox names a booking where it names a ticket."""
    return BOOKING_REF + code


def due_times(cfg: Config, slot_start: datetime, now: datetime) -> list[tuple[str, datetime]]:
    """(kind, due) of the reminders of a booking whose slot begins at `slot_start`, booked
    `now`: each one whose time is still ahead."""
    out: list[tuple[str, datetime]] = []
    at_day_before = cfg.booking.remind_day_before_at
    if at_day_before is not None:
        day_before = slot_start.astimezone(cfg.office.tz).date() - timedelta(days=1)
        due = datetime.combine(day_before, at_day_before, cfg.office.tz)
        if now < due:
            out.append((DAY_BEFORE, due))
    if cfg.booking.remind_minutes_before:
        due = slot_start - timedelta(minutes=cfg.booking.remind_minutes_before)
        if now < due:
            out.append((HOUR_BEFORE, due))
    return out


def messages(
    cfg: Config, code: str, service: str, slot: Slot, lang: str, page: str, now: datetime
) -> list[tuple[str, datetime, str]]:
    """(kind, due, text) of each reminder of a booking, in the citizen's language: the code,
    the service, the day and slot, how to check in, and where to cancel."""
    svc = cfg.service(service)
    d = slot.start.astimezone(cfg.office.tz).date()
    fields = {
        "code": code,
        "service": svc.name if svc else service,
        "day": day_text(d, lang),
        "slot": slot.label,
        "page": page,
    }
    return [
        (kind, due, t(f"reminder.{kind}", lang, **fields)) for kind, due in due_times(cfg, slot.start, now)
    ]


def day_text(d: date, lang: str) -> str:
    """ "Senin, 30 November 2026": how the page and the reminders name a booking's day."""
    return f"{weekday_name(d, lang)}, {date_text(d, lang)}"


def late(store: BookingStore, cfg: Config, msg: Message, now: datetime) -> str | None:
    """Why a booking's reminder would no longer help, or None (the outbox asks when it is due
    and while a channel holds it)."""
    found = store.get(msg.ticket.removeprefix(BOOKING_REF))
    if found is None:
        return "the booking is gone"
    if found.state == CANCELLED:
        return "the booking was cancelled"
    if found.state != BOOKED:
        return "the booking was checked in"
    if now >= found.slot_start:
        return "the slot has begun"
    if msg.kind == DAY_BEFORE and local_day(now, cfg) >= found.day:
        return "the booking's day has begun"
    return None
