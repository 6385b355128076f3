"""Broker down, broker restarted, press in flight: reconnect, resync, never a double ticket.

Decision tested here (devices/README.md, "Kiosk rules"): a press while the link is down is
refused visibly; a press whose request was already sent is followed through the outage and
printed exactly once.
"""

from __future__ import annotations

import json
import threading
import time

import pixels
from harness import board_config, kiosk_config, online
from test_kiosk import printed

P10 = {"type": "p10", "panels": 2}
BASE = "antrian/kantor"


def frame(fw, since=0):
    return pixels.hub12_frame(fw.of("hub12", since), 2)


def wait_rows(fw, row0, row1, since=0, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        f = frame(fw)
        if pixels.shows(f, 0, row0) and pixels.shows(f, 1, row1):
            return time.monotonic()
        time.sleep(0.02)
    raise AssertionError(f"board never showed {row0!r} / {row1!r}")


def test_broker_outage(broker, hub, watcher, firmware):
    kiosk = firmware(kiosk_config(broker))
    board = firmware(board_config(broker, P10))
    online(kiosk)
    online(board)
    wait_rows(board, "---", "LOKET 1")
    nk, nb = kiosk.mark(), board.mark()
    broker.stop()
    wait_rows(board, "TERPUTUS", "LOKET 1")
    kiosk.wait(lambda e: e["ev"] == "pin" and e["pin"] == 2 and e["v"] == 0, since=nk)
    pressed = kiosk.press("A")  # refused visibly: nothing queued for later
    kiosk.wait_log("refused offline", since=nk)
    broker.start()
    online(kiosk, since=nk, timeout=20)
    online(board, since=nb, timeout=20)
    wait_rows(board, "---", "LOKET 1", timeout=30)  # the hub reconnects on its own backoff
    kiosk.wait(lambda e: e["ev"] == "pin" and e["pin"] == 2 and e["v"] == 1, since=nk)
    time.sleep(max(0.0, pressed + 2.1 - time.monotonic()))  # the button's lock
    n = kiosk.mark()
    kiosk.press("A")
    kiosk.wait_cut(since=n)
    [ticket] = printed(kiosk, n)
    assert "A-001" in ticket.texts()  # the refused press made no ticket
    # The call reaches the board: measure call -> board.
    t0 = time.monotonic()
    watcher.publish(f"{BASE}/device/pad-1/request/call_next", {"transaction": "c1"})
    t1 = wait_rows(board, "A-001", "LOKET 1")
    print(f"call-to-board {(t1 - t0) * 1000:.0f} ms")


def test_press_in_flight_survives_outage(broker, hub, watcher, firmware):
    """The broker dies right after the request left: resent, one ticket, printed once."""
    kiosk = firmware(kiosk_config(broker))
    online(kiosk)
    req = f"{BASE}/device/kiosk-1/request/take_ticket"

    def kill() -> None:
        killed.set()
        threading.Thread(target=broker.stop).start()

    killed = threading.Event()
    watcher.when(req, kill)
    n = kiosk.mark()
    kiosk.press("A")
    assert killed.wait(10)
    time.sleep(0.5)
    broker.start()
    kiosk.wait_cut(since=n, timeout=60)
    time.sleep(1.0)
    tickets = printed(kiosk, n)
    assert len(tickets) == 1
    assert "A-001" in tickets[0].texts()
    # The hub made exactly one: the next press gets A-002.
    time.sleep(2.1)
    n = kiosk.mark()
    kiosk.press("A")
    kiosk.wait_cut(since=n, timeout=15)
    [nxt] = printed(kiosk, n)
    assert "A-002" in nxt.texts()
    state = json.loads(watcher.latest(f"{BASE}/service/A/state", lambda p: b'"issued":2' in p))
    assert state["issued"] == 2
