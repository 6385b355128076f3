"""Peak heap of each firmware on MicroPython, after a full press/call cycle.

Measured on the unix port, whose 64-bit objects are larger than an ESP32's, so the figure is
an upper bound. `baseline` (the interpreter and the fake board, before any firmware is
imported) is taken off: a board carries neither the fakes nor the test runner. The target
is 48 KB: an ESP32 without PSRAM has ~110 KB free for Python.
"""

from __future__ import annotations

import json

from harness import board_config, kiosk_config, online, pad_config
from test_kiosk import wait_tickets

LIMIT = 48 * 1024
BASE = "antrian/kantor"


def test_peak_heap(broker, hub, watcher, firmware):
    kiosk = firmware(kiosk_config(broker))
    pad = firmware(pad_config(broker))
    board = firmware(board_config(broker, {"type": "p10", "panels": 2}))
    for fw in (kiosk, pad, board):
        online(fw)
    n = kiosk.mark()
    kiosk.press("A")
    wait_tickets(kiosk, n, 1)
    pad.press("next")
    watcher.wait(f"{BASE}/device/pad-1/response/call_next")
    display = f"{BASE}/device/board-1/display"
    json.loads(watcher.wait(display, lambda p: b"A-001" in p))
    peaks = {fw.cfg["role"]: fw.heap() for fw in (kiosk, pad, board)}
    for role, h in peaks.items():
        own = h["peak"] - h["baseline"]
        print(
            f"peak heap {role}: {own} B firmware ({h['peak']} B with interpreter and "
            f"harness, {h['peak_raw']} B before collection)"
        )
        assert 0 < own < LIMIT, (role, h)
