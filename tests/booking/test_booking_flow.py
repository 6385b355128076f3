"""Booking for another day on the real hub, a real broker and a clock the test moves: a
citizen books on Sunday, checks in on Monday at the ESP32 kiosk's `check_in`, and is called
by the booking rule; a late arrival loses the slot; quotas, closed days and holidays are
refused; a cancelled place is free again; and a restart replays the check-in exactly."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from antrian.booking.extension import Bookings
from antrian.booking.store import ALPHABET, normalise_code
from antrian.contract import Topics
from antrian.notify.extension import Refusal
from antrian.queue import replay
from tests.kit import Clock, InProcessHub, Mosquitto, Probe
from tests.kit.clock import wib
from tests.kit.office import call_pad, kiosk, office

T = Topics("kantor")
#: Mondays to Thursdays 07.30-16.00 with ISHOMA 12.00-13.00 (the defaults), slots of 30 minutes.
BOOKING = {"enabled": True, "slot_minutes": 30, "quota": 2, "days_ahead": 14, "grace_minutes": 15}


@pytest.fixture
def hub_at(
    broker: Mosquitto, probe: Probe, tmp_path: Path
) -> Iterator[Callable[..., tuple[InProcessHub, Clock]]]:
    """`hub, clock = hub_at(when, **booking)`: the real hub with bookings on, at `when`; the
    same folder each time, so a second hub is the first one restarted."""
    hubs: list[InProcessHub] = []
    probe.subscribe(f"{T.base}/#")

    def factory(when: datetime | Clock, **booking: Any) -> tuple[InProcessHub, Clock]:
        clock = when if isinstance(when, Clock) else Clock(when)
        cfg = office(kiosk(), call_pad(), booking={**BOOKING, **booking})
        hub = InProcessHub(broker, tmp_path, cfg, clock=clock).start()
        hubs.append(hub)
        return hub, clock

    yield factory
    for hub in hubs:
        hub.stop()


def part_of(hub: InProcessHub) -> Bookings:
    part = hub.service.extension("booking")
    assert isinstance(part, Bookings)
    return part


def book(hub: InProcessHub, service: str, day: str, slot: str, lang: str = "id") -> dict[str, Any] | Refusal:
    return hub.call(lambda: part_of(hub).book(service, day, slot, lang))


def booked(hub: InProcessHub, service: str, day: str, slot: str) -> str:
    answer = book(hub, service, day, slot)
    assert isinstance(answer, dict), answer
    return str(answer["code"])


def from_kiosk(probe: Probe, command: str, **fields: Any) -> dict[str, Any]:
    return probe.request(T.device_request("kiosk-1", command), T.device_response("kiosk-1", command), fields)


def call_next(probe: Probe) -> str | None:
    answer = probe.request(
        T.device_request("pad-1", "call_next"), T.device_response("pad-1", "call_next"), {}
    )
    assert answer["status"] == "ok", answer
    serving: str | None = answer["data"].get("serving")
    return serving


def checked_in_events(hub: InProcessHub) -> list[dict[str, Any]]:
    def read() -> list[dict[str, Any]]:
        day = hub.core.state.day
        return [
            dict(e.data) for _, e in hub.core.store.events_between(day, day) if e.type == "booking_checked_in"
        ]

    return hub.call(read)


def test_a_booked_citizen_checked_in_is_called_at_the_slot_time_ahead_of_later_walk_ins(hub_at, probe):
    hub, clock = hub_at(wib(2026, 11, 29, 19, 0))  # Sunday evening, at home
    code = booked(hub, "A", "2026-11-30", "09:00")
    assert len(code) == 6
    assert set(code) <= set(ALPHABET)

    clock.now = wib(2026, 11, 30, 8, 50)
    assert from_kiosk(probe, "take_ticket", service="A")["data"]["ticket"] == "A-001"  # before the slot
    clock.now = wib(2026, 11, 30, 9, 5)
    assert from_kiosk(probe, "take_ticket", service="A")["data"]["ticket"] == "A-002"  # after its start
    clock.now = wib(2026, 11, 30, 9, 10)
    checked = from_kiosk(probe, "check_in", booking=code.lower())  # as typed, in lower case
    assert checked["status"] == "ok", checked
    assert checked["data"]["ticket"] == "A-003"
    assert checked["data"]["ahead"] == 1  # only A-001, taken before the slot began

    assert [call_next(probe), call_next(probe), call_next(probe)] == ["A-001", "A-003", "A-002"]
    assert checked_in_events(hub) == [
        {
            "ticket": "A-003",
            "booking": code,
            "slot_start": "2026-11-30T09:00:00+07:00",
            "slot_end": "2026-11-30T09:30:00+07:00",
            "rule": "slot",
        }
    ]
    assert hub.call(lambda: part_of(hub).lookup(code, "id"))["state"] == "checked_in"
    again = from_kiosk(probe, "check_in", booking=code)
    assert again["data"]["code"] == "booking_used"
    assert "A-003" in again["error"]


def test_a_late_arrival_loses_the_slot_and_joins_the_back_and_the_log_says_so(hub_at, probe):
    hub, clock = hub_at(wib(2026, 11, 29, 19, 0))
    code = booked(hub, "B", "2026-11-30", "09:00")
    clock.now = wib(2026, 11, 30, 9, 20)
    assert from_kiosk(probe, "take_ticket", service="B")["data"]["ticket"] == "B-001"
    clock.now = wib(2026, 11, 30, 9, 46)  # the slot ended 09.30, grace 15 minutes: one late
    checked = from_kiosk(probe, "check_in", booking=code)
    assert checked["data"]["ticket"] == "B-002"
    assert checked["data"]["ahead"] == 1
    assert [e["rule"] for e in checked_in_events(hub)] == ["late"]
    assert [call_next(probe), call_next(probe)] == ["B-001", "B-002"]


def test_a_code_of_another_day_cancelled_or_made_up_is_refused_and_nothing_is_logged(hub_at, probe):
    hub, clock = hub_at(wib(2026, 11, 29, 19, 0))
    tuesday = booked(hub, "A", "2026-12-01", "10:00")
    cancelled = booked(hub, "A", "2026-11-30", "10:00")
    assert hub.call(lambda: part_of(hub).cancel(cancelled, "id"))["state"] == "cancelled"
    clock.now = wib(2026, 11, 30, 10, 0)
    before = hub.call(hub.core.store.count)
    for code in (tuesday, cancelled, "ACDEFH", "x" * 40):
        refused = from_kiosk(probe, "check_in", booking=code[:16])
        assert refused["status"] == "error"
        assert refused["data"]["code"] in ("booking_unknown", "invalid_request"), refused
    assert hub.call(hub.core.store.count) == before
    # the cancelled one cannot be cancelled twice, nor used
    again = hub.call(lambda: part_of(hub).cancel(cancelled, "en"))
    assert isinstance(again, Refusal)
    assert again.text == f"Booking {cancelled} was cancelled already."


def test_a_slot_takes_its_quota_and_a_cancellation_frees_a_place(hub_at):
    hub, _ = hub_at(wib(2026, 11, 29, 19, 0), quota=1)
    first = booked(hub, "A", "2026-11-30", "08:00")
    full = book(hub, "A", "2026-11-30", "08:00")
    assert isinstance(full, Refusal)
    assert full.code == "booking_slot_full"
    assert full.text == "Jam 08.00-08.30 sudah penuh. Silakan pilih jam lain."
    assert isinstance(book(hub, "B", "2026-11-30", "08:00"), dict)  # the quota is per service

    def left() -> int:
        monday = next(d for d in part_of(hub).offer("id")["days"] if d["day"] == "2026-11-30")
        slot = next(s for s in monday["slots"] if s["slot"] == "08:00")
        return int(slot["left"]["A"])

    assert hub.call(left) == 0
    hub.call(lambda: part_of(hub).cancel(first, "id"))
    assert hub.call(left) == 1
    assert isinstance(book(hub, "A", "2026-11-30", "08:00"), dict)


def test_holidays_closed_days_the_break_and_days_out_of_the_window_offer_nothing(hub_at):
    hub, _ = hub_at(wib(2026, 12, 20, 19, 0), days_ahead=14)
    christmas = book(hub, "A", "2026-12-25", "09:00", "en")
    assert isinstance(christmas, Refusal)
    assert christmas.code == "booking_holiday"
    assert "Christmas" in christmas.text or "Natal" in christmas.text
    sunday = book(hub, "A", "2026-12-27", "09:00")
    assert isinstance(sunday, Refusal)
    assert sunday.code == "booking_closed_day"
    lunch = book(hub, "A", "2026-12-21", "12:00")
    assert isinstance(lunch, Refusal)
    assert lunch.code == "booking_bad_slot"
    today = book(hub, "A", "2026-12-20", "09:00")
    assert isinstance(today, Refusal)
    assert today.code == "booking_out_of_window"
    far = book(hub, "A", "2027-01-04", "09:00")
    assert isinstance(far, Refusal)
    assert far.code == "booking_out_of_window"
    assert isinstance(book(hub, "Q", "2026-12-21", "09:00"), Refusal)
    assert isinstance(book(hub, "A", "21-12-2026", "09:00"), Refusal)

    offer = hub.call(lambda: part_of(hub).offer("id"))
    days = [d["day"] for d in offer["days"]]
    assert "2026-12-25" not in days
    assert "2026-12-27" not in days
    assert "2026-12-20" not in days
    monday = next(d for d in offer["days"] if d["day"] == "2026-12-21")
    slots = [s["slot"] for s in monday["slots"]]
    assert slots[0] == "07:30"
    assert slots[-1] == "15:30"
    assert "12:00" not in slots
    assert "12:30" not in slots
    assert "13:00" in slots


def test_a_restart_replays_the_check_in_the_order_and_the_used_code(hub_at, probe):
    hub, clock = hub_at(wib(2026, 11, 29, 19, 0))
    code = booked(hub, "A", "2026-11-30", "09:00")
    clock.now = wib(2026, 11, 30, 9, 5)
    from_kiosk(probe, "take_ticket", service="A")
    clock.now = wib(2026, 11, 30, 9, 12)
    assert from_kiosk(probe, "check_in", booking=code)["data"]["ticket"] == "A-002"

    def picture(h: InProcessHub) -> tuple[list[tuple[float, str]], dict[str, str]]:
        return h.call(lambda: (list(h.core.state.services["A"].regular), dict(h.core.state.bookings)))

    live = picture(hub)
    assert live == ([(0.5, "A-002"), (1, "A-001")], {code: "A-002"})
    hub.stop()
    restarted, _ = hub_at(clock)
    assert picture(restarted) == live
    day = "2026-11-30"
    replayed, problems = restarted.call(
        lambda: replay(restarted.cfg, restarted.core.store.events_between(day, day), strict=True)
    )
    assert problems == []
    assert replayed.services["A"].regular == live[0]
    assert from_kiosk(probe, "check_in", booking=code)["data"]["code"] == "booking_used"
    # the booking survived too: the code is still known, checked in, with its ticket
    assert restarted.call(lambda: part_of(restarted).lookup(code, "id"))["ticket"] == "A-002"


def test_a_typed_or_scanned_code_is_read_the_way_people_give_it():
    assert normalise_code(" acd-efh ") == "ACDEFH"
    assert normalise_code("ACDEFH\r") == "ACDEFH"
    assert normalise_code("ACDEF0") == ""  # 0 is never used: O and 0 are misread
    assert normalise_code("ACD") == ""
    assert json.dumps(normalise_code("A" * 100)) == '""'


def minutes(clock_text: str) -> int:
    """ "09.25" (an estimated call time as the ticket prints it) -> minutes after midnight."""
    hour, minute = clock_text.split(".")
    return int(hour) * 60 + int(minute)


def test_the_wait_estimate_counts_a_booking_whose_slot_has_begun(broker, probe, tmp_path):
    """One counter; A-001 waits from before the slot. A walk-in at 09.05 is told it comes after
    the 09.00 booking that may still check in; once that booking is cancelled, sooner."""
    probe.subscribe(f"{T.base}/#")
    clock = Clock(wib(2026, 11, 29, 19, 0))
    cfg = office(
        kiosk(),
        call_pad(),
        counters=[{"number": 1, "services": ["A", "B", "C", "D", "E"]}],
        booking=BOOKING,
    )
    hub = InProcessHub(broker, tmp_path, cfg, clock=clock).start()
    try:
        code = booked(hub, "A", "2026-11-30", "09:00")
        clock.now = wib(2026, 11, 30, 8, 55)
        from_kiosk(probe, "take_ticket", service="A")
        clock.now = wib(2026, 11, 30, 9, 5)
        walk_in = from_kiosk(probe, "take_ticket", service="A")["data"]
        with_booking = minutes(walk_in["estimated_call_at"])
        hub.call(lambda: part_of(hub).cancel(code, "id"))
        clock.now = wib(2026, 11, 30, 9, 6)
        status = from_kiosk(probe, "ticket_status", token=walk_in["token"])["data"]
        without = minutes(status["estimated_call_at"])
        assert with_booking - without >= 5, (walk_in["estimated_call_at"], status["estimated_call_at"])
    finally:
        hub.stop()
