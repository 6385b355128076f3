"""Wait estimates from the real calling order: position, forward run, learning, cut-off."""

from __future__ import annotations

import heapq
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antrian import eta, views
from antrian.config import ConfigError, parse_config
from antrian.core import HubCore, Origin
from antrian.extensions.homeassistant import entities
from antrian.queue import QueueState
from antrian.store import EventStore

MONDAY = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 08.00 WIB
FRIDAY = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)


class Office:
    """The real HubCore on an in-memory event log, with a clock the test moves."""

    def __init__(
        self, raw: dict[str, Any] | None = None, now: datetime = MONDAY, store: EventStore | None = None
    ) -> None:
        self.now = now
        self.core = HubCore(parse_config(raw or {}), store or EventStore(":memory:"), clock=lambda: self.now)

    def ask(self, command: str, device: str | None = None, **fields: Any) -> dict[str, Any]:
        out = self.core.handle(Origin(device), command, json.dumps(fields).encode())
        return json.loads(out[0].payload)

    def take(self, service: str, **fields: Any) -> str:
        return self.ask("take_ticket", service=service, **fields)["data"]["ticket"]

    def view(self, code: str) -> dict[str, Any]:
        state = self.core.state
        return views.ticket_view(state, state.tickets[code], self.now)

    def service(self, letter: str) -> dict[str, Any]:
        return views.service_state(self.core.state, letter, self.now)

    def at(self, hh: int, mm: int = 0) -> None:
        self.now = self.now.replace(hour=hh - 7, minute=mm)  # WIB is UTC+7

    def clock(self, code: str, key: str = "estimated_call_at") -> str:
        return self.view(code)[key]


def test_people_ahead_are_everyone_the_shared_counters_call_first():
    # Counters 1 {A,B} and 2 {A,B,C,E}: the older B tickets are called before A-009.
    office = Office()
    for _ in range(8):
        office.take("A")
    for _ in range(4):
        for counter in (1, 2):
            office.ask("call_next", counter=counter)
        office.now += timedelta(minutes=10)
        for counter in (1, 2):
            office.ask("done", counter=counter)
    bs = [office.take("B") for _ in range(5)]
    a9 = office.take("A")
    assert a9 == "A-009"
    view = office.view(a9)
    assert view["ahead"] == 5
    assert view["get_ready"] is False
    # five services of ten minutes ahead on two counters: called after two rounds
    assert 15 <= view["estimated_wait_min"] <= 25
    assert [office.view(b)["ahead"] for b in bs] == [0, 1, 2, 3, 4]


def test_a_priority_ticket_is_ahead_of_older_regular_ones_of_other_services():
    office = Office()
    b = office.take("B")
    a = office.take("A", priority=True)
    assert office.view(a)["ahead"] == 0
    assert office.view(b)["ahead"] == 1


def test_a_break_with_until_holds_the_counters_calls_until_then():
    office = Office({"counters": [{"number": 1, "services": ["A"]}]})
    office.at(9, 0)
    office.ask("counter_status", counter=1, status="break", until="10:30")
    tickets = [office.take("A") for _ in range(2)]
    assert office.clock(tickets[0]) == "10.30"
    assert office.clock(tickets[1]) == "10.40"


def test_lunch_stops_the_counter_and_friday_lunch_starts_earlier():
    one_counter = {"counters": [{"number": 1, "services": ["A"]}]}
    for day, first_after_lunch in ((MONDAY, "13.00"), (FRIDAY, "13.00")):
        office = Office(one_counter, now=day)
        office.at(11, 10)
        tickets = [office.take("A") for _ in range(4)]
        office.ask("call_next", counter=1)
        clocks = [office.clock(t) for t in tickets[1:]]
        if day is MONDAY:  # 11.20, 11.30, 11.40 ... all before 12.00
            assert clocks == ["11.20", "11.30", "11.40"]
        else:  # Friday's ISHOMA is 11.30-13.00: the third waits for it
            assert clocks == ["11.20", "11.30", first_after_lunch]


def test_counters_taking_lunch_in_turns_keep_serving_through_it():
    office = Office({"counters": [{"number": 1, "services": ["A"]}, {"number": 2, "services": ["A"]}]})
    office.at(11, 55)
    tickets = [office.take("A") for _ in range(8)]
    calls = [office.clock(t) for t in tickets]
    # one counter at 12.00-12.30, the other at 12.30-13.00: some ticket is called in the hour
    assert any("12.00" <= c < "13.00" for c in calls)
    together = Office(
        {
            "office": {"lunch_in_turns": False},
            "counters": [{"number": 1, "services": ["A"]}, {"number": 2, "services": ["A"]}],
        }
    )
    together.at(11, 55)
    tickets = [together.take("A") for _ in range(8)]
    assert not any("12.05" <= together.clock(t) < "13.00" for t in tickets)


