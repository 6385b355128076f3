"""Every figure of the reports, computed from the event log in one pass: the one code path.

Why from the log and nowhere else: the log is the office's record of what happened (who called
whom, when), so a report read from it cannot disagree with the audit log, and a report of any
past period can be made again, the same, at any time. The live admin statistics of today
(`antrian.web.stats.daily_stats`) are computed by this module too.

What is counted (and shown on the report, so a reader knows):

- **issued**: tickets taken, by the service they were taken for.
- **outcome** of a ticket, by the service it had at the end of its day: **served** (done at a
  counter), **skipped** (called, did not come: terlewat, or from a phone and not checked in at
  its turn; and not served after all), **expired**
  (still waiting or at a counter at closing). A transferred ticket counts once as issued (its
  first service) and once with its outcome (its last service).
- **waiting time**: from the ticket's issue to its first call; after a transfer, from the
  transfer to the call at the new service (a second wait, of that service). A ticket put back
  after a missed call does not start a new wait. Mean, median, and the 90th percentile by
  nearest rank (the smallest wait that at least 90% of the waits do not exceed).
- **service time**: from a call to the ticket's done or transfer at that counter (the time the
  counter spent on it); a call that ended as a no-show is not service time.
- **over the standard**: the share of waits longer than the service's standard
  (`sop_minutes`, `ServiceConfig.sop`).
- **no-show share**: skipped / (served + skipped).
- a counter's and an officer's figures are those of the calls they made (the officer is the
  actor of the call: `officer:budi`, or a call pad `device:pad-1`).
- **hours**: tickets issued per hour of the day, office time.
"""

from __future__ import annotations

import json
import math
import sqlite3
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final

from antrian.config import Config
from antrian.queue import Event
from antrian.schedule import schedule_of

#: The longest period one report covers (a year, with a leap day).
MAX_DAYS: Final = 366
#: Period kinds: a day, an ISO week (Monday to Sunday), a calendar month, or any range.
KINDS: Final = ("day", "week", "month", "range")


class PeriodError(ValueError):
    """A period that cannot be reported: `key` is a catalogue key, `params` fill it in."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Period:
    """Days `first` to `last`, both included, and how it was asked for (for titles)."""

    kind: str
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def day_list(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]


def parse_period(kind: str, value: str, until: str | None = None) -> Period:
    """A period from what a person types: `day 2026-11-27`, `week 2026-W48`, `month 2026-11`,
    `range 2026-11-01 2026-11-15`. Raises PeriodError (bounded: at most `MAX_DAYS` days)."""
    value = value.strip()[:32]
    try:
        if kind == "day":
            d = date.fromisoformat(value)
            return Period(kind, d, d)
        if kind == "week":
            year, _, week = value.upper().partition("-W")
            first = date.fromisocalendar(int(year), int(week), 1)
            return Period(kind, first, first + timedelta(days=6))
        if kind == "month":
            year, _, month = value.partition("-")
            first = date(int(year), int(month), 1)
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return Period(kind, first, following - timedelta(days=1))
        if kind == "range":
            first = date.fromisoformat(value)
            last = date.fromisoformat((until or value).strip()[:32])
        else:
            raise PeriodError("report.period_kind", kind=kind[:16])
    except ValueError as exc:
        if isinstance(exc, PeriodError):
            raise
        raise PeriodError("report.period_invalid", kind=kind, value=value) from None
    if last < first:
        raise PeriodError("report.period_backwards", first=first.isoformat(), last=last.isoformat())
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError("report.period_too_long", days=MAX_DAYS)
    return Period(kind, first, last)


@dataclass
class Figures:
    """The figures of one row of a report: the office, a service, a counter or an officer."""

    issued: int = 0
    served: int = 0
    skipped: int = 0
    expired: int = 0
    transferred: int = 0
    calls: int = 0
    waits: list[float] = field(default_factory=list)
    over_sop: int = 0
    service_times: list[float] = field(default_factory=list)

    @property
    def no_show_share(self) -> float | None:
        finished = self.served + self.skipped
        return self.skipped / finished if finished else None

    @property
    def over_sop_share(self) -> float | None:
        return self.over_sop / len(self.waits) if self.waits else None

    @property
    def wait_mean(self) -> float | None:
        return statistics.fmean(self.waits) if self.waits else None

    @property
    def wait_median(self) -> float | None:
        return statistics.median(self.waits) if self.waits else None

    @property
    def wait_p90(self) -> float | None:
        return nearest_rank(self.waits, 0.9)

    @property
    def service_mean(self) -> float | None:
        return statistics.fmean(self.service_times) if self.service_times else None

    @property
    def service_median(self) -> float | None:
        return statistics.median(self.service_times) if self.service_times else None


def nearest_rank(values: Sequence[float], q: float) -> float | None:
    """The q-quantile by nearest rank: the value at rank ceil(q x n) of the sorted values.

    Chosen over interpolation because a reader can check it by hand: of 10 waits, the 90th
    percentile is the 9th smallest."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(q * len(ordered)), 1) - 1]


