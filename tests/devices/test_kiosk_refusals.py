"""The ESP32 kiosk and the refusals a citizen must read: a used-up daily quota and a closed
office each print a short slip saying so (no number, no QR code; for a closed office why and
when it opens, in the hub's words), and the press is not sent again: the hub's answer is final."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from escpos_decode import decode
from harness import kiosk_config, nth_answer, online

from tests.kit.office import ALL_DAY, SLUG, WEEKDAYS, kiosk, office

TZ = "Asia/Jakarta"
DAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
REQUEST = "antrian/kantor/device/kiosk-1/request/take_ticket"
RESPONSE = "antrian/kantor/device/kiosk-1/response/take_ticket"


def quota_office(quota: int) -> dict:
    """One service with a daily quota, open all day."""
    return office(
        kiosk(services=["A"]),
        office={"slug": SLUG, "name": "Kantor Kecamatan Contoh", **ALL_DAY},
        services=[{"letter": "A", "name": "Administrasi kependudukan", "minutes": 10, "quota": quota}],
        counters=[{"number": 1, "services": ["A"]}],
    )


def closed_today_office() -> dict:
    """Open 07.30-16.00 every day but today, in the office's zone (no national holidays)."""
    today = WEEKDAYS[datetime.now(ZoneInfo(TZ)).weekday()]
    hours = {day: "" if day == today else "07:30-16:00" for day in WEEKDAYS}
    return office(
        kiosk(services=["A"]),
        office={"slug": SLUG, "name": "Kantor Kecamatan Contoh", "timezone": TZ, "hours": hours}
        | {"national_holidays": False},
        services=[{"letter": "A", "name": "Administrasi kependudukan", "minutes": 10}],
        counters=[{"number": 1, "services": ["A"]}],
    )


def press(fw, watcher, n_responses: int) -> tuple[int, dict]:
    """Press A; the firmware's event index before it and the hub's answer (the `n_responses`th)."""
    n = fw.mark()
    fw.press("A")
    return n, nth_answer(watcher, RESPONSE, n_responses)


def printed(fw, since: int):
    return decode(b"".join(bytes.fromhex(e["data"]) for e in fw.of("uart", since)))


def sent_once(watcher, transaction: str) -> bool:
    """Whether the kiosk sent the press `transaction` exactly once, also after its resend
    interval (2 s in the harness) has passed twice."""
    time.sleep(4.5)
    copies = [p for t, p, _ in watcher.messages if t == REQUEST]
    return [json.loads(p)["transaction"] for p in copies].count(transaction) == 1


@pytest.mark.parametrize("hub_config", [quota_office(1)])
def test_a_used_up_quota_prints_a_slip_that_says_so_and_the_press_is_not_sent_again(
    broker, hub, watcher, firmware
):
    fw = firmware(kiosk_config(broker))
    online(fw)
    n, first = press(fw, watcher, 1)
    fw.wait_cut(since=n)
    assert first["status"] == "ok"
    time.sleep(2.1)  # the button's lock after a press
    n, second = press(fw, watcher, 2)
    assert second["status"] == "error"
    assert second["data"]["code"] == "quota_reached"
    fw.wait_cut(since=n)
    fw.wait_log("refused", since=n)
    [slip] = printed(fw, n)
    words = " ".join(slip.texts())
    assert "Mohon maaf" in slip.texts()
    assert "Kuota harian layanan A (1) sudah habis" in words
    assert slip.qr == []
    assert "A-002" not in words
    assert sent_once(watcher, second["transaction"])
    assert len(printed(fw, n)) == 1  # one slip, nothing printed after it


@pytest.mark.parametrize("hub_config", [closed_today_office()])
def test_a_press_while_the_office_is_closed_prints_why_and_when_it_opens(broker, hub, watcher, firmware):
    fw = firmware(kiosk_config(broker))
    online(fw)
    n, answer = press(fw, watcher, 1)
    assert answer["status"] == "error"
    assert answer["data"]["code"] == "office_closed"
    assert answer["data"]["reason"] == "closed_day"
    fw.wait_cut(since=n)
    fw.wait_log("refused", since=n)
    [slip] = printed(fw, n)
    words = " ".join(slip.texts())
    today = datetime.now(ZoneInfo(TZ))
    tomorrow = today + timedelta(days=1)
    assert "Mohon maaf" in slip.texts()
    assert f"Kantor tutup pada hari {DAYS_ID[today.weekday()]}." in words
    assert f"Buka lagi {DAYS_ID[tomorrow.weekday()]}, {tomorrow.day} " in words
    assert words.count("pukul 07.30") == 1
    assert slip.qr == []
    assert sent_once(watcher, answer["transaction"])
    assert len(printed(fw, n)) == 1