def test_a_service_no_counter_will_serve_today_cannot_be_estimated():
    office = Office()
    d = office.take("D")
    office.ask("counter_status", counter=3, status="closed")  # the only counter serving D
    view = office.view(d)
    assert view["estimated_wait_min"] is None
    assert view["served_today"] is None
    assert view["get_ready"] is False
    assert office.service("D")["estimated_wait_min"] is None
    # A is still served by counters 1 and 2
    assert office.service("A")["estimated_wait_min"] == 0


def test_a_wide_window_is_shown_as_two_times_a_narrow_one_as_one():
    office = Office()
    first = office.take("A")
    assert office.view(first)["estimated_call_from"] is None  # called right away
    for _ in range(20):
        last = office.take("C")
    view = office.view(last)
    assert view["estimated_call_from"] < view["estimated_call_at"] < view["estimated_call_to"]


def test_earlier_days_teach_the_service_time_and_the_configured_minutes_are_only_a_prior():
    store = EventStore(":memory:")
    one_counter = {"counters": [{"number": 1, "services": ["A"]}]}
    for day in range(3):  # three Mondays ... Wednesdays earlier, A took 20 minutes, not 10
        office = Office(one_counter, now=MONDAY - timedelta(days=7 - day), store=store)
        office.at(9, 0)
        for _ in range(12):
            office.take("A")
        for _ in range(12):
            office.ask("call_next", counter=1)
            office.now += timedelta(minutes=20)
            office.ask("done", counter=1)
        office.core.tick()
    today = Office(one_counter, store=store)
    today.at(9, 0)
    tickets = [today.take("A") for _ in range(4)]
    assert 19 <= today.service("A")["mean_minutes"] <= 21
    assert 55 <= today.view(tickets[-1])["estimated_wait_min"] <= 65
    # today's own services move it: the officer today takes 10 minutes
    for _ in range(3):
        today.ask("call_next", counter=1)
        today.now += timedelta(minutes=10)
        today.ask("done", counter=1)
    assert today.service("A")["mean_minutes"] < 19


def test_a_counter_idle_until_the_next_ticket_does_not_count_as_service_time():
    # The officer pressed "next" only when B arrived 40 minutes later: A's ten minutes of
    # service is not known, and is left out rather than learned as 40.
    office = Office({"counters": [{"number": 1, "services": ["A"]}]})
    office.take("A")
    office.ask("call_next", counter=1)
    office.now += timedelta(minutes=40)
    office.take("A")
    office.ask("call_next", counter=1)
    office.now += timedelta(minutes=7)
    office.ask("done", counter=1)
    record = eta.day_record(office.core.state)
    assert [round(v.minutes) for v in record.visits] == [7]


def test_no_shows_today_raise_the_share_the_estimate_counts_on():
    office = Office({"counters": [{"number": 1, "services": ["A"]}]})
    state = office.core.state
    before = eta.build_model(state, eta.History(), office.now).no_show
    for _ in range(10):
        office.take("A")
        office.ask("call_next", counter=1)
        office.now += timedelta(minutes=2)
        office.ask("skip", counter=1)
    after = eta.build_model(office.core.state, eta.History(), office.now)
    assert after.no_show > 2 * before
    assert 1.5 <= after.no_show_cost <= 2.5


def test_get_ready_fires_at_the_configured_number_ahead():
    office = Office(
        {
            "office": {"get_ready_ahead": 1, "get_ready_minutes": 0},
            "counters": [{"number": 1, "services": ["C"]}],
        }
    )
    tickets = [office.take("C") for _ in range(4)]
    assert [office.view(t)["get_ready"] for t in tickets] == [True, True, False, False]


def late_office(policy: str) -> Office:
    office = Office(
        {
            "office": {"late_tickets": policy, "closing": "16:00"},
            "counters": [{"number": 1, "services": ["A"]}],
            "devices": [{"id": "kiosk-1", "role": "kiosk"}],
        }
    )
    office.at(15, 20)
    for _ in range(5):
        office.take("A")
    return office


def test_a_kiosk_ticket_past_closing_is_refused_when_the_office_says_so():
    office = late_office("refuse")
    assert office.service("A")["served_today"] == "no"
    assert office.service("A")["closed_today"] is True
    r = office.ask("take_ticket", device="kiosk-1", service="A")
    assert r["status"] == "error"
    assert r["data"]["code"] == "not_served_today"
    assert "tidak terlayani" in r["error"]
    # staff can still issue it, with the warning
    staff = office.ask("take_ticket", service="A")
    assert staff["status"] == "ok"
    assert staff["data"]["served_today"] == "no"


