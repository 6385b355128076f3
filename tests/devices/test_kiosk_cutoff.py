"""The ESP32 kiosk and a queue that runs past closing: the warning on the ticket, or a slip
saying why no ticket was issued, as the office configures (`[office] late_tickets`)."""

from __future__ import annotations

import json
import time

import pytest
from escpos_decode import decode
from harness import kiosk_config, online

from tests.kit.office import SLUG, hours_now_at, kiosk, office


def late_office(policy: str) -> dict:
    """One counter for A, four hours an A, closing at 11.00, and it is 8 o'clock there now."""
    return office(
        kiosk(services=["A"]),
        office={
            "slug": SLUG,
            "name": "Kantor Kecamatan Contoh",
            **hours_now_at(8, closing="11:00"),
            "late_tickets": policy,
            "public_url": "http://192.168.1.10:8080",
        },
        services=[{"letter": "A", "name": "Administrasi kependudukan", "minutes": 240}],
        counters=[{"number": 1, "services": ["A"]}],
    )


def press(fw, watcher, n_responses):
    """Press A; the event index before it and the hub's answer (the `n_responses`th)."""
    n = fw.mark()
    fw.press("A")
    topic = "antrian/kantor/device/kiosk-1/response/take_ticket"
    deadline = time.monotonic() + 10
    while watcher.count(topic) < n_responses:
        assert time.monotonic() < deadline, "no answer from the hub"
        time.sleep(0.05)
    return n, json.loads(watcher.last(topic))


def printed(fw, since):
    return decode(b"".join(bytes.fromhex(e["data"]) for e in fw.of("uart", since)))


def two_presses(broker, watcher, firmware):
    """Boot the kiosk and press A twice: the first is served at once, the second would be
    four hours later, past closing. The second press's first event index and the answers."""
    fw = firmware(kiosk_config(broker))
    online(fw)
    n, first = press(fw, watcher, 1)
    fw.wait_cut(since=n)
    assert first["data"]["served_today"] == "yes"
    assert "terlayani" not in " ".join(printed(fw, n)[0].texts())
    time.sleep(2.1)  # the button's lock after a press
    n, second = press(fw, watcher, 2)
    fw.wait_cut(since=n)
    return fw, n, second


@pytest.mark.parametrize("hub_config", [late_office("warn")])
def test_a_ticket_past_closing_is_printed_with_the_warning(broker, hub, watcher, firmware):
    fw, n, second = two_presses(broker, watcher, firmware)
    assert second["status"] == "ok"
    assert second["data"]["served_today"] == "no"
    texts = printed(fw, n)[0].texts()
    assert second["data"]["ticket"] in texts
    assert "Kemungkinan tidak terlayani hari ini" in " ".join(texts)  # wrapped to 32 columns
    assert not any(t.startswith("sekitar pukul") for t in texts)  # no time it cannot keep


@pytest.mark.parametrize("hub_config", [late_office("refuse")])
def test_a_refused_press_prints_why_and_issues_nothing(broker, hub, watcher, firmware):
    fw, n, second = two_presses(broker, watcher, firmware)
    assert second["status"] == "error"
    assert second["data"]["code"] == "not_served_today"
    fw.wait_log("refused", since=n)
    [slip] = printed(fw, n)
    assert "Mohon maaf" in slip.texts()
    assert "tidak terlayani lagi hari ini" in " ".join(slip.texts())
    assert slip.qr == []
    assert not any("A-002" in t for t in slip.texts())
