"""The documented production setup stays up: generated broker files, the hub with its web side.

`antrian devices` makes Mosquitto force client id = user name. Anything else that logs in
with the hub's account therefore takes over the hub's session; the web pages' topic monitor
once did, and the two knocked each other off about twice a second. These tests run the hub
exactly as the guide says (its own process, `[mqtt]` from `secrets/hub-mqtt.toml`, web on) and
watch what a device and Home Assistant see.
"""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from secure_broker import BASE, OFFICE, Client, Office, running_office, secret

from antrian.contract import topic_templates
from antrian.provision.topics import fill
from tests.devices.harness import Firmware, kiosk_config, online, pad_config
from tests.kit import Probe
from tests.kit.traffic import LOG_EVERYTHING, read_traffic


def test_hub_state_does_not_flap_with_the_web_side_on(office):
    ha = secret(office.folder, "homeassistant.json")
    obs = Client(office.broker.port, "homeassistant", ha["password"])
    try:
        obs.subscribe(f"{BASE}/hub/state")
        first = json.loads(obs.wait_for(f"{BASE}/hub/state"))
        assert first["state"] == "online"
        time.sleep(3.0)  # the flapping hub went offline/online every ~0.5 s
        live = [json.loads(p) for t, p, retained in obs.messages if not retained]
        assert live == [], f"hub/state changed {len(live)} times in 3 s: {live[:4]}"
    finally:
        obs.close()
    # the topic monitor was on all along, with an account of its own
    assert "as antrian-monitor" in office.broker.log()
    assert "Client antrian-hub already connected" not in office.broker.log()


def test_every_take_ticket_is_answered_with_the_web_side_on(office):
    kiosk = office.client("kiosk-1")
    try:
        kiosk.subscribe(f"{BASE}/device/kiosk-1/response/take_ticket")
        topic = f"{BASE}/device/kiosk-1/response/take_ticket"
        unanswered = []
        for i in range(100):
            txn = f"prod-{i}"
            kiosk.publish(
                f"{BASE}/device/kiosk-1/request/take_ticket", {"service": "AB"[i % 2], "transaction": txn}
            )
            try:
                raw = kiosk.wait_for(
                    topic, lambda p, txn=txn: json.loads(p).get("transaction") == txn, timeout=1.0
                )
            except TimeoutError:
                unanswered.append(txn)
                continue
            assert json.loads(raw)["status"] == "ok"
        assert unanswered == [], f"{len(unanswered)} of 100 take_ticket unanswered within 1 s"
    finally:
        kiosk.close()


def reads_the_office_and_discovery(client: Probe) -> None:
    """`client` gets the hub's retained state and Home Assistant's discovery."""
    client.subscribe(f"{BASE}/#")
    client.subscribe("homeassistant/#")
    assert json.loads(client.wait_for(f"{BASE}/hub/state"))["state"] == "online"
    client.wait_for("homeassistant/sensor/antrian_kantor/service_a_waiting/config", timeout=5)


def kiosk_answered_after(kiosk: Probe) -> None:
    """The broker handles a publish before its PUBACK; a request of the kiosk answered after
    the forged publishes proves the hub had time to act on one that got through."""
    kiosk.subscribe(f"{BASE}/device/kiosk-1/response/sync")
    kiosk.publish(f"{BASE}/device/kiosk-1/request/sync", {"transaction": "after-forged"})
    kiosk.wait_for(f"{BASE}/device/kiosk-1/response/sync")
    time.sleep(0.3)


def test_the_topic_monitor_account_reads_everything_and_writes_nothing(office):
    auth = secret(office.folder, "hub-mqtt.toml")
    assert auth["monitor_username"] == "antrian-monitor"
    assert auth["monitor_username"] != auth["username"]
    # a second login of the monitor's account must not touch the hub's session
    spy = Client(office.broker.port, auth["monitor_username"], auth["monitor_password"], client_id="whatever")
    kiosk = office.client("kiosk-1")
    try:
        assert spy.ok
        reads_the_office_and_discovery(spy)
        events = office.events()
        spy.publish(f"{BASE}/hub/request/take_ticket", {"service": "A", "transaction": "spy-1"})
        spy.publish(f"{BASE}/hub/state", {"state": "offline"}, retain=True)
        kiosk_answered_after(kiosk)
        assert office.events() == events
        assert not [t for t, _, _ in spy.messages if t.endswith("/hub/response/take_ticket")]
        fresh = office.client("board-1")
        fresh.subscribe(f"{BASE}/hub/state")
        assert json.loads(fresh.wait_for(f"{BASE}/hub/state"))["state"] == "online"
        fresh.close()
    finally:
        spy.close()
        kiosk.close()


