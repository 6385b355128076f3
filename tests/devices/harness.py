"""Harness that runs the device firmware on the real MicroPython interpreter.

`firmware(cfg)` starts `devices/*` under `.venv/bin/micropython` with the hardware fakes of
`tests/devices/mp/`; everything the fakes record comes back as JSON lines on stdout and is
collected in `Firmware.events`. The MQTT side is real: the firmware's own client talks to a
real Mosquitto, and `hub` runs the real hub (`antrian run`) against it. The office is the test
kit's `DEVICE_OFFICE`; the test's eyes on the broker are a kit `Probe`. A config's `topics`
are what `antrian devices add` writes for that device (`antrian.provision.topics`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from antrian.contract import Topics
from antrian.i18n import device_words
from antrian.provision.firmware import write_flash_folder
from antrian.provision.topics import device_topics
from antrian.shared import FOLDER as SHARED
from tests.kit import Mosquitto, Probe
from tests.kit.office import SLUG

ROOT = Path(__file__).resolve().parents[2]
DEVICES = ROOT / "devices"
MP_DIR = Path(__file__).resolve().parent / "mp"
MICROPYTHON = Path(sys.executable).parent / "micropython"
#: Heap given to the interpreter. The unix port has 64-bit pointers, so objects take up to
#: twice what they take on an ESP32; passing with this heap is a safe bound for a board. It
#: holds the fake board too, which runs the real `hw.py` over fake `machine` and `network`
#: (~16 KB that are not the firmware's).
HEAP = "128K"

KIOSK_PINS = {"A": 32, "B": 33, "D": 25}
PAD_PINS = {"next": 32, "recall": 33, "skip": 25, "done": 26, "transfer": 27, "pause": 14}


def mqtt_cfg(broker: Mosquitto) -> dict[str, Any]:
    return {
        "host": broker.host,
        "port": broker.port,
        "user": "dev",
        "password": "secret",
        "keepalive": 10,
        "backoff_min_ms": 100,
        "backoff_max_ms": 1000,
        "resend_ms": 2000,
    }


def identity(device_id: str, role: str) -> dict[str, Any]:
    """The part of a config that provisioning writes besides the broker: who and which topics."""
    return {"id": device_id, "role": role, "office": SLUG, "topics": device_topics(SLUG, device_id, role)}


def nth_answer(watcher: Probe, topic: str, n: int, timeout: float = 10.0) -> dict[str, Any]:
    """The hub's answer on `topic` once it has answered `n` times there (the last one)."""
    deadline = time.monotonic() + timeout
    while watcher.count(topic) < n:
        assert time.monotonic() < deadline, f"no answer from the hub on {topic}"
        time.sleep(0.05)
    answer: dict[str, Any] = json.loads(watcher.last(topic))
    return answer


def kiosk_config(broker: Mosquitto, lang: str = "id", **printer: Any) -> dict[str, Any]:
    """A kiosk with the words `antrian devices add` writes for an office speaking `lang`."""
    return {
        **identity("kiosk-1", "kiosk"),
        "wifi": {"ssid": "kantor", "password": "x"},
        "mqtt": mqtt_cfg(broker),
        "kiosk": {
            "services": KIOSK_PINS,
            "priority_pin": 14,
            "leds": {"ready": 2, "error": 4, "priority": 13},
        },
        "printer": {"paper": 58, **printer},
        "words": device_words(lang),
    }


def pad_config(broker: Mosquitto) -> dict[str, Any]:
    return {
        **identity("pad-1", "call_pad"),
        "mqtt": mqtt_cfg(broker),
        "pad": {"counter": 1, "buttons": PAD_PINS, "transfer_services": ["B", "D"]},
        "display": {"width": 128, "height": 32},
    }


def board_config(broker: Mosquitto, panel: dict[str, Any], dev_id: str = "board-1"):
    return {**identity(dev_id, "led_board"), "mqtt": mqtt_cfg(broker), "panel": panel}


