"""The hub as its own process on a real Mosquitto: bad input, kill -9, damaged and odd logs.

Only the MQTT contract and the command line are used here, as an office would see them.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from antrian.contract import Topics
from tests.kit import HubProcess, Mosquitto, Probe
from tests.kit.hubs import is_online
from tests.kit.office import call_pad, kiosk, led_board, office
from tests.kit.process import antrian_cli

T = Topics("kantor")
OFFICE = office(kiosk(), call_pad(), led_board())


def wait_online(probe: Probe, start: int = 0, timeout: float = 15.0) -> None:
    probe.wait_for(T.hub_state, is_online, timeout, start)


def ask(probe: Probe, device: str, command: str, body: dict, timeout: float = 5.0) -> dict:
    return probe.request(T.device_request(device, command), T.device_response(device, command), body, timeout)


@pytest.fixture
def hub(broker: Mosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # run as an office runs it: a log that does not replay is reported, not fatal
    monkeypatch.delenv("ANTRIAN_STRICT_REPLAY", raising=False)
    proc = HubProcess(broker, OFFICE, tmp_path)
    yield proc
    proc.stop()


@pytest.fixture
def probe(broker: Mosquitto):
    p = Probe(broker)
    for topic in (T.hub_state, T.hub_event, "antrian/kantor/device/+/response/#", "homeassistant/#"):
        p.subscribe(topic)
    yield p
    p.close()


def test_deep_json_between_tickets_leaves_no_phantom_and_the_hub_restarts(hub, probe, tmp_path):
    hub.start()
    wait_online(probe)
    taken = []
    for i in range(10):
        # a ticket and 1,000 `[` from the LED board, back to back: they share batches
        start = len(probe.messages)
        probe.client.publish(
            T.device_request("kiosk-1", "take_ticket"),
            json.dumps({"service": "A", "transaction": f"k-{i}"}),
            qos=1,
        )
        probe.client.publish(T.device_request("board-1", "sync"), b"[" * 1000, qos=1)
        raw = probe.wait_for(
            T.device_response("kiosk-1", "take_ticket"),
            lambda p, i=i: json.loads(p).get("transaction") == f"k-{i}",
            start=start,
        )
        taken.append(json.loads(raw)["data"]["ticket"])
        bad = json.loads(probe.wait_for(T.device_response("board-1", "sync"), start=start))
        assert bad["data"]["code"] == "invalid_payload"
    assert taken == [f"A-{n:03d}" for n in range(1, 11)]
    called = [ask(probe, "pad-1", "call_next", {})["data"]["ticket"] for _ in range(3)]
    assert called == ["A-001", "A-002", "A-003"]
    hub.kill()
    start = len(probe.messages)
    hub.start()
    wait_online(probe, start)
    assert ask(probe, "kiosk-1", "take_ticket", {"service": "A"})["data"]["ticket"] == "A-011"
    verify = antrian_cli("log", "verify", "-c", str(hub.config_path), cwd=tmp_path)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def _phantom_log(db: Path) -> None:
    """Today's log with a call of a ticket that was never issued (what the old hub wrote)."""
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 3600))
    con = sqlite3.connect(db)
    con.executescript(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, day TEXT NOT NULL, at TEXT NOT NULL,"
        " type TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT, data TEXT NOT NULL);"
    )
    at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    rows = [
        ("day_started", "system", {"previous_day": None, "expired": []}),
        (
            "ticket_called",
            "device:pad-1",
            {"ticket": "A-001", "counter": 1, "mode": "next", "as_priority": False},
        ),
    ]
    for type_, actor, data in rows:
        con.execute(
            "INSERT INTO events(day, at, type, actor, reason, data) VALUES (?,?,?,?,?,?)",
            (today, at, type_, actor, None, json.dumps(data)),
        )
    con.commit()
    con.close()


def test_a_log_that_does_not_replay_is_reported_and_the_hub_serves(hub, probe):
    _phantom_log(hub.database)
    hub.start()
    wait_online(probe)
    notice = json.loads(probe.wait_for(T.hub_event, lambda p: b"log_inconsistent" in p))
    assert notice["data"]["count"] == 1
    assert "A-001" in notice["data"]["problems"][0]
    assert ask(probe, "kiosk-1", "take_ticket", {"service": "A"})["data"]["ticket"] == "A-001"
    assert "EVENT LOG INCONSISTENT" in hub.log()


def _damage_old_pages(db: Path) -> None:
    """Overwrite the meta table's page and a page of last month's events with garbage."""
    con = sqlite3.connect(db)
    page = con.execute("PRAGMA page_size").fetchone()[0]
    meta_root = con.execute("SELECT rootpage FROM sqlite_master WHERE name='meta'").fetchone()[0]
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    with db.open("r+b") as f:
        for number in (meta_root, 12):
            f.seek((number - 1) * page)
            f.write(b"\xa5" * page)


def test_a_damaged_page_outside_today_is_told_and_the_hub_serves(hub, probe, tmp_path):
    hub.start()
    wait_online(probe)
    # last month: enough events for many pages, then today's first ticket
    con = sqlite3.connect(hub.database)
    con.executemany(
        "INSERT INTO events(day, at, type, actor, reason, data) VALUES (?,?,?,?,?,?)",
        [
            (
                "2026-10-01",
                "2026-10-01T01:00:00+00:00",
                "ticket_done",
                "device:pad-1",
                None,
                json.dumps({"ticket": "A-001", "counter": 1, "pad": "x" * 200}),
            )
            for _ in range(400)
        ],
    )
    con.commit()
    con.close()
    assert ask(probe, "kiosk-1", "take_ticket", {"service": "B"})["data"]["ticket"] == "B-001"
    hub.stop()
    _damage_old_pages(hub.database)
    start = len(probe.messages)
    hub.start()
    wait_online(probe, start)
    damaged = json.loads(probe.wait_for(T.hub_event, lambda p: b"storage_damaged" in p, start=start))
    assert damaged["data"]["hint"] == "antrian log verify"
    probe.wait_for("homeassistant/button/antrian_kantor/service_b_take/config", start=start)
    assert ask(probe, "kiosk-1", "take_ticket", {"service": "B"})["data"]["ticket"] == "B-002"
    assert "DATABASE DAMAGED" in hub.log()
    verify = antrian_cli("log", "verify", "-c", str(hub.config_path), cwd=tmp_path)
    assert verify.returncode == 1
    assert "RUSAK" in verify.stdout