def folder_without(path: Path, user: str) -> Any:
    """A broker folder as a version before `user`'s account left it (no such account)."""
    from antrian.provision import BrokerFolder

    folder = BrokerFolder(path)
    folder.configure(office="kantor", host="127.0.0.1")
    folder.write()
    registry = json.loads(folder.registry_path.read_text())
    del registry["accounts"][user]
    folder.registry_path.write_text(json.dumps(registry))
    return folder


def read_only(folder: Any, user: str) -> bool:
    """`user`'s ACL block reads the office and Home Assistant discovery, and writes nothing."""
    block = (folder.path / "acl").read_text().split(f"user {user}\n", 1)[1].split("\n\n", 1)[0]
    return block.splitlines() == ["topic read antrian/kantor/#", "topic read homeassistant/#"]


def test_an_older_broker_folder_gains_the_monitor_account_and_keeps_the_hub_password(tmp_path):
    from antrian.provision import MONITOR_USER, BrokerFolder, verify_password

    # what an older version left: no monitor account, a secrets file without its lines
    folder = folder_without(tmp_path / "broker", MONITOR_USER)
    hub_secret = folder.path / "secrets" / "hub-mqtt.toml"
    old = [line for line in hub_secret.read_text().splitlines() if "monitor" not in line]
    hub_secret.write_text("\n".join(old) + "\n")
    hub_password = secret(folder, "hub-mqtt.toml")["password"]

    again = BrokerFolder(tmp_path / "broker")
    again.configure()
    again.write()
    auth = secret(again, "hub-mqtt.toml")
    assert auth["password"] == hub_password
    passwd = dict(line.split(":", 1) for line in (again.path / "passwd").read_text().split())
    assert verify_password(auth["monitor_password"], passwd[MONITOR_USER])
    assert read_only(again, MONITOR_USER)


def test_the_doctor_account_reads_everything_and_what_it_publishes_never_arrives(office):
    """`antrian doctor`'s own account: read-only like the monitor's. A denied publish is
    silent to its sender (QoS 1 still gets its PUBACK), so a subscriber watches instead."""
    doc = secret_file(office.folder, "doctor-mqtt.toml")
    assert doc["username"] == "antrian-doctor"
    ha = secret(office.folder, "homeassistant.json")
    watcher = Client(office.broker.port, "homeassistant", ha["password"])
    doctor = Client(office.broker.port, doc["username"], doc["password"], client_id="antrian-doctor")
    kiosk = office.client("kiosk-1")
    try:
        assert doctor.ok
        watcher.subscribe(f"{BASE}/#")
        watcher.wait_for(f"{BASE}/hub/state")
        reads_the_office_and_discovery(doctor)
        events = office.events()
        doctor.publish(f"{BASE}/hub/request/take_ticket", {"service": "A", "transaction": "from-doctor"})
        doctor.publish(f"{BASE}/hub/state", {"state": "from-doctor"}, retain=True)
        doctor.publish("homeassistant/sensor/from_doctor/config", {"name": "from-doctor"}, retain=True)
        kiosk_answered_after(kiosk)
        assert office.events() == events
        arrived = [t for t, p, _ in watcher.messages + doctor.messages if b"from-doctor" in p]
        assert arrived == []
    finally:
        for c in (doctor, watcher, kiosk):
            c.close()


def test_an_older_broker_folder_gains_the_doctor_account_and_keeps_the_others(tmp_path):
    from antrian.provision import DOCTOR_USER, BrokerFolder, verify_password

    # what a version before the doctor's account left: no account, no secret file
    folder = folder_without(tmp_path / "broker", DOCTOR_USER)
    (folder.path / "secrets" / "doctor-mqtt.toml").unlink()
    before = {
        name: (folder.path / "secrets" / name).read_text() for name in ("hub-mqtt.toml", "homeassistant.json")
    }

    again = BrokerFolder(tmp_path / "broker")
    again.configure()
    again.write()
    for name, text in before.items():
        assert (again.path / "secrets" / name).read_text() == text
    doc = secret_file(again, "doctor-mqtt.toml")
    assert doc["username"] == DOCTOR_USER
    assert (again.path / "secrets" / "doctor-mqtt.toml").stat().st_mode & 0o777 == 0o600
    passwd = dict(line.split(":", 1) for line in (again.path / "passwd").read_text().split())
    assert verify_password(doc["password"], passwd[DOCTOR_USER])
    assert read_only(again, DOCTOR_USER)
    # made once: a third command keeps the password
    third = BrokerFolder(tmp_path / "broker")
    third.configure()
    third.write()
    assert secret_file(third, "doctor-mqtt.toml") == doc


