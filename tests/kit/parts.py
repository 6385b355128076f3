"""The MQTT parts of antrian as the shared scenarios (`scenarios.py`) drive them.

A part is anything with its own broker connection: the hub, the speaker node, the kiosk, the
call pad, the LED board, and whatever joins them (a hub extension with its own client, a new
kind of display). Each is run for real (its own process; firmware on the MicroPython
interpreter) and described by the few things every part has: a retained availability topic
with a last will, a command it acts on, the topics it reads (where bad payloads go) and the
retained state it owns. A new part subclasses `Part` and fills those in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from antrian.contract import Topics

from .broker import Mosquitto
from .hubs import HubProcess, is_offline, is_online
from .office import HUB_OFFICE, SLUG, office
from .probe import Predicate, Probe
from .process import ChildProcess

#: Payloads no part may fall over: broken, of the wrong shape, not UTF-8, nested too deep.
GARBAGE: tuple[bytes, ...] = (b"{not json", b"[1, 2]", b"null", b'"text"', b"\xff\xfe", b"[" * 1000)


@dataclass(frozen=True)
class BadPayload:
    """A payload a part must survive on a topic it reads; `answer` is where it says no (the
    hub answers a bad request with an error response), None where it ignores it."""

    topic: str
    payload: bytes
    answer: str | None = None


class Part(ABC):
    """One MQTT part under test. `start` returns once it announced itself online."""

    name: str
    broker: Mosquitto
    #: Its retained birth (`online`) and last will (`offline`).
    availability: str

    def is_online(self, payload: bytes) -> bool:
        return payload == b"online"

    def is_offline(self, payload: bytes) -> bool:
        return payload == b"offline"

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def kill(self) -> None:
        """SIGKILL: no DISCONNECT, only the broker's last will can tell."""

    @abstractmethod
    def stop(self) -> None: ...

    @abstractmethod
    def alive(self) -> bool:
        """Its process still runs."""

    @abstractmethod
    def command(self, n: int) -> tuple[str, bytes]:
        """A command (topic, payload) it acts on; `n` tells one command from another."""

    @abstractmethod
    def acted(self, n: int) -> bool:
        """Whether it has acted on `command(n)`."""

    @abstractmethod
    def bad_payloads(self) -> list[BadPayload]: ...

    @abstractmethod
    def crashes(self) -> list[str]:
        """Every sign of an exception that escaped its own handling (tracebacks, the MQTT
        client's last-resort catch): a bad payload must be refused before it gets there."""

    def retained_state(self) -> dict[str, Predicate]:
        """The retained topics it owns and must publish again when the broker lost them."""
        return {self.availability: self.is_online}


def _traceback_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("Traceback")]


# ---------------------------------------------------------------------------------------------
# the hub
# ---------------------------------------------------------------------------------------------


