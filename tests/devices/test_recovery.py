"""Devices that recover by themselves: a late access point, a broker that never answers, a
silently dropped link, a display that stops answering, a stuck loop, a broker gone for good,
and presses that waited too long.

The firmware runs on the MicroPython unix port against a real Mosquitto and the real hub; the
WLAN, the watchdog and the reset are fakes of `network` and `machine` under the real `hw.py`
(`tests/devices/mp/`). A `Gate` in front of the broker stands in for the network between: it
forwards, or swallows everything (a link dropped without a FIN, a broker that accepts TCP and
never sends CONNACK).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading
from typing import Any

import pixels
from harness import DEVICES, MICROPYTHON, MP_DIR, board_config, kiosk_config, online, pad_config
from test_board import MAX, wait_max
from test_pad import take, wait_screen

from antrian.shared import FOLDER as SHARED
from tests.kit import Mosquitto

BASE = "antrian/kantor"


class Gate:
    """A TCP relay to the broker that can go silent: while closed it accepts connections and
    keeps every byte to itself, both ways, as a dead access point or a hung broker would."""

    def __init__(self, broker: Mosquitto) -> None:
        self.broker = broker
        self.open = True
        self.srv = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = self.srv.getsockname()[:2]
        self.socks: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            self.socks.append(c)
            u = None
            if self.open:
                try:
                    u = socket.create_connection((self.broker.host, self.broker.port))
                    self.socks.append(u)
                except OSError:
                    c.close()
                    continue
            threading.Thread(target=self._pipe, args=(c, u), daemon=True).start()
            if u is not None:
                threading.Thread(target=self._pipe, args=(u, c), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket | None) -> None:
        try:
            while data := src.recv(4096):
                if self.open and dst is not None:
                    dst.sendall(data)
        except OSError:
            pass

    def close(self) -> None:
        self.srv.close()
        for s in self.socks:
            with contextlib.suppress(OSError):
                s.close()


def through(cfg: dict[str, Any], gate: Gate, **supervisor: Any) -> dict[str, Any]:
    cfg["mqtt"].update(host=gate.host, port=gate.port)
    cfg["supervisor"] = supervisor
    return cfg


def no_traceback(fw) -> None:
    assert not [e for e in fw.of("stdout") if "Traceback" in e["msg"]], fw.of("stdout")


def test_access_point_up_late_joins_once_and_goes_online(broker, hub, firmware):
    """After a power cut the router boots slower than the board: one connect(), then the
    driver reconnects by itself; the device comes online when the access point does."""
    cfg = kiosk_config(broker)
    cfg["fake"] = {"wifi": "down"}
    cfg["mqtt"]["keepalive"] = 60  # so only the WLAN check can notice a loss below
    fw = firmware(cfg)
    fw.wait(lambda e: e["ev"] == "wlan_connect")
    fw.wait(lambda e: e["ev"] == "wdt_feed")  # the loop runs while there is no WLAN
    assert not [e for e in fw.of("log") if "announced" in e["msg"]]
    fw.send("wifi up")
    online(fw)
    fw.wait(lambda e: e["ev"] == "pin" and e["pin"] == 2 and e["v"] == 1)  # ready LED
    # the WLAN goes: offline at the next check, long before the 60 s keepalive would say
    n = fw.mark()
    fw.send("wifi down")
    fw.wait(lambda e: e["ev"] == "pin" and e["pin"] == 2 and e["v"] == 0, since=n, timeout=10)
    fw.send("wifi up")
    online(fw, since=n)
    # connect() was called once: never again while the driver was (re)connecting
    assert [e["refused"] for e in fw.of("wlan_connect")] == [False]
    no_traceback(fw)


def test_driver_that_gave_up_is_asked_to_join_again(broker, hub, firmware):
    """The WLAN driver stopped retrying (status idle): the board calls connect() again."""
    fw = firmware(kiosk_config(broker))
    online(fw)
    n = fw.mark()
    fw.send("wifi giveup")
    fw.wait_log("device: wifi False", since=n)
    fw.wait(lambda e: e["ev"] == "wlan_connect", since=n, timeout=45)  # after 30 s idle
    online(fw, since=n)
    assert [e["refused"] for e in fw.of("wlan_connect")] == [False, False]
    no_traceback(fw)


def test_press_without_answer_is_given_up(broker, hub, firmware):
    """No answer within `request_timeout_ms` (the link went silent under the press): the kiosk
    refuses visibly instead of printing minutes later."""
    gate = Gate(broker)
    try:
        fw = firmware(through(kiosk_config(broker), gate, request_timeout_ms=3000))
        online(fw)
        n = fw.mark()
        gate.open = False
        fw.press("A")
        fw.wait(lambda e: e["ev"] == "log" and "refused" in e["msg"] and "timeout" in e["msg"], 15, n)
        assert not fw.of("uart", n)  # nothing printed
    finally:
        gate.close()


def test_broker_that_never_answers_is_retried_until_it_does(broker, hub, firmware):
    """TCP accepted, no CONNACK: a timeout, which on MicroPython is no OSError, ends one
    attempt and never the MQTT task."""
    gate = Gate(broker)
    try:
        gate.open = False
        fw = firmware(through(kiosk_config(broker), gate))
        for _ in range(2):  # two attempts timed out, and it still tries
            n = fw.mark()
            fw.wait_log("mqtt: down", since=n, timeout=20)
        fw.wait_log("mqtt: connecting", since=fw.mark(), timeout=20)
        gate.open = True
        online(fw, since=fw.mark(), timeout=30)
        no_traceback(fw)
    finally:
        gate.close()


def test_silently_dropped_link_is_noticed_and_rejoined(broker, hub, firmware):
    """The link dies without a FIN (the access point lost power): the keepalive notices, the
    reconnect meets a silent network first, then comes back."""
    gate = Gate(broker)
    try:
        cfg = through(kiosk_config(broker), gate)
        cfg["mqtt"]["keepalive"] = 2
        fw = firmware(cfg)
        online(fw)
        n = fw.mark()
        gate.open = False
        fw.wait_log("keepalive timeout", since=n, timeout=20)
        fw.wait_log("mqtt: down", since=fw.mark(), timeout=20)  # the CONNACK that never came
        gate.open = True
        online(fw, since=n, timeout=30)
        no_traceback(fw)
    finally:
        gate.close()


def test_display_error_does_not_stop_the_pad(broker, hub, watcher, firmware):
    """The OLED stops answering (I2C error on every write): the pad logs it, keeps its MQTT
    link and its buttons, and draws again once the display is back."""
    a1 = take(watcher, "A", "k1")
    fw = firmware(pad_config(broker))
    online(fw)
    wait_screen(fw, lambda s: s[2] == "Menunggu: 1")
    fw.send("i2c_fail on")
    n = fw.mark()
    watcher.publish(f"{BASE}/hub/request/counter_status", {"counter": 1, "status": "break"})
    fw.wait_log("pad: display failed", since=n)
    watcher.publish(f"{BASE}/hub/request/counter_status", {"counter": 1, "status": "open"})
    fw.send("i2c_fail off")
    fw.press("next")
    wait_screen(fw, lambda s: s[1] == a1)
    assert not fw.of("log", n) or not [e for e in fw.of("log", n) if "mqtt: down" in e["msg"]]
    no_traceback(fw)


def test_panel_driver_error_restarts_the_board_loop(broker, hub, watcher, firmware):
    """The LED panels' bus fails while drawing: the board's loop is started again, the MQTT
    link stays, and the next call is shown once the bus works."""
    fw = firmware(board_config(broker, MAX))
    online(fw)
    wait_max(fw, lambda f: pixels.shows(f, 0, "--- LOKET 1"))
    n = fw.mark()
    fw.send("spi_fail on")
    take(watcher, "A", "k1")
    watcher.publish(f"{BASE}/device/pad-1/request/call_next", {"transaction": "c1"})
    fw.wait_log("device: failed", since=n)
    fw.send("spi_fail off")
    wait_max(fw, lambda f: pixels.shows(f, 0, "A-001 LOKET 1"), since=n, timeout=15)
    assert not [e for e in fw.of("log", n) if "mqtt: down" in e["msg"]]
    no_traceback(fw)


def test_info_says_why_and_how_the_board_runs(broker, hub, watcher, firmware):
    cfg = kiosk_config(broker)
    cfg["fake"] = {"reset_cause": 3}  # machine.WDT_RESET
    fw = firmware(cfg)
    online(fw)
    info = json.loads(watcher.latest(f"{BASE}/device/kiosk-1/info"))
    assert info["reset_cause"] == "watchdog"
    assert info["rssi"] == -61
    assert info["mqtt_connects"] == 1
    assert info["uptime_s"] >= 0
    assert info["free_heap"] > 0


def test_stuck_loop_is_reset_by_the_watchdog(broker, hub, firmware):
    """The watchdog is fed while the loop turns; a driver that blocks the loop for longer than
    its timeout gets the board reset."""
    cfg = kiosk_config(broker)
    cfg["supervisor"] = {"watchdog_ms": 3000}
    fw = firmware(cfg)
    online(fw)
    start = fw.wait(lambda e: e["ev"] == "wdt_start")
    assert start["timeout"] == 3000
    n = fw.mark()
    fw.wait(lambda e: e["ev"] == "wdt_feed", since=n)
    fw.send("hang 4000")
    reset = fw.wait(lambda e: e["ev"] == "reset", since=n, timeout=15)
    assert reset["cause"] == "watchdog"
    assert fw.proc is not None
    assert fw.proc.wait(5) == 76


def test_reboot_after_long_without_broker(broker, hub, firmware):
    """No broker for `reboot_timeout_s` (15 minutes on a board): reboot, as ESPHome does."""
    gate = Gate(broker)
    try:
        gate.open = False
        fw = firmware(through(kiosk_config(broker), gate, reboot_timeout_s=3))
        fw.wait(lambda e: e["ev"] == "reboot", timeout=20)
        fw.wait_log("no broker")
    finally:
        gate.close()


#: A config with everything `hw.main` needs to start the firmware rather than the setup.
COMPLETE = {
    "id": "kiosk-1",
    "role": "kiosk",
    "topics": {"x": "y"},
    "mqtt": {"host": "h"},
    "wifi": {"ssid": "s"},
}


def test_anything_escaping_the_firmware_resets_the_board(tmp_path):
    """`main.py`'s catch-all: an error nobody foresaw ends in `machine.reset()`, not the REPL."""
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(COMPLETE))
    script = tmp_path / "boot.py"
    script.write_text(
        "import hw\nfrom fakes import FakeBoard\n\n"
        "class App:\n    @staticmethod\n    def make(cfg, board):\n"
        "        raise KeyError('no topics')\n\n"
        f"hw.main(App, FakeBoard, {str(cfg)!r}, grace_ms=0)\n"
    )
    path = [DEVICES / "lib", SHARED, MP_DIR]
    env = dict(os.environ, MICROPYPATH=":".join(str(p) for p in path) + ":.frozen")
    out = subprocess.run(
        [str(MICROPYTHON), str(script)], env=env, capture_output=True, timeout=20, check=False
    )
    lines = out.stdout.decode().splitlines()
    events = [json.loads(x[2:]) for x in lines if x.startswith("@@")]
    assert {"ev": "reset", "cause": "machine.reset"} in events, lines
    assert any("KeyError" in x for x in lines + out.stderr.decode().splitlines())
    assert out.returncode == 77


