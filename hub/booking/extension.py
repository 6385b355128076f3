"""The booking part: citizens book a slot of another day, cancel it, and check in on the day.

Booking and cancelling are the page's (`antrian.booking.web`), answered from the `bookings`
table (`antrian.booking.store`). Check-in is a hub command (`check_in` {booking}), so the ESP32
kiosk, an officer's page and any `hub/request` client can turn a code into a ticket: the core
asks this part what the code is (`resolve`), the queue places the ticket by the booking rule
(`antrian.queue.QueueState._decide_check_in`) and logs the rule it applied, and this part
marks the row checked in within the same commit (`_on_committing`).

With the notifications part on, a citizen may give a number when booking and is reminded the
day before and shortly before the slot (`antrian.booking.reminders`). Bookings of days more
than `[booking] keep_days` ago are deleted at start and then once a day (`clean_up`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from antrian.booking import reminders
from antrian.booking.quotas import Quotas
from antrian.booking.slots import Slot, bookable_days, booking_window, slots_on
from antrian.booking.store import BOOKED, CHECKED_IN, BookingStore, SlotFull, mark_checked_in, normalise_code
from antrian.bus import Committing, StoreWrite, Ticked
from antrian.config import Config
from antrian.extension import Extension
from antrian.i18n import t
from antrian.notify.extension import Notifications, Refusal
from antrian.notify.outbox import Message
from antrian.notify.phone import mask
from antrian.queue import DomainError, local_day
from antrian.schedule import date_text, schedule_of

if TYPE_CHECKING:
    from aiohttp import web

    from antrian.service import HubService

log = logging.getLogger("antrian.booking")


class Bookings(Extension):
    """Slots, bookings and check-in, for an office with `[booking] enabled = true`."""

    name: ClassVar[str] = "booking"
    store: BookingStore

    def __init__(self, hub: HubService, *, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(hub)
        self.clock = clock or self.core.clock
        self.schedule = schedule_of(self.cfg)
        #: The notifications part when it has a channel: then a booking may take a number.
        self.notify: Notifications | None = None
        self._cleaned = ""

    @classmethod
    def enabled(cls, cfg: Config) -> bool:
        return cfg.booking.enabled

    async def start(self) -> None:
        self.store = BookingStore(self.core.store.db)
        self.core.resolve_booking = self.resolve
        self.core.estimator.expected_bookings = self.expected_now
        self.bus.on_committing(self, self._on_committing)
        notify = self.hub.extension("notify")
        if isinstance(notify, Notifications) and notify.channels:
            self.notify = notify
            notify.reminder_late = self.reminder_late
        self.bus.on(Ticked, self, self._on_tick)
        self.clean_up(self.clock())

    async def stop(self) -> None:
        from antrian.core import _no_bookings

        self.core.resolve_booking = _no_bookings
        self.core.estimator.expected_bookings = None
        if self.notify is not None:
            self.notify.reminder_late = None
            self.notify = None
        await super().stop()

    def web_routes(self) -> list[web.RouteDef]:
        from antrian.booking.admin import routes as admin_routes
        from antrian.booking.web import routes

        return routes(self) + admin_routes(self)

    # ------------------------------------------------------------------------------------------
    # what may be booked
    # ------------------------------------------------------------------------------------------

    def today(self) -> date:
        return date.fromisoformat(local_day(self.clock(), self.cfg))

    def services(self) -> list[str]:
        """The letters that may be booked, in the configuration's order."""
        chosen = self.cfg.booking.services
        return [s.letter for s in self.cfg.services if not chosen or s.letter in chosen]

    @cached_property
    def quotas(self) -> Quotas:
        """The admin's quota of a service on a day (`antrian.booking.admin`), over `quota`."""
        return Quotas(self.store.db, self.cfg.booking.quota)

    def offer(self, lang: str) -> dict[str, Any]:
        """What the page shows: the services, and each bookable day with its slots and the
        places left in each slot per service."""
        today = self.today()
        days = bookable_days(self.schedule, self.cfg.booking, today)
        first, last = booking_window(self.cfg.booking, today)
        taken = self.store.taken(first.isoformat(), last.isoformat())
        quota = self.cfg.booking.quota
        set_by_admin = self.quotas.set_by_admin(first.isoformat(), last.isoformat())
        letters = self.services()
        return {
            "services": [
                {"letter": s.letter, "name": s.name} for s in self.cfg.services if s.letter in letters
            ],
            "reminders": list(self.notify.channels) if self.notify else [],
            "days": [
                {
                    "day": d.isoformat(),
                    "label": reminders.day_text(d, lang),
                    "slots": [
                        {
                            "slot": slot.key,
                            "label": slot.label,
                            "left": {
                                letter: max(
                                    0,
                                    set_by_admin.get((d.isoformat(), letter), quota)
                                    - taken.get((letter, slot.start.isoformat()), 0),
                                )
                                for letter in letters
                            },
                        }
                        for slot in slots
                    ],
                }
                for d, slots in days
            ],
        }

    # ------------------------------------------------------------------------------------------
    # booking and cancelling
    # ------------------------------------------------------------------------------------------

    def book(
        self,
        service: object,
        day: object,
        slot: object,
        lang: str,
        reminder: tuple[str, str | None, bool] | None = None,
    ) -> dict[str, Any] | Refusal:
        """Book a place; the answer has the code. Every refusal says why, in `lang`.
        `reminder` (phone, channel, consent) asks for reminders."""
        if not isinstance(service, str) or service not in self.services():
            return self._refuse("booking_bad_service", lang, 400)
        try:
            d = date.fromisoformat(day) if isinstance(day, str) and len(day) == 10 else None
        except ValueError:
            d = None
        if d is None:
            return self._refuse("booking_bad_day", lang, 400)
        first, last = booking_window(self.cfg.booking, self.today())
        if not first <= d <= last:
            return self._refuse(
                "booking_out_of_window", lang, 400, first=date_text(first, lang), last=date_text(last, lang)
            )
        slots = slots_on(self.schedule, self.cfg.booking, d)
        if not slots:
            holiday = self.schedule.holiday(d)
            if holiday is not None:
                return self._refuse("booking_holiday", lang, 409, day=date_text(d, lang), holiday=holiday)
            return self._refuse("booking_closed_day", lang, 409, day=date_text(d, lang))
        chosen = next((s for s in slots if s.key == slot), None) if isinstance(slot, str) else None
        if chosen is None:
            return self._refuse("booking_bad_slot", lang, 400)
        quota = self.quotas.on(d.isoformat(), service)
        if quota == 0:  # the admin closed this service's bookings that day
            return self._refuse("slots_service_closed", lang, 409, service=service, day=date_text(d, lang))
        number = self._number(reminder, d.isoformat(), lang)
        if isinstance(number, Refusal):
            return number
        now, picked = self.clock(), chosen

        def with_reminders(code: str) -> list[StoreWrite]:
            if number is None or self.notify is None:
                return []
            texts = reminders.messages(self.cfg, code, service, picked, lang, self.page, now)
            ref = reminders.ref_of(code)
            return self.notify.reminder_writes(ref, d.isoformat(), number, lang, texts, now)

        try:
            booking = self.store.book(
                d.isoformat(), service, chosen.start, chosen.end, quota, now, with_reminders
            )
        except SlotFull:
            return self._refuse("booking_slot_full", lang, 409, slot=chosen.label)
        to = f", reminders to {mask(number[0])} by {number[1]}" if number else ""
        log.info("booking: %s %s %s booked%s", service, d.isoformat(), chosen.key, to)  # never the code
        out = self.describe(booking.code, booking.service, d, chosen, booking.state, lang)
        if number is not None:
            out["reminder"] = {"phone": mask(number[0]), "channel": number[1]}
        return out

    @property
    def page(self) -> str:
        """This page's address as the reminders give it: the configured one, never a request's
        Host (the text goes to a phone)."""
        return f"{self.cfg.office.public_url.rstrip('/')}/reservasi"

    def _number(
        self, reminder: tuple[str, str | None, bool] | None, day: str, lang: str, ref: str = ""
    ) -> tuple[str, str] | Refusal | None:
        """The number and channel to remind (None: not asked), or why they are refused."""
        if reminder is None or not reminder[0].strip():
            return None
        if self.notify is None:
            return Refusal("notify_off", t("notify_off", lang), 409)
        number = self.notify.check_number(*reminder, lang)
        if isinstance(number, Refusal):
            return number
        return self.notify.reminder_refused(day, number, lang, ref) or number

    def set_reminder(
        self, code: object, reminder: tuple[str, str | None, bool] | None, lang: str
    ) -> dict[str, Any] | Refusal:
        """Give, change or (`reminder` None) remove the number of a booking, by its code, until
        its slot begins: the reminders whose time is still ahead go to the new number."""
        if self.notify is None:
            return Refusal("notify_off", t("notify_off", lang), 409)
        found = self.store.get(normalise_code(code)) if isinstance(code, str) else None
        if found is None:
            return self._refuse("booking_not_found", lang, 404)
        now = self.clock()
        if found.state != BOOKED or now >= found.slot_start:
            return Refusal("reminder_closed", t("reminder_closed", lang), 409)
        ref = reminders.ref_of(found.code)
        if reminder is None:
            self.notify.withdraw(ref, found.day, "the number was removed")
            log.info("booking: the number of a booking of %s removed", found.day)
            return {"code": found.code, "reminder": None}
        changes = self.notify.outbox.changes(found.day, ref)
        if changes >= self.notify.ncfg.changes_per_ticket:
            return Refusal("reminder_changes", t("reminder_changes", lang, n=changes), 429)
        number = self._number(reminder, found.day, lang, ref)
        if not isinstance(number, tuple):
            return number or Refusal("phone_missing", t("phone_missing", lang))
        tz = self.cfg.office.tz
        slot = Slot(found.slot_start.astimezone(tz), found.slot_end.astimezone(tz))
        texts = reminders.messages(self.cfg, found.code, found.service, slot, lang, self.page, now)
        self.notify.outbox.save_writes(self.notify.reminder_writes(ref, found.day, number, lang, texts, now))
        log.info("booking: a booking of %s reminded at %s by %s", found.day, mask(number[0]), number[1])
        return {"code": found.code, "reminder": {"phone": mask(number[0]), "channel": number[1]}}

    def describe(self, code: str, service: str, d: date, slot: Slot, state: str, lang: str) -> dict[str, Any]:
        svc = self.cfg.service(service)
        return {
            "code": code,
            "service": service,
            "service_name": svc.name if svc else service,
            "day": d.isoformat(),
            "day_text": reminders.day_text(d, lang),
            "slot": slot.key,
            "slot_label": slot.label,
            "state": state,
        }

    def lookup(self, code: object, lang: str) -> dict[str, Any] | Refusal:
        found = self.store.get(normalise_code(code)) if isinstance(code, str) else None
        if found is None:
            return self._refuse("booking_not_found", lang, 404)
        slot = Slot(
            found.slot_start.astimezone(self.cfg.office.tz), found.slot_end.astimezone(self.cfg.office.tz)
        )
        out = self.describe(found.code, found.service, date.fromisoformat(found.day), slot, found.state, lang)
        if found.ticket:
            out["ticket"] = found.ticket
        return out

    def cancel(self, code: object, lang: str) -> dict[str, Any] | Refusal:
        """Cancel by code: the place is free again. A booking checked in, or of a day that is
        over, cannot be cancelled."""
        found = self.lookup(code, lang)
        if isinstance(found, Refusal):
            return found
        if found["state"] == CHECKED_IN or found["day"] < self.today().isoformat():
            return self._refuse("booking_not_cancellable", lang, 409)
        if found["state"] != BOOKED or not self.store.cancel(found["code"], self.clock()):
            return self._refuse("booking_already_cancelled", lang, 409, code=found["code"])
        log.info("booking: a booking of %s %s cancelled", found["service"], found["day"])
        if self.notify is not None:
            self.notify.withdraw(reminders.ref_of(found["code"]), found["day"], "the booking was cancelled")
        return {**found, "state": "cancelled"}

    def _refuse(self, key: str, lang: str, status: int, **params: Any) -> Refusal:  # noqa: ANN401
        return Refusal(key, t(f"web.{key}", lang, **params), status)

    # ------------------------------------------------------------------------------------------
    # check-in (the core's `check_in`)
    # ------------------------------------------------------------------------------------------

    def resolve(self, args: dict[str, Any], now: datetime) -> dict[str, Any]:
        """The `check_in` arguments with the booking's service and slot, or DomainError."""
        return resolve(self.store, self.cfg, args, now)

    def _on_committing(self, c: Committing) -> list[StoreWrite]:
        return [
            mark_checked_in(e.data["booking"], e.data["ticket"], e.data["rule"], c.now)
            for e in c.events
            if e.type == "booking_checked_in"
        ]

    def reminder_late(self, msg: Message, now: datetime) -> str | None:
        """Why a reminder the outbox is about to send would no longer help (`reminders.late`)."""
        return reminders.late(self.store, self.cfg, msg, now)

    def _on_tick(self, tick: Ticked) -> None:
        if local_day(tick.now, self.cfg) != self._cleaned:
            self.clean_up(tick.now)

    def clean_up(self, now: datetime) -> int:
        """Delete the bookings of days more than `[booking] keep_days` ago (their numbers went
        with their day's key long before); how many. Once a day, and at start."""
        today = local_day(now, self.cfg)
        self._cleaned = today
        before = (date.fromisoformat(today) - timedelta(days=self.cfg.booking.keep_days)).isoformat()
        deleted = self.store.delete_before(before)
        log.info(
            "booking: %d booking(s) of days before %s deleted (keep_days %d)",
            deleted,
            before,
            self.cfg.booking.keep_days,
        )
        return deleted

    def expected_now(self, now: datetime) -> list[tuple[str, datetime]]:
        """Today's bookings that may still check in ahead of a ticket taken now (the wait
        estimate counts them: `antrian.eta.Estimator.expected_bookings`)."""
        grace = timedelta(minutes=self.cfg.booking.grace_minutes)
        return self.store.expected_now(local_day(now, self.cfg), now, grace)


def resolve(store: BookingStore, cfg: Config, args: dict[str, Any], now: datetime) -> dict[str, Any]:
    """`check_in`'s arguments completed from the booking table: its service, its slot and the
    office's grace. Refused (DomainError) for a code unknown, cancelled, of another day, or
    already checked in: the queue itself also refuses a code it saw checked in today."""
    typed = str(args.get("booking", ""))
    code = normalise_code(typed)
    found = store.get(code) if code else None
    if found is not None and found.state == CHECKED_IN:
        raise DomainError("booking_used", booking=code, ticket=found.ticket or "")
    if found is None or found.state != BOOKED or found.day != local_day(now, cfg):
        raise DomainError("booking_unknown", booking=typed[:12])
    return {
        **args,
        "booking": code,
        "service": found.service,
        "slot_start": found.slot_start.isoformat(),
        "slot_end": found.slot_end.isoformat(),
        "grace_minutes": cfg.booking.grace_minutes,
    }