class HubPart(Part):
    """`antrian run` on the office's broker, as an office runs it."""

    name = "hub"

    def __init__(self, broker: Mosquitto, workdir: Path, config: dict[str, Any] | None = None) -> None:
        self.broker = broker
        self.config = config or office(*HUB_OFFICE["devices"])
        self.process = HubProcess(broker, self.config, workdir)
        self.topics = T = self.process.topics
        self.availability = T.hub_state
        self.watch = Probe(broker, follow=(f"{T.base}/hub/response/+", f"{T.base}/device/+/response/+"))

    def is_online(self, payload: bytes) -> bool:
        return is_online(payload)

    def is_offline(self, payload: bytes) -> bool:
        return is_offline(payload)

    def start(self) -> None:
        self.process.start_online()

    def kill(self) -> None:
        self.process.kill()

    def stop(self) -> None:
        self.process.stop()
        self.watch.close()

    def alive(self) -> bool:
        return self.process.alive()

    def command(self, n: int) -> tuple[str, bytes]:
        body = {"service": "A", "transaction": f"scenario-{n}"}
        return self.topics.hub_request("take_ticket"), json.dumps(body).encode()

    def acted(self, n: int) -> bool:
        want = f"scenario-{n}".encode()
        topic = self.topics.hub_response("take_ticket")
        return any(t == topic and want in p for t, p, _ in list(self.watch.messages))

    def bad_payloads(self) -> list[BadPayload]:
        T = self.topics
        ask, answer = T.hub_request("take_ticket"), T.hub_response("take_ticket")
        kiosk, kiosk_answer = (
            T.device_request("kiosk-1", "take_ticket"),
            T.device_response("kiosk-1", "take_ticket"),
        )
        wrong = [
            b'{"service": 7}',
            b'{"service": "A", "servis": "B"}',
            b'{"service": "A", "pad": "' + b"x" * 1100 + b'"}',
        ]
        out = [BadPayload(ask, p, answer) for p in (*GARBAGE, *wrong)]
        out += [BadPayload(kiosk, p, kiosk_answer) for p in GARBAGE]
        out += [BadPayload(T.hub_request("launch_rockets"), b"{}", T.hub_response("launch_rockets"))]
        # what the hub reads besides requests: device births and info, Home Assistant's status
        out += [
            BadPayload(t, p)
            for t in (T.device_availability("kiosk-1"), T.device_info("kiosk-1"), "homeassistant/status")
            for p in GARBAGE
        ]
        return out

    def crashes(self) -> list[str]:
        return _traceback_lines(self.process.log())

    def retained_state(self) -> dict[str, Predicate]:
        """Its own state, and what its extensions keep retained (the LED boards' displays)."""
        T = self.topics
        boards = [d["id"] for d in self.config.get("devices", []) if d.get("role") == "led_board"]
        return {
            T.hub_state: is_online,
            T.hub_info: bool,
            T.service_state("A"): bool,
            T.counter_state(1): bool,
            **{T.device_display(b): bool for b in boards},
        }


# ---------------------------------------------------------------------------------------------
# the speaker node
# ---------------------------------------------------------------------------------------------


def play_message(call_id: str, clips: list[str], ttl: float = 30.0) -> bytes:
    """A `play` payload as the hub sends it, valid for `ttl` seconds from now."""
    now = datetime.now(UTC)
    body = {
        "id": call_id,
        "text": call_id,
        "clips": clips,
        "issued_at": now.isoformat(),
        "expires_at": (now + timedelta(seconds=ttl)).isoformat(),
    }
    return json.dumps(body).encode()


class SpeakerPart(Part):
    """`antrian speaker` in its own process, playing into WAV files instead of a loudspeaker."""

    name = "speaker"

    def __init__(
        self,
        broker: Mosquitto,
        workdir: Path,
        cache: Path,
        speaker_id: str = "speaker-1",
        clips: tuple[str, ...] = ("chime",),
    ) -> None:
        self.broker = broker
        self.id = speaker_id
        self.topics = Topics(SLUG)
        self.availability = self.topics.device_availability(speaker_id)
        self.clips = list(clips)
        self.played = workdir / "played"
        argv = [
            sys.executable,
            "-m",
            "antrian.cli",
            "speaker",
            "--id",
            speaker_id,
            "--port",
            str(broker.port),
            "--cache",
            str(cache),
            "--wav-dir",
            str(self.played),
        ]
        self.process = ChildProcess(argv, workdir / "speaker.log")

    def start(self) -> None:
        self.process.announced(self.broker, self.availability, self.is_online)

    def kill(self) -> None:
        self.process.kill()

    def stop(self) -> None:
        self.process.stop()

    def alive(self) -> bool:
        return self.process.alive()

    def command(self, n: int) -> tuple[str, bytes]:
        return self.topics.device_play(self.id), play_message(f"scenario-{n}", self.clips)

    def acted(self, n: int) -> bool:
        return any(self.played.glob(f"*-scenario-{n}.wav"))

    def bad_payloads(self) -> list[BadPayload]:
        play, cmd = self.topics.device_play(self.id), self.topics.device_set(self.id)
        wrong_play = [
            b'{"clips": []}',
            b'{"clips": ["../../etc/passwd"]}',
            b'{"clips": [7]}',
            b'{"clips": ["chime"], "expires_at": 5}',
            b"[" * 5000,
            b"x" * 9000,
        ]
        wrong_set = [b'{"volume": "x"}', b'{"volume": true}', b"{}", b"[" * 5000]
        return [BadPayload(play, p) for p in (*GARBAGE, *wrong_play)] + [
            BadPayload(cmd, p) for p in (*GARBAGE, *wrong_set)
        ]

    def crashes(self) -> list[str]:
        return _traceback_lines(self.process.log())


