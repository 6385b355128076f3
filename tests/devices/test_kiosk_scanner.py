"""The ESP32 kiosk with a QR scanner module (GM65-like) on its second UART, on the real
MicroPython interpreter against the real hub: a citizen holds the booking's QR to the scanner,
the kiosk checks it in and prints the ticket; the same code again prints a slip saying it was
used; a line that is no code (too long) is dropped without asking the hub. A ticket taken from a
phone is checked in by the code its page shows, the same way."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from escpos_decode import decode
from harness import kiosk_config, nth_answer, online

from tests.kit import Probe
from tests.kit.office import ALL_DAY, SLUG, kiosk, office

TZ = "Asia/Jakarta"
REQUEST = "antrian/kantor/device/kiosk-1/request/check_in"
RESPONSE = "antrian/kantor/device/kiosk-1/response/check_in"

BOOKING_OFFICE = office(
    kiosk(services=["A", "B"]),
    office={"slug": SLUG, "name": "Kantor Kecamatan Contoh", "timezone": TZ, **ALL_DAY},
    services=[
        {"letter": "A", "name": "Administrasi kependudukan", "minutes": 10},
        {"letter": "B", "name": "Surat keterangan", "minutes": 10},
    ],
    counters=[{"number": 1, "services": ["A", "B"]}],
    booking={"enabled": True},
)


def book_now(hub, code: str) -> None:
    """A booking of today's current slot, as the booking page would have stored it."""
    now = datetime.now(ZoneInfo(TZ))
    db = sqlite3.connect(hub.database, timeout=10)
    try:
        with db:
            db.execute(
                "INSERT INTO bookings(code, day, service, slot_start, slot_end, state, booked_at)"
                " VALUES (?, ?, 'B', ?, ?, 'booked', ?)",
                (
                    code,
                    now.date().isoformat(),
                    (now - timedelta(minutes=5)).isoformat(),
                    (now + timedelta(minutes=25)).isoformat(),
                    now.isoformat(),
                ),
            )
    finally:
        db.close()


def scanned(fw, watcher, text: str, answers: int) -> tuple[int, dict]:
    n = fw.mark()
    fw.send(f"scan {text}")
    return n, nth_answer(watcher, RESPONSE, answers)


def printed(fw, since: int):
    return decode(b"".join(bytes.fromhex(e["data"]) for e in fw.of("uart", since)))


@pytest.mark.parametrize("hub_config", [BOOKING_OFFICE])
def test_a_scanned_booking_code_prints_its_ticket_and_a_second_scan_prints_why_not(
    broker, hub, watcher, firmware
):
    book_now(hub, "K7MX4Q")
    cfg = kiosk_config(broker)
    cfg["kiosk"]["scanner"] = {"id": 1, "baud": 9600, "tx": 26, "rx": 27}
    fw = firmware(cfg)
    online(fw)

    n, answer = scanned(fw, watcher, "K7MX4Q", 1)
    assert answer["status"] == "ok", answer
    assert answer["data"]["ticket"] == "B-001"
    fw.wait_cut(since=n)
    [ticket] = printed(fw, n)
    assert "B-001" in " ".join(ticket.texts())

    time.sleep(0.5)
    n, again = scanned(fw, watcher, "K7MX4Q", 2)
    assert again["data"]["code"] == "booking_used"
    fw.wait_cut(since=n)
    [slip] = printed(fw, n)
    assert "Mohon maaf" in slip.texts()
    assert "sudah dipakai" in " ".join(slip.texts())

    n = fw.mark()
    fw.send("scan " + "X" * 40)  # a barcode that is no booking code
    time.sleep(1.0)
    assert watcher.count(REQUEST) == 2
    assert printed(fw, n) == []


@pytest.mark.parametrize("hub_config", [BOOKING_OFFICE])
def test_a_phone_tickets_code_scanned_checks_it_in_and_prints_its_number(broker, hub, watcher, firmware):
    client = Probe(broker)
    client.subscribe("antrian/kantor/hub/response/take_ticket")
    try:
        taken = client.request(
            "antrian/kantor/hub/request/take_ticket",
            "antrian/kantor/hub/response/take_ticket",
            {"service": "A", "actor": "phone:test-holder"},
        )
    finally:
        client.close()
    assert taken["status"] == "ok", taken
    code = taken["data"]["check_in_code"]
    cfg = kiosk_config(broker)
    cfg["kiosk"]["scanner"] = {"id": 1, "baud": 9600, "tx": 26, "rx": 27}
    fw = firmware(cfg)
    online(fw)

    n, answer = scanned(fw, watcher, code, 1)
    assert answer["status"] == "ok", answer
    assert (answer["data"]["ticket"], answer["data"]["check_in"]) == ("A-001", "remote")
    fw.wait_cut(since=n)
    [ticket] = printed(fw, n)  # the phone's number on paper too
    assert "A-001" in " ".join(ticket.texts())

    time.sleep(0.5)
    n, again = scanned(fw, watcher, code, 2)
    assert again["data"]["code"] == "already_checked_in"
    fw.wait_cut(since=n)
    [slip] = printed(fw, n)
    assert "sudah tercatat hadir" in " ".join(slip.texts())