def test_a_kiosk_ticket_past_closing_is_issued_with_the_warning_by_default():
    office = late_office("warn")
    r = office.ask("take_ticket", device="kiosk-1", service="A")
    assert r["status"] == "ok"
    assert r["data"]["served_today"] == "no"
    first = office.view("A-001")
    assert first["served_today"] == "yes"


def test_after_closing_every_service_is_closed_for_today():
    office = Office()
    office.at(16, 30)
    assert all(office.service(s)["closed_today"] for s in "ABCDE")


# ------------------------------------------------------------------------------------------
# The forward run is the model's own calling order
# ------------------------------------------------------------------------------------------

LETTERS = "ABC"


@settings(max_examples=150, deadline=None)
@given(
    tickets=st.lists(
        st.tuples(st.sampled_from(LETTERS), st.booleans(), st.integers(1, 30)), min_size=1, max_size=30
    ),
    layout=st.lists(st.sets(st.sampled_from(LETTERS), min_size=1), min_size=1, max_size=3),
    streak=st.integers(1, 3),
)
def test_the_forward_run_with_known_times_reproduces_the_models_call_order(tickets, layout, streak):
    cfg = parse_config(
        {
            "office": {"lunch": "", "lunch_friday": ""},
            "queue": {"priority_streak": streak, "priority_free": 999},
            "services": [{"letter": s, "name": s} for s in LETTERS],
            "counters": [{"number": i + 1, "services": sorted(s)} for i, s in enumerate(layout)],
        }
    )
    state = QueueState(cfg)
    now = MONDAY + timedelta(hours=1)
    known: dict[str, int] = {}
    for letter, prio, minutes in tickets:
        for e in state.decide("take_ticket", {"service": letter, "priority": prio}, "admin:t", now):
            state.apply(e)
            if e.type == "ticket_issued":
                known[e.data["ticket"]] = minutes
    # the forward run, on the state as it is now
    plan = [eta.Availability(n, c.services, 0.0) for n, c in sorted(state.counters.items())]
    calls = eta.forward_run(state, plan, lambda code, *_: (known[code], 0.0), markers=False)
    forecast = sorted((c.position, code, c.counter, c.at) for code, c in calls.items())
    # the model itself: each counter presses "next" when its ticket is done
    real = []
    free = [(0, n) for n in sorted(state.counters)]
    while free:
        t, n = heapq.heappop(free)
        events = state.decide("call_next", {"counter": n}, "admin:t", now + timedelta(minutes=t))
        for e in events:
            state.apply(e)
            if e.type == "ticket_called":
                real.append((e.data["ticket"], n, t))
                heapq.heappush(free, (t + known[e.data["ticket"]], n))
    assert [(code, n, at) for _, code, n, at in forecast] == real


def test_home_assistant_sees_a_service_full_for_today():
    office = Office()
    office.at(16, 30)
    topic = "homeassistant/binary_sensor/antrian_kantor/service_a_closed_today/config"
    config = entities(office.core.cfg)[topic]
    assert config["state_topic"] == "antrian/kantor/service/A/state"
    assert "closed_today" in config["value_template"]
    assert office.service("A")["closed_today"] is True


def test_earlier_days_are_read_a_few_at_a_time_so_a_restart_answers_at_once():
    store = EventStore(":memory:")
    for ago in (40, 10, 1):
        office = Office(now=MONDAY - timedelta(days=ago), store=store)
        office.take("A")
    estimator = eta.Estimator(parse_config({}), store.events_between)
    day = MONDAY.date().isoformat()
    seen = [len(estimator.history_for(day).days) for _ in range(12)]
    assert seen[0] == 1  # the last five days first
    assert seen[-1] == 3  # eight weeks, in the end
    assert seen == sorted(seen)


def test_before_the_first_ticket_of_the_day_the_estimate_starts_from_a_fresh_day():
    office = Office()
    office.take("D")
    office.ask("counter_status", counter=3, status="closed")  # left closed last evening
    office.now += timedelta(seconds=eta.DISPLAY_LAG + 1)  # the retained estimate follows by then
    assert office.service("D")["estimated_wait_min"] is None
    office.now += timedelta(days=1)  # the next morning, nobody has taken a ticket yet
    assert office.service("D")["estimated_wait_min"] is not None


def test_the_lunch_setting_is_checked_and_named_in_the_error():
    assert parse_config({"office": {"lunch": ""}}).office.lunch_on(0) is None  # serves through
    assert parse_config({}).office.lunch_on(4) != parse_config({}).office.lunch_on(0)  # Friday
    for raw, key in (
        ({"lunch": "13:00-12:00"}, "office.lunch"),
        ({"lunch_friday": "siang"}, "office.lunch_friday"),
        ({"late_tickets": "maybe"}, "office.late_tickets"),
    ):
        with pytest.raises(ConfigError, match=key):
            parse_config({"office": raw})