# ---------------------------------------------------------------------------------------------
# the ESP32 devices (firmware on the MicroPython interpreter)
# ---------------------------------------------------------------------------------------------


class Firmware(Protocol):
    """What the device parts need of a running firmware (the MicroPython harness has it)."""

    events: list[dict[str, Any]]
    stderr: list[str]
    proc: subprocess.Popen[bytes] | None

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def mark(self) -> int: ...

    def wait_log(self, text: str, timeout: float = 10.0, since: int = 0) -> dict[str, Any]: ...


class DevicePart(Part):
    """A kiosk, call pad or LED board: its firmware booted by `boot(config)`."""

    def __init__(
        self, broker: Mosquitto, config: dict[str, Any], boot: Callable[[dict[str, Any]], Firmware]
    ) -> None:
        self.broker = broker
        self.config = config
        self.name = str(config["role"])
        self.id = str(config["id"])
        self.boot = boot
        self.topics = Topics(str(config.get("office", SLUG)))
        self.availability = self.topics.device_availability(self.id)
        self.fw: Firmware | None = None

    @property
    def firmware(self) -> Firmware:
        assert self.fw is not None, f"{self.id} was not started"
        return self.fw

    def start(self) -> None:
        if self.fw is None:
            self.fw = self.boot(self.config)
            self.fw.wait_log("device: announced")
        else:
            since = self.fw.mark()
            self.fw.start()
            self.fw.wait_log("device: announced", since=since)

    def kill(self) -> None:
        self.firmware.stop()

    def stop(self) -> None:
        if self.fw is not None:
            self.fw.stop()

    def alive(self) -> bool:
        proc = self.firmware.proc
        return proc is not None and proc.poll() is None

    def command(self, n: int) -> tuple[str, bytes]:
        return self.topics.device_set(self.id), json.dumps({"brightness": n}).encode()

    def acted(self, n: int) -> bool:
        return any(
            e["ev"] == "log" and e["msg"].startswith("device: set") and f'"brightness": {n}}}' in e["msg"]
            for e in list(self.firmware.events)
        )

    def bad_payloads(self) -> list[BadPayload]:
        T, me = self.topics, self.id
        reads = [T.device_set(me), T.device_response(me, "take_ticket"), T.hub_state]
        wrong = [
            b'{"brightness": "x"}',
            b'{"brightness": 99}',
            b'{"reboot": 1}',
            b'{"transaction": 5}',
            b'{"transaction": []}',
            b'{"state": []}',
        ]
        if self.name == "led_board":
            reads.append(T.device_display(me))
            wrong += [
                b'{"lines": 5}',
                b'{"lines": [1, 2]}',
                b'{"notice": 5}',
                b'{"name": 5}',
                b'{"serving": 5, "lines": null}',
                b'{"call_seq": [], "lines": ["A"]}',
            ]
        counter = self.config.get("pad", {}).get("counter")
        if counter:
            reads.append(T.counter_state(counter))
            wrong += [b'{"serving": 5}', b'{"waiting": "x"}', b'{"status": 5}']
        return [BadPayload(t, p) for t in reads for p in (*GARBAGE, *wrong)]

    def crashes(self) -> list[str]:
        fw = self.firmware
        caught = [e["msg"] for e in list(fw.events) if e["ev"] == "log" and "error" in e["msg"]]
        return caught + _traceback_lines("".join(fw.stderr))

    def retained_state(self) -> dict[str, Predicate]:
        return {self.availability: self.is_online, self.topics.device_info(self.id): bool}
