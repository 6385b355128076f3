"""The admin page's devices table shows what each board says about itself (`info`): why it last
started, how long it has run, its signal, free heap, MQTT connections, firmware and, for a
kiosk, its printer; a start by the watchdog, a weak signal, a link that keeps dropping and a
printer in trouble are marked. What a device sends that is not believable is not shown."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect
from web_helpers import ADMIN, Browser, T, WebHub, hub_fixture

from tests.kit import Probe
from tests.kit.office import call_pad, kiosk, led_board, to_toml

DEVICES = to_toml({"devices": [kiosk(), call_pad("pad-1", 1), led_board("board-1", 1)]})
hub = hub_fixture("devices", DEVICES)

#: A kiosk that had hung (the watchdog restarted it) 3 h 12 min ago, far from the access point,
#: its link dropping, its printer out of paper.
TROUBLED = {
    "firmware": "antrian-mpy 0.1.0",
    "model": "esp32",
    "role": "kiosk",
    "reset_cause": "watchdog",
    "uptime_s": 3 * 3600 + 12 * 60 + 5,
    "rssi": -80,
    "free_heap": 61344,
    "mqtt_connects": 7,
    "printer": "paper_end",
}
HEALTHY = {
    "firmware": "antrian-mpy 0.1.0",
    "model": "esp32",
    "role": "call_pad",
    "reset_cause": "power_on",
    "uptime_s": 125,
    "rssi": -58,
    "free_heap": 40960,
    "mqtt_connects": 1,
}


@pytest.fixture
def device(hub: WebHub):
    """Publish as a board does: `availability` and `info`, retained."""
    probe = Probe(hub.proc.broker)

    def say(device_id: str, info: dict | bytes) -> None:
        probe.publish(T.device_availability(device_id), b"online", retain=True)
        payload = info if isinstance(info, bytes) else json.dumps(info).encode()
        probe.publish(T.device_info(device_id), payload, retain=True)

    yield say
    probe.close()


def shows(page, device_id: str, **fields: str) -> None:
    """The cells of a device's row say these texts (by `data-field`)."""
    for field, text in fields.items():
        cell = page.locator(f"#devices tr[data-device='{device_id}'] [data-field='{field}']")
        expect(cell).to_have_text(text)


def test_the_admin_page_shows_what_each_board_says_about_itself_and_marks_what_needs_a_look(
    hub, device, new_page, login, shot
):
    device("kiosk-1", TROUBLED)
    device("pad-1", HEALTHY)
    admin = new_page(1400, 900)
    login(admin, hub.base, "admin", "/admin")
    kiosk = admin.locator("#devices tr[data-device='kiosk-1']")
    shows(
        admin,
        "kiosk-1",
        printer="kertas habis",
        reset_cause="watchdog ⚠ sempat macet",
        uptime="3 j 12 m",
        rssi="-80 dBm ⚠ sinyal lemah",
        free_heap="60 KB",
        mqtt_connects="7 ⚠ sering putus",
    )
    expect(kiosk).to_have_class("notable")
    assert kiosk.get_attribute("data-hints") == "watchdog weak_signal reconnects printer_paper_end"
    expect(kiosk).to_contain_text("antrian-mpy 0.1.0")

    pad = admin.locator("#devices tr[data-device='pad-1']")
    shows(admin, "pad-1", reset_cause="daya nyala", uptime="2 m", rssi="-58 dBm", free_heap="40 KB")
    shows(admin, "pad-1", mqtt_connects="1", printer="—")
    expect(pad).not_to_have_class("notable")
    assert "⚠" not in pad.inner_text()
    shows(admin, "board-1", uptime="—")  # a board that never said anything: nothing made up
    shot(admin, "admin-devices", full_page=True)

    # paper is back: the kiosk says so, the row follows without a reload
    device("kiosk-1", {**TROUBLED, "printer": "ok"})
    shows(admin, "kiosk-1", printer="siap")
    assert "printer_paper_end" not in (kiosk.get_attribute("data-hints") or "")

    english = new_page(1400, 900)
    login(english, hub.base, "admin", "/admin?lang=en")
    shows(english, "kiosk-1", uptime="3 h 12 m", rssi="-80 dBm ⚠ weak signal", printer="ready")
    shows(english, "kiosk-1", reset_cause="watchdog ⚠ it hung")
    shows(english, "pad-1", reset_cause="power on")


def test_what_a_device_sends_that_is_not_believable_is_not_shown(hub, device, new_page, login):
    device(
        "board-1",
        {
            "firmware": "<b>x</b>",
            "model": "esp32",
            "reset_cause": "meteor",
            "uptime_s": "lama",
            "rssi": 30,
            "free_heap": -5,
            "mqtt_connects": True,
            "printer": "jammed",
        },
    )
    device("stranger-1", b"not json")
    for i in range(80):  # made-up ids: the hub keeps a bounded number of them
        device(f"made-up-{i}", {"firmware": "x", "model": "y"})
    time.sleep(0.5)
    admin = new_page(1400, 900)
    login(admin, hub.base, "admin", "/admin")
    nothing = ("reset_cause", "uptime", "rssi", "free_heap", "mqtt_connects", "printer")
    shows(admin, "board-1", **dict.fromkeys(nothing, "—"))
    expect(admin.locator("#devices tr[data-device='board-1']")).to_contain_text("<b>x</b>")  # as text

    script = Browser(hub, "127.0.0.41")
    assert script.login(*ADMIN)[0] in (200, 302)
    status, _, body = script.request("GET", "/admin/devices")
    assert status == 200
    rows = {d["id"]: d for d in json.loads(body)["devices"]}
    board = rows["board-1"]
    assert [
        board[k] for k in ("reset_cause", "uptime_s", "rssi", "free_heap", "mqtt_connects", "printer")
    ] == [None] * 6
    assert board["hints"] == []
    assert sum(1 for d in rows.values() if not d["registered"]) == 64
    assert rows["stranger-1"]["firmware"] is None
    assert Browser(hub, "127.0.0.42").request("GET", "/admin/devices")[0] in (302, 401, 403)
