"""Where a transferred ticket lands (back, by its original time, front), its transfer history,
and a call out of order that only goes to a counter serving the ticket's service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from antrian.config import parse_config
from antrian.queue import CALLED, DomainError, QueueState, replay
from antrian.web.officer import calling_order

CFG = parse_config({})  # counters: 1 serves A, B; 2 serves A, B, C, E; 3 serves C, D, E
T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 08.00 WIB


class Office:
    """A queue driven command by command, its events kept like the hub's log."""

    def __init__(self) -> None:
        self.state = QueueState(CFG)
        self.now = T0
        self.log: list[Any] = []

    def run(self, command: str, **args: Any) -> list[Any]:
        self.now += timedelta(minutes=1)
        events = self.state.decide(command, args, "officer:budi", self.now)
        for e in events:
            self.state.apply(e)
        self.log += events
        return events

    def take(self, *services: str) -> None:
        for s in services:
            self.run("take_ticket", service=s)

    def order_at(self, counter: int) -> list[str]:
        return [code for code, _ in calling_order(self.state, self.state.counters[counter])]


@pytest.fixture
def office() -> Office:
    """C-001 taken first, then D-001 and D-002; C-001 called at counter 2 (its intake)."""
    o = Office()
    o.take("C", "D", "D")
    o.run("call_next", counter=2)
    assert o.state.counters[2].serving == "C-001"
    return o


def test_a_transfer_lands_at_the_back_by_default(office):
    events = office.run("transfer", counter=2, service="D")
    assert events[0].data["position"] == "back"
    assert office.order_at(3) == ["D-001", "D-002", "C-001"]


def test_a_transfer_by_original_time_puts_the_ticket_before_those_taken_after_it(office):
    office.run("transfer", counter=2, service="D", position="order")
    assert office.order_at(3) == ["C-001", "D-001", "D-002"]
    office.take("D")  # a ticket taken after the transfer still comes after it
    assert office.order_at(3) == ["C-001", "D-001", "D-002", "D-003"]


def test_a_transfer_to_the_front_is_called_next_by_any_counter_serving_the_service(office):
    office.take("A", "B")
    office.run("transfer", counter=2, service="A", position="front")
    assert office.order_at(1)[0] == "C-001"  # ahead of the older B-001 at a counter serving A and B
    events = office.run("call_next", counter=1)
    assert events[-1].data["ticket"] == "C-001"


def test_a_ticket_keeps_its_transfer_history_and_a_replay_gives_the_same_places(office):
    office.run("transfer", counter=2, service="D", position="front")
    office.run("call_next", counter=3)
    office.run("transfer", counter=3, service="E", position="order")
    ticket = office.state.tickets["C-001"]
    assert [(a, b) for a, b, _ in ticket.history] == [("C", "D"), ("D", "E")]
    assert ticket.transfers == 2
    rebuilt, problems = replay(CFG, enumerate(office.log), strict=True)
    assert problems == []
    assert rebuilt.snapshot() == office.state.snapshot()


def test_an_unknown_landing_place_is_refused(office):
    with pytest.raises(DomainError) as err:
        office.run("transfer", counter=2, service="D", position="middle")
    assert err.value.key == "invalid_request"
    assert office.state.counters[2].serving == "C-001"


def test_a_call_out_of_order_to_a_counter_that_does_not_serve_the_service_is_refused():
    o = Office()
    o.take("B", "B")
    with pytest.raises(DomainError) as err:
        o.run("call_ticket", counter=3, ticket="B-002", reason="salah loket")  # 3 serves C, D, E
    assert err.value.key == "counter_not_serving"
    assert err.value.params == {"ticket": "B-002", "counter": 3, "service": "B"}
    o.run("call_ticket", counter=1, ticket="B-002", reason="lansia")
    assert o.state.tickets["B-002"].state == CALLED


def test_the_calling_order_follows_priority_and_the_anti_starvation_streak():
    o = Office()
    o.take("A", "B")
    for _ in range(4):
        o.run("take_ticket", service="A", priority=True)
    # priority_streak 3: three priority tickets, then the oldest regular one, then priority again
    assert o.order_at(1) == ["A-002", "A-003", "A-004", "A-001", "A-005", "B-001"]