@dataclass
class Report:
    """Every figure of a period: the office's, and per service, counter, officer, day, hour."""

    period: Period
    office: Figures = field(default_factory=Figures)
    services: dict[str, Figures] = field(default_factory=dict)
    counters: dict[int, Figures] = field(default_factory=dict)
    officers: dict[str, Figures] = field(default_factory=dict)
    days: dict[str, Figures] = field(default_factory=dict)
    #: Tickets issued per hour of the day (office time), over the whole period.
    hours: Counter[int] = field(default_factory=Counter)
    #: Working days with at least one ticket (the "per working day" figures divide by it): a
    #: closed weekday or a holiday is left out even when staff issued tickets on it (those
    #: tickets count in every other figure).
    open_days: int = 0
    #: Events the rules could not place (a log edited by hand): counted, never fatal.
    unplaced: int = 0

    def busiest_hours(self, n: int = 3) -> list[tuple[int, int]]:
        """The `n` hours with the most tickets issued, busiest first (earlier hour on a tie)."""
        return sorted(self.hours.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


@dataclass
class _Ticket:
    service: str
    waiting_since: datetime | None
    #: The counter and officer of the current call, and when it began.
    counter: int | None = None
    officer: str | None = None
    called_at: datetime | None = None
    state: str = "waiting"
    #: The rows that counted it as skipped (undone if it is served or expires after all).
    skip_rows: list[Figures] | None = None


class ReportBuilder:
    """Reads events in log order (any number of days) and keeps the figures; `report()` ends.

    Incremental so that a month of events is read once, from a cursor, without holding it.
    """

    def __init__(self, cfg: Config, period: Period, ongoing: str = "") -> None:
        self.cfg = cfg
        #: A day still open (today): its unserved tickets are waiting yet, not expired.
        self.ongoing = ongoing
        self.tz = cfg.office.tz
        self.sop = {s.letter: s.sop for s in cfg.services}
        self.out = Report(period)
        for s in cfg.services:
            self.out.services[s.letter] = Figures()
        for c in cfg.counters:
            self.out.counters[c.number] = Figures()
        for d in period.day_list():
            self.out.days[d.isoformat()] = Figures()
        self.day = ""
        self.tickets: dict[str, _Ticket] = {}

    # every row a figure goes to
    def _rows(self, service: str, counter: int | None = None, officer: str | None = None) -> list[Figures]:
        rows = [self.out.office, self.out.services.setdefault(service, Figures())]
        if self.day in self.out.days:
            rows.append(self.out.days[self.day])
        if counter is not None:
            rows.append(self.out.counters.setdefault(counter, Figures()))
        if officer is not None:
            rows.append(self.out.officers.setdefault(officer, Figures()))
        return rows

    def feed(self, e: Event) -> None:
        if e.day != self.day:
            self._end_day()
            self.day = e.day
        if e.type == "day_started":
            return
        d = e.data
        try:
            if e.type == "ticket_issued":
                self._issued(e, str(d["ticket"]), str(d["service"]))
            elif e.type == "tickets_expired":
                for code in d["tickets"]:
                    self._finish(str(code), "expired")
            else:
                code = d.get("ticket")
                t = self.tickets.get(str(code)) if code is not None else None
                if code is not None and t is None:
                    self.out.unplaced += 1
                elif t is not None:
                    self._ticket_event(e, str(code), t)
        except (KeyError, TypeError, ValueError):
            self.out.unplaced += 1

    def _issued(self, e: Event, code: str, service: str) -> None:
        self.tickets[code] = _Ticket(service, e.at)
        for row in self._rows(service):
            row.issued += 1
        self.out.hours[e.at.astimezone(self.tz).hour] += 1

    def _ticket_event(self, e: Event, code: str, t: _Ticket) -> None:
        d = e.data
        if e.type == "ticket_called":
            counter, officer = int(d["counter"]), e.actor
            if t.waiting_since is not None:  # a counter's and an officer's: the tickets they called
                wait = max((e.at - t.waiting_since).total_seconds() / 60, 0.0)
                sop = self.sop.get(t.service)
                for row in self._rows(t.service, counter, officer):
                    row.waits.append(wait)
                    row.over_sop += sop is not None and wait > sop
            t.waiting_since = None
            t.counter, t.officer, t.called_at, t.state = counter, officer, e.at, "called"
            for row in self._counter_rows(t):
                row.calls += 1
        elif e.type == "ticket_done":
            self._served_time(t, e.at)
            self._finish(code, "served")
        elif e.type in ("ticket_skipped", "ticket_not_checked_in"):
            # a phone ticket not checked in at its turn is a no-show as a missed call is
            self._finish(code, "skipped")
        elif e.type == "ticket_transferred":
            self._served_time(t, e.at)
            for row in self._rows(t.service, t.counter, t.officer):
                row.transferred += 1
            t.service, t.waiting_since, t.state = str(d["to"]), e.at, "waiting"
            t.counter = t.officer = t.called_at = None
        elif e.type == "ticket_reinserted":
            t.state, t.counter, t.officer, t.called_at = "waiting", None, None, None

    def _counter_rows(self, t: _Ticket) -> list[Figures]:
        rows: list[Figures] = []
        if t.counter is not None:
            rows.append(self.out.counters.setdefault(t.counter, Figures()))
        if t.officer is not None:
            rows.append(self.out.officers.setdefault(t.officer, Figures()))
        return rows

    def _served_time(self, t: _Ticket, at: datetime) -> None:
        if t.called_at is None:
            return
        minutes = max((at - t.called_at).total_seconds() / 60, 0.0)
        for row in self._rows(t.service, t.counter, t.officer):
            row.service_times.append(minutes)

    def _finish(self, code: str, outcome: str) -> None:
        """Record where a ticket's day ended (a skipped one may come back: undone then)."""
        t = self.tickets.get(code)
        if t is None:
            self.out.unplaced += 1
            return
        for row in t.skip_rows or ():  # put back after a missed call, now finished otherwise
            row.skipped -= 1
        rows = self._rows(t.service, t.counter, t.officer)
        for row in rows:
            setattr(row, outcome, getattr(row, outcome) + 1)
        t.skip_rows = rows if outcome == "skipped" else None
        t.state, t.counter, t.officer, t.called_at = outcome, None, None, None

    def _end_day(self) -> None:
        """A day is over: what it left unserved (no `tickets_expired` in the log, the hub was
        off at closing) expired with it, as the hub expires it at the next day's start."""
        if self.tickets and schedule_of(self.cfg).hours_on(date.fromisoformat(self.day)) is not None:
            self.out.open_days += 1
        if self.day != self.ongoing:
            for code, t in list(self.tickets.items()):
                if t.state in ("waiting", "called"):
                    self._finish(code, "expired")
        self.tickets = {}

    def report(self) -> Report:
        self._end_day()
        return self.out


def compute(events: Iterable[Event], cfg: Config, period: Period, ongoing: str = "") -> Report:
    """The report of `period` from its events, in log order (`ongoing`: today, still open)."""
    builder = ReportBuilder(cfg, period, ongoing)
    for e in events:
        builder.feed(e)
    return builder.report()


def labels(cfg: Config) -> Mapping[str, str]:
    """Service letter -> "A Administrasi kependudukan" for tables."""
    return {s.letter: f"{s.letter} {s.name}" for s in cfg.services}


#: A progress callback: (day, its index from 1, the number of days).
Progress = Callable[[str, int, int], None]


def from_log(
    db_path: str, cfg: Config, period: Period, *, ongoing: str = "", progress: Progress | None = None
) -> Report:
    """The report of `period` read from the event log at `db_path`, day by day.

    Opens a read-only connection of its own: the hub may be writing the same file (WAL lets a
    reader see the last commit without stopping the writer), and a report computed in a
    thread never shares the hub's connection or its transactions.
    """
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False)
    try:
        db.execute("PRAGMA busy_timeout=2000")
        builder = ReportBuilder(cfg, period, ongoing)
        days = period.day_list()
        for i, d in enumerate(days, 1):
            day = d.isoformat()
            rows = db.execute(
                "SELECT at, type, actor, reason, data FROM events WHERE day=? ORDER BY seq", (day,)
            )
            for at, type_, actor, reason, data in rows:
                builder.feed(Event(type_, datetime.fromisoformat(at), day, actor, json.loads(data), reason))
            if progress is not None:
                progress(day, i, len(days))
        return builder.report()
    finally:
        db.close()
