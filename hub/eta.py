"""When will each waiting citizen be called? A forward run of the hub's own calling rule. Pure.

Why not "people ahead x minutes / counters": counters serve several services (a B ticket taken
earlier is called before an A ticket at a shared counter), counters go on breaks and to lunch,
priority tickets that have not arrived yet will cut in, and the configured minutes are a guess.
So the estimate replays the future the way the hub will live it: from the current state (each
counter's services, status, break `until`, what it is serving and for how long already) it runs
the calling rule itself (`antrian.queue.choose_next`, the function `call_next` uses) forward in
time, with each service's expected counter time, the office's lunch plan and the expected
priority arrivals, and notes when and at which position every waiting ticket is called.

What the counters take is learned from the event log, robustly: from earlier days (the same
weekday and hour where there is enough data), with the configured `minutes` only as a prior,
and from today (how fast today's officers are, today's no-show share and what a no-show costs
a counter). The uncertainty of each call time is carried along, so a display can show a window
("sekitar pukul 09.40 - 10.05") where the uncertainty is large.

A forward run costs in proportion to the queue, and every batch of requests that issues tickets
needs one. In a rush, though, a batch only adds regular tickets at the back of their lanes, and
those change nothing the counters do before they reach them: the last run goes on from there
for the new tickets (`ForwardRun.extend`) and gives exactly what a run from scratch would.

No I/O here: earlier days come in through a function (`HistorySource`, the event store's
`events_between`), so the hub, the tests and the benchmark feed it alike.
"""

from __future__ import annotations

import heapq
import logging
import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Final

from antrian.config import Config
from antrian.queue import (
    DONE,
    SKIPPED,
    Counter,
    DomainError,
    Event,
    QueueState,
    ServiceQueue,
    Ticket,
    choose_next,
    local_day,
    replay,
    self_service,
)
from antrian.schedule import DayHours, schedule_of

log = logging.getLogger("antrian.eta")

#: Earlier days' events: `(first_day, last_day) -> (seq, event)...`, e.g. `EventStore.events_between`.
HistorySource = Callable[[str, str], Iterable[tuple[int, Event]]]
#: Minutes a counter spends on a ticket in a forward run, and their variance:
#: `(ticket, service, counter, start) -> (minutes, variance)`, start in minutes from now. The
#: estimator's own is the expected time; tests pass known ones.
Durations = Callable[[str, str, int, float], tuple[float, float]]

#: No counter serves anyone in less (minutes).
MIN_MINUTES: Final = 0.5
#: The configured minutes count as this many observed services (a prior, easily outvoted).
PRIOR_WEIGHT: Final = 3
#: A weekday-and-hour group of earlier services is used once it has this many.
HOUR_GROUP_MIN: Final = 20
#: A no-show share before any data, and how many calls that guess is worth.
NO_SHOW_PRIOR: Final = (0.05, 20)
#: Minutes a no-show holds a counter (called, recalled, skipped) before any data.
NO_SHOW_COST_PRIOR: Final = 2.0
#: Length of a short break (minutes) when a counter goes on one without saying until when.
SHORT_BREAK_MIN: Final = 15.0
#: Before it is known, how much days differ (relative standard deviation of a day's speed)
#: and how much single services differ (coefficient of variation of one service's time).
DAY_SPREAD_PRIOR: Final = 0.15
SERVICE_CV_PRIOR: Final = 0.5
#: A break that starts this long before the lunch window counts as the lunch.
LUNCH_EARLY: Final = timedelta(minutes=30)
#: The call window covers the middle 80% (z of the 90th percentile).
WINDOW_Z: Final = 1.2816
#: How much earlier history is read (days).
HISTORY_DAYS: Final = 56
#: Earlier days replayed per forecast at most, while the history is read (newest first).
HISTORY_DAYS_PER_CALL: Final = 5
#: How stale (seconds) the retained estimate of a service may be after a change: the TV and
#: Home Assistant follow within this; a ticket's own view is always fresh.
DISPLAY_LAG: Final = 2.0
#: A forecast is reused within this many seconds while the state does not change.
CACHE_SECONDS: Final = 15


# ---------------------------------------------------------------------------------------------
# What a day teaches
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """One call at a counter: the minutes the counter was taken, and whether the citizen came."""

    service: str
    hour: int
    minutes: float
    came: bool


@dataclass
class DayRecord:
    """What one working day says about the office: visits, priority arrivals, short breaks."""

    day: str
    weekday: int
    visits: list[Visit] = field(default_factory=list)
    #: (service, hour) -> priority tickets issued
    priority: dict[tuple[str, int], int] = field(default_factory=dict)
    short_break_minutes: float = 0.0
    short_breaks: list[float] = field(default_factory=list)
    counter_minutes: float = 0.0


def day_record(state: QueueState, until: datetime | None = None) -> DayRecord:
    """The visits, priority arrivals and breaks of the state's day (up to `until`).

    A ticket finished by the next call (the officer pressed "next" without "done") is left out
    when that next ticket came only after it was called: the counter may have sat idle, and
    its time would count the idle minutes as service.
    """
    cfg = state.cfg
    tz = cfg.office.tz
    d = date.fromisoformat(state.day) if state.day else date.today()
    rec = DayRecord(state.day, d.weekday())
    by_counter: dict[int, list[Ticket]] = defaultdict(list)
    for t in state.tickets.values():
        if t.priority and (until is None or t.issued_at <= until):
            key = (t.service, t.issued_at.astimezone(tz).hour)
            rec.priority[key] = rec.priority.get(key, 0) + 1
        if t.state in (DONE, SKIPPED) and t.called_at is not None and t.counter is not None:
            by_counter[t.counter].append(t)
    for tickets in by_counter.values():
        tickets.sort(key=lambda t: t.called_at or t.issued_at)
        for prev, nxt in zip(tickets, [*tickets[1:], None], strict=True):
            if prev.called_at is None or prev.finished_at is None:
                continue
            if (
                prev.state == DONE
                and nxt is not None
                and nxt.called_at == prev.finished_at
                and nxt.issued_at > prev.called_at
            ):
                continue
            minutes = (prev.finished_at - prev.called_at).total_seconds() / 60
            rec.visits.append(
                Visit(prev.service, prev.called_at.astimezone(tz).hour, minutes, prev.state == DONE)
            )
    hours = schedule_of(cfg).plan_on(d)
    opening, closing, lunch = hours.opening, hours.closing, hours.lunch
    day_minutes = (closing - opening).total_seconds() / 60
    if lunch is not None:
        day_minutes -= (lunch[1] - lunch[0]).total_seconds() / 60
    for number, c in state.counters.items():
        if number in state.retired or not by_counter.get(number):
            continue
        rec.counter_minutes += day_minutes
        for start, end in c.breaks:
            if end is None or (lunch is not None and lunch[0] - LUNCH_EARLY <= start < lunch[1]):
                continue
            minutes = (end - start).total_seconds() / 60
            rec.short_break_minutes += minutes
            rec.short_breaks.append(minutes)
    return rec


