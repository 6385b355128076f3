"""The regency link on real parts: a central Mosquitto and an office Mosquitto, each started
from the files `antrian central offices` and `antrian devices` (+ `devices bridge`) generate,
and the real hub on the office broker with `[regency] enabled`.

The folders are world-traversable on purpose: Mosquitto drops to its own user and must read
passwd, acl and its persistence folder (pytest's own tmp folders are private to root).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from antrian.central.offices import CentralFolder
from antrian.cli import main as antrian
from antrian.config import MqttConfig
from antrian.contract import Topics
from antrian.net import free_port
from antrian.provision import BrokerFolder
from tests.kit import InProcessHub, Mosquitto, Probe
from tests.kit.probe import mqtt_client

OFFICE = "grati"
OTHER = "winongan"
T = Topics(OFFICE)


def public_tmpdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="antrian-regency-"))
    os.chmod(path, 0o755)
    return path


def account(path: Path) -> dict[str, Any]:
    return dict(tomllib.loads(path.read_text()))


class Ingest:
    """The centre's reader as the ingest will be: account `antrian-central`, a persistent
    session (clean session off) so that nothing published while it is away is lost."""

    def __init__(self, broker: Mosquitto, secret: dict[str, Any]) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._cond = threading.Condition()
        self.client = mqtt_client("antrian-central", username=secret["username"], password=secret["password"])
        self.client._clean_session = False  # paho 2: set before connect (MQTT 3.1.1)
        self.client.on_connect = lambda c, *_a: c.subscribe("antrian/#", qos=1)
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port, keepalive=10)
        self.client.loop_start()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))
            self._cond.notify_all()

    def events(self, office: str = OFFICE) -> list[dict[str, Any]]:
        """Every `central/events` message so far, decoded."""
        topic = Topics(office).central_events
        with self._cond:
            return [json.loads(p) for t, p, _r in self.messages if t == topic]

    def wait(self, check: Callable[[], bool], timeout: float = 15.0) -> None:
        with self._cond:
            assert self._cond.wait_for(check, timeout), "timed out waiting at the centre"

    def publish(self, topic: str, body: Any) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@dataclass
class Link:
    root: Path
    central_folder: CentralFolder
    central: Mosquitto
    office_folder: BrokerFolder
    office_broker: Mosquitto
    hub: InProcessHub
    ingest: Ingest
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Every office of the link by slug (`OFFICE` and those asked for with `also`).
    offices: dict[str, tuple[BrokerFolder, Mosquitto, InProcessHub]] = field(default_factory=dict)

    def office_client(self, slug: str = OFFICE) -> Probe:
        """A client of the office broker that may ask the hub (Home Assistant's account)."""
        folder, broker, _hub = self.offices[slug]
        ha = json.loads((folder.path / "secrets" / "homeassistant.json").read_text())
        return Probe(
            broker,
            "homeassistant",
            username="homeassistant",
            password=ha["password"],
            follow=[Topics(slug).hub_response("+")],
        )

    def take(self, office_probe: Probe, n: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            answer = office_probe.request(
                T.hub_request("take_ticket"), T.hub_response("take_ticket"), {"service": "A"}
            )
            assert answer["status"] == "ok", answer
            out.append(answer["data"])
        return out

    def log(self) -> list[tuple[int, str]]:
        """(seq, type) of every row of the office's SQLite log."""
        return self.hub.call(lambda: [(s, e.type) for s, e in self.hub.core.store.events_by_seq(1, 4999)])


def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for a condition on the hub's side (read from this thread, polled)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def central_broker(folder: CentralFolder, run_dir: Path) -> Mosquitto:
    run_dir.mkdir(parents=True, exist_ok=True)
    broker = Mosquitto(port=folder.settings.port, workdir=run_dir)
    broker.conf_path = folder.path / "mosquitto.conf"
    broker.start()
    return broker


def bridged_office(
    root: Path, slug: str, central_port: int, office_config: dict[str, Any], stack: list[Callable[[], None]]
) -> tuple[BrokerFolder, Mosquitto, InProcessHub]:
    """One office as `antrian devices` + `devices bridge` make it, already added at the centre
    (`root/central`): its broker bridged to the central one and its real hub serving on it.
    What was started is pushed on `stack` to be stopped in reverse."""
    ofolder = BrokerFolder(root / f"office-{slug}")
    oport = free_port()
    while oport == central_port:
        oport = free_port()
    ofolder.configure(office=slug, host="127.0.0.1", port=oport, bind="127.0.0.1")
    ofolder.write()
    secret = root / "central" / "secrets" / f"office-{slug}.toml"
    assert antrian(["devices", "bridge", "--dir", str(ofolder.path), "--secret", str(secret)]) == 0
    (root / f"office-{slug}-run").mkdir()
    office_broker = Mosquitto(port=oport, workdir=root / f"office-{slug}-run")
    office_broker.conf_path = ofolder.path / "mosquitto.conf"
    office_broker.start()
    stack.append(office_broker.close)

    hub_auth = tomllib.loads((ofolder.path / "secrets" / "hub-mqtt.toml").read_text())["mqtt"]
    (root / f"hub-{slug}").mkdir()
    hub = InProcessHub(office_broker, root / f"hub-{slug}", office_config)
    hub.cfg = dataclasses.replace(
        hub.cfg,
        mqtt=MqttConfig(
            host="127.0.0.1",
            port=oport,
            username=hub_auth["username"],
            password=hub_auth["password"],
            client_id=hub_auth["username"],
        ),
    )
    hub.start()
    stack.append(hub.stop)
    return ofolder, office_broker, hub


@contextmanager
def running_link(office_config: dict[str, Any], also: tuple[str, ...] = ()) -> Iterator[Link]:
    """Centre and office up, bridged, the hub serving; all stopped on the way out. `also`
    (`OTHER`) brings a second office up the same way, its hub on `office_config` with its slug."""
    root = public_tmpdir()
    stack: list[Callable[[], None]] = []
    try:
        cport = free_port()
        assert (
            antrian(
                [
                    "central",
                    "offices",
                    "add",
                    OFFICE,
                    "--dir",
                    str(root / "central"),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(cport),
                    "--bind",
                    "127.0.0.1",
                ]
            )
            == 0
        )
        assert antrian(["central", "offices", "add", OTHER, "--dir", str(root / "central")]) == 0
        cfolder = CentralFolder.open(root / "central")
        central = central_broker(cfolder, root / "central-run")
        stack.append(central.close)

        ingest = Ingest(central, account(root / "central" / "secrets" / "central-mqtt.toml"))
        stack.append(ingest.close)

        ofolder, office_broker, hub = bridged_office(root, OFFICE, cport, office_config, stack)
        offices = {OFFICE: (ofolder, office_broker, hub)}
        for slug in also:
            config = {**office_config, "office": {**office_config.get("office", {}), "slug": slug}}
            offices[slug] = bridged_office(root, slug, cport, config, stack)

        secrets = {
            slug: account(root / "central" / "secrets" / f"office-{slug}.toml") for slug in (OFFICE, OTHER)
        }
        yield Link(root, cfolder, central, ofolder, office_broker, hub, ingest, secrets, offices)
    finally:
        for stop in reversed(stack):
            stop()
        shutil.rmtree(root, ignore_errors=True)
