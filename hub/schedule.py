"""Is the office open, and when does it open next: the one place that answers it.

An office's hours are not one pair of times: they differ by weekday (a shorter Friday, a
closed Saturday), change for weeks at a time (Ramadan), and stop on national holidays, cuti
bersama and the kabupaten's own days, while an office may still serve on a cuti bersama. The
queue (closing expiry), the wait estimate (the day it plans), the kiosks (refusing a ticket
outside hours), the displays (`{base}/office/state`) and the reports (which days count) all
ask this module, so they cannot disagree about a day.

Sources, later ones winning:

* `[office] opening`/`closing`: Monday-Friday, Saturday and Sunday closed (the default);
* `[office.hours]`: each weekday's `"07:30-16:00"`, `""` for closed;
* `[[office.special_hours]]`: a date range with its own weekday hours and breaks (Ramadan);
* holidays: the `holidays` package's national holidays and cuti bersama for Indonesia (its
  `public` and `government` categories, as the package maintains them), unless
  `[office] national_holidays = false`, and `[[holidays]]`: a local day off, or
  `open = true` for a listed day on which the office serves all the same.

Pure apart from the holiday tables, which the package computes per year (cached here).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final, Literal

from antrian.config import Config, TimeSpan
from antrian.i18n import t

log = logging.getLogger("antrian.schedule")

#: How far ahead the next opening is looked for (a long closure, a misconfigured week).
LOOKAHEAD_DAYS: Final = 62

Reason = Literal["open", "before_opening", "after_closing", "closed_day", "holiday"]


@dataclass(frozen=True)
class DayHours:
    """One open day: its hours and breaks as instants in the office's time zone.

    `counter_lunch` holds the counters that take their own ISHOMA (`[[counters]] lunch`) on
    this day; the others share `lunch` (in turns where the office says so). `special` is the
    name of the `[[office.special_hours]]` range the day falls in ("Ramadan"), else None.
    """

    day: date
    opening: datetime
    closing: datetime
    lunch: tuple[datetime, datetime] | None
    counter_lunch: Mapping[int, tuple[datetime, datetime]] = field(default_factory=dict)
    special: str | None = None

    def break_of(self, counter: int) -> tuple[datetime, datetime] | None:
        """The counter's own break window on this day, else the office's lunch."""
        return self.counter_lunch.get(counter, self.lunch)


@dataclass(frozen=True)
class OfficeStatus:
    """The office at one instant, as the kiosks, the TV and Home Assistant show it.

    `opens_at` is the next opening (None while open, or when none is found within
    LOOKAHEAD_DAYS); `closes_at` today's closing while open, else that of the next open day.
    `tickets_from` is when kiosks start issuing on the next open day (or today).
    """

    now: datetime
    open: bool
    reason: Reason
    holiday: str | None
    opens_at: datetime | None
    closes_at: datetime | None
    tickets_from: datetime | None = None

    @property
    def day(self) -> date:
        return self.now.date()

    def next_open_text(self, lang: str) -> str:
        """ "Buka lagi Senin, 28 Desember 2026 pukul 07.30." (or today's, or "open until")."""
        if self.open and self.closes_at is not None:
            return t("schedule.open_until", lang, time=clock(self.closes_at, lang))
        if self.opens_at is None:
            return t("schedule.no_opening", lang, days=LOOKAHEAD_DAYS)
        if self.opens_at.date() == self.now.date():
            return t("schedule.opens_today", lang, time=clock(self.opens_at, lang))
        return t(
            "schedule.opens_again",
            lang,
            weekday=weekday_name(self.opens_at.date(), lang),
            date=date_text(self.opens_at.date(), lang),
            time=clock(self.opens_at, lang),
        )

    def why_text(self, lang: str) -> str:
        """Why the office is not serving now, as it follows "Kantor tutup": " (Hari Raya Natal)",
        " pada hari Sabtu", " untuk hari ini"; nothing before opening."""
        if self.reason == "holiday":
            return t("schedule.why.holiday", lang, holiday=self.holiday or "")
        if self.reason == "closed_day":
            return t("schedule.why.closed_day", lang, weekday=weekday_name(self.now.date(), lang))
        if self.reason == "after_closing":
            return t("schedule.why.after_closing", lang)
        return ""

    def text(self, lang: str) -> str:
        """The whole line a display shows, and a kiosk's refusal says: "Kantor tutup (Hari Raya
        Natal). Buka lagi Senin, 28 Desember 2026 pukul 07.30." (or until when it is open)."""
        if self.open:
            return self.next_open_text(lang)
        return t("office_closed", lang, why=self.why_text(lang), next=self.next_open_text(lang))


def clock(at: datetime, lang: str) -> str:
    """07.30 in Indonesian, 07:30 in English."""
    return t("schedule.clock", lang, hh=f"{at.hour:02d}", mm=f"{at.minute:02d}")


def weekday_name(d: date, lang: str) -> str:
    """ "Senin" / "Monday": the names the printed ticket uses."""
    return t("ticket.days", lang).split()[d.weekday()]


def date_text(d: date, lang: str) -> str:
    """ "1 Desember 2026" / "1 December 2026"."""
    month = t("ticket.months", lang).split()[d.month - 1]
    return t("schedule.date", lang, day=d.day, month=month, year=d.year)


class OfficeSchedule:
    """The office's days, built from its Config: which are open, with which hours and breaks."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.office = cfg.office
        self.tz = cfg.office.tz
        self._local = {h.day: h for h in cfg.holidays}
        self._national: dict[int, Mapping[date, str]] = {}
        self._days: dict[date, DayHours | None] = {}
        self._plans: dict[date, DayHours] = {}
        lang = cfg.office.language
        self._holiday_lang = "id" if lang == "id" else "en_US"
        self._local_name = t("schedule.local_holiday", lang)

    # -- days ----------------------------------------------------------------------------

    def national(self, year: int) -> Mapping[date, str]:
        """The package's national holidays and cuti bersama of `year` (empty when switched off)."""
        if not self.office.national_holidays:
            return {}
        table = self._national.get(year)
        if table is None:
            try:
                import holidays  # a few ms, only when a day is first asked about
            except ImportError:
                # an upgrade that skipped the new dependency: serve on, and say what to install
                log.error(
                    "the 'holidays' package is missing: national holidays are not known"
                    " (pip install holidays)"
                )
                table = self._national[year] = {}
                return table
            found = holidays.country_holidays(
                "ID", years=year, categories=("public", "government"), language=self._holiday_lang
            )
            table = self._national[year] = {d: str(name) for d, name in found.items()}
        return table

    def holiday(self, d: date) -> str | None:
        """The name of the holiday that closes the office on `d`, else None.

        A local `[[holidays]]` entry wins over the package: its own name, or None with
        `open = true` (the office serves on that national day or cuti bersama).
        """
        local = self._local.get(d)
        if local is not None:
            return None if local.open else (local.name or self._local_name)
        return self.national(d.year).get(d)

    def hours_on(self, d: date) -> DayHours | None:
        """The day's hours and breaks, or None when the office is closed that day."""
        if d in self._days:
            return self._days[d]
        hours = None if self.holiday(d) is not None else self._weekday_hours(d)
        if len(self._days) > 4096:
            self._days.clear()
        self._days[d] = hours
        return hours

    def plan_on(self, d: date) -> DayHours:
        """The hours to plan a day by, open or not: a closed day on which staff still issue
        tickets (a Saturday service) is planned with that weekday's hours if it has any, else
        `[office] opening`/`closing`, so closing expiry and the wait estimate work as on any day.
        """
        hours = self.hours_on(d)
        if hours is not None:
            return hours
        plan = self._plans.get(d)
        if plan is None:
            plan = self._weekday_hours(d) or self._day(d, (self.office.opening, self.office.closing), None)
            self._plans[d] = plan
        return plan

    def _weekday_hours(self, d: date) -> DayHours | None:
        wd = d.weekday()
        special = self.office.special_on(d)
        span = self.office.hours_of(wd)
        if special is not None and wd in special.days:
            span = special.days[wd]
        if span is None:
            return None
        return self._day(d, span, special.name if special is not None else None)

    def _day(self, d: date, span: TimeSpan, special: str | None) -> DayHours:
        tz, wd = self.tz, d.weekday()
        range_ = self.office.special_on(d)
        lunch: TimeSpan | None = self.office.lunch_on(wd)
        if range_ is not None:
            own = range_.lunch_friday if wd == 4 else range_.lunch
            if own != "regular":
                lunch = own
        window = (
            None if lunch is None else (datetime.combine(d, lunch[0], tz), datetime.combine(d, lunch[1], tz))
        )
        counters: dict[int, tuple[datetime, datetime]] = {}
        # Friday's break is the Friday prayer, for every counter; a range with breaks of its
        # own (Ramadan) sets them for every counter too
        if wd != 4 and (range_ is None or range_.lunch == "regular"):
            for c in self.cfg.counters:
                if c.lunch is not None:
                    counters[c.number] = (
                        datetime.combine(d, c.lunch[0], tz),
                        datetime.combine(d, c.lunch[1], tz),
                    )
        return DayHours(
            d,
            datetime.combine(d, span[0], tz),
            datetime.combine(d, span[1], tz),
            window,
            counters,
            special,
        )

    # -- instants ------------------------------------------------------------------------

    def tickets_from(self, hours: DayHours) -> datetime:
        """When kiosks start issuing on an open day: `tickets_before_opening_minutes` early."""
        return hours.opening - timedelta(minutes=self.office.tickets_before_opening_minutes)

    def next_opening(self, now: datetime) -> DayHours | None:
        """The first open day whose opening is after `now` (within LOOKAHEAD_DAYS)."""
        d = now.astimezone(self.tz).date()
        for i in range(LOOKAHEAD_DAYS + 1):
            hours = self.hours_on(d + timedelta(days=i))
            if hours is not None and hours.opening > now:
                return hours
        return None

    def status(self, now: datetime) -> OfficeStatus:
        """Open or not at `now`, why not, and when it opens next."""
        local = now.astimezone(self.tz)
        d = local.date()
        today = self.hours_on(d)
        if today is not None and today.opening <= now < today.closing:
            return OfficeStatus(local, True, "open", None, None, today.closing, self.tickets_from(today))
        holiday = self.holiday(d)
        reason: Reason
        if holiday is not None:
            reason = "holiday"
        elif today is None:
            reason = "closed_day"
        elif now < today.opening:
            reason = "before_opening"
        else:
            reason = "after_closing"
        nxt = self.next_opening(now)
        if nxt is None:
            return OfficeStatus(local, False, reason, holiday, None, None, None)
        return OfficeStatus(local, False, reason, holiday, nxt.opening, nxt.closing, self.tickets_from(nxt))

    def kiosk_refusal(self, now: datetime) -> OfficeStatus | None:
        """The office's status when a kiosk must refuse a ticket at `now`, else None.

        Kiosks issue from `tickets_before_opening_minutes` before opening until closing on
        an open day; outside that, on a closed weekday or a holiday, they refuse.
        """
        status = self.status(now)
        if status.open:
            return None
        today = self.hours_on(status.day)
        if status.reason == "before_opening" and today is not None and now >= self.tickets_from(today):
            return None
        return status


#: One schedule per configuration (its holiday tables and days are cached inside it).
_SCHEDULES: dict[int, tuple[Config, OfficeSchedule]] = {}


def schedule_of(cfg: Config) -> OfficeSchedule:
    """The schedule of `cfg`, built once (the hub, its estimator and its views share it)."""
    kept = _SCHEDULES.get(id(cfg))
    if kept is not None and kept[0] is cfg:
        return kept[1]
    if len(_SCHEDULES) >= 64:
        _SCHEDULES.clear()
    schedule = OfficeSchedule(cfg)
    _SCHEDULES[id(cfg)] = (cfg, schedule)
    return schedule


def check_admission(cfg: Config, actor: str, now: datetime) -> None:
    """Refuse a self-service ticket (a kiosk, the kiosk page) outside the hours kiosks issue
    in: before `tickets_before_opening_minutes` ahead of opening, after closing, on a closed
    weekday or a holiday. Staff can always issue one (a citizen let in before closing).

    Raises DomainError `office_closed`, whose text says why and when the office opens and
    whose `details` (`reason`, `holiday`, `opens_at`) go into the error response's `data`.
    """
    from antrian.queue import DomainError, self_service  # the queue plans by this module

    if not self_service(actor):
        return
    refusal = schedule_of(cfg).kiosk_refusal(now)
    if refusal is None:
        return
    lang = cfg.office.language
    raise DomainError(
        "office_closed",
        details={
            "reason": refusal.reason,
            "holiday": refusal.holiday,
            "opens_at": iso(refusal.opens_at),
        },
        why=refusal.why_text(lang),
        next=refusal.next_open_text(lang),
    )


def iso(at: datetime | None) -> str | None:
    """An instant as the payloads carry it: ISO 8601 with its offset, to the second."""
    return None if at is None else at.isoformat(timespec="seconds")
