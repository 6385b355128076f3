"""The queue rules, pure: numbering, priority and anti-starvation, recalls, transfers, rebuild."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antrian.config import parse_config
from antrian.queue import CALLED, DONE, SKIPPED, WAITING, DomainError, QueueState

CFG = parse_config({})
T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 08.00 WIB, a Monday


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def tick(self, minutes: float = 1) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now


def run(state: QueueState, command: str, clock: Clock, actor: str = "admin:test", **args: Any) -> list[Any]:
    events = state.decide(command, args, actor, clock.tick(0.1))
    for e in events:
        state.apply(e)
    return events


def issued(events: list[Any]) -> str:
    return next(e.data["ticket"] for e in events if e.type == "ticket_issued")


def called(events: list[Any]) -> str | None:
    return next((e.data["ticket"] for e in events if e.type == "ticket_called"), None)


@pytest.fixture
def q() -> tuple[QueueState, Clock]:
    return QueueState(CFG), Clock()


def test_tickets_are_numbered_per_service_from_one(q):
    state, clock = q
    codes = [issued(run(state, "take_ticket", clock, service=s)) for s in "AABAC"]
    assert codes == ["A-001", "A-002", "B-001", "A-003", "C-001"]


def test_a_new_local_day_restarts_numbering_and_expires_leftovers(q):
    state, clock = q
    run(state, "take_ticket", clock, service="A")
    clock.now = T0 + timedelta(days=1)
    events = run(state, "take_ticket", clock, service="A")
    assert [e.type for e in events] == ["day_started", "ticket_issued"]
    assert events[0].data["expired"] == ["A-001"]
    assert issued(events) == "A-001"
    assert state.day == "2026-12-01"


def test_the_day_follows_wib_not_utc(q):
    state, clock = q
    clock.now = datetime(2026, 11, 30, 16, 59, tzinfo=UTC)  # 23.59 WIB
    run(state, "take_ticket", clock, service="A")
    assert state.day == "2026-11-30"
    clock.now = datetime(2026, 11, 30, 17, 1, tzinfo=UTC)  # 00.01 WIB next day
    run(state, "take_ticket", clock, service="A")
    assert state.day == "2026-12-01"


def test_a_wall_clock_jumping_back_never_reissues_numbers(q):
    state, clock = q
    clock.now = T0 + timedelta(days=1)
    run(state, "take_ticket", clock, service="A")
    clock.now = T0  # the RTC lost a day
    assert issued(run(state, "take_ticket", clock, service="A")) == "A-002"


def test_counter_calls_oldest_priority_first_then_regular_after_the_streak(q):
    state, clock = q
    for _i in range(5):
        run(state, "take_ticket", clock, service="A", priority=False)
    for _i in range(5):
        run(state, "take_ticket", clock, service="A", priority=True)
    order = [called(run(state, "call_next", clock, counter=1)) for _ in range(10)]
    # K=3 priority, then one regular, repeat; priority tickets are A-006..A-010
    assert order == ["A-006", "A-007", "A-008", "A-001", "A-009", "A-010", "A-002", "A-003", "A-004", "A-005"]


def test_call_next_finishes_the_current_ticket(q):
    state, clock = q
    run(state, "take_ticket", clock, service="A")
    run(state, "take_ticket", clock, service="A")
    run(state, "call_next", clock, counter=1)
    events = run(state, "call_next", clock, counter=1)
    assert [e.type for e in events] == ["ticket_done", "ticket_called"]
    assert state.tickets["A-001"].state == DONE
    assert state.counters[1].serving == "A-002"


def test_counters_only_call_services_they_serve(q):
    state, clock = q
    run(state, "take_ticket", clock, service="D")
    assert called(run(state, "call_next", clock, counter=1)) is None  # counter 1: A, B
    assert called(run(state, "call_next", clock, counter=3)) == "D-001"


def test_recall_is_limited_then_skip_marks_terlewat_and_reinsert_keeps_the_place(q):
    state, clock = q
    for _ in range(3):
        run(state, "take_ticket", clock, service="A")
    run(state, "call_next", clock, counter=1)
    run(state, "recall", clock, counter=1)
    run(state, "recall", clock, counter=1)
    with pytest.raises(DomainError) as err:
        run(state, "recall", clock, counter=1)
    assert err.value.key == "recall_limit"
    run(state, "skip", clock, counter=1, reason="tidak hadir")
    assert state.tickets["A-001"].state == SKIPPED
    run(state, "reinsert", clock, ticket="A-001", reason="datang terlambat")
    assert state.tickets["A-001"].state == WAITING
    assert called(run(state, "call_next", clock, counter=1)) == "A-001"


def test_transfer_moves_the_ticket_to_another_service_keeping_its_code(q):
    state, clock = q
    run(state, "take_ticket", clock, service="C")
    run(state, "call_next", clock, counter=2)
    run(state, "transfer", clock, counter=2, service="D")
    t = state.tickets["C-001"]
    assert (t.service, t.state, t.transfers) == ("D", WAITING, 1)
    assert state.counters[2].serving is None
    assert called(run(state, "call_next", clock, counter=3)) == "C-001"


def test_call_ticket_out_of_order_is_logged_as_such(q):
    state, clock = q
    for _ in range(3):
        run(state, "take_ticket", clock, service="B")
    events = run(state, "call_ticket", clock, counter=1, ticket="B-003", reason="lansia")
    assert events[-1].data["mode"] == "out_of_order"
    assert events[-1].reason == "lansia"
    assert state.tickets["B-003"].state == CALLED


def test_paused_service_refuses_tickets_and_is_not_called(q):
    state, clock = q
    run(state, "take_ticket", clock, service="A")
    run(state, "service_status", clock, service="A", status="paused")
    with pytest.raises(DomainError) as err:
        run(state, "take_ticket", clock, service="A")
    assert err.value.key == "service_paused"
    assert called(run(state, "call_next", clock, counter=1)) is None


def test_daily_quota_is_enforced():
    cfg = parse_config(
        {
            "services": [{"letter": "A", "name": "KTP", "quota": 2}],
            "counters": [{"number": 1, "services": ["A"]}],
        }
    )
    state, clock = QueueState(cfg), Clock()
    run(state, "take_ticket", clock, service="A")
    run(state, "take_ticket", clock, service="A")
    with pytest.raises(DomainError) as err:
        run(state, "take_ticket", clock, service="A")
    assert err.value.key == "quota_reached"


def test_counter_on_break_cannot_call_and_busy_counter_cannot_go_on_break(q):
    state, clock = q
    run(state, "take_ticket", clock, service="A")
    run(state, "call_next", clock, counter=1)
    with pytest.raises(DomainError) as err:
        run(state, "counter_status", clock, counter=1, status="break")
    assert err.value.key == "counter_busy"
    run(state, "done", clock, counter=1)
    run(state, "counter_status", clock, counter=1, status="break", until="10.30")
    assert state.counters[1].until == "10.30"
    with pytest.raises(DomainError):
        run(state, "call_next", clock, counter=1)


def test_close_day_expires_unserved_tickets(q):
    state, clock = q
    run(state, "take_ticket", clock, service="A")
    run(state, "take_ticket", clock, service="A")
    run(state, "call_next", clock, counter=1)
    run(state, "close_day", clock)
    assert {t.state for t in state.tickets.values()} == {"expired"}
    assert state.services["A"].waiting == 0


def test_mean_counter_time_learns_from_served_tickets(q):
    state, clock = q
    for _ in range(2):
        run(state, "take_ticket", clock, service="A")
    run(state, "call_next", clock, counter=1)
    clock.tick(20)
    run(state, "done", clock, counter=1)
    # EWMA alpha 0.3 from 10 minutes with a 20-minute service
    assert state.services["A"].mean_minutes == pytest.approx(0.3 * 20.1 + 0.7 * 10, abs=0.05)


# ------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------

COMMANDS = st.one_of(
    st.tuples(
        st.just("take_ticket"),
        st.fixed_dictionaries({"service": st.sampled_from("ABCDE"), "priority": st.booleans()}),
    ),
    st.tuples(
        st.sampled_from(["call_next", "recall", "skip", "done"]),
        st.fixed_dictionaries({"counter": st.integers(1, 3)}),
    ),
    st.tuples(
        st.just("transfer"),
        st.fixed_dictionaries({"counter": st.integers(1, 3), "service": st.sampled_from("ABCDE")}),
    ),
    st.tuples(
        st.just("reinsert"),
        st.fixed_dictionaries({"ticket": st.sampled_from([f"{s}-00{i}" for s in "AB" for i in range(1, 4)])}),
    ),
    st.tuples(
        st.just("call_ticket"),
        st.fixed_dictionaries(
            {
                "counter": st.integers(1, 3),
                "ticket": st.sampled_from([f"{s}-00{i}" for s in "AD" for i in range(1, 4)]),
            }
        ),
    ),
    st.tuples(
        st.just("counter_status"),
        st.fixed_dictionaries(
            {"counter": st.integers(1, 3), "status": st.sampled_from(["open", "break", "closed"])}
        ),
    ),
    st.tuples(
        st.just("service_status"),
        st.fixed_dictionaries(
            {"service": st.sampled_from("ABCDE"), "status": st.sampled_from(["open", "paused"])}
        ),
    ),
    st.tuples(
        st.just("set_priority"),
        st.fixed_dictionaries(
            {"ticket": st.sampled_from(["A-001", "A-002", "B-001"]), "priority": st.booleans()}
        ),
    ),
    st.tuples(st.just("advance"), st.integers(0, 26 * 60)),
)


def _play(script: list[tuple[str, Any]]) -> tuple[QueueState, list[Any], list[str]]:
    state, clock = QueueState(CFG), Clock()
    log: list[Any] = []
    order_of_calls: list[str] = []
    for command, args in script:
        if command == "advance":
            clock.tick(args)
            continue
        try:
            events = state.decide(command, args, "admin:prop", clock.tick(0.1))
        except DomainError:
            continue
        for e in events:
            state.apply(e)
            log.append(e)
            if e.type == "ticket_called":
                order_of_calls.append(e.data["ticket"])
    return state, log, order_of_calls


@settings(max_examples=300, deadline=None)
@given(st.lists(COMMANDS, max_size=80))
def test_rebuilding_from_the_log_gives_the_live_state(script):
    live, log, _ = _play(script)
    rebuilt = QueueState(CFG)
    for e in log:
        rebuilt.apply(e)
    assert rebuilt.snapshot() == live.snapshot()


@settings(max_examples=300, deadline=None)
@given(st.lists(COMMANDS, max_size=80))
def test_no_ticket_is_lost_or_duplicated_and_numbers_strictly_increase(script):
    state, log, _ = _play(script)
    per_day: dict[tuple[str, str], list[int]] = {}
    for e in log:
        if e.type == "ticket_issued":
            per_day.setdefault((e.day, e.data["service"]), []).append(e.data["number"])
    for numbers in per_day.values():
        assert numbers == list(range(1, len(numbers) + 1))
    # every ticket of today is in exactly one place: one service lane, one counter, or finished
    lanes = [code for s in state.services.values() for _, code in s.priority + s.regular]
    serving = [c.serving for c in state.counters.values() if c.serving]
    assert len(lanes) == len(set(lanes))
    assert len(serving) == len(set(serving))
    for code, t in state.tickets.items():
        assert (code in lanes) == (t.state == WAITING)
        assert (code in serving) == (t.state == CALLED)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=40), st.integers(1, 5))
def test_priority_first_but_regular_never_waits_more_than_k_priority_calls(flags, k):
    cfg = parse_config({"queue": {"priority_streak": k}, "counters": [{"number": 1, "services": ["A"]}]})
    state, clock = QueueState(cfg), Clock()
    for p in flags:
        run(state, "take_ticket", clock, service="A", priority=p)
    calls = [called(run(state, "call_next", clock, counter=1)) for _ in flags]
    kinds = [state.tickets[c].priority for c in calls if c]
    assert len(kinds) == len(flags)
    streak = 0
    for i, is_priority in enumerate(kinds):
        if is_priority:
            streak += 1
            assert streak <= k or all(kinds[i:])  # only when no regular ticket is left
        else:
            # a regular ticket is called only after K priority calls or when none waits
            assert streak == k or not any(kinds[i:])
            streak = 0
    # each lane is called oldest first
    for lane in (True, False):
        nums = [state.tickets[c].number for c in calls if c and state.tickets[c].priority == lane]
        assert nums == sorted(nums)
