"""A month of office days written by the queue's own rules, for the reports' tests and benchmark.

Each working day (Monday to Friday) citizens arrive from opening with a morning peak, take a
ticket of a service (some as priority), and counters call them by the hub's rule
(`QueueState.decide("call_next")`), serve them for a lognormal time around the service's
`minutes`, now and then find nobody (a skip), transfer one to another service, or take a
break; what still waits at closing expires. Seeded: the same month every run. The events are
the ones the hub would have stored, appended to a real `EventStore`.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from antrian.config import Config
from antrian.queue import DomainError, Event, QueueState
from antrian.store import EventStore

#: Who calls at each counter: an officer on the page at counter 1, call pads elsewhere.
OFFICERS = {1: "officer:budi", 2: "device:pad-2", 3: "officer:sari", 4: "device:pad-4"}


def office_days(
    cfg: Config, month: str, tickets_per_day: int, seed: int = 1, *, phones: float = 0.0
) -> Iterator[list[Event]]:
    """The events of each working day of `month` (`2026-11`), one list a day. `phones`: the
    share of arrivals that take their ticket from a phone (`antrian.join`): most of them check
    in at the kiosk within minutes, some never do and are passed over at their turn."""
    rng = random.Random(seed)
    year, mon = map(int, month.split("-"))
    day = date(year, mon, 1)
    state = QueueState(cfg)
    while day.month == mon:
        if day.weekday() < 5:
            yield _one_day(cfg, state, day, tickets_per_day, rng, phones)
        day += timedelta(days=1)


def _one_day(
    cfg: Config, state: QueueState, day: date, n: int, rng: random.Random, phones: float = 0.0
) -> list[Event]:
    tz = cfg.office.tz
    opening = datetime.combine(day, cfg.office.opening, tz)
    closing = datetime.combine(day, cfg.office.closing, tz)
    span = (closing - opening).total_seconds() - 3600
    events: list[Event] = []

    def do(command: str, args: dict, actor: str, at: datetime) -> list[Event]:
        try:
            out = state.decide(command, args, actor, at)
        except DomainError:
            return []
        for e in out:
            state.apply(e)
        events.extend(out)
        return out

    letters = [s.letter for s in cfg.services]
    weights = [5, 3, 1, 2, 1][: len(letters)] + [1] * max(0, len(letters) - 5)
    # arrivals: a morning peak (triangular, mode an hour after opening), in time order
    arrivals = sorted(opening + timedelta(seconds=rng.triangular(0, span, 3600)) for _ in range(n))
    queue: list[tuple[datetime, int, str, object]] = []
    seq = 0
    for at in arrivals:
        heapq.heappush(queue, (at, seq, "arrive", rng.choices(letters, weights)[0]))
        seq += 1
    for c in cfg.counters:
        heapq.heappush(queue, (opening + timedelta(minutes=rng.uniform(0, 10)), seq, "free", c.number))
        seq += 1
    while queue:
        at, _, what, arg = heapq.heappop(queue)
        if at >= closing:
            break
        if what == "arrive":
            if phones and rng.random() < phones:
                taken = do("take_ticket", {"service": arg}, f"phone:p{seq}", at)
                if taken and rng.random() < 0.8:  # the holder comes and checks in at the kiosk
                    code = taken[0].data["ticket"]
                    heapq.heappush(queue, (at + timedelta(minutes=rng.uniform(0, 8)), seq, "check_in", code))
                    seq += 1
                continue
            do("take_ticket", {"service": arg, "priority": rng.random() < 0.1}, "device:kiosk-1", at)
            continue
        if what == "check_in":  # refused (and so left out) if its turn has passed meanwhile
            do("check_in", {"ticket": arg, "by": "code"}, "device:kiosk-1", at)
            continue
        counter = int(arg)  # type: ignore[call-overload]
        actor = OFFICERS.get(counter, f"device:pad-{counter}")
        called = do("call_next", {"counter": counter}, actor, at)
        called = [e for e in called if e.type == "ticket_called"]
        if not called:
            heapq.heappush(queue, (at + timedelta(minutes=2), seq, "free", counter))
            seq += 1
            continue
        ticket = state.tickets[called[0].data["ticket"]]
        svc = cfg.service(ticket.service)
        minutes = (svc.minutes if svc else 10) * rng.lognormvariate(-0.1, 0.45)
        end = at + timedelta(minutes=minutes)
        roll = rng.random()
        if roll < 0.06:  # nobody came: recalled, then skipped
            end = at + timedelta(minutes=2)
            do("skip", {"counter": counter}, actor, end)
        elif roll < 0.09 and len(letters) > 1:
            target = rng.choice([x for x in letters if x != ticket.service])
            do("transfer", {"counter": counter, "service": target}, actor, end)
        else:
            do("done", {"counter": counter}, actor, end)
        if rng.random() < 0.02:  # a short break
            end += timedelta(minutes=rng.uniform(10, 20))
        heapq.heappush(queue, (end + timedelta(seconds=rng.uniform(5, 60)), seq, "free", counter))
        seq += 1
    do("close_day", {}, "system", closing)
    return events


def write_month(
    store: EventStore, cfg: Config, month: str, tickets_per_day: int, seed: int = 1
) -> tuple[int, int]:
    """Append the month's events to `store`; (working days, events)."""
    days = count = 0
    for events in office_days(cfg, month, tickets_per_day, seed):
        store.append(events)
        days += 1
        count += len(events)
    return days, count
