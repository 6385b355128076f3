"""The broker locked down by `antrian devices`, proven against a real Mosquitto and the hub.

Denied publishes are silent to the sender (QoS 1 still gets its PUBACK), so every denial test
proves absence the same way: after the forbidden message the same client sends an allowed
one; messages of one client arrive in order, so once the allowed one is seen by an observer
that reads everything, the forbidden one would have been seen before it. The hub's event log
is counted before and after to show nothing changed.
"""

from __future__ import annotations

import json
import signal
import time

import pytest
from secure_broker import BASE, Client, generated_broker, make_folder, public_tmpdir, secret

from antrian.provision import verify_password


def observer(office):
    ha = secret(office.folder, "homeassistant.json")
    c = Client(office.broker.port, "homeassistant", ha["password"])
    assert c.ok
    c.subscribe(f"{BASE}/#")
    return c


def sentinel(dev_client, obs, device):
    """An allowed message from `device`; returns once the observer has it."""
    marker = f"m{time.monotonic_ns()}".encode()
    dev_client.publish(f"{BASE}/device/{device}/availability", marker)
    obs.wait_for(f"{BASE}/device/{device}/availability", lambda p: p == marker)


def ask(client, device, command, payload):
    txn = f"t{time.monotonic_ns()}"
    client.publish(f"{BASE}/device/{device}/request/{command}", {**payload, "transaction": txn})
    raw = client.wait_for(
        f"{BASE}/device/{device}/response/{command}", lambda p: json.loads(p).get("transaction") == txn
    )
    return json.loads(raw)


def test_anonymous_and_wrong_password_are_refused(office):
    anon = Client(office.broker.port)
    wrong = Client(office.broker.port, "pad-1", "not-the-password")
    stranger = Client(office.broker.port, "pad-9", office.passwords["pad-1"])
    right = office.client("board-1")
    try:
        assert not anon.ok
        assert anon.result
        assert not wrong.ok
        assert wrong.result
        assert not stranger.ok
        assert right.ok
    finally:
        for c in (anon, wrong, stranger, right):
            c.close()


def test_generated_hashes_are_mosquitto_pbkdf2(office):
    lines = dict(line.split(":", 1) for line in (office.folder.path / "passwd").read_text().split())
    assert lines["pad-1"].startswith("$7$")
    assert verify_password(office.passwords["pad-1"], lines["pad-1"])
    assert not verify_password("wrong", lines["pad-1"])


FORBIDDEN = [
    # another device's subtree: its requests and what the hub shows on it
    ("device/pad-2/request/call_next", {"transaction": "x1"}),
    ("device/kiosk-1/request/take_ticket", {"service": "A", "transaction": "x2"}),
    ("device/board-1/display", {"lines": ["A-999"]}),
    # the hub's request topics and state topics
    ("hub/request/take_ticket", {"service": "A", "transaction": "x3"}),
    ("hub/request/close_day", {"transaction": "x4"}),
    ("service/A/state", {"waiting": 0, "last_issued": "A-999"}),
    ("counter/2/state", {"serving": "A-999"}),
    ("hub/state", {"state": "offline"}),
    # its own topics that only the hub writes
    ("device/pad-1/response/call_next", {"status": "ok", "transaction": "x5"}),
    ("device/pad-1/display", {"lines": ["forged"]}),
    ("device/pad-1/play", {"clips": ["chime"]}),
    ("device/pad-1/set", {"reboot": True}),
]


def test_a_device_cannot_write_outside_its_own_requests(office):
    obs = observer(office)
    pad = office.client("pad-1")
    pad.subscribe(f"{BASE}/device/pad-1/#")
    try:
        # something that a forged request could act on
        kiosk = office.client("kiosk-1")
        kiosk.subscribe(f"{BASE}/device/kiosk-1/response/+")
        assert ask(kiosk, "kiosk-1", "take_ticket", {"service": "A"})["status"] == "ok"
        kiosk.close()
        sentinel(pad, obs, "pad-1")
        obs.wait_for(f"{BASE}/service/A/state", lambda p: json.loads(p)["waiting"] >= 1)
        events, seen = office.events(), len(obs.topics())
        for rel, payload in FORBIDDEN:
            pad.publish(f"{BASE}/{rel}", payload, retain=rel.endswith("state"))
        sentinel(pad, obs, "pad-1")
        # the hub handles requests in order: after pad-1's own sync is answered, a forged
        # request that had got through would have been handled (and logged) already
        assert ask(pad, "pad-1", "sync", {})["status"] == "ok"
        # the hub may republish its own retained state meanwhile (a tick, a reconnect under
        # load): what must never arrive is the forged payload
        arrived = {(t, p) for t, p, _ in obs.messages[seen:]}
        for rel, payload in FORBIDDEN:
            assert (f"{BASE}/{rel}", json.dumps(payload).encode()) not in arrived, rel
        assert office.events() == events
        # the retained state a newcomer gets is still the hub's
        fresh = office.client("board-1")
        fresh.subscribe(f"{BASE}/service/A/state")
        state = json.loads(fresh.wait_for(f"{BASE}/service/A/state"))
        assert state["last_issued"] != "A-999"
        fresh.close()
    finally:
        obs.close()
        pad.close()


