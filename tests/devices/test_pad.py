"""Call pad firmware on MicroPython: buttons move the real hub's counter, the OLED follows."""

from __future__ import annotations

import json
import time

import pixels
from harness import online, pad_config

BASE = "antrian/kantor"


def screen(fw):
    frame = pixels.ssd1306_frame(fw.of("i2c")[-1])
    return (
        pixels.read8(frame, 0, 0, 16),
        pixels.read8(frame, 0, 8, 8, scale=2),
        pixels.read8(frame, 0, 24, 16),
    )


def wait_screen(fw, pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fw.of("i2c") and pred(screen(fw)):
            return screen(fw)
        time.sleep(0.03)
    raise AssertionError(f"screen never matched: {screen(fw)}")


def take(watcher, service, tx):
    watcher.publish(f"{BASE}/device/kiosk-1/request/take_ticket", {"service": service, "transaction": tx})
    return json.loads(
        watcher.latest(f"{BASE}/device/kiosk-1/response/take_ticket", lambda p: tx.encode() in p)
    )["data"]["ticket"]


def test_next_transfer_done(broker, hub, watcher, firmware):
    a1 = take(watcher, "A", "k1")
    a2 = take(watcher, "A", "k2")
    fw = firmware(pad_config(broker))
    online(fw)
    wait_screen(fw, lambda s: s == ("LOKET 1     BUKA", "-", "Menunggu: 2"))
    fw.press("next")
    wait_screen(fw, lambda s: s == ("LOKET 1     BUKA", a1, "Menunggu: 1"))
    state = json.loads(watcher.latest(f"{BASE}/counter/1/state", lambda p: a1.encode() in p))
    assert state["serving"] == a1
    # Transfer: `transfer` picks the target service, `next` confirms.
    fw.press("transfer")
    wait_screen(fw, lambda s: s[2] == "ALIH KE: B")
    time.sleep(0.8)  # the pad's per-button lock
    fw.press("transfer")
    wait_screen(fw, lambda s: s[2] == "ALIH KE: D")
    fw.press("next")
    resp = json.loads(watcher.latest(f"{BASE}/device/pad-1/response/transfer"))
    assert resp["status"] == "ok", resp
    time.sleep(0.8)
    fw.press("next")
    wait_screen(fw, lambda s: s[1] == a2)
    fw.press("done")
    resp = json.loads(watcher.latest(f"{BASE}/device/pad-1/response/done"))
    assert resp["status"] == "ok", resp
    wait_screen(fw, lambda s: s[1] == "-")


def test_pad_and_board_say_the_same_word_for_a_break(broker, hub, watcher, firmware):
    fw = firmware(pad_config(broker))
    online(fw)
    wait_screen(fw, lambda s: s[0] == "LOKET 1     BUKA")
    watcher.publish(f"{BASE}/hub/request/counter_status", {"counter": 1, "status": "break", "until": "12:30"})
    state = json.loads(watcher.latest(f"{BASE}/counter/1/state", lambda p: b'"break"' in p))
    assert state["status_text"] == "ISTIRAHAT"
    wait_screen(fw, lambda s: s[2] == "ISTIRAHAT 12:30")
    board = json.loads(watcher.latest(f"{BASE}/device/board-1/display", lambda p: b'"break"' in p))
    assert board["lines"][0] == state["status_text"]
