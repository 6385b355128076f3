"""Peak heap of each firmware on MicroPython, after a full press/call cycle.

Measured on the unix port, whose 64-bit objects are larger than an ESP32's, so the figure is
an upper bound. `baseline` (the interpreter and the fake board, before any firmware is
imported) is taken off: a board carries neither the fakes nor the test runner. The target
is 48 KB: an ESP32 without PSRAM has ~110 KB free for Python. The limit has 4 KB on top for
the supervisor (WLAN checks, watchdog, restarts, request deadlines: ~3.5 KB of bytecode here,
about half on the board), which a board whose modules are frozen or `.mpy` does not pay.
"""

from __future__ import annotations

from harness import one_ticket_through_every_role

LIMIT = 52 * 1024


def test_peak_heap(broker, hub, watcher, firmware):
    kiosk, pad, board = one_ticket_through_every_role(broker, watcher, firmware, {"type": "p10", "panels": 2})
    peaks = {fw.cfg["role"]: fw.heap() for fw in (kiosk, pad, board)}
    for role, h in peaks.items():
        own = h["peak"] - h["baseline"]
        print(
            f"peak heap {role}: {own} B firmware ({h['peak']} B with interpreter and "
            f"harness, {h['peak_raw']} B before collection)"
        )
        assert 0 < own < LIMIT, (role, h)