def secret_file(folder: Any, name: str) -> dict[str, Any]:
    """A secret TOML without an `[mqtt]` table (the doctor's: `username`, `password`)."""
    return dict(tomllib.loads((folder.path / "secrets" / name).read_text()))


def test_the_topic_monitor_never_logs_in_with_the_hubs_account():
    from antrian.config import parse_config
    from antrian.web.monitor import TopicMonitor

    hub_only = parse_config({"mqtt": {"username": "antrian-hub", "password": "x"}})
    assert TopicMonitor(hub_only).account() is None  # stays off rather than take the session
    both = parse_config(
        {
            "mqtt": {
                "username": "antrian-hub",
                "password": "x",
                "monitor_username": "antrian-monitor",
                "monitor_password": "y",
            }
        }
    )
    assert TopicMonitor(both).account() == ("antrian-monitor", "y")
    anonymous = parse_config({})
    assert TopicMonitor(anonymous).account() == (None, None)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_100_mb_payload_from_a_device_is_refused_by_the_broker(office):
    from antrian.contract import MAX_PACKET_BYTES

    assert f"max_packet_size {MAX_PACKET_BYTES}\n" in (office.folder.path / "mosquitto.conf").read_text()
    assert office.hub.proc is not None
    assert office.broker.proc is not None
    hub_before, broker_before = rss_mb(office.hub.proc.pid), rss_mb(office.broker.proc.pid)
    ha = secret(office.folder, "homeassistant.json")
    obs = Client(office.broker.port, "homeassistant", ha["password"])
    pad = office.client("pad-1")
    kiosk = office.client("kiosk-1")
    try:
        obs.subscribe(f"{BASE}/device/pad-1/#")
        assert pad.ok
        # its own `info` topic, which the ACL lets it write (the hub and the monitor read it)
        pad.client.publish(f"{BASE}/device/pad-1/info", b"x" * (100 * 1024 * 1024), qos=0, retain=True)
        assert pad.disconnected.wait(20), "the broker kept the sender of 100 MB"
        kiosk.subscribe(f"{BASE}/device/kiosk-1/response/take_ticket")
        kiosk.publish(
            f"{BASE}/device/kiosk-1/request/take_ticket", {"service": "A", "transaction": "after-100mb"}
        )
        answer = kiosk.wait_for(
            f"{BASE}/device/kiosk-1/response/take_ticket",
            lambda p: json.loads(p).get("transaction") == "after-100mb",
        )
        assert json.loads(answer)["status"] == "ok"
        assert not [t for t, p, _ in obs.messages if len(p) > MAX_PACKET_BYTES]
        hub_after, broker_after = rss_mb(office.hub.proc.pid), rss_mb(office.broker.proc.pid)
        print(
            f"hub RSS {hub_before:.1f} -> {hub_after:.1f} MB, broker RSS"
            f" {broker_before:.1f} -> {broker_after:.1f} MB"
        )
        assert hub_after - hub_before < 20
        assert broker_after - broker_before < 20
    finally:
        for c in (obs, pad, kiosk):
            c.close()


# ---------------------------------------------------------------------------------------------
# The firmware against the generated ACL
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def traced_office() -> Iterator[Office]:
    """The production office, its broker also logging every client's subscriptions, publishes
    and denials (`tests.kit.traffic`)."""
    with running_office(extra_conf=LOG_EVERYTHING) as o:
        yield o


def acl_of(acl: str, user: str) -> tuple[list[str], list[str]]:
    """(read patterns, write patterns) of `user` in a Mosquitto ACL file."""
    reads: list[str] = []
    writes: list[str] = []
    current = None
    for line in acl.splitlines():
        if line.startswith("user "):
            current = line.removeprefix("user ")
        elif line.startswith("topic ") and current == user:
            _, access, pattern = line.split(" ", 2)
            if access in ("read", "readwrite"):
                reads.append(pattern)
            if access in ("write", "readwrite"):
                writes.append(pattern)
    return reads, writes


def covers(pattern: str, topic: str) -> bool:
    """True when the ACL `pattern` matches every topic that `topic` (a name or a filter) names."""
    want, have = pattern.split("/"), topic.split("/")
    for i, level in enumerate(want):
        if level == "#":
            return True
        if i >= len(have) or have[i] == "#" or level not in ("+", have[i]):
            return False
    return len(want) == len(have)


def provisioned(office: Office, device_id: str, **hardware: Any) -> dict[str, Any]:
    """The config.json `antrian devices add` wrote, with the hardware an installer adds."""
    written = json.loads((office.folder.path / "devices" / f"{device_id}.json").read_text())
    return {**written, **hardware}


