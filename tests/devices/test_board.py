"""LED board firmware on MicroPython: the hub's display topic -> pixels on the panels."""

from __future__ import annotations

import json
import time

import pixels
from harness import board_config, online

MAX = {"type": "max7219", "modules": 8, "cs": 5, "name": "max"}
P10 = {"type": "p10", "panels": 1}
DISPLAY = "antrian/kantor/device/board-1/display"


def max_frame(fw, since=0):
    frames = pixels.max7219_frames(fw.of("spi", since), MAX["modules"])
    assert frames, "nothing shown"
    return frames[-1]


def wait_max(fw, pred, since=0, timeout=10.0):
    """Wait until a MAX7219 frame satisfies pred; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for f in reversed(pixels.max7219_frames(fw.of("spi", since), MAX["modules"])):
            if pred(f):
                return f
        time.sleep(0.05)
    raise AssertionError("frame never matched")


def test_call_blinks_and_shows_ticket(broker, hub, watcher, firmware):
    fw = firmware(board_config(broker, MAX))
    online(fw)
    wait_max(fw, lambda f: pixels.shows(f, 0, "--- LOKET 1"))
    pad = "antrian/kantor/device/pad-1/request/call_next"
    watcher.publish(
        "antrian/kantor/device/kiosk-1/request/take_ticket", {"service": "A", "transaction": "t1"}
    )
    watcher.latest("antrian/kantor/device/kiosk-1/response/take_ticket")
    n = fw.mark()
    t0 = time.monotonic()
    watcher.publish(pad, {"transaction": "c1"})
    f = wait_max(fw, lambda f: pixels.shows(f, 0, "A-001 LOKET 1"), since=n)
    elapsed = time.monotonic() - t0
    assert pixels.lit(f) > 0
    # The blink: a blank frame after the call, then the ticket again.
    wait_max(fw, lambda f: pixels.lit(f) == 0, since=n)
    print(f"call-to-board {elapsed * 1000:.0f} ms")


def test_p10_rows_brightness_and_reboot(broker, hub, watcher, firmware):
    fw = firmware(board_config(broker, P10))
    online(fw)

    def frame():
        return pixels.hub12_frame(fw.of("hub12"), 1)

    deadline = time.monotonic() + 10
    # both rows: the panel is drawn row by row, so the first may be there before the second
    while not (pixels.shows(frame(), 0, "---") and pixels.shows(frame(), 1, "LOKET 1")):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert pixels.shows(frame(), 0, "---")
    assert pixels.shows(frame(), 1, "LOKET 1")
    watcher.publish("antrian/kantor/device/board-1/set", {"brightness": 9})
    fw.wait(lambda e: e["ev"] == "hub12_brightness" and e["level"] == 9)
    # A notice on the retained topic scrolls on the second row.
    state = json.loads(watcher.latest(DISPLAY))
    state["notice"] = "Layanan KTP ditutup"
    watcher.publish(DISPLAY, state, retain=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not pixels.shows(frame(), 1, "LOKET 1   LAYANAN KTP DITUTUP"):
        time.sleep(0.05)
    assert pixels.shows(frame(), 1, "LOKET 1   LAYANAN KTP DITUTUP")
    # Power cycle: the retained topic brings the same picture back.
    fw.restart()
    boot = fw.boots
    fw.wait(lambda e: e["ev"] == "log" and "announced" in e["msg"] and e["boot"] == boot)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        cur = pixels.hub12_frame([e for e in fw.of("hub12") if e["boot"] == boot], 1)
        if pixels.shows(cur, 0, "---") and pixels.shows(cur, 1, "LOKET 1   LAYANAN KTP DITUTUP"):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("picture not restored after reboot")
