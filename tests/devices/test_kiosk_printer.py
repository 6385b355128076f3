"""The kiosk's printer in the field: a UART with the wire's timing (`FakePrinter` in
`mp/fakes.py`), a status answer that waits behind the job, a printer that stops answering,
and the priority window running out."""

from __future__ import annotations

import time

import pytest
from escpos_decode import decode
from harness import Firmware, kiosk_config, online

REQ = "antrian/kantor/device/kiosk-1/request/take_ticket"
READY, ERROR, PRIORITY = 2, 4, 13


def printed(fw: Firmware, since: int = 0):
    return decode(b"".join(bytes.fromhex(e["data"]) for e in fw.of("uart", since)))


def led(fw: Firmware, pin: int, v: int, since: int, timeout: float = 10.0):
    return fw.wait(lambda e: e["ev"] == "pin" and e["pin"] == pin and e["v"] == v, timeout, since)


def settle(fw: Firmware, since: int, quiet: float = 2.5) -> None:
    """Until the kiosk has sent its printer nothing to print for `quiet` seconds (it would have
    reprinted by then: its loop asks every second)."""
    for _ in range(8):
        before = len(fw.of("uart", since))
        time.sleep(quiet)
        if len(fw.of("uart", since)) == before:
            return
    raise AssertionError("the kiosk keeps printing")


@pytest.mark.parametrize("uart", ["txdone", "basic"])
def test_at_9600_baud_one_press_prints_one_ticket_and_the_next_press_is_served(
    broker, hub, watcher, firmware, uart
):
    """A ~400-byte ticket takes ~0.4 s on the wire at 9600 baud and the status question waits
    behind it: the kiosk asks only once the job has left, so the answer says "paper" and
    nothing is printed again. `basic`: a UART without txdone()/flush(), the wire time is
    computed from the baud rate."""
    fw = firmware(kiosk_config(broker, baud=9600))
    online(fw)
    if uart == "basic":
        fw.send("uart basic")
    for count, (button, code) in enumerate([("A", "A-001"), ("B", "B-001")], 1):
        n = fw.mark()
        fw.press(button)
        fw.wait_cut(since=n)
        settle(fw, n)
        [ticket] = printed(fw, n)  # one ticket, never a reprint
        assert code in ticket.texts()
        logs = [e["msg"] for e in fw.of("log", n)]
        assert not any(w in m for m in logs for w in ("reprint", "silent", "refused")), logs
        assert all(e["answered"] for e in fw.of("status_query", n))
        assert watcher.count(REQ) == count


def test_a_printer_silent_after_the_job_gets_no_reprint_and_the_kiosk_shows_it(
    broker, hub, watcher, firmware
):
    """The printer answers before the job and never after: silence is not paper end, so the
    ticket is not printed again; the kiosk logs it, puts the ready LED out and refuses presses
    until the printer answers again, then serves the next press."""
    fw = firmware(kiosk_config(broker, baud=9600))
    online(fw)
    led(fw, READY, 1, 0)
    fw.send("status silent_after_job")
    n = fw.mark()
    fw.press("A")
    fw.wait_log("printer silent after A-001 - not reprinted", since=n)
    led(fw, READY, 0, n)
    settle(fw, n)
    [ticket] = printed(fw, n)
    assert "A-001" in ticket.texts()
    assert not any("reprint pending" in e["msg"] for e in fw.of("log", n))
    assert any(not e["answered"] for e in fw.of("status_query", n))  # it kept asking
    # still silent: a press is refused where the citizen looks, the hub never hears of it
    n = fw.mark()
    fw.press("B")
    fw.wait_log("refused", since=n)
    led(fw, ERROR, 1, n)
    assert watcher.count(REQ) == 1
    assert printed(fw, n) == []
    # the printer answers again: the ready LED comes back, the next press is served
    fw.send("status answers")
    n = fw.mark()
    fw.wait_log("printer answers again", since=n)
    led(fw, READY, 1, n)
    time.sleep(2.1)  # the B button's lock after the refused press
    n = fw.mark()
    fw.press("B")
    fw.wait_cut(since=n)
    [ticket] = printed(fw, n)
    assert "B-001" in ticket.texts()
    assert watcher.count(REQ) == 2


def test_a_printer_that_never_answers_refuses_presses_and_prints_nothing(broker, hub, watcher, firmware):
    """No answer at all (RX not wired, printer off): no ticket is made that might not print;
    the press is refused visibly and the green LED stays off."""
    fw = firmware(kiosk_config(broker, baud=9600))
    online(fw)
    fw.send("status silent")
    n = fw.mark()
    fw.press("A")
    fw.wait_log("refused printer silent", since=n)
    led(fw, ERROR, 1, n)
    led(fw, READY, 0, n)
    settle(fw, n)
    assert printed(fw, n) == []
    assert watcher.count(REQ) == 0


def priority_pressed(broker, firmware, window_ms: int) -> tuple[Firmware, int]:
    """A kiosk with a priority window of `window_ms`, its priority button pressed (LED on)."""
    cfg = kiosk_config(broker)
    cfg["kiosk"]["priority_window_ms"] = window_ms
    fw = firmware(cfg)
    online(fw)
    n = fw.mark()
    fw.press("priority")
    led(fw, PRIORITY, 1, n)
    return fw, n


def test_the_priority_led_goes_out_when_its_window_ends_unused(broker, hub, watcher, firmware):
    fw, n = priority_pressed(broker, firmware, 1500)
    led(fw, PRIORITY, 0, n)  # by itself, with no service pressed
    m = fw.mark()
    fw.press("A")
    fw.wait_cut(since=m)
    [ticket] = printed(fw, m)
    assert "PRIORITAS" not in ticket.texts()  # the window had ended: a normal ticket
    assert not [e for e in fw.of("pin", m) if e["pin"] == PRIORITY]


def test_a_service_press_inside_the_window_is_a_priority_ticket(broker, hub, watcher, firmware):
    """The window's end does not touch a window that was used: the LED goes out at the
    service press and stays out."""
    fw, n = priority_pressed(broker, firmware, 2000)
    fw.press("B")
    fw.wait_cut(since=n)
    [ticket] = printed(fw, n)
    assert ticket.find("PRIORITAS").bold
    time.sleep(2.5)  # past the window's end
    assert [e["v"] for e in fw.of("pin", n) if e["pin"] == PRIORITY] == [1, 0]