def their_topics(device_id: str) -> set[str]:
    """Every topic of another device's subtree that the contract spells, any command."""
    templates = topic_templates()
    return {
        fill(t, office=OFFICE, id=device_id, command="take_ticket")
        for name, t in templates.items()
        if name.startswith("device_")
    }


def test_each_board_is_allowed_every_topic_its_firmware_uses_and_nothing_of_another_device(
    traced_office, tmp_path
):
    office = traced_office
    kiosk_hw, pad_hw = kiosk_config(office.broker), pad_config(office.broker)
    configs = [
        provisioned(office, "kiosk-1", kiosk=kiosk_hw["kiosk"], printer=kiosk_hw["printer"]),
        provisioned(office, "pad-1", pad=pad_hw["pad"], display=pad_hw["display"]),
        provisioned(office, "board-1", panel={"type": "max7219", "modules": 8}),
    ]
    ha = secret(office.folder, "homeassistant.json")
    obs = Client(office.broker.port, "homeassistant", ha["password"])
    obs.subscribe(f"{BASE}/#")
    boards = [Firmware(cfg, tmp_path) for cfg in configs]
    try:
        for fw in boards:
            fw.start()
        for fw in boards:
            online(fw, timeout=20)
        kiosk, pad, _board = boards
        n = kiosk.mark()
        kiosk.press("A")
        kiosk.wait_cut(since=n)  # its request went through, its answer came back
        ticket = json.loads(obs.latest(f"{BASE}/device/kiosk-1/response/take_ticket"))["data"]["ticket"]
        pad.press("next")
        obs.latest(f"{BASE}/device/pad-1/response/call_next")
        obs.latest(f"{BASE}/device/board-1/display", lambda p: ticket.encode() in p)
        obs.latest(f"{BASE}/counter/1/state", lambda p: ticket.encode() in p)
    finally:
        for fw in boards:
            fw.stop()
        obs.close()

    traffic = read_traffic(office.broker.log())
    acl = (office.folder.path / "acl").read_text()
    for cfg in configs:
        me, topics = cfg["id"], cfg["topics"]
        reads, writes = acl_of(acl, me)
        assert traffic.denied[me] == set(), f"the broker refused {me}"
        assert traffic.written(me), f"nothing of {me} in the broker's log"
        for topic in traffic.written(me):
            assert any(covers(p, topic) for p in writes), f"{me} may not write {topic}"
        for topic in traffic.subscribed[me]:
            assert any(covers(p, topic) for p in reads), f"{me} may not read {topic}"
        assert topics["hub_state"] in traffic.delivered[me]  # read through the ACL, delivered
        for other in office.folder.devices():
            if other.id != me:
                for topic in their_topics(other.id):
                    assert not any(covers(p, topic) for p in reads + writes), f"{me} reaches {topic}"
    assert f"{BASE}/device/kiosk-1/response/take_ticket" in traffic.delivered["kiosk-1"]
    assert f"{BASE}/device/pad-1/response/call_next" in traffic.delivered["pad-1"]
    assert f"{BASE}/counter/1/state" in traffic.delivered["pad-1"]
    assert f"{BASE}/device/board-1/display" in traffic.delivered["board-1"]


def test_a_device_account_reads_and_writes_nothing_of_another_devices_subtree(traced_office):
    office = traced_office
    kiosk = office.client("kiosk-1")
    kiosk.publish(f"{BASE}/device/kiosk-1/info", {"firmware": "x"}, retain=True)
    kiosk.close()
    spy = office.client("pad-2")
    try:
        spy.subscribe(f"{BASE}/device/#")  # retained: kiosk-1's info, board-1's display
        spy.publish(f"{BASE}/device/pad-1/request/call_next", {"transaction": "spy-1"})
        spy.publish(f"{BASE}/device/board-1/display", {"lines": ["A-999"]}, retain=True)
        spy.publish(f"{BASE}/device/kiosk-1/availability", b"offline", retain=True)
        # its own request, answered after everything above was handled or refused
        spy.publish(f"{BASE}/device/pad-2/request/sync", {"transaction": "own"})
        spy.wait_for(f"{BASE}/device/pad-2/response/sync")
        assert {t for t in spy.topics() if "/device/pad-2/" not in t} == set()
    finally:
        spy.close()
    denied = read_traffic(office.broker.log()).denied["pad-2"]
    assert denied == {
        f"{BASE}/device/pad-1/request/call_next",
        f"{BASE}/device/board-1/display",
        f"{BASE}/device/kiosk-1/availability",
    }
