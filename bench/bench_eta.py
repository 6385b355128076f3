"""How true is the wait a citizen is told? Simulated office days through the real HubCore.

    .venv/bin/python bench/bench_eta.py            # training and held-out offices, ~3 min
    .venv/bin/python bench/bench_eta.py --quick    # one office, three days (the suite runs it)

The simulation (simpy, seeded, reproducible) is of an Indonesian district office's integrated
services counter, as domain.md describes it. Each seed is one office, run for four working
weeks on one event log, so that the estimator can learn from earlier days:

* counters: 2, 3 or 4 loket, each serving a set of the services A-E (shared counters);
* configured `minutes` are the kecamatan defaults, but each office's true mean counter time of
  each service is 0.6-1.7x that; every officer has their own speed (0.85-1.2x), every day its
  own (lognormal, sd 0.12), afternoons are a little slower; single services are lognormal
  (shape 0.45-0.65);
* arrivals: a Poisson stream with a morning peak (08-10 three times the late-afternoon rate,
  people queueing before opening), busier on Mondays, quieter on Fridays, and a day-to-day
  volume of 0.75-1.05 of what the counters can serve (times the weekday): some days the office
  keeps up, some it does not;
* 8-18% priority tickets (called first, with the hub's anti-starvation rule);
* no-shows: 4-12%, more the longer someone waited; called, recalled twice, then skipped;
* officers start up to 10 minutes late, press "done" 60% of the time and otherwise just press
  "next" (when nobody waits they press it only once somebody arrives: the idle time then
  looks like service time in the log); they stop calling at closing;
* lunch (ISHOMA 12.00-13.00, Friday 11.30-13.00): offices that take it in turns send a random
  half of the counters in each half of the window, others close all counters; officers leave
  up to 10 minutes late, come back up to 15 minutes late, and say until when 80% of the time;
* short breaks of 10-20 minutes, about one per counter every 2.5 hours, with `until` half the
  time.

Every request goes through `HubCore.handle_batch` (kiosk and call pad devices, an injected
clock, an in-memory event log). Three estimators are scored against the real call times:

* classic: tickets of the same service ahead x configured minutes / open counters serving it;
* before: the hub's estimate before the forward run (same-service ahead, EWMA minutes, open
  counters; the code is copied below);
* new: `antrian.eta` as the hub publishes it (`views.ticket_view`).

Each estimate is scored at issue (what the ticket printed) and re-read every 5 minutes while
the ticket waits: MAE, P90 of the absolute error, mean bias (negative: too early) and the share
within 10 minutes, on days the office kept up (no more than 2% of tickets left at closing) and
days it did not. Of the tickets never called, the share that was printed a call time before
closing with no warning. The seeds tried while the estimator was built are 1-6; 101-106 are
held out.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from antrian import views
from antrian.config import Config, parse_config
from antrian.core import HubCore, Origin
from antrian.eta import DayRecord, Estimator, History, Visit
from antrian.queue import QueueState, Ticket
from antrian.store import EventStore

TRAINING = (1, 2, 3, 4, 5, 6)
HELD_OUT = (101, 102, 103, 104, 105, 106)
OPENING, CLOSING = 8 * 60, 15 * 60  # minutes after midnight (08.00-15.00)
MINUTES = {"A": 10, "B": 10, "C": 20, "D": 5, "E": 10}
MIX = {"A": 0.35, "B": 0.25, "C": 0.10, "D": 0.15, "E": 0.15}
LAYOUTS = {
    2: [["A", "B", "E"], ["C", "D", "E", "A"]],
    3: [["A", "B"], ["A", "B", "C", "E"], ["D", "E", "C"]],
    4: [["A"], ["A", "B"], ["B", "C", "E"], ["D", "E"]],
}
WEEKDAY_LOAD = (1.2, 1.05, 1.0, 0.95, 0.8)  # Monday..Friday


# ---------------------------------------------------------------------------------------------
# The estimator before the forward run (copied from hub/queue.py as it was)
# ---------------------------------------------------------------------------------------------


def before_ahead_of(state: QueueState, t: Ticket) -> int:
    """Tickets of the same service that will be called before `t` (priority first)."""
    svc = state.services[t.service]
    key = (t.order, t.code)
    if t.priority:
        return bisect.bisect_left(svc.priority, key)
    return len(svc.priority) + bisect.bisect_left(svc.regular, key)


def before_estimate_minutes(state: QueueState, letter: str, ahead: int, now: datetime) -> int | None:
    """Minutes until a ticket with `ahead` people before it is called, rounded up to 5."""
    svc = state.services[letter]
    counters = [c for c in state.counters.values() if c.status == "open" and letter in c.services]
    if not counters:
        return None
    mean = svc.mean_minutes
    remaining = 0.0
    for c in counters:
        if c.serving is not None:
            called = state.tickets[c.serving].called_at
            elapsed = (now - called).total_seconds() / 60 if called else 0.0
            remaining += max(mean - elapsed, 0.0)
    minutes = ahead / len(counters) * mean + remaining / len(counters)
    return int(math.ceil(minutes / 5.0 - 1e-9) * 5)


def classic_minutes(state: QueueState, t: Ticket) -> int:
    """People ahead (same service) x configured minutes / counters serving it (open ones)."""
    cfg = state.cfg
    svc = cfg.service(t.service)
    minutes = svc.minutes if svc else 10.0
    open_ = [c for c in state.counters.values() if c.status == "open" and t.service in c.services]
    n = len(open_) or sum(1 for c in cfg.counters if t.service in c.services) or 1
    return int(math.ceil(before_ahead_of(state, t) * minutes / n / 5.0 - 1e-9) * 5)


# ---------------------------------------------------------------------------------------------
# One office
# ---------------------------------------------------------------------------------------------


@dataclass
class Office:
    """The hidden truth of one simulated office (what the estimator must learn)."""

    seed: int
    counters: list[list[str]]
    true_mean: dict[str, float]
    shape: float
    officer: list[float]
    mix: dict[str, float]
    load: float
    priority: float
    no_show: float
    turns: bool

    @classmethod
    def draw(cls, seed: int) -> Office:
        rng = random.Random(seed * 7919)
        n = rng.choice((2, 3, 3, 4))
        mix = {s: w * rng.uniform(0.7, 1.3) for s, w in MIX.items()}
        total = sum(mix.values())
        return cls(
            seed=seed,
            counters=LAYOUTS[n],
            true_mean={s: m * rng.uniform(0.6, 1.7) for s, m in MINUTES.items()},
            shape=rng.uniform(0.45, 0.65),
            officer=[rng.uniform(0.85, 1.2) for _ in range(n)],
            mix={s: w / total for s, w in mix.items()},
            load=rng.uniform(0.75, 1.05),
            priority=rng.uniform(0.08, 0.18),
            no_show=rng.uniform(0.04, 0.12),
            turns=rng.random() < 0.7,
        )

    def config(self) -> Config:
        return parse_config(
            {
                # the simulated citizens arrive from 45 minutes before opening, on every weekday
                # the simulation draws (holidays included): the kiosk issues to all of them
                "office": {
                    "opening": "08:00",
                    "closing": "15:00",
                    "lunch_in_turns": self.turns,
                    "tickets_before_opening_minutes": 60,
                    "national_holidays": False,
                },
                "queue": {"priority_free": 999},
                "services": [{"letter": s, "name": s, "minutes": m} for s, m in MINUTES.items()],
                "counters": [{"number": i + 1, "services": svc} for i, svc in enumerate(self.counters)],
                "devices": [{"id": "kiosk-1", "role": "kiosk"}]
                + [
                    {"id": f"pad-{i + 1}", "role": "call_pad", "counter": i + 1}
                    for i in range(len(self.counters))
                ],
            }
        )

    def capacity_per_minute(self) -> float:
        """Tickets a minute the counters can serve (what the arrival volume is scaled to)."""
        work = sum(self.mix[s] * self.true_mean[s] for s in MIX) * (1 + self.no_show)
        return len(self.counters) / work


def arrival_shape(minute: float) -> float:
    """Relative arrival rate over the day: a queue before opening, a morning peak."""
    if minute < OPENING - 30 or minute >= CLOSING - 15:
        return 0.0
    if minute < OPENING:
        return 2.0
    if minute < 10 * 60:
        return 3.0
    if minute < 12 * 60:
        return 2.0
    if minute < 13 * 60:
        return 0.8
    if minute < 14 * 60:
        return 1.2
    return 0.6


SHAPE_MEAN = sum(arrival_shape(m) for m in range(OPENING, CLOSING)) / (CLOSING - OPENING)


@dataclass
class Prediction:
    at: float  # when read (minutes after midnight)
    classic: float | None
    before: float | None
    new: float | None
    served_today: str | None


@dataclass
class TicketLog:
    code: str
    issued: float
    issue: Prediction | None = None
    reads: list[Prediction] = field(default_factory=list)
    called: float | None = None


@dataclass
class DayResult:
    seed: int
    day: str
    index: int
    tickets: dict[str, TicketLog]
    kept_up: bool


class Day:
    """One simulated working day of an office, through the real hub."""

    def __init__(
        self, office: Office, core: HubCore, day: date, index: int, rng: random.Random, clock: list[datetime]
    ) -> None:
        self.office, self.core, self.day, self.index, self.rng = office, core, day, index, rng
        self.env = simpy.Environment(initial_time=OPENING - 45)
        self.clock = clock
        self.midnight = datetime(day.year, day.month, day.day, tzinfo=core.cfg.office.tz)
        self.tickets: dict[str, TicketLog] = {}
        self.speed = rng.lognormvariate(0, 0.12)
        self.friday = day.weekday() == 4
        self.lunch = (11 * 60 + 30, 13 * 60) if self.friday else (12 * 60, 13 * 60)
        n = len(office.counters)
        first = set(rng.sample(range(n), n // 2 or 1)) if office.turns else set(range(n))
        mid = (self.lunch[0] + self.lunch[1]) / 2
        self.turn = [(self.lunch[0], mid) if i in first else (mid, self.lunch[1]) for i in range(n)]
        if not office.turns:
            self.turn = [self.lunch] * n
        load = office.load * WEEKDAY_LOAD[day.weekday()] * rng.lognormvariate(0, 0.12)
        self.rate = load * office.capacity_per_minute() / SHAPE_MEAN  # arrivals a minute at shape 1

    def now(self) -> datetime:
        return self.midnight + timedelta(minutes=self.env.now)

    def request(self, device: str, command: str, **fields: Any) -> dict[str, Any]:
        self.clock[0] = self.now()
        responses, _ = self.core.handle_batch([(Origin(device), command, json.dumps(fields).encode())])
        body: dict[str, Any] = json.loads(responses[0].payload)
        data = body.get("data", {})
        if "ticket_called" in data.get("events", ()):  # the call's ticket is the last one touched
            self._called(data["ticket"])
        return body

    def _called(self, code: str) -> None:
        if code in self.tickets:
            log = self.tickets[code]
            if log.called is None:
                log.called = self.env.now

    def predictions(self, t: Ticket, view: dict[str, Any] | None = None) -> Prediction:
        state, now = self.core.state, self.now()
        view = view or views.ticket_view(state, t, now)
        before = before_estimate_minutes(state, t.service, before_ahead_of(state, t), now)
        return Prediction(
            self.env.now, classic_minutes(state, t), before, view["estimated_wait_min"], view["served_today"]
        )

    # -- processes ----------------------------------------------------------------------------

    def arrivals(self) -> Any:
        peak = 3.0 * self.rate
        while True:
            yield self.env.timeout(self.rng.expovariate(peak))
            if self.env.now >= CLOSING:
                return
            if self.rng.random() * peak > arrival_shape(self.env.now) * self.rate:
                continue
            letter = self.rng.choices(list(self.office.mix), list(self.office.mix.values()))[0]
            prio = self.rng.random() < self.office.priority
            r = self.request("kiosk-1", "take_ticket", service=letter, priority=prio)
            if r["status"] != "ok":
                continue
            log = TicketLog(r["data"]["ticket"], self.env.now)
            t = self.core.state.tickets[log.code]
            log.issue = self.predictions(t, r["data"])
            self.tickets[log.code] = log

    def reader(self) -> Any:
        yield self.env.timeout(OPENING - self.env.now)
        while self.env.now < CLOSING:
            self.clock[0] = self.now()
            for t in list(self.core.state.tickets.values()):
                if t.state == "waiting" and t.code in self.tickets:
                    self.tickets[t.code].reads.append(self.predictions(t))
            yield self.env.timeout(5)

    def waiting_for(self, i: int) -> bool:
        state = self.core.state
        return any(state.services[s].waiting for s in self.office.counters[i])

    def officer(self, i: int) -> Any:
        env, rng, pad = self.env, self.rng, f"pad-{i + 1}"
        yield env.timeout(OPENING - env.now + rng.uniform(0, 10))
        explicit = rng.random() < 0.6
        lunch_start = self.turn[i][0] + rng.uniform(0, 10)
        next_break = env.now + rng.expovariate(1 / 150)
        serving: str | None = None
        while env.now < CLOSING:
            if lunch_start is not None and env.now >= lunch_start:
                if serving:
                    self.request(pad, "done")
                    serving = None
                yield from self.take_break(pad, self.turn[i][1], rng.uniform(-5, 15), 0.8)
                lunch_start = None
                continue
            near_lunch = self.lunch[0] - 30 <= env.now <= self.lunch[1] + 30
            if env.now >= next_break and not near_lunch:
                if serving:
                    self.request(pad, "done")
                    serving = None
                length = rng.uniform(10, 20)
                yield from self.take_break(pad, env.now + length, rng.uniform(-2, 5), 0.5)
                next_break = env.now + rng.expovariate(1 / 150)
                continue
            if serving and not explicit and not self.waiting_for(i):
                yield env.timeout(0.25)  # finished; presses "next" once somebody is there
                continue
            r = self.request(pad, "call_next")
            serving = r["data"].get("ticket") if "ticket_called" in r["data"].get("events", []) else None
            if serving is None:
                yield env.timeout(0.5)
                continue
            came = yield from self.serve(i, pad, serving)
            if not came:
                serving = None  # skipped
            elif explicit:
                self.request(pad, "done")
                serving = None
                yield env.timeout(rng.uniform(0.1, 0.6))

    def serve(self, i: int, pad: str, code: str) -> Any:
        env, rng, o = self.env, self.rng, self.office
        log = self.tickets.get(code)
        waited = (env.now - log.issued) / 60 if log else 0.0
        if rng.random() < min(o.no_show + 0.05 * waited, 0.5):
            for _ in range(2):
                yield env.timeout(rng.uniform(0.5, 0.9))
                self.request(pad, "recall")
            yield env.timeout(rng.uniform(0.4, 0.8))
            self.request(pad, "skip")
            return False
        t = self.core.state.tickets[code]
        mean = o.true_mean[t.service] * o.officer[i] * self.speed * (1.08 if env.now >= 13 * 60 else 1.0)
        sigma = o.shape
        yield env.timeout(rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma))
        return True

    def take_break(self, pad: str, until: float, late: float, says: float) -> Any:
        env = self.env
        fields: dict[str, Any] = {"status": "break"}
        if self.rng.random() < says:
            u = 5 * math.ceil(until / 5)
            fields["until"] = f"{int(u // 60):02d}:{int(u % 60):02d}"
        self.request(pad, "counter_status", **fields)
        yield env.timeout(max(until + late - env.now, 1.0))
        self.request(pad, "counter_status", status="open")

    def closer(self) -> Any:
        yield self.env.timeout(CLOSING + 30 - self.env.now)
        self.clock[0] = self.now()
        self.core.tick()

    def run(self) -> DayResult:
        env = self.env
        env.process(self.arrivals())
        env.process(self.reader())
        for i in range(len(self.office.counters)):
            env.process(self.officer(i))
        env.process(self.closer())
        env.run(until=CLOSING + 40)
        left = sum(1 for t in self.tickets.values() if t.called is None)
        return DayResult(
            self.office.seed,
            self.day.isoformat(),
            self.index,
            self.tickets,
            kept_up=left <= 0.02 * max(len(self.tickets), 1),
        )


def run_office(seed: int, days: int) -> list[DayResult]:
    office = Office.draw(seed)
    cfg = office.config()
    clock = [datetime(2026, 1, 5, tzinfo=UTC)]
    core = HubCore(cfg, EventStore(":memory:"), clock=lambda: clock[0], strict=True)
    rng = random.Random(seed)
    out = []
    d = date(2026, 1, 5)  # a Monday
    index = 0
    while index < days:
        if d.weekday() < 5:
            out.append(Day(office, core, d, index, rng, clock).run())
            index += 1
        d += timedelta(days=1)
    return out


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------

ESTIMATORS = ("classic", "before", "new")


def errors(results: list[DayResult], which: str, when: str) -> list[float]:
    out = []
    for r in results:
        for t in r.tickets.values():
            if t.called is None:
                continue
            preds = [t.issue] if when == "issue" else t.reads
            for p in preds:
                if p is None:
                    continue
                value = getattr(p, which)
                if value is not None:
                    out.append(p.at + value - t.called)
    return out


def summary(errs: list[float]) -> tuple[int, float, float, float, float]:
    if not errs:
        return 0, math.nan, math.nan, math.nan, math.nan
    absolute = sorted(abs(e) for e in errs)
    p90 = absolute[min(int(0.9 * len(absolute)), len(absolute) - 1)]
    return (
        len(errs),
        statistics.fmean(absolute),
        p90,
        statistics.fmean(errs),
        sum(1 for a in absolute if a <= 10) / len(absolute),
    )


def never_called(results: list[DayResult]) -> dict[str, tuple[int, int]]:
    """Per estimator: (never-called tickets printed a time before closing, never-called)."""
    out: dict[str, list[int]] = {k: [0, 0] for k in (*ESTIMATORS, "new (with warning)")}
    for r in results:
        for t in r.tickets.values():
            if t.called is not None or t.issue is None:
                continue
            p = t.issue
            for k in ESTIMATORS:
                value = getattr(p, k)
                out[k][1] += 1
                fine = value is not None and p.at + value < CLOSING
                if k == "new":
                    out["new (with warning)"][1] += 1
                    out["new (with warning)"][0] += fine and p.served_today in ("yes", "maybe")
                    fine = fine and p.served_today == "yes"
                out[k][0] += fine
    return {k: (v[0], v[1]) for k, v in out.items()}


def false_warnings(results: list[DayResult]) -> tuple[int, int, int]:
    """Tickets that were called although the new estimate warned ("maybe", "no") at issue."""
    maybe = no = called = 0
    for r in results:
        for t in r.tickets.values():
            if t.called is None or t.issue is None:
                continue
            called += 1
            maybe += t.issue.served_today == "maybe"
            no += t.issue.served_today == "no"
    return maybe, no, called


def report(title: str, results: list[DayResult]) -> dict[str, Any]:
    kept = [r for r in results if r.kept_up]
    behind = [r for r in results if not r.kept_up]
    issued = sum(len(r.tickets) for r in results)
    print(f"\n## {title}: {len(results)} days ({len(kept)} kept up, {len(behind)} did not), {issued} tickets")
    print(
        f"{'days':<9} {'when':<8} {'estimator':<8} {'n':>6} {'MAE':>7} {'P90':>7} {'bias':>7} {'<=10min':>8}"
    )
    figures: dict[str, Any] = {}
    for label, group in (("all", results), ("kept up", kept), ("behind", behind)):
        for when in ("issue", "re-read"):
            for k in ESTIMATORS:
                n, mae, p90, bias, within = summary(errors(group, k, when))
                figures[(label, when, k)] = (n, mae, p90, bias, within)
                print(
                    f"{label:<9} {when:<8} {k:<8} {n:>6} {mae:>7.1f} {p90:>7.1f} {bias:>+7.1f} {within:>7.0%}"
                )
    nc = never_called(results)
    print(
        "never called, printed a call time before closing with no warning: "
        + ", ".join(
            f"{k} {a}/{b} ({a / b:.0%})" if b else f"{k} -"
            for k, (a, b) in nc.items()
            if k != "new (with warning)"
        )
    )
    a, b = nc["new (with warning)"]
    if b:
        print(f"  new, a time before closing shown at all (also with the warning): {a}/{b} ({a / b:.0%})")
    maybe, no, called = false_warnings(results)
    print(f"  called although warned at issue: 'maybe' {maybe}, 'no' {no} of {called} called tickets")
    figures["never_called"] = nc
    return figures


def verdict(fig: dict[str, Any]) -> None:
    classic = fig[("all", "issue", "classic")][1]
    new = fig[("all", "issue", "new")][1]
    bias = fig[("kept up", "issue", "new")][3]
    a, b = fig["never_called"]["new"]
    print(
        f"targets: at-issue MAE classic/new = {classic / new:.1f}x (>= 2x), "
        f"|bias| on kept-up days {abs(bias):.1f} min (<= 5), "
        f"never-called printed a time {a / b if b else 0:.0%} (<= 10%)"
    )


# ---------------------------------------------------------------------------------------------
# Speed of a full recompute, and of a rush
# ---------------------------------------------------------------------------------------------

LETTERS = "ABCDEFGH"


def busy_office(waiting: int, seed: int = 5) -> tuple[HubCore, datetime, Estimator]:
    """An office at 09.00 with about `waiting` tickets waiting (15% priority), 10 counters
    serving 2-4 of 8 services, one on a break, and an estimator that knows eight weeks of
    earlier days (300 services each), as the hub would have read them."""
    letters = LETTERS
    rng = random.Random(seed)
    counters = [
        {"number": i + 1, "services": sorted(rng.sample(letters, rng.randint(2, 4)))} for i in range(10)
    ]
    cfg = parse_config(
        {
            "services": [{"letter": s, "name": s, "minutes": 5 + 2 * i} for i, s in enumerate(letters)],
            "counters": counters,
            "queue": {"priority_free": 9999},
        }
    )
    clock = [datetime(2026, 1, 5, 2, 0, tzinfo=UTC)]  # 09.00 WIB
    core = HubCore(cfg, EventStore(":memory:"), clock=lambda: clock[0])

    def req(command: str, **fields: Any) -> None:
        core.handle_batch([(Origin(), command, json.dumps(fields).encode())])

    for _ in range(waiting + 20):
        req("take_ticket", service=rng.choice(letters), priority=rng.random() < 0.15)
        clock[0] += timedelta(seconds=20 * 320 / (waiting + 20))
    for n in range(1, 11):
        req("call_next", counter=n)
    req("counter_status", counter=10, status="break", until="10:30")
    # eight weeks of earlier days, 300 services each, as the hub would have read them
    days = []
    for i in range(40):
        rec = DayRecord(f"2025-11-{i % 28 + 1:02d}", i % 5)
        for _ in range(300):
            letter = rng.choice(letters)
            rec.visits.append(
                Visit(letter, rng.randint(8, 15), rng.lognormvariate(2, 0.5), rng.random() > 0.08)
            )
            rec.priority[(letter, rng.randint(8, 15))] = rng.randint(0, 3)
        rec.counter_minutes, rec.short_break_minutes = 4200.0, 150.0
        days.append(rec)
    est = Estimator(cfg)
    est.history, est.history_day = History(days), core.state.day
    return core, clock[0], est


def recompute_speed(runs: int) -> None:
    """A full forecast with 300 waiting tickets and 10 counters (fresh, no cache)."""
    core, now, est = busy_office(300)
    state = core.state
    waiting = [t.code for t in state.tickets.values() if t.state == "waiting"]
    est.compute(state, now)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        forecast = est.compute(state, now, scratch=True)
        for code in waiting:
            forecast.ticket(code)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    t0 = time.perf_counter()
    for _ in range(runs):
        for t in state.tickets.values():
            if t.state == "waiting":
                before_estimate_minutes(state, t.service, before_ahead_of(state, t), now)
    old = (time.perf_counter() - t0) * 1000 / runs
    print(
        f"\nfull recompute, {len(waiting)} waiting tickets, 10 counters, 8 weeks of history:"
        f" p50 {times[len(times) // 2]:.2f} ms, p90 {times[int(len(times) * 0.9)]:.2f} ms,"
        f" max {times[-1]:.2f} ms (target < 5 ms); the estimate before, for every waiting"
        f" ticket: {old:.2f} ms (load average {os.getloadavg()[0]:.1f},"
        f" {os.cpu_count()} cores)"
    )


def rush_speed(runs: int) -> None:
    """The estimate of each new ticket in a rush of regular presses (the batch's forecast):
    the last forward run continued for the new ticket, and a run from scratch of the same
    state, with 300 and 1,500 waiting."""
    for waiting in (300, 1500):
        core, now, est = busy_office(waiting)
        state = core.state
        rng = random.Random(7)
        went_on, afresh = [], []
        before = sum(s.waiting for s in state.services.values())
        est.compute(state, now)
        for _ in range(runs):
            service = rng.choice(LETTERS)
            for e in state.decide("take_ticket", {"service": service}, "device:kiosk-1", now):
                state.apply(e)
            code = f"{service}-{state.services[service].last_issued:03d}"
            t0 = time.perf_counter()
            est.compute(state, now).ticket(code)
            t1 = time.perf_counter()
            est.compute(state, now, scratch=True).ticket(code)
            t2 = time.perf_counter()
            went_on.append((t1 - t0) * 1000)
            afresh.append((t2 - t1) * 1000)
        print(
            f"a rush of {runs} regular presses onto {before} waiting: each new ticket's forecast"
            f" p50 {statistics.median(went_on):.3f} ms (p90 {sorted(went_on)[int(runs * 0.9)]:.3f}),"
            f" a run from scratch p50 {statistics.median(afresh):.2f} ms"
            f" ({est.continued_runs} of {est.continued_runs + est.full_runs} runs continued;"
            f" load average {os.getloadavg()[0]:.1f})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="one office, three days")
    ap.add_argument("--days", type=int, default=20)
    ap.add_argument("--seeds", type=int, nargs="*", help="only these offices (training set)")
    ap.add_argument("--held-out", action="store_true", help="also the held-out offices")
    args = ap.parse_args()
    if args.quick:
        sets = {"quick": [1]}
        days = 3
    else:
        sets = {"training offices": list(args.seeds or TRAINING)}
        if args.held_out or not args.seeds:
            sets["held-out offices"] = list(HELD_OUT)
        days = args.days
    recompute_speed(20 if args.quick else 200)
    rush_speed(20 if args.quick else 300)
    for title, seeds in sets.items():
        t0 = time.perf_counter()
        results = [r for s in seeds for r in run_office(s, days)]
        fig = report(f"{title} {seeds}, {days} days each", results)
        verdict(fig)
        later = [r for r in results if r.index >= 5]
        if later and not args.quick:
            verdict(report(f"{title}, from the second week (history known)", later))
        print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