class Firmware:
    """One device: a MicroPython process with the fake board, restartable (power cycle)."""

    def __init__(self, cfg: dict[str, Any], workdir: Path, flash: Path | None = None) -> None:
        self.cfg = cfg
        #: A board's flash (`flash_board`): the firmware runs from its files, in that folder,
        #: through the loader (updates installed, rolled back); else from the source tree.
        self.flash = flash
        self.cfg_path = (flash / "config.json") if flash else workdir / f"{cfg['id']}.json"
        self.cfg_path.write_text(json.dumps(cfg))
        self.events: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr: list[str] = []
        self.boots = 0

    def start(self) -> None:
        # the board's files: its own, the shared runtime, and the modules shared with the hub
        path = [DEVICES / "lib", DEVICES / "esp32-button", DEVICES / "esp32-display", SHARED, MP_DIR]
        args = [str(MICROPYTHON), "-X", f"heapsize={HEAP}", str(MP_DIR / "run_fw.py"), str(self.cfg_path)]
        if self.flash is not None:
            path = [self.flash, MP_DIR]
            args.append("--flash")
        env = dict(os.environ, MICROPYPATH=":".join(str(p) for p in path) + ":.frozen")
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=self.flash,
        )
        self.boots += 1
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        threading.Thread(target=self._read_err, args=(self.proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            ev = json.loads(line[2:]) if line.startswith("@@") else {"ev": "stdout", "msg": line}
            ev["t"] = time.monotonic()
            ev["boot"] = self.boots
            with self.cond:
                self.events.append(ev)
                self.cond.notify_all()

    def _read_err(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            self.stderr.append(raw.decode(errors="replace"))

    def send(self, line: str) -> None:
        assert self.proc is not None
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def press(self, name: str) -> float:
        """Press a button by its name in the config; returns the moment of the press."""
        role = self.cfg["role"]
        if role == "kiosk":
            pins = {**self.cfg["kiosk"]["services"], "priority": self.cfg["kiosk"]["priority_pin"]}
        else:
            pins = self.cfg["pad"]["buttons"]
        t = time.monotonic()
        self.send(f"press {pins[name]}")
        return t

    def wait(
        self, pred: Callable[[dict[str, Any]], bool], timeout: float = 10.0, since: int = 0
    ) -> dict[str, Any]:
        """The first event from index `since` on that matches `pred`."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for ev in self.events[since:]:
                    if pred(ev):
                        return ev
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc and self.proc.poll() is not None and not left):
                    raise AssertionError(
                        f"{self.cfg['id']}: no matching event in {timeout}s; last events: "
                        f"{self.events[-8:]}; stderr: {''.join(self.stderr)[-1500:]}"
                    )
                self.cond.wait(min(left, 0.2))

    def wait_cut(self, since: int = 0, timeout: float = 10.0) -> None:
        """Until a print job from event `since` on was cut (GS V B), wherever the firmware's
        writes to the UART split the job."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                stream = "".join(e["data"] for e in self.events[since:] if e["ev"] == "uart")
                at = stream.find("1d5642")
                while at != -1 and at % 2:  # a match across two bytes is not the command
                    at = stream.find("1d5642", at + 1)
                if at != -1:
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{self.cfg['id']}: nothing cut in {timeout}s; last events: {self.events[-8:]}"
                    )
                self.cond.wait(min(left, 0.2))

    def wait_log(self, text: str, timeout: float = 10.0, since: int = 0) -> dict[str, Any]:
        return self.wait(lambda e: e["ev"] == "log" and text in e["msg"], timeout, since)

    def mark(self) -> int:
        with self.cond:
            return len(self.events)

    def of(self, kind: str, since: int = 0) -> list[dict[str, Any]]:
        with self.cond:
            return [e for e in self.events[since:] if e["ev"] == kind]

    def heap(self) -> dict[str, Any]:
        n = self.mark()
        self.send("heap")
        return self.wait(lambda e: e["ev"] == "heap", 5, since=n)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def restart(self) -> None:
        """A power cycle: kill (no DISCONNECT, the last will fires) and boot again."""
        self.stop()
        self.start()


def flash_board(workdir: Path, role: str) -> Path:
    """A board's flash as `devices/README.md` has it written by USB: loader, firmware, ota.json."""
    flash = workdir / f"flash-{role}"
    write_flash_folder(role, flash)
    return flash


def online(fw: Firmware, since: int = 0, timeout: float = 10.0) -> None:
    """Wait until the device has (re)announced itself on the broker."""
    fw.wait_log("device: announced", timeout, since)


def one_ticket_through_every_role(
    broker: Mosquitto, watcher: Probe, firmware: Callable[[dict[str, Any]], Firmware], panel: dict[str, Any]
) -> tuple[Firmware, Firmware, Firmware]:
    """Boot a kiosk, a call pad and an LED board with `panel`; take A-001 on the kiosk (printed
    and cut), call it on the pad, and return once the board's display shows it."""
    kiosk = firmware(kiosk_config(broker))
    pad = firmware(pad_config(broker))
    board = firmware(board_config(broker, panel))
    for fw in (kiosk, pad, board):
        online(fw)
    n = kiosk.mark()
    kiosk.press("A")
    kiosk.wait_cut(since=n)
    pad.press("next")
    topics = Topics(SLUG)
    watcher.latest(topics.device_response("pad-1", "call_next"))
    watcher.latest(topics.device_display("board-1"), lambda p: b"A-001" in p)
    return kiosk, pad, board


def run_main(flash: Path, setup_port: int, heap: str = HEAP) -> subprocess.Popen[bytes]:
    """The board's own `main.py` from its flash on the fake board (`run_main.py`)."""
    env = dict(os.environ, MICROPYPATH=f"{flash}:{MP_DIR}:.frozen", SETUP_PORT=str(setup_port))
    return subprocess.Popen(
        [str(MICROPYTHON), "-X", f"heapsize={heap}", str(MP_DIR / "run_main.py")],
        cwd=flash,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def setup_page(
    port: int, body: bytes | None = None, board: subprocess.Popen[bytes] | None = None, timeout: float = 60.0
) -> tuple[int, str]:
    """GET (or POST `body` to /save) the board's setup page, once it listens.

    With `board` (from `run_main`), a board that has stopped, or that does not listen within
    `timeout`, fails the test with what the board printed: why it never served the page."""
    import http.client

    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=40)
            if body is None:
                conn.request("GET", "/")
            else:
                headers = {"Content-Type": "application/x-www-form-urlencoded"}
                conn.request("POST", "/save", body, headers)
            resp = conn.getresponse()
            return resp.status, resp.read().decode()
        except ConnectionRefusedError:
            stopped = board is not None and board.poll() is not None
            if stopped or time.monotonic() > deadline:
                if board is None:
                    raise
                board.kill()
                out, err = board.communicate()
                what = "stopped" if stopped else f"did not listen on :{port}"
                raise AssertionError(
                    f"the board {what}:\n{out.decode(errors='replace')}\n{err.decode(errors='replace')}"
                ) from None
            time.sleep(0.2)