def test_stale_press_is_refused_and_a_resend_keeps_its_answer(broker, hub, watcher, firmware):
    """A press that waited over 120 s for the link gets `stale_press`; a resend of a press the
    hub already took gets its ticket back, however old; the firmware sends the age."""
    req = f"{BASE}/device/kiosk-1/request/take_ticket"
    resp = f"{BASE}/device/kiosk-1/response/take_ticket"

    def ask(tx: str, age: int) -> dict[str, Any]:
        watcher.publish(req, {"service": "A", "transaction": tx, "age_ms": age})
        return json.loads(watcher.latest(resp, lambda p: tx.encode() in p))

    old = ask("s1", 130_000)
    assert old["status"] == "error"
    assert old["data"]["code"] == "stale_press"
    fresh = ask("s2", 1_500)
    assert fresh["status"] == "ok"
    again = ask("s2", 200_000)
    assert again["data"]["ticket"] == fresh["data"]["ticket"]
    # the firmware says how old its press is
    fw = firmware(kiosk_config(broker))
    online(fw)
    fw.press("A")
    sent = json.loads(watcher.latest(req, lambda p: json.loads(p)["transaction"] not in ("s1", "s2")))
    assert 0 <= sent["age_ms"] < 120_000


def _main_once(tmp_path, cfg: dict, grace_ms: int) -> list[dict]:
    """`hw.main` with the fake board and a firmware that fails at once: its events."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    script = tmp_path / "boot.py"
    script.write_text(
        "import hw\nfrom fakes import FakeBoard\n\n"
        "class App:\n    @staticmethod\n    def make(cfg, board):\n"
        "        raise KeyError('stop here')\n\n"
        f"hw.main(App, FakeBoard, {str(path)!r}, grace_ms={grace_ms})\n"
    )
    env = dict(
        os.environ, MICROPYPATH=":".join(str(p) for p in (DEVICES / "lib", SHARED, MP_DIR)) + ":.frozen"
    )
    out = subprocess.run(
        [str(MICROPYTHON), str(script)], env=env, capture_output=True, timeout=20, check=False
    )
    return [json.loads(x[2:]) for x in out.stdout.decode().splitlines() if x.startswith("@@")]


def test_production_board_closes_the_repl_before_the_firmware_starts(tmp_path):
    """`"production": true`: no Ctrl-C window (the lobby's USB port gives no REPL, so no
    `config.json` with the WiFi password); a workshop board keeps its 2 s window."""
    events = _main_once(tmp_path, {**COMPLETE, "production": True}, 3000)
    kinds = [e["ev"] for e in events]
    assert "repl_closed" in kinds
    assert kinds.index("repl_closed") < kinds.index("reset")

    events = _main_once(tmp_path, COMPLETE, 100)
    assert "repl_closed" not in [e["ev"] for e in events]
    assert {"ev": "reset", "cause": "machine.reset"} in events
