"""Office hours on the real hub, a real broker and a clock the test moves: kiosks refuse
tickets outside hours (saying why and when the office opens), staff still issue, nothing of a
refusal reaches the log, and `office/state` follows opening and closing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from antrian.contract import Topics
from tests.kit import Clock, InProcessHub, Mosquitto, Probe
from tests.kit.office import kiosk, office

T = Topics("kantor")
WIB = timedelta(hours=7)


def wib(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """An instant given as the office's wall clock (WIB)."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - WIB


@pytest.fixture
def hub_at(
    broker: Mosquitto, probe: Probe, tmp_path: Path
) -> Iterator[Callable[..., tuple[InProcessHub, Clock]]]:
    """`hub, clock = hub_at(when, **office_sections)`: the real hub on the test's broker,
    living at `when` (the test moves the clock); the probe hears the office's topics."""
    hubs: list[InProcessHub] = []
    probe.subscribe(f"{T.base}/#")

    def factory(when: datetime, **sections: Any) -> tuple[InProcessHub, Clock]:
        clock = Clock(when)
        hub = InProcessHub(broker, tmp_path, office(kiosk(), **sections), clock=clock).start()
        hubs.append(hub)
        return hub, clock

    yield factory
    for hub in hubs:
        hub.stop()


def from_kiosk(probe: Probe, service: str = "A") -> dict[str, Any]:
    return probe.request(
        T.device_request("kiosk-1", "take_ticket"),
        T.device_response("kiosk-1", "take_ticket"),
        {"service": service},
    )


def from_staff(probe: Probe, service: str = "A") -> dict[str, Any]:
    return probe.request(
        T.hub_request("take_ticket"),
        T.hub_response("take_ticket"),
        {"service": service, "actor": "officer:budi"},
    )


def logged(hub: InProcessHub) -> int:
    return hub.call(hub.core.store.count)


def test_kiosks_issue_from_half_an_hour_before_opening_and_refuse_earlier(hub_at, probe):
    hub, clock = hub_at(wib(2026, 11, 30, 7, 0), office={"hours": {"mon": "07:40-16:00"}})
    before = logged(hub)
    refused = from_kiosk(probe)
    assert refused["status"] == "error"
    assert refused["data"] == {
        "code": "office_closed",
        "reason": "before_opening",
        "holiday": None,
        "opens_at": "2026-11-30T07:40:00+07:00",
    }
    assert refused["error"] == "Kantor tutup. Buka hari ini pukul 07.40."
    assert logged(hub) == before  # the refusal left nothing in the log
    clock.now = wib(2026, 11, 30, 7, 10)
    assert from_kiosk(probe)["status"] == "ok"


def test_after_closing_a_kiosk_is_told_the_next_working_day(hub_at, probe):
    hub, clock = hub_at(wib(2026, 11, 30, 9, 0))
    assert from_kiosk(probe)["status"] == "ok"
    clock.now = wib(2026, 11, 30, 16, 5)
    before = logged(hub)
    refused = from_kiosk(probe)
    assert refused["data"]["reason"] == "after_closing"
    assert refused["data"]["opens_at"] == "2026-12-01T07:30:00+07:00"
    assert refused["error"] == "Kantor tutup untuk hari ini. Buka lagi Selasa, 1 Desember 2026 pukul 07.30."
    assert logged(hub) == before
    assert from_staff(probe)["status"] == "ok"  # staff still issue after hours


def test_friday_has_its_own_hours(hub_at, probe):
    _, clock = hub_at(wib(2026, 12, 4, 11, 0), office={"hours": {"fri": "07:30-11:30"}})
    assert from_kiosk(probe)["status"] == "ok"
    clock.now = wib(2026, 12, 4, 11, 45)
    refused = from_kiosk(probe)
    assert refused["data"]["reason"] == "after_closing"
    assert refused["data"]["opens_at"] == "2026-12-07T07:30:00+07:00"  # Saturday and Sunday closed