class Samples:
    """Sorted counter times with their tail sums: the mean of those over any length, fast."""

    def __init__(self, values: Iterable[float]) -> None:
        self.values = sorted(values)
        self.tail = [0.0] * (len(self.values) + 1)
        for i in range(len(self.values) - 1, -1, -1):
            self.tail[i] = self.tail[i + 1] + self.values[i]

    def longer_than(self, minutes: float) -> tuple[int, float]:
        """How many samples exceed `minutes`, and their sum."""
        i = bisect_right(self.values, minutes)
        return len(self.values) - i, self.tail[i]


NO_SAMPLES: Final = Samples(())


def robust_mean(values: Iterable[float]) -> tuple[float, int]:
    """Mean and count of `values` with each clipped to [1/4, 4] x their median (and to at
    least MIN_MINUTES: a call and its "done" within seconds is a slip of the finger).

    The median alone would be biased low (counter times are skewed: a few long services carry
    much of the time); the plain mean is at the mercy of one forgotten "done" key.
    """
    xs = list(values)
    if not xs:
        return 0.0, 0
    mid = median(xs)
    lo, hi = max(mid / 4, MIN_MINUTES), max(mid * 4, MIN_MINUTES)
    return sum(min(max(x, lo), hi) for x in xs) / len(xs), len(xs)


def _shrink(prior: float, weight: float, mean: float, n: int) -> float:
    """`n` observations with mean `mean` pulled toward `prior` worth `weight` observations."""
    return (weight * prior + n * mean) / (weight + n) if weight + n > 0 else prior


# ---------------------------------------------------------------------------------------------
# What is known from earlier days
# ---------------------------------------------------------------------------------------------