def test_a_call_pad_cannot_act_on_another_counter(office):
    pad = office.client("pad-1")
    pad.subscribe(f"{BASE}/device/pad-1/response/+")
    obs = observer(office)
    try:
        kiosk = office.client("kiosk-1")
        kiosk.subscribe(f"{BASE}/device/kiosk-1/response/+")
        assert ask(kiosk, "kiosk-1", "take_ticket", {"service": "B"})["status"] == "ok"
        kiosk.close()
        before = json.loads(obs.wait_for(f"{BASE}/counter/2/state"))
        r = ask(pad, "pad-1", "call_next", {"counter": 2})
        assert r["status"] == "ok"
        assert r["data"]["counter"] == 1  # bound to its own counter, whatever it asked
        sentinel(pad, obs, "pad-1")
        states = [json.loads(p) for t, p, _ in obs.messages if t == f"{BASE}/counter/2/state"]
        assert states[-1]["serving"] == before["serving"]
    finally:
        pad.close()
        obs.close()


def test_a_device_cannot_take_over_the_hubs_session(office):
    """Client id = user name: reusing the hub's client id does not disconnect the hub."""
    intruder = office.client("pad-2", client_id="antrian-hub")
    try:
        assert intruder.ok
        intruder.subscribe(f"{BASE}/device/pad-2/response/+")
        assert ask(intruder, "pad-2", "sync", {})["status"] == "ok"  # the hub still serves
    finally:
        intruder.close()


def test_tls_listener_needs_the_generated_ca(office):
    port = office.folder.settings.tls_port
    ca = office.folder.path / "tls" / "ca.crt"
    good = Client(port, "board-1", office.passwords["board-1"], tls=True, ca=ca)
    bad = Client(port, "board-1", office.passwords["board-1"], tls=True, ca=None)
    try:
        assert good.ok
        assert not bad.ok
        assert bad.result
        assert "tls" in bad.result.lower()
    finally:
        good.close()
        bad.close()


@pytest.fixture
def small_broker():
    root = public_tmpdir()
    folder, passwords = make_folder(root / "broker", tls=False)
    broker = generated_broker(folder, root / "run")
    yield folder, passwords, broker
    broker.close()
    import shutil

    shutil.rmtree(root, ignore_errors=True)


def test_removing_a_device_revokes_it(small_broker):
    folder, passwords, broker = small_broker
    ha = secret(folder, "homeassistant.json")
    obs = Client(broker.port, "homeassistant", ha["password"])
    obs.subscribe(f"{BASE}/#")
    pad = Client(broker.port, "pad-2", passwords["pad-2"], client_id="pad-2")
    assert pad.ok
    folder.remove("pad-2")
    folder.write()
    assert "pad-2" not in (folder.path / "passwd").read_text()
    assert "pad-2" not in (folder.path / "acl").read_text()
    assert not (folder.path / "devices" / "pad-2.json").exists()
    assert broker.proc is not None
    broker.proc.send_signal(signal.SIGHUP)  # what `systemctl reload mosquitto` does
    assert pad.disconnected.wait(5)  # its live connection is closed
    pad.close()
    again = Client(broker.port, "pad-2", passwords["pad-2"], client_id="pad-2")
    assert not again.ok
    again.close()
    other = Client(broker.port, "pad-1", passwords["pad-1"], client_id="pad-1")
    assert other.ok  # the others are untouched
    other.close()
    obs.close()


def test_cli_keeps_the_hub_config_in_step(tmp_path, capsys):
    from antrian.cli import main
    from antrian.config import load_config

    hub_toml = tmp_path / "antrian.toml"
    hub_toml.write_text('[office]\nname = "Kantor Kecamatan Grati"\n')
    d = str(tmp_path / "broker")
    assert (
        main(
            [
                "devices",
                "add",
                "pad-1",
                "--role",
                "call_pad",
                "--counter",
                "1",
                "--dir",
                d,
                "--host",
                "10.0.0.2",
                "--hub-config",
                str(hub_toml),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "devices",
                "add",
                "kiosk-1",
                "--role",
                "kiosk",
                "--services",
                "A,D",
                "--dir",
                d,
                "--hub-config",
                str(hub_toml),
                "--lang",
                "en",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "ditambahkan" in out
    assert "added" in out
    cfg = load_config(hub_toml)
    want = {("pad-1", "call_pad", 1), ("kiosk-1", "kiosk", None)}
    assert {(x.id, x.role, x.counter) for x in cfg.devices} == want
    device_cfg = json.loads((tmp_path / "broker" / "devices" / "pad-1.json").read_text())
    assert device_cfg["mqtt"]["host"] == "10.0.0.2"
    assert device_cfg["mqtt"]["user"] == "pad-1"
    # a counter the hub does not have is refused, and the hub config is left as it was
    before = hub_toml.read_text()
    assert (
        main(
            [
                "devices",
                "add",
                "pad-7",
                "--role",
                "call_pad",
                "--counter",
                "7",
                "--dir",
                d,
                "--hub-config",
                str(hub_toml),
            ]
        )
        == 2
    )
    assert hub_toml.read_text() == before
    assert not (tmp_path / "broker" / "devices" / "pad-7.json").exists()
    assert main(["devices", "remove", "pad-1", "--dir", d, "--hub-config", str(hub_toml)]) == 0
    assert [x.id for x in load_config(hub_toml).devices] == ["kiosk-1"]
    assert main(["devices", "list", "--dir", d]) == 0
    assert "kiosk-1" in capsys.readouterr().out
