"""Helpers: a real Mosquitto started from the files `antrian devices` generates, and the hub.

The hub runs as production runs it: its own process, the `[mqtt]` section copied from
`secrets/hub-mqtt.toml`, and the web pages on (their topic monitor is a second broker
connection, which is exactly what once knocked the hub off a broker that forces client id =
user name).

The folder is made world-traversable on purpose: Mosquitto drops to its own user and must
read passwd, acl and the certificates (pytest's own tmp folders are private to root).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from antrian.net import free_port
from antrian.provision import BrokerFolder
from tests.kit import HubProcess, Mosquitto, Probe

OFFICE = "kantor"
BASE = f"antrian/{OFFICE}"
HUB_TOML = """
[office]
slug = "kantor"
opening = "00:00"
closing = "23:59"
"""


def public_tmpdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="antrian-sec-"))
    os.chmod(path, 0o755)
    return path


def generated_broker(folder: BrokerFolder, run_dir: Path, extra_conf: str = "") -> Mosquitto:
    """A Mosquitto running the generated mosquitto.conf (not one of the test helper's);
    `extra_conf` lines (more logging) go into a copy of it, with the same ACL and passwords."""
    run_dir.mkdir(parents=True, exist_ok=True)
    broker = Mosquitto(port=folder.settings.port, workdir=run_dir)
    broker.conf_path = folder.path / "mosquitto.conf"
    if extra_conf:
        broker.conf_path = run_dir / "generated-and-extra.conf"
        broker.conf_path.write_text((folder.path / "mosquitto.conf").read_text() + extra_conf + "\n")
    broker.start()
    return broker


def office_folder(path: Path, *, tls: bool = True) -> BrokerFolder:
    """A broker folder for the office on loopback, its plain and TLS listeners on two free
    ports (two different ones: `free_port` may hand out the same port twice)."""
    folder = BrokerFolder(path)
    port = free_port()
    tls_port = free_port()
    while tls_port == port:
        tls_port = free_port()
    folder.configure(
        office=OFFICE,
        host="127.0.0.1",
        port=port,
        bind="127.0.0.1",
        tls=tls,
        tls_port=tls_port,
        tls_hosts=["127.0.0.1", "localhost"],
    )
    return folder


def make_folder(path: Path, *, tls: bool = True) -> tuple[BrokerFolder, dict[str, str]]:
    """The office folder with a kiosk, two call pads and an LED board; their passwords."""
    folder = office_folder(path, tls=tls)
    passwords = {}
    for dev, role, services, counter in (
        ("kiosk-1", "kiosk", ["A", "B"], None),
        ("pad-1", "call_pad", [], 1),
        ("pad-2", "call_pad", [], 2),
        ("board-1", "led_board", [], 1),
    ):
        passwords[dev] = folder.add(dev, role, services, counter)
        folder.write()
    return folder, passwords


def secret(folder: BrokerFolder, name: str) -> dict[str, Any]:
    path = folder.path / "secrets" / name
    if name.endswith(".toml"):
        return dict(tomllib.loads(path.read_text())["mqtt"])
    return dict(json.loads(path.read_text()))


def Client(
    port: int,
    username: str | None = None,
    password: str | None = None,
    *,
    client_id: str = "",
    ca: Path | None = None,
    tls: bool = False,
) -> Probe:
    """A probe with credentials that may be refused: `ok` and `result` say how it went."""
    return Probe(port, client_id, username=username, password=password, tls=tls, ca=ca, require=False)


@dataclass
class Office:
    folder: BrokerFolder
    passwords: dict[str, str]
    broker: Mosquitto
    hub: HubProcess
    hub_auth: dict[str, Any]
    web_port: int

    def client(self, user: str, **kw: Any) -> Client:
        password = self.passwords.get(user) or (self.hub_auth["password"] if user == "antrian-hub" else None)
        return Client(self.broker.port, user, password, client_id=kw.pop("client_id", user), **kw)

    def events(self) -> int:
        import sqlite3

        con = sqlite3.connect(f"file:{self.hub.database}?mode=ro", uri=True)
        try:
            return int(con.execute("SELECT count(*) FROM events").fetchone()[0])
        finally:
            con.close()


@pytest.fixture(scope="module")
def office() -> Iterator[Office]:
    with running_office() as o:
        yield o


@contextmanager
def running_office(extra_conf: str = "") -> Iterator[Office]:
    """The office of `make_folder` on its generated broker, and the hub, until the block ends."""
    root = public_tmpdir()
    folder, passwords = make_folder(root / "broker")
    broker = generated_broker(folder, root / "run", extra_conf)
    hub_auth = secret(folder, "hub-mqtt.toml")
    mqtt_section = "\n".join(f"{k} = {json.dumps(v)}" for k, v in hub_auth.items())
    web_port = free_port()
    text = (
        HUB_TOML
        + f'\n[web]\nhost = "127.0.0.1"\nport = {web_port}\n'
        + "\n[mqtt]\n"
        + mqtt_section
        + "\n\n"
        + folder.hub_devices_text()
    )
    hub_dir = root / "hub"
    hub_dir.mkdir()
    hub = HubProcess(broker, text, hub_dir)
    hub.start()
    try:
        ha = secret(folder, "homeassistant.json")
        probe = Client(broker.port, "homeassistant", ha["password"])
        probe.subscribe(f"{BASE}/hub/state")
        probe.wait_for(f"{BASE}/hub/state", lambda p: b"online" in p, timeout=20)
        probe.close()
        yield Office(folder, passwords, broker, hub, hub_auth, web_port)
    finally:
        hub.stop()
        broker.close()
        shutil.rmtree(root, ignore_errors=True)
