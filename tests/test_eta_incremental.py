"""A forward run that goes on for the tickets of a rush gives exactly what a run from scratch
gives: the same calls, positions and spreads, for every waiting ticket and every marker."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antrian import eta
from antrian.config import parse_config
from antrian.core import HubCore, Origin
from antrian.queue import QueueState
from antrian.store import EventStore

MONDAY = datetime(2026, 11, 30, 0, 50, tzinfo=UTC)  # 07.50 WIB
LETTERS = "ABCD"


# ------------------------------------------------------------------------------------------
# The forward run alone: known times, ties everywhere, arrivals, lunches, paused services
# ------------------------------------------------------------------------------------------

counter_plans = st.lists(
    st.tuples(
        st.sets(st.sampled_from(LETTERS), min_size=1),  # services
        st.integers(0, 20),  # free at (minutes from now)
        st.integers(0, 3),  # priority streak so far
        st.none() | st.tuples(st.integers(0, 60), st.integers(0, 45)),  # lunch: start, length
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    tickets=st.lists(st.tuples(st.sampled_from(LETTERS), st.booleans()), max_size=25),
    plans=counter_plans,
    arrivals=st.lists(st.tuples(st.integers(0, 120), st.sampled_from(LETTERS)), max_size=6),
    minutes=st.tuples(*[st.integers(1, 12)] * len(LETTERS)),
    paused=st.sets(st.sampled_from(LETTERS), max_size=1),
    rushes=st.lists(st.lists(st.sampled_from(LETTERS), min_size=1, max_size=4), min_size=1, max_size=4),
    streak=st.integers(1, 3),
)
def test_a_run_that_goes_on_for_new_tickets_calls_as_a_run_from_scratch(
    tickets: list[tuple[str, bool]],
    plans: list[tuple[set[str], int, int, tuple[int, int] | None]],
    arrivals: list[tuple[int, str]],
    minutes: tuple[int, ...],
    paused: set[str],
    rushes: list[list[str]],
    streak: int,
) -> None:
    cfg = parse_config(
        {
            "queue": {"priority_streak": streak, "priority_free": 999},
            "services": [{"letter": s, "name": s} for s in LETTERS],
            "counters": [{"number": i + 1, "services": sorted(p[0])} for i, p in enumerate(plans)],
        }
    )
    state = QueueState(cfg)
    now = MONDAY + timedelta(hours=2)

    def ask(command: str, **args: Any) -> None:
        for e in state.decide(command, args, "admin:t", now):
            state.apply(e)

    for letter, priority in tickets:
        ask("take_ticket", service=letter, priority=priority)
    for letter in paused:
        ask("service_status", service=letter, status="paused")

    def plan() -> list[eta.Availability]:  # fresh for each run: a run changes its counters
        return [
            eta.Availability(i + 1, tuple(sorted(p[0])), float(p[1]), p[2], p[3] and (p[3][0], sum(p[3])))
            for i, p in enumerate(plans)
        ]

    base = dict(zip(LETTERS, minutes, strict=True))

    def duration(code: str, letter: str, n: int, t: float) -> tuple[float, float]:
        # slower after an hour, and each counter its own speed: the time of a call matters
        return base[letter] * (1 + n / 4) + (2 if t >= 60 else 0), base[letter] / 4

    expected = [(float(t), letter) for t, letter in arrivals]
    run = eta.ForwardRun(state, plan(), duration, arrivals=expected)
    run.run()
    for rush in rushes:
        lanes = {letter: len(svc.regular) for letter, svc in state.services.items()}
        for letter in rush:
            if letter not in paused:
                ask("take_ticket", service=letter)
        new = {x: svc.regular[lanes[x] :] for x, svc in state.services.items() if len(svc.regular) > lanes[x]}
        went_on = run.extend(new, state.order_seq + 1)
        afresh = eta.ForwardRun(state, plan(), duration, arrivals=expected).run()
        assert went_on == afresh


# ------------------------------------------------------------------------------------------
# A realistic day through the real hub: every forecast the hub gives equals a run from scratch
# ------------------------------------------------------------------------------------------

OFFICE = {
    "queue": {"priority_free": 999},
    "counters": [
        {"number": 1, "services": ["A", "B"]},
        {"number": 2, "services": ["A", "B", "C", "E"]},
        {"number": 3, "services": ["C", "D", "E"]},
        {"number": 4, "services": ["A", "D"]},
    ],
}


class Day:
    """One working day of the office on the real HubCore, driven by a seeded random officer
    and citizen crowd; `check` runs after every batch."""

    def __init__(self, store: EventStore, start: datetime, seed: int) -> None:
        self.now = start
        self.rng = random.Random(seed)
        self.core = HubCore(parse_config(OFFICE), store, clock=lambda: self.now)
        self.batches = 0
        self.phones = 0

    def send(self, requests: list[tuple[str, dict[str, Any]]]) -> None:
        _, effects = self.core.handle_batch([(Origin(), c, json.dumps(a).encode()) for c, a in requests])
        effects()  # the retained state and the displays ask the estimator too, as in the hub
        self.batches += 1

    def press(self) -> tuple[str, dict[str, Any]]:
        letter = self.rng.choice("AAABBCDDE")
        if self.rng.random() < 0.25:  # from a phone (`antrian.join`): each its own holder
            self.phones += 1
            return "take_ticket", {"service": letter, "actor": f"phone:h{self.phones}"}
        return "take_ticket", {"service": letter, "priority": self.rng.random() < 0.12}

    def check_in(self) -> None:
        """A phone ticket's holder arrives and is checked in by an officer."""
        waiting = sorted(
            t.code
            for t in self.core.state.tickets.values()
            if t.remote and not t.checked_in and t.state == "waiting"
        )
        if waiting:
            self.send([("check_in", {"ticket": self.rng.choice(waiting), "actor": "officer:budi"})])

    def step(self) -> None:
        """One thing happening at the office (most often: a rush of presses)."""
        rng, counter = self.rng, self.rng.randint(1, 4)
        roll = rng.random()
        if roll < 0.55:  # a rush: presses that arrive together, and close after each other
            self.send([self.press() for _ in range(rng.choice((1, 1, 1, 2, 3, 5)))])
            if rng.random() < 0.3:
                self.check_in()
            self.now += timedelta(seconds=rng.choice((0, 0.3, 1, 2, 4, 9)))
            return
        if roll < 0.80:
            if rng.random() < 0.6:
                self.send([("done", {"counter": counter})])
            self.send([("call_next", {"counter": counter})])
        elif roll < 0.84:
            self.send([("recall", {"counter": counter})])
        elif roll < 0.87:
            self.send([("skip", {"counter": counter})])
        elif roll < 0.91:
            until = (self.now + timedelta(hours=7, minutes=rng.randint(5, 30))).strftime("%H:%M")
            args = {"counter": counter, "status": "break"} | ({"until": until} if rng.random() < 0.5 else {})
            self.send([("counter_status", args)])
        elif roll < 0.96:
            self.send([("counter_status", {"counter": counter, "status": "open"})])
        self.now += timedelta(seconds=rng.randint(20, 240))

    def run(self, until: datetime, check: Callable[[], None] = lambda: None) -> None:
        while self.now < until:
            self.step()
            check()
            if self.core.state.counters[3].status != "closed" and self.now.hour >= 7:  # 14.00 WIB
                self.send([("counter_status", {"counter": 3, "status": "closed"})])  # home early
                check()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_forecast_of_a_busy_day_equals_a_run_from_scratch(seed: int) -> None:
    store = EventStore(":memory:")
    # an earlier day first: the learned times and the expected priority arrivals are real
    Day(store, MONDAY - timedelta(days=7), seed + 100).run(MONDAY - timedelta(days=7) + timedelta(hours=8))
    day = Day(store, MONDAY, seed)
    estimator = day.core.estimator
    for _ in range(eta.HISTORY_DAYS):  # all earlier days read before the first press
        estimator.history_for(MONDAY.date().isoformat())
    checked = 0

    def check() -> None:
        nonlocal checked
        state = day.core.state
        given = estimator.forecast(state, day.now)  # what the batch's tickets were told
        afresh = estimator.compute(state, given.now, scratch=True)
        assert given == afresh, f"batch {day.batches} at {day.now:%H:%M:%S}"
        checked += 1

    day.run(MONDAY + timedelta(hours=8, minutes=30), check)  # 07.50 to 16.20 WIB: lunch, closing
    assert estimator.history.days, "the earlier day was read"
    assert checked > 400
    # the rushes went on from the last run; calls and breaks started it again
    assert estimator.continued_runs > 150
    assert estimator.full_runs > 100
    assert max(svc.waiting for svc in day.core.state.services.values()) > 20
    # phone tickets were in it: taken, checked in, and passed over at their turn
    kinds = [e.type for _, e in store.events_between(MONDAY.date().isoformat(), MONDAY.date().isoformat())]
    assert min(kinds.count(k) for k in ("phone_ticket", "ticket_checked_in", "ticket_not_checked_in")) > 0, {
        k: kinds.count(k) for k in ("phone_ticket", "ticket_checked_in", "ticket_not_checked_in")
    }
