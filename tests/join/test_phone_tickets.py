"""Tickets taken from phones, in the queue of the real hub on a real broker: one active ticket
per phone, the `[join] share`, check-in by the code (a kiosk) or by the number (an officer),
and the rule that a phone ticket not checked in when its turn comes is passed over like a
no-show, and put back by an officer when its holder turns up. A restart replays all of it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from antrian.contract import CODE_ALPHABET, Topics
from antrian.queue import replay
from tests.kit import InProcessHub, Mosquitto, Probe
from tests.kit.office import ALL_DAY, call_pad, kiosk, office

T = Topics("kantor")
#: Phone tickets: the first 2 of a service always, then at most half of its tickets.
JOIN = {"enabled": True, "free": 2, "share": 0.5}


@pytest.fixture
def hub_with(broker: Mosquitto, probe: Probe, tmp_path: Path) -> Iterator[Callable[..., InProcessHub]]:
    """`hub_with(**join)`: the real hub with phone tickets on; the same folder each time, so a
    second hub is the first one restarted."""
    hubs: list[InProcessHub] = []
    probe.subscribe(f"{T.base}/#")

    def factory(**join: Any) -> InProcessHub:
        cfg = office(kiosk(), call_pad(), join={**JOIN, **join}, office=ALL_DAY)
        hub = InProcessHub(broker, tmp_path, cfg).start()
        hubs.append(hub)
        return hub

    yield factory
    for hub in hubs:
        hub.stop()


def from_phone(probe: Probe, holder: str, service: str = "A", **fields: Any) -> dict[str, Any]:
    """A ticket as the phone part takes it: `take_ticket` by the actor `phone:<holder>`."""
    body = {"service": service, "actor": f"phone:{holder}", **fields}
    return probe.request(T.hub_request("take_ticket"), T.hub_response("take_ticket"), body)


def from_kiosk(probe: Probe, command: str, **fields: Any) -> dict[str, Any]:
    return probe.request(T.device_request("kiosk-1", command), T.device_response("kiosk-1", command), fields)


def by_staff(probe: Probe, command: str, **fields: Any) -> dict[str, Any]:
    return probe.request(T.hub_request(command), T.hub_response(command), {"actor": "officer:budi", **fields})


def call_next(probe: Probe) -> dict[str, Any]:
    answer = probe.request(
        T.device_request("pad-1", "call_next"), T.device_response("pad-1", "call_next"), {}
    )
    assert answer["status"] == "ok", answer
    return answer["data"]


def log_of(hub: InProcessHub) -> list[tuple[str, str, dict[str, Any]]]:
    def read() -> list[tuple[str, str, dict[str, Any]]]:
        day = hub.core.state.day
        return [(e.type, e.actor, dict(e.data)) for _, e in hub.core.store.events_between(day, day)]

    return hub.call(read)


def test_a_phone_ticket_waits_for_its_check_in_code_and_then_is_called_like_any(hub_with, probe):
    hub = hub_with()
    taken = from_phone(probe, "p1", priority=True)  # a phone cannot claim priority itself
    assert taken["status"] == "ok", taken
    ticket = taken["data"]
    assert ticket["ticket"] == "A-001"
    assert (ticket["remote"], ticket["checked_in"], ticket["priority"]) == (True, False, False)
    code = ticket["check_in_code"]
    assert len(code) == 6
    assert set(code) <= set(CODE_ALPHABET)

    checked = from_kiosk(probe, "check_in", booking=f" {code[:3].lower()}-{code[3:]} ")  # as typed
    assert checked["status"] == "ok", checked
    assert checked["data"]["check_in"] == "remote"
    assert checked["data"]["ticket"] == "A-001"
    assert checked["data"]["checked_in"] is True
    assert "check_in_code" not in checked["data"]
    again = from_kiosk(probe, "check_in", booking=code)
    assert again["data"]["code"] == "already_checked_in"
    assert "A-001" in again["error"]

    assert call_next(probe)["serving"] == "A-001"
    log = log_of(hub)
    assert [(kind, actor) for kind, actor, _ in log] == [
        ("day_started", "system"),
        ("ticket_issued", "phone:p1"),
        ("phone_ticket", "phone:p1"),
        ("ticket_checked_in", "device:kiosk-1"),
        ("ticket_called", "device:pad-1"),
    ]
    assert log[2][2] == {"ticket": "A-001", "check_in_code": code}
    assert log[3][2] == {"ticket": "A-001", "by": "code"}


def test_a_phone_ticket_not_checked_in_is_passed_over_and_an_officer_puts_it_back(hub_with, probe):
    hub = hub_with()
    assert from_phone(probe, "p1")["data"]["ticket"] == "A-001"
    assert from_kiosk(probe, "take_ticket", service="A")["data"]["ticket"] == "A-002"
    # its turn: nobody checked it in, so A-002 is called by the same press
    assert call_next(probe)["serving"] == "A-002"
    passed = [data for kind, _, data in log_of(hub) if kind == "ticket_not_checked_in"]
    assert passed == [{"ticket": "A-001", "counter": 1}]
    status = from_kiosk(
        probe, "check_in", booking=hub.call(lambda: hub.core.state.tickets["A-001"].check_in_code)
    )
    assert status["data"]["code"] == "check_in_missed"  # the kiosk cannot undo a missed turn
    # the citizen comes to the counter: the officer puts the ticket back, and it is next
    assert by_staff(probe, "reinsert", ticket="A-001")["status"] == "ok"
    assert call_next(probe)["serving"] == "A-001"


def test_an_officer_checks_a_phone_ticket_in_by_its_number_a_kiosk_cannot(hub_with, probe):
    hub_with()
    assert from_phone(probe, "p1")["data"]["ticket"] == "A-001"
    assert from_phone(probe, "p2")["data"]["ticket"] == "A-002"
    refused = from_kiosk(probe, "check_in", ticket="A-001")
    assert refused["data"]["code"] == "check_in_needs_code"
    both = from_kiosk(probe, "check_in", ticket="A-001", booking="ACDEFH")
    assert both["data"]["code"] == "invalid_request"
    assert by_staff(probe, "check_in", ticket="A-002")["data"]["check_in"] == "remote"
    assert from_kiosk(probe, "take_ticket", service="A")["data"]["ticket"] == "A-003"
    kiosk_ticket = by_staff(probe, "check_in", ticket="A-003")
    assert kiosk_ticket["data"]["code"] == "not_phone_ticket"
    # A-001 never checked in: passed over; A-002 was, by the officer
    assert call_next(probe)["serving"] == "A-002"


def test_one_phone_holds_one_active_ticket_and_may_take_another_once_it_is_served(hub_with, probe):
    hub_with()
    assert from_phone(probe, "p1")["data"]["ticket"] == "A-001"
    second = from_phone(probe, "p1", service="B")
    assert second["data"]["code"] == "phone_ticket_active"
    assert "A-001" in second["error"]
    assert by_staff(probe, "check_in", ticket="A-001")["status"] == "ok"
    assert call_next(probe)["serving"] == "A-001"
    still = from_phone(probe, "p1", service="B")  # called, not yet done: still active
    assert still["data"]["code"] == "phone_ticket_active"
    assert (
        probe.request(T.device_request("pad-1", "done"), T.device_response("pad-1", "done"), {})["status"]
        == "ok"
    )
    assert from_phone(probe, "p1", service="B")["data"]["ticket"] == "B-001"


def test_phones_take_at_most_the_share_of_a_services_tickets_after_the_first_free_ones(hub_with, probe):
    hub_with()
    assert [from_phone(probe, f"p{i}")["status"] for i in range(2)] == ["ok", "ok"]  # free: 2
    third = from_phone(probe, "p2")
    assert third["data"]["code"] == "phone_share_reached"
    assert "A" in third["error"]
    assert from_phone(probe, "p2", service="B")["status"] == "ok"  # per service
    # walk-ins at the kiosk make room: half of the day's tickets may come from phones
    for _ in range(3):
        assert from_kiosk(probe, "take_ticket", service="A")["status"] == "ok"
    assert from_phone(probe, "p3")["status"] == "ok"  # 3 of 6
    assert from_phone(probe, "p4")["data"]["code"] == "phone_share_reached"


def test_a_restart_keeps_phones_codes_and_check_ins_exactly(hub_with, probe):
    first = hub_with()
    code = from_phone(probe, "p1")["data"]["check_in_code"]
    assert from_phone(probe, "p2")["status"] == "ok"
    assert from_kiosk(probe, "check_in", booking=code)["status"] == "ok"
    before = log_of(first)
    first.stop()

    again = hub_with()
    state = again.call(lambda: again.core.state)
    assert (state.tickets["A-001"].checked_in, state.tickets["A-002"].checked_in) == (True, False)
    assert from_phone(probe, "p2", service="B")["data"]["code"] == "phone_ticket_active"
    assert from_kiosk(probe, "check_in", booking=code)["data"]["code"] == "already_checked_in"
    assert log_of(again) == before  # the refusals above left nothing in the log
    replayed, problems = again.call(
        lambda: replay(
            again.core.cfg, list(again.core.store.events_between(state.day, state.day)), strict=True
        )
    )
    assert problems == []
    assert replayed.remote_codes == state.remote_codes
    assert replayed.holders == state.holders