@dataclass
class History:
    """Earlier days of the office, summarised per service (built once per working day)."""

    days: list[DayRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.came: dict[str, list[float]] = defaultdict(list)
        self.by_hour: dict[tuple[str, int, int], list[float]] = defaultdict(list)
        self.no_shows: list[float] = []
        self.calls = 0
        self.priority_per_hour: dict[tuple[str, int, int], int] = defaultdict(int)
        self.weekdays: dict[int, int] = defaultdict(int)
        for rec in self.days:
            self.weekdays[rec.weekday] += 1
            for v in rec.visits:
                self.calls += 1
                if v.came:
                    self.came[v.service].append(v.minutes)
                    self.by_hour[(v.service, rec.weekday, v.hour)].append(v.minutes)
                else:
                    self.no_shows.append(v.minutes)
            for (svc, hour), n in rec.priority.items():
                self.priority_per_hour[(svc, rec.weekday, hour)] += n
        self.base: dict[str, tuple[float, int]] = {s: robust_mean(xs) for s, xs in self.came.items()}
        self.hour_means = {k: robust_mean(xs) for k, xs in self.by_hour.items() if len(xs) >= HOUR_GROUP_MIN}
        counter_minutes = sum(r.counter_minutes for r in self.days)
        self.break_share = (
            min(sum(r.short_break_minutes for r in self.days) / counter_minutes, 0.5)
            if counter_minutes > 0
            else 0.0
        )
        short = [m for r in self.days for m in r.short_breaks]
        self.short_break = median(short) if len(short) >= 3 else SHORT_BREAK_MIN
        self.sorted_came = {s: Samples(xs) for s, xs in self.came.items()}
        self._spread: tuple[tuple[tuple[str, float], ...], tuple[float, float]] | None = None
        self._usual: dict[tuple[str, float, int], list[float]] = {}
        self._shape: dict[tuple[str, int], list[float]] = {}

    def usual(self, service: str, prior: float, weekday: int) -> list[float]:
        """`mean` for each hour of a weekday (kept: the forecast asks on every change)."""
        key = (service, prior, weekday)
        table = self._usual.get(key)
        if table is None:
            table = self._usual[key] = [self.mean(service, prior, weekday, h)[0] for h in range(24)]
        return table

    def priority_shape(self, service: str, weekday: int) -> list[float]:
        """Priority tickets a minute per hour of the day on earlier days (of the same weekday
        where there are two such days)."""
        key = (service, weekday)
        shape = self._shape.get(key)
        if shape is None:
            same = self.weekdays.get(weekday, 0)
            if same >= 2:
                counts = [self.priority_per_hour.get((service, weekday, h), 0) / same for h in range(24)]
            else:
                counts = [
                    sum(self.priority_per_hour.get((service, w, h), 0) for w in range(7))
                    / max(len(self.days), 1)
                    for h in range(24)
                ]
            shape = self._shape[key] = [c / 60 for c in counts]
        return shape

    def mean(self, service: str, prior: float, weekday: int, hour: int) -> tuple[float, int]:
        """Expected minutes of a service that comes, and how many earlier services back it."""
        m, n = self.base.get(service, (0.0, 0))
        base = _shrink(prior, PRIOR_WEIGHT, m, n)
        group = self.hour_means.get((service, weekday, hour))
        if group is not None:
            base = _shrink(base, HOUR_GROUP_MIN, group[0], group[1])
        return base, n

    def spread(self, priors: Mapping[str, float]) -> tuple[float, float]:
        """(day-to-day variance of the office's speed, variance of one service), both relative.

        From each earlier day's ratio of its services to the usual times: the ratios' variance
        less what the number of services alone explains. Worked out once per day.
        """
        key = tuple(sorted(priors.items()))
        if self._spread is None or self._spread[0] != key:
            self._spread = (key, self._work_out_spread(priors))
        return self._spread[1]

    def _work_out_spread(self, priors: Mapping[str, float]) -> tuple[float, float]:
        ratios: list[float] = []
        per_day: list[tuple[float, int]] = []
        for rec in self.days:
            day = [
                v.minutes / self.mean(v.service, priors.get(v.service, 10.0), rec.weekday, v.hour)[0]
                for v in rec.visits
                if v.came
            ]
            ratios += day
            if len(day) >= 5:
                per_day.append(robust_mean(day))
        cv2 = _variance([min(r, 4.0) for r in ratios]) if len(ratios) >= 20 else SERVICE_CV_PRIOR**2
        cv2 = max(cv2, 0.1**2)  # no office serves like clockwork: never divide by nothing
        if len(per_day) < 3:
            return DAY_SPREAD_PRIOR**2, cv2
        n_mean = sum(n for _, n in per_day) / len(per_day)
        tau2 = _variance([m for m, _ in per_day]) - cv2 / n_mean
        return max(tau2, 0.03**2), cv2


def _variance(xs: list[float]) -> float:
    mu = sum(xs) / len(xs)
    return sum((x - mu) ** 2 for x in xs) / max(len(xs) - 1, 1)


def day_records(cfg: Config, events: Iterable[tuple[int, Event]]) -> list[DayRecord]:
    """Replay each earlier day through the queue model and keep what it teaches."""
    days: dict[str, list[tuple[int, Event]]] = defaultdict(list)
    for seq, e in events:
        days[e.day].append((seq, e))
    records = []
    for day in sorted(days):
        state, _ = replay(cfg, days[day])
        if state.day == day:
            records.append(day_record(state))
    return records


def history_of(cfg: Config, events: Iterable[tuple[int, Event]]) -> History:
    return History(day_records(cfg, events))


# ---------------------------------------------------------------------------------------------
# Today's model of each service
# ---------------------------------------------------------------------------------------------


@dataclass
class ServiceModel:
    """Expected counter minutes of one service today, per hour, and its samples for residuals
    (earlier days' in their usual speed, times today's `factor`; today's as they were)."""

    by_hour: list[float]
    factor: float
    earlier: Samples
    today: Samples

    def mean(self, hour: int) -> float:
        return self.by_hour[min(max(hour, 0), 23)]

    def remaining(self, elapsed: float, hour: int) -> float:
        """Expected minutes left of a service already `elapsed` minutes long."""
        n1, sum1 = self.earlier.longer_than(elapsed / self.factor)
        n2, sum2 = self.today.longer_than(elapsed)
        if n1 + n2 >= 5:
            return (sum1 * self.factor + sum2) / (n1 + n2) - elapsed
        m = self.mean(hour)
        return max(m - elapsed, 0.25 * m)


@dataclass
class Model:
    """Everything the forward run needs to know about today's office."""

    services: dict[str, ServiceModel]
    no_show: float
    no_show_cost: float
    break_share: float
    short_break: float
    service_cv2: float
    #: relative variance of today's speed that remains after what today has shown
    speed_var: float
    #: (service, hour) -> expected priority arrivals per minute
    priority_rate: dict[tuple[str, int], float]

    def duration(self, service: str, hour: int) -> tuple[float, float]:
        """Expected minutes a counter is taken by one ticket of `service`, and their variance."""
        m = self.services[service].mean(hour)
        p, c = self.no_show, self.no_show_cost
        mean = (1 - p) * m + p * c
        second = (1 - p) * m * m * (1 + self.service_cv2) + p * c * c
        scale = 1 / (1 - self.break_share)
        return mean * scale, max(second - mean * mean, 0.0) * scale * scale


def build_model(state: QueueState, history: History, now: datetime, today: DayRecord | None = None) -> Model:
    """Combine earlier days (robust, per weekday and hour where possible) with today so far
    (`today`: the state's `day_record`, when the caller has it already)."""
    cfg = state.cfg
    tz = cfg.office.tz
    local = now.astimezone(tz)
    weekday = local.weekday()
    if today is None:
        today = day_record(state, now)
    priors = {s.letter: s.minutes for s in cfg.services}
    day_var, cv2 = history.spread(priors)
    weight_day = cv2 / day_var  # how many of today's services weigh as much as the usual times

    def usual(service: str, hour: int) -> float:
        return history.usual(service, priors.get(service, 10.0), weekday)[hour]

    ratios: dict[str, list[float]] = defaultdict(list)
    for v in today.visits:
        if v.came and v.service in state.services:
            ratios[v.service].append(v.minutes / usual(v.service, v.hour))
    office_r, office_n = robust_mean(r for rs in ratios.values() for r in rs)
    office_factor = _shrink(1.0, weight_day, office_r, office_n)
    services: dict[str, ServiceModel] = {}
    for letter in state.services:
        n_hist = history.mean(letter, priors.get(letter, 10.0), weekday, 9)[1]
        r, n = robust_mean(ratios.get(letter, []))
        factor = _shrink(office_factor, min(n_hist + PRIOR_WEIGHT, weight_day), r, n)
        by_hour = [m * factor for m in history.usual(letter, priors.get(letter, 10.0), weekday)]
        earlier = history.sorted_came.get(letter) or NO_SAMPLES
        mine = Samples(v.minutes for v in today.visits if v.came and v.service == letter)
        services[letter] = ServiceModel(by_hour, factor, earlier, mine)
    # what remains uncertain about today's speed once today's services are seen
    speed_var = 1 / (1 / day_var + office_n / cv2)

    hist_calls = history.calls
    hist_p = _shrink(
        NO_SHOW_PRIOR[0], NO_SHOW_PRIOR[1], len(history.no_shows) / max(hist_calls, 1), hist_calls
    )
    today_calls = len(today.visits)
    today_no = sum(1 for v in today.visits if not v.came)
    no_show = _shrink(hist_p, 30, today_no / max(today_calls, 1), today_calls)
    costs = history.no_shows + [v.minutes for v in today.visits if not v.came]
    cost = _shrink(NO_SHOW_COST_PRIOR, 3, median(costs), len(costs)) if costs else NO_SHOW_COST_PRIOR

    return Model(
        services,
        no_show,
        cost,
        history.break_share,
        history.short_break,
        cv2,
        speed_var,
        _priority_rates(state, history, today, local),
    )


def _priority_rates(
    state: QueueState, history: History, today: DayRecord, local: datetime
) -> dict[tuple[str, int], float]:
    """Expected priority arrivals per minute, per service and hour, for the rest of today.

    Earlier days of the same weekday (or all days) give the shape over the day; today's own
    count so far scales it. With no history, today's rate since the first ticket goes on.
    """
    first = min((t.issued_at for t in state.tickets.values()), default=local)
    elapsed = max((local - first).total_seconds() / 60, 0.0)
    n_all = len(history.days)
    rates: dict[tuple[str, int], float] = {}
    for letter in state.services:
        seen = sum(n for (s, _), n in today.priority.items() if s == letter)
        if n_all == 0:  # today's rate so far, as if half an hour more had passed with none
            rate = seen / (elapsed + 30)
            for h in range(24):
                rates[(letter, h)] = rate
            continue
        shape = history.priority_shape(letter, local.weekday())
        expected = sum(shape[h] * 60 for h in range(local.hour)) + shape[local.hour] * local.minute
        factor = (3 + seen) / (3 + expected)
        for h in range(24):
            rates[(letter, h)] = shape[h] * factor
    return rates


# ---------------------------------------------------------------------------------------------
# The forward run
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Call:
    """One call in a forward run: when (minutes from now), where, and how uncertain."""

    at: float
    counter: int
    position: int  # real waiting tickets called before this one
    variance: float  # of `at`, from the services before it at its counter


@dataclass
class Availability:
    """When a counter can next call (minutes from now) and the lunch it has still to take."""

    number: int
    services: tuple[str, ...]
    free_at: float
    streak: int = 0
    lunch: tuple[float, float] | None = None
    variance: float = 0.0


#: A ticket taken now, for each service: where it would go (after every waiting ticket).
MARKER: Final = "~"


def forward_run(
    state: QueueState,
    counters: list[Availability],
    duration: Durations,
    *,
    arrivals: Iterable[tuple[float, str]] = (),
    markers: bool = True,
) -> dict[str, Call]:
    """Run the calling rule forward: the call of every waiting ticket the counters reach.

    Counters call in order of the time they are free (lower number first on a tie), each with
    `choose_next` on copies of the lanes: the hub's rule, not a copy of it. `duration` gives
    the minutes (and their variance) a counter spends on a ticket. `arrivals` are expected
    future priority tickets (minutes from now, service): they take counter time and may cut
    in, but are not anyone's "ahead". With `markers`, a ticket taken now for each service is
    placed after every waiting one and takes no time: its call is the answer for a citizen at
    the kiosk. A ticket of a service no counter reaches is missing from the result.
    """
    return ForwardRun(state, counters, duration, arrivals=arrivals, markers=markers).run()


@dataclass(slots=True)
class _Mark:
    """A forward run just before a counter called a marker, and all it takes to go on from there.

    The one kind of step where a run with more regular tickets at the back of their lanes can
    part from this one: a counter that found only a marker in a lane now finds a new ticket.
    """

    at: float
    counter: int
    code: str
    heap: list[tuple[float, int]]
    idle: list[int]
    #: per counter (in the run's order): priority streak, lunch still to take, variance
    counters: list[tuple[int, tuple[float, float] | None, float]]
    #: per lane (in the run's order): regular tickets called, priority called, priority known
    #: (counted from the front: tickets joining the back leave them true)
    lanes: list[tuple[int, int, int]]
    calls: int
    position: int
    seq: int
    next_arrival: int


class ForwardRun:
    """`forward_run`, kept so that it can go on when regular tickets join the back of the lanes.

    In a rush, each batch of requests only adds regular tickets, each newer than every ticket
    waiting. Such tickets change nothing a counter does until it would call a marker (the
    ticket taken now, which sits where they now sit): every call before that is the same, and
    so are the marks, the states of the run kept at each marker call. `extend` goes back to the
    first mark where the calling rule picks otherwise with the new tickets in the lanes and
    runs on from there: the calls of a run from scratch, at the cost of the calls after it (in
    a rush: the new tickets and the markers).
    """

    def __init__(
        self,
        state: QueueState,
        counters: list[Availability],
        duration: Durations,
        *,
        arrivals: Iterable[tuple[float, str]] = (),
        markers: bool = True,
        booked: Iterable[tuple[float, str]] = (),
    ) -> None:
        self.streak_limit = state.cfg.queue.priority_streak
        self.duration = duration
        self.markers = markers
        self.behind = state.order_seq + 1
        self.lanes: dict[str, ServiceQueue] = {}
        #: every regular ticket of each lane when the run started (and the marker), and every
        #: priority ticket it had or got (expected arrivals): the lanes are their tails
        self.regular: dict[str, list[tuple[int, str]]] = {}
        self.priority: dict[str, list[tuple[int, str]]] = {}
        self.where: dict[str, str] = {}  # code -> service (a transferred ticket keeps its letter)
        #: bookings expected to check in (their place, service): regular tickets to come, in
        #: the place the booking rule gives them (`QueueState.slot_order`)
        ghosts: dict[str, list[tuple[float, str]]] = {}
        for i, (order, letter) in enumerate(booked):
            ghosts.setdefault(letter, []).append((order, f"{MARKER}b{i}"))
        for letter, svc in state.services.items():
            regular = (
                sorted([*svc.regular, *ghosts.get(letter, ())]) if letter in ghosts else list(svc.regular)
            )
            if markers:
                regular.append((self.behind, MARKER + letter))
            self.regular[letter] = regular
            self.priority[letter] = list(svc.priority)
            self.lanes[letter] = ServiceQueue(
                letter, svc.status, priority=list(svc.priority), regular=list(regular)
            )
            for _, code in svc.priority:
                self.where[code] = letter
            for _, code in regular:
                self.where[code] = letter
        self.tickets = len(self.where)  # real tickets and markers, called or to be called
        self.pending = sorted(arrivals)
        self.sims = {a.number: Counter(a.number, a.services, priority_streak=a.streak) for a in counters}
        self.avail = {a.number: a for a in counters}
        self.heap = [(a.free_at, a.number) for a in counters]
        heapq.heapify(self.heap)
        self.idle: set[int] = set()
        self.calls: dict[str, Call] = {}
        self.called: list[str] = []  # the codes of `calls`, in the order of the run
        self.position = 0
        self.seq = self.behind
        self.next_arrival = 0
        self.marks: list[_Mark] = []

    def run(self) -> dict[str, Call]:
        """Run on until every ticket is called or no counter can call any more; the calls."""
        lanes, where, sims, avail, heap, idle = (
            self.lanes,
            self.where,
            self.sims,
            self.avail,
            self.heap,
            self.idle,
        )
        calls, called, pending, duration, streak_limit = (
            self.calls,
            self.called,
            self.pending,
            self.duration,
            self.streak_limit,
        )
        push, pop, rule = heapq.heappush, heapq.heappop, choose_next
        position, seq, next_arrival = self.position, self.seq, self.next_arrival
        left = self.tickets - len(called)  # still to be called
        next_at = pending[next_arrival][0] if next_arrival < len(pending) else math.inf
        while left:
            if heap and heap[0][0] < next_at:
                t, n = pop(heap)
            elif next_at < math.inf and (heap or idle):  # an expected arrival comes first
                at, letter = pending[next_arrival]
                next_arrival += 1
                next_at = pending[next_arrival][0] if next_arrival < len(pending) else math.inf
                seq += 1
                item = (seq, f"{MARKER}{seq}")
                lanes[letter].priority.append(item)
                self.priority[letter].append(item)
                where[item[1]] = letter
                for n in sorted(n for n in idle if letter in sims[n].services):
                    idle.discard(n)
                    push(heap, (at, n))
                continue
            else:
                break
            a = avail[n]
            if a.lunch is not None and t >= a.lunch[0]:
                end = a.lunch[1]
                a.lunch = None
                if t < end:
                    push(heap, (end, n))
                    continue
            counter = sims[n]
            pick = rule(lanes, counter, streak_limit)
            if pick is None:
                idle.add(n)
                continue
            code, as_priority = pick
            letter = where[code]
            if code[0] == MARKER and code[1:] == letter:  # a ticket taken now: no time of its own
                self.marks.append(
                    _Mark(
                        t,
                        n,
                        code,
                        list(heap),
                        list(idle),
                        [(sims[k].priority_streak, c.lunch, c.variance) for k, c in avail.items()],
                        self._lanes_now(),
                        len(called),
                        position,
                        seq,
                        next_arrival,
                    )
                )
                counter.priority_streak = 0
                del lanes[letter].regular[0]
                calls[code] = Call(t, n, position, a.variance)
                called.append(code)
                left -= 1
                push(heap, (t, n))
                continue
            counter.priority_streak = counter.priority_streak + 1 if as_priority else 0
            lane = lanes[letter]
            del (lane.priority if as_priority else lane.regular)[0]
            if code[0] != MARKER:
                calls[code] = Call(t, n, position, a.variance)
                called.append(code)
                position += 1
                left -= 1
            took, var = duration(code, letter, n, t)
            a.variance += var
            push(heap, (t + took, n))
        self.position, self.seq, self.next_arrival = position, seq, next_arrival
        return calls

    def extend(self, new: Mapping[str, Sequence[tuple[int, str]]], behind: int) -> dict[str, Call]:
        """Go on as if the run had had `new` regular tickets at the back of their lanes, each
        newer than every ticket it had (`behind`: the order after the newest); the calls.

        Only for a run with markers: a marker's call is where the new tickets start to count.
        """
        assert self.markers, "a run without markers cannot tell where new tickets start to count"
        part = self._parting({x: tickets[0] for x, tickets in new.items() if tickets}, behind)
        mark = None if part is None else self.marks[part]
        if mark is None:
            kept = self._lanes_now()
        else:
            kept = mark.lanes
            del self.marks[part:]
        for (letter, lane), (gone, p_gone, p_known) in zip(self.lanes.items(), kept, strict=True):
            regular = self.regular[letter]
            regular[-1:] = [*new.get(letter, ()), (behind, MARKER + letter)]
            lane.regular = regular[gone:]
            known = self.priority[letter]
            del known[p_known:]
            lane.priority = known[p_gone:]
            for _, code in new.get(letter, ()):
                self.where[code] = letter
        self.behind = behind
        if mark is not None:
            # The calls after the mark stay in `calls` until the run makes them again: it makes
            # every one of them (a lane a counter serves is emptied whatever the order), and a
            # dict whose keys are only replaced stays compact, quick to copy into a Forecast.
            del self.called[mark.calls :]
            for (streak, lunch, variance), sim, a in zip(
                mark.counters, self.sims.values(), self.avail.values(), strict=True
            ):
                sim.priority_streak, a.lunch, a.variance = streak, lunch, variance
            self.heap[:] = mark.heap
            heapq.heappush(self.heap, (mark.at, mark.counter))
            self.idle.clear()
            self.idle.update(mark.idle)
            self.position, self.seq, self.next_arrival = mark.position, mark.seq, mark.next_arrival
        self.tickets += sum(len(tickets) for tickets in new.values())
        return self.run()

    def _lanes_now(self) -> list[tuple[int, int, int]]:
        """Per lane: regular tickets called, priority tickets called, priority tickets known."""
        return [
            (
                len(self.regular[x]) - len(q.regular),
                len(self.priority[x]) - len(q.priority),
                len(self.priority[x]),
            )
            for x, q in self.lanes.items()
        ]

    def _parting(self, first: Mapping[str, tuple[int, str]], behind: int) -> int | None:
        """The first mark where the calling rule, with the new tickets in the lanes (`first`: the
        first new ticket of each service), calls something else than the marker it called."""
        order = {letter: i for i, letter in enumerate(self.lanes)}
        numbers = list(self.sims)
        for i, mark in enumerate(self.marks):
            services = self.sims[mark.counter].services
            if not any(
                letter in first and mark.lanes[order[letter]][0] == len(self.regular[letter]) - 1
                for letter in services
            ):
                continue  # no new ticket where this counter found a marker: markers only move back
            heads: dict[str, ServiceQueue] = {}
            for letter in services:
                gone, p_gone, p_known = mark.lanes[order[letter]]
                regular = self.regular[letter]
                head = regular[gone] if gone < len(regular) else None
                if head is not None and head[1][0] == MARKER:
                    head = first.get(letter, (behind, head[1]))
                heads[letter] = ServiceQueue(
                    letter,
                    self.lanes[letter].status,
                    priority=[self.priority[letter][p_gone]] if p_gone < p_known else [],
                    regular=[head] if head is not None else [],
                )
            streak = mark.counters[numbers.index(mark.counter)][0]
            pick = choose_next(
                heads, Counter(mark.counter, services, priority_streak=streak), self.streak_limit
            )
            if pick is None or pick[0] != mark.code:
                return i
        return None


# ---------------------------------------------------------------------------------------------
# The estimator: model + forward run, cached per state change
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Estimate:
    """The expected call of one ticket (or of a ticket taken now), for the displays.

    `minutes` None: no counter will serve the service today (paused, or every counter serving
    it closed): "belum dapat diperkirakan". Otherwise the call is expected `minutes` after
    `now`, the middle 80% of the outcomes between `low` and `high`, and `served_today` says
    whether that comes before closing: "yes", "maybe" (the window reaches past closing) or
    "no" (expected after it).
    """

    position: int
    now: datetime
    minutes: float | None = None
    spread: float = 0.0
    served_today: str | None = None

    @property
    def at(self) -> datetime | None:
        return None if self.minutes is None else self.now + timedelta(minutes=self.minutes)

    @property
    def low(self) -> datetime | None:
        if self.minutes is None:
            return None
        return self.now + timedelta(minutes=max(self.minutes - WINDOW_Z * self.spread, 0.0))

    @property
    def high(self) -> datetime | None:
        if self.minutes is None:
            return None
        return self.now + timedelta(minutes=self.minutes + WINDOW_Z * self.spread)


@dataclass
class Forecast:
    """The forward run's calls, read as estimates: per waiting ticket, and per service for a
    ticket taken now. Estimates are made when asked (a display asks for one ticket at a time).
    """

    now: datetime
    calls: dict[str, Call]
    #: per service: how many counters serve it today (the spread of a call shrinks with them)
    sharing: dict[str, int]
    #: relative variance of today's speed, minutes until closing
    speed_var: float
    until_close: float
    #: each service's expected counter minutes now (published as its mean)
    minutes: dict[str, float]
    #: code -> service and place in its own lane, for tickets no counter will reach
    lanes: dict[str, tuple[str, int]]
    waiting: dict[str, int]

    def _estimate(self, call: Call | None, letter: str, fallback: int) -> Estimate:
        if call is None:
            return Estimate(fallback, self.now, served_today="no" if self.until_close <= 0 else None)
        t = call.at
        sd = math.sqrt(call.variance / self.sharing.get(letter, 1) + self.speed_var * t * t)
        until = self.until_close
        served = "no" if t > until else "maybe" if t + WINDOW_Z * sd > until else "yes"
        return Estimate(call.position, self.now, t, sd, served)

    def ticket(self, code: str) -> Estimate | None:
        """The estimate of a waiting ticket (None for a ticket that is not waiting)."""
        lane = self.lanes.get(code)
        if lane is None:
            return None
        return self._estimate(self.calls.get(code), lane[0], lane[1])

    def new_ticket(self, letter: str) -> Estimate:
        """The estimate for a ticket of `letter` taken now (after closing: not today)."""
        if self.until_close <= 0:
            return Estimate(self.waiting.get(letter, 0), self.now, served_today="no")
        return self._estimate(self.calls.get(MARKER + letter), letter, self.waiting.get(letter, 0))


class Estimator:
    """Today's forecast of the queue, learned from earlier days through `history`.

    Attach one to the hub's state (`state.estimator`); the views ask it. Earlier days are read
    once per working day; a forecast is reused while the state is unchanged (for up to
    CACHE_SECONDS): the displays of one change share one forward run; and while only regular
    tickets join the queue, the last forward run goes on for them instead of starting again.
    """

    def __init__(
        self, cfg: Config, history: HistorySource | None = None, *, days: int = HISTORY_DAYS
    ) -> None:
        self.cfg = cfg
        self.source = history
        self.days = days
        self.history = History()
        self.history_day: str | None = None
        self._records: dict[str, DayRecord] = {}
        self._read: set[str] = set()  # earlier days already replayed (with or without events)
        self._cache: tuple[tuple[int, int], Forecast, QueueState] | None = None
        self._model: tuple[tuple[int, int, datetime, bool], Model] | None = None
        self._kept: _Kept | None = None
        self._whole: str | None = None  # the day whose whole window of earlier days is read
        #: The bookings of today expected to check in now, as (service, slot start): their slot
        #: has begun and its grace has not passed (`antrian.booking` sets it when it runs).
        self.expected_bookings: Callable[[datetime], list[tuple[str, datetime]]] | None = None
        #: forward runs from scratch, and runs that went on from the last one (for the benchmark)
        self.full_runs = 0
        self.continued_runs = 0

    def _booked(self, state: QueueState, now: datetime) -> list[tuple[float, str]]:
        """The bookings expected to check in, each in the place the booking rule will give it:
        before the tickets issued since its slot began, so a ticket taken now waits for them.
        Bookings of later slots are not counted: they will queue behind everyone waiting now."""
        if self.expected_bookings is None:
            return []
        out: list[tuple[float, str]] = []
        for letter, start in self.expected_bookings(now):
            if letter in state.services:
                order = state.slot_order(start)
                out.append((state.order_seq + 0.5 if order is None else order, letter))
        return out

    def history_for(self, day: str) -> History:
        """The summary of the `days` days before `day`.

        Earlier days never change, so each is replayed once, and at most HISTORY_DAYS_PER_CALL
        of them per call, newest first: a hub that starts with months of log answers its first
        requests at once (replaying a busy office's eight weeks takes seconds) and knows all
        eight weeks after a few more changes; a new day reads only yesterday.
        """
        if self.source is None or not day or day == self._whole:
            return self.history
        d = date.fromisoformat(day)
        window = [(d - timedelta(days=i)).isoformat() for i in range(1, self.days + 1)]
        missing = [k for k in window if k not in self._read]
        if self.history_day == day and not missing:
            return self.history
        self.history_day = day
        if missing:
            chunk = missing[:HISTORY_DAYS_PER_CALL]
            first, last = min(chunk), max(chunk)
            try:
                for rec in day_records(self.cfg, self.source(first, last)):
                    self._records[rec.day] = rec
            except Exception:  # earlier days only sharpen the estimate; never fail a request
                log.exception("wait estimate: earlier days could not be read")
            self._read.update(k for k in window if first <= k <= last)
        self._read &= set(window)
        self._records = {k: r for k, r in self._records.items() if k in self._read}
        self.history = History([self._records[k] for k in sorted(self._records)])
        if self._read.issuperset(window):
            self._whole = day
        return self.history

    def forecast(self, state: QueueState, now: datetime, *, max_age: float = 0.0) -> Forecast:
        """The forecast of `state` at `now`: reused while the state is unchanged (for up to
        CACHE_SECONDS), and, for a display that may lag a change by `max_age` seconds (the
        retained estimate for a new ticket), the last forecast of this state if it is that
        fresh: a stream of calls then costs one forward run every `max_age` seconds, not one
        per call. A ticket's own view always asks for the state as it is.
        """
        key = (state.version, int(now.timestamp() // CACHE_SECONDS))
        if self._cache is not None:
            cached_key, result, of = self._cache
            age = (now - result.now).total_seconds()
            if cached_key == key or (max_age > 0 and of is state and 0 <= age <= max_age):
                return result
        result = self.compute(state, now)
        self._cache = (key, result, state)
        return result

    def compute(self, state: QueueState, now: datetime, *, scratch: bool = False) -> Forecast:
        """A fresh forecast (no cache): model, plan of the counters, forward run.

        While only regular tickets have joined the queue since the last forecast, within the
        same CACHE_SECONDS window, its forward run goes on for them instead (`ForwardRun.extend`:
        in a rush, a batch of tickets then costs the calls of its own tickets, not of the whole
        queue). The forecast is then of the instant the run started (its `now`, seconds old at
        most, as a reused forecast may be): exactly what a run from scratch of the state as it
        is now at that instant gives. `scratch`: a run from scratch that leaves the kept run as
        it is (what going on must equal, for the tests and the benchmark).
        """
        cfg = self.cfg
        tz = cfg.office.tz
        local = now.astimezone(tz)
        today = local.date().isoformat()
        if state.day < today:
            # Nobody has taken a ticket yet today: the state is still yesterday's (its counters
            # as they were left at closing). The first ticket starts the day afresh; so does
            # the estimate.
            state = QueueState(cfg, today)
        day = state.day
        # the days before today: read when the date changes (a tick after midnight), not when
        # the first citizen of the day takes a ticket
        history = self.history_for(day)
        # Today's record and the model change only with a call, a break, a priority ticket ...
        # (and the minute, for the priority arrivals to come): a rush of regular tickets reuses
        # them instead of reading the whole day again for each ticket.
        key = (state.record_version, id(history), local.replace(second=0, microsecond=0), bool(state.tickets))
        window = int(now.timestamp() // CACHE_SECONDS)
        kept = self._kept
        if (
            not scratch
            and kept is not None
            and kept.state is state
            and kept.history is history
            and kept.key == (key, window)
        ):
            new = kept.joined(state)
            if new is not None:
                self.continued_runs += 1
                return kept.extend(state, new)
        if self._model is None or self._model[0] != key:
            self._model = (key, build_model(state, history, now, today=day_record(state, now)))
        model = self._model[1]
        d = date.fromisoformat(day)
        closing = schedule_of(cfg).plan_on(d).closing
        counters = plan_counters(state, model, now)
        start = local.hour * 60 + local.minute + local.second / 60
        first = min(local.hour, 23)
        table = {
            letter: [model.duration(letter, max(h, first)) if h >= first else (0.0, 0.0) for h in range(24)]
            for letter in state.services
        }

        def expected(code: str, letter: str, n: int, t: float) -> tuple[float, float]:
            return table[letter][min(int((start + t) // 60), 23)]

        until_close = (closing - now).total_seconds() / 60
        arrivals = _arrivals(model, start, until_close) if until_close > 0 else []
        run = ForwardRun(state, counters, expected, arrivals=arrivals, booked=self._booked(state, now))
        calls = run.run()
        sharing = {
            letter: max(sum(1 for a in counters if letter in a.services), 1) for letter in state.services
        }
        lanes = {
            code: (letter, i)
            for letter, svc in state.services.items()
            for i, (_, code) in enumerate(svc.priority + svc.regular)
        }
        forecast = Forecast(
            now,
            dict(calls),
            sharing,
            model.speed_var,
            until_close,
            {letter: m.mean(local.hour) for letter, m in model.services.items()},
            lanes,
            {letter: svc.waiting for letter, svc in state.services.items()},
        )
        if not scratch:
            self._kept = _Kept(state, (key, window), history, run, forecast, state.order_seq, _tails(state))
            self.full_runs += 1
        return forecast


def _tails(state: QueueState) -> dict[str, tuple[int, tuple[int, str] | None, int]]:
    """Per service: regular tickets waiting, the newest of them, priority tickets waiting."""
    return {
        letter: (len(svc.regular), svc.regular[-1] if svc.regular else None, len(svc.priority))
        for letter, svc in state.services.items()
    }


@dataclass
class _Kept:
    """The estimator's last forward run, what it ran on, and the forecast it gave."""

    state: QueueState
    key: tuple[tuple[int, int, datetime, bool], int]
    history: History
    run: ForwardRun
    forecast: Forecast
    order_seq: int
    tails: dict[str, tuple[int, tuple[int, str] | None, int]]

    def joined(self, state: QueueState) -> dict[str, list[tuple[int, str]]] | None:
        """The regular tickets that joined the back of the lanes since, newer than every ticket
        the run had; None if anything else changed (then the run starts again).

        With today's record unchanged (the caller's key), a regular ticket joining is the only
        change there can have been; the lanes are checked all the same, at a few steps each.
        """
        if state.services.keys() != self.tails.keys():
            return None
        new: dict[str, list[tuple[int, str]]] = {}
        for letter, svc in state.services.items():
            count, newest, priority = self.tails[letter]
            regular = svc.regular
            if len(svc.priority) != priority or len(regular) < count:
                return None
            if count and regular[count - 1] != newest:
                return None
            if len(regular) > count:
                if regular[count][0] <= self.order_seq:
                    return None
                new[letter] = regular[count:]
        return new

    def extend(self, state: QueueState, new: dict[str, list[tuple[int, str]]]) -> Forecast:
        """The forecast of `state` (the kept one with `new` tickets), by running on."""
        calls = self.run.extend(new, state.order_seq + 1)
        before = self.forecast
        lanes = dict(before.lanes)
        for letter, tickets in new.items():
            svc = state.services[letter]
            for i, (_, code) in enumerate(tickets, len(svc.priority) + len(svc.regular) - len(tickets)):
                lanes[code] = (letter, i)
        self.forecast = Forecast(
            before.now,
            dict(calls),
            before.sharing,
            before.speed_var,
            before.until_close,
            before.minutes,
            lanes,
            {letter: svc.waiting for letter, svc in state.services.items()},
        )
        self.order_seq = state.order_seq
        self.tails = _tails(state)
        return self.forecast


def _arrivals(model: Model, start: float, until_close: float) -> list[tuple[float, str]]:
    """Expected priority arrivals until closing (minutes from now; `start`: now, in minutes
    after midnight), one each time their expected count passes a whole number: the forward
    run is an expectation, not a draw."""
    out: list[tuple[float, str]] = []
    for letter in sorted({s for s, _ in model.priority_rate}):
        count = 0.5  # the first one after half an arrival's worth of time
        t = 0.0
        while t < until_close:
            clock = start + t
            step = min(60 - clock % 60, until_close - t)
            rate = model.priority_rate.get((letter, min(int(clock // 60), 23)), 0.0)
            if rate > 0 and count + rate * step >= 1:
                t += (1 - count) / rate
                out.append((t, letter))
                count = 0.0
                continue
            count += rate * step
            t += max(step, 1e-6)
    return out


def plan_counters(state: QueueState, model: Model, now: datetime) -> list[Availability]:
    """When each counter can call next (minutes from now) and the lunch it still has to take.

    Closed counters take no calls today. A counter on a break is back at its `until`; without
    one, a lunch break lasts until the end of its lunch turn and a short break the usual
    length. Before opening, counters start at opening time.
    """
    cfg = state.cfg
    tz = cfg.office.tz
    local = now.astimezone(tz)
    d = local.date() if not state.day else date.fromisoformat(state.day)
    hours = schedule_of(cfg).plan_on(d)
    turns = _lunch_turns(state, hours)
    start = max((hours.opening - now).total_seconds() / 60, 0.0)
    out = []
    for number in sorted(state.counters):
        c = state.counters[number]
        if number in state.retired or c.status == "closed":
            continue
        window = hours.break_of(number)
        lunch_taken = window is not None and any(
            window[0] - LUNCH_EARLY <= s < window[1] for s, _ in c.breaks
        )
        turn = turns.get(number)
        lunch = None
        if turn is not None and not lunch_taken:
            lunch = ((turn[0] - now).total_seconds() / 60, (turn[1] - now).total_seconds() / 60)
        a = Availability(number, c.services, start, c.priority_streak, lunch)
        if c.status == "break":
            a.free_at = max(_break_end(c, local, turn, model), start)
            a.variance += (0.25 * a.free_at) ** 2 if c.until is None else 4.0
        elif c.serving is not None:
            t = state.tickets[c.serving]
            elapsed = (now - (t.called_at or now)).total_seconds() / 60
            if t.recalls > 0:  # recalled: most likely a no-show, about to be skipped
                left = max(model.no_show_cost - elapsed, 0.5)
            else:
                left = (
                    model.services[t.service].remaining(elapsed, local.hour)
                    if t.service in model.services
                    else 0.0
                )
            a.free_at = max(left, start)
            a.variance += (0.5 * left) ** 2
        out.append(a)
    return out


def _break_end(c: Counter, local: datetime, turn: tuple[datetime, datetime] | None, model: Model) -> float:
    """Minutes from now (`local`: in the office's time zone) until a counter on a break calls
    again."""
    now, tz = local, local.tzinfo
    if c.until:
        try:
            hh, mm = c.until.replace(".", ":").split(":")
            back = datetime.combine(local.date(), time(int(hh), int(mm)), tz)
        except ValueError:
            back = None
        if back is not None and back > now:
            return (back - now).total_seconds() / 60
    since = c.since or now
    if turn is not None and turn[0] - LUNCH_EARLY <= since < turn[1]:
        back = turn[1]
    else:
        back = since + timedelta(minutes=model.short_break)
    # overdue: back any minute now
    return max((back - now).total_seconds() / 60, 2.0)


def _lunch_turns(state: QueueState, hours: DayHours) -> dict[int, tuple[datetime, datetime]]:
    """Each counter's lunch: its own (`[[counters]] lunch`), else the office's whole window, or
    in turns (every other of the remaining counters in each half)."""
    numbers = sorted(n for n in state.counters if n not in state.retired)
    own = {n: hours.counter_lunch[n] for n in numbers if n in hours.counter_lunch}
    shared = [n for n in numbers if n not in own]
    window = hours.lunch
    if window is None:
        return own
    if not state.cfg.office.lunch_in_turns or len(shared) < 2:
        return {**own, **dict.fromkeys(shared, window)}
    mid = window[0] + (window[1] - window[0]) / 2
    return {**own, **{n: (window[0], mid) if i % 2 == 0 else (mid, window[1]) for i, n in enumerate(shared)}}


def check_admission(state: QueueState, service: str, actor: str, now: datetime) -> None:
    """Refuse a self-service ticket that will likely not be reached today, where the office
    says so (`[office] late_tickets = "refuse"`); staff can always issue one.

    Raises DomainError `not_served_today`. A ticket of a new day, an unknown or paused service
    is left to the queue rules.
    """
    if state.cfg.office.late_tickets != "refuse" or not self_service(actor):
        return
    if state.day != local_day(now, state.cfg) or service not in state.services:
        return
    forecast = estimator_of(state).forecast(state, now, max_age=DISPLAY_LAG)
    if forecast.new_ticket(service).served_today == "no":
        raise DomainError("not_served_today", service=service)


def estimator_of(state: QueueState) -> Estimator:
    """The state's estimator; a state without one (a test, a tool) gets one without history."""
    if state.estimator is None:
        state.estimator = Estimator(state.cfg)
    return state.estimator