def test_a_national_holiday_is_refused_with_its_name(hub_at, probe):
    hub, _ = hub_at(wib(2026, 12, 25, 9, 0))
    before = logged(hub)
    refused = from_kiosk(probe)
    assert refused["data"] == {
        "code": "office_closed",
        "reason": "holiday",
        "holiday": "Hari Raya Natal",
        "opens_at": "2026-12-28T07:30:00+07:00",
    }
    assert (
        refused["error"] == "Kantor tutup (Hari Raya Natal). Buka lagi Senin, 28 Desember 2026 pukul 07.30."
    )
    assert logged(hub) == before
    issued = from_staff(probe)
    assert issued["status"] == "ok"
    assert issued["data"]["ticket"] == "A-001"


def test_a_local_holiday_closes_the_office(hub_at, probe):
    hub_at(wib(2026, 12, 3, 9, 0), holidays=[{"date": "2026-12-03", "name": "Hari Jadi Kabupaten"}])
    refused = from_kiosk(probe)
    assert refused["data"]["holiday"] == "Hari Jadi Kabupaten"
    assert refused["data"]["opens_at"] == "2026-12-04T07:30:00+07:00"


def test_an_office_that_serves_on_a_cuti_bersama_issues_tickets(hub_at, probe):
    hub_at(wib(2026, 12, 24, 9, 0), holidays=[{"date": "2026-12-24", "open": True}])
    assert from_kiosk(probe)["status"] == "ok"


def test_a_cuti_bersama_closes_an_office_that_did_not_open_it(hub_at, probe):
    hub_at(wib(2026, 12, 24, 9, 0))
    refused = from_kiosk(probe)
    assert refused["data"]["holiday"] == "Cuti Bersama Hari Raya Natal"


def test_ramadan_hours_apply_within_their_range(hub_at, probe):
    ramadan = {"from": "2027-02-08", "to": "2027-03-09", "name": "Ramadan", "mon": "08:00-15:00"}
    _, clock = hub_at(wib(2027, 2, 8, 7, 20), office={"special_hours": [ramadan]})
    assert from_kiosk(probe)["data"]["opens_at"] == "2027-02-08T08:00:00+07:00"
    clock.now = wib(2027, 2, 8, 7, 35)
    assert from_kiosk(probe)["status"] == "ok"
    clock.now = wib(2027, 2, 8, 15, 10)
    assert from_kiosk(probe)["data"]["reason"] == "after_closing"
    clock.now = wib(2027, 3, 22, 15, 10)  # after the range (a Monday): the regular 16:00 again
    assert from_kiosk(probe)["status"] == "ok"


def test_weekend_is_a_closed_day(hub_at, probe):
    hub_at(wib(2026, 12, 5, 9, 0))
    refused = from_kiosk(probe)
    assert refused["data"]["reason"] == "closed_day"
    assert refused["data"]["opens_at"] == "2026-12-07T07:30:00+07:00"
    assert refused["error"].startswith("Kantor tutup pada hari Sabtu.")


def test_office_state_is_retained_and_changes_at_opening_and_closing(hub_at, probe, broker):
    hub, clock = hub_at(wib(2026, 11, 30, 6, 50))
    first = json.loads(probe.wait_for(T.office_state))
    assert first["open"] is False
    assert first["reason"] == "before_opening"
    assert first["tickets"] is False
    assert first["opens_at"] == "2026-11-30T07:30:00+07:00"
    assert first["day"] == "2026-11-30"

    def tick() -> None:
        hub.service.publish(hub.core.tick())

    mark = probe.mark()
    hub.call(tick)  # nothing changed: nothing published
    clock.now = wib(2026, 11, 30, 7, 31)
    hub.call(tick)
    opened = json.loads(probe.wait_for(T.office_state, start=mark))
    assert probe.count(T.office_state, mark) == 1
    assert opened["open"] is True
    assert opened["reason"] == "open"
    assert opened["closes_at"] == "2026-11-30T16:00:00+07:00"
    assert opened["text"] == "Buka sampai pukul 16.00."
    clock.now = wib(2026, 11, 30, 16, 1)
    mark = probe.mark()
    hub.call(tick)
    closed = json.loads(probe.wait_for(T.office_state, start=mark))
    assert closed["reason"] == "after_closing"
    assert closed["opens_at"] == "2026-12-01T07:30:00+07:00"
    # a late subscriber gets it retained
    late = Probe(broker)
    try:
        late.subscribe(T.office_state)
        assert json.loads(late.wait_for(T.office_state)) == closed
    finally:
        late.close()
