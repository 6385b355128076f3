"""Backups and restore on real SQLite files, real processes and the real hub.

A backup killed in the middle (kill -9) leaves the last good backup as it was and no part file
taken for a backup; rotation keeps the newest days; a restore checks the backup first, refuses
while a hub runs on the database or when the backup is damaged, and the hub starts on a restored
backup with that day's queue.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from antrian.backup.files import BackupError, list_backups, make_backup, restore
from antrian.config import parse_config
from antrian.contract import Topics
from antrian.store import EventStore
from tests.kit import HubProcess, Mosquitto, Probe
from tests.kit.hubs import is_online
from tests.kit.office import kiosk, office
from tests.kit.process import antrian_cli

T = Topics("kantor")
DAY = date(2026, 11, 30)


def big_database(path: Path, pages: int = 3000) -> None:
    """A database of the hub's own schema, padded to about `pages` pages of 4 KiB."""
    store = EventStore(path)
    store.set_meta("office", "kantor")
    store.db.execute("CREATE TABLE pad(x)")
    store.db.execute(
        "INSERT INTO pad SELECT randomblob(4000) FROM"
        " (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c"
        f" WHERE i < {pages}) SELECT i FROM c)"
    )
    store.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


SLOW_BACKUP = """
import sys, time
from datetime import date
from pathlib import Path
from antrian.backup.files import make_backup
make_backup(sys.argv[1], Path(sys.argv[2]), date.fromisoformat(sys.argv[3]),
            step_pages=1, progress=lambda done, total: time.sleep(0.005))
"""


@pytest.mark.parametrize("same_day", [True, False], ids=["same-day", "next-day"])
def test_a_backup_killed_midway_leaves_the_last_good_backup_intact(tmp_path: Path, same_day: bool) -> None:
    db = tmp_path / "antrian.db"
    folder = tmp_path / "usb"
    big_database(db)
    good = make_backup(db, folder, DAY)
    before = digest(good)
    day = DAY if same_day else DAY + timedelta(days=1)
    proc = subprocess.Popen([sys.executable, "-c", SLOW_BACKUP, str(db), str(folder), day.isoformat()])
    try:
        deadline = time.monotonic() + 30
        parts: list[Path] = []
        while time.monotonic() < deadline and proc.poll() is None:
            parts = [p for p in folder.glob(".*.part-*") if p.stat().st_size > 0]
            if parts:
                break
            time.sleep(0.01)
        assert parts, "the slow backup never started writing"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert [b.path for b in list_backups(db, folder)] == [good]
    assert digest(good) == before
    with sqlite3.connect(f"file:{good}?mode=ro", uri=True) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # the next backup clears the half file the killed one left
    make_backup(db, folder, day)
    assert not list(folder.glob(".*.part-*"))


def test_rotation_keeps_the_newest_days(tmp_path: Path) -> None:
    db = tmp_path / "antrian.db"
    big_database(db, pages=10)
    folder = tmp_path / "backup"
    for n in range(5):
        make_backup(db, folder, DAY + timedelta(days=n), keep_days=3)
    (folder / "catatan.txt").write_text("not a backup")
    assert [b.day for b in list_backups(db, folder)] == [DAY + timedelta(days=n) for n in (2, 3, 4)]
    assert (folder / "catatan.txt").exists()


def test_a_damaged_backup_is_refused_and_the_database_is_untouched(tmp_path: Path) -> None:
    db = tmp_path / "antrian.db"
    big_database(db, pages=50)
    backup = make_backup(db, tmp_path / "backup", DAY)
    raw = bytearray(backup.read_bytes())
    raw[4096 * 2 : 4096 * 2 + 512] = b"\xff" * 512  # a page of the log overwritten
    backup.write_bytes(bytes(raw))
    (tmp_path / "antrian.toml").write_text(f'database = "{db}"\n')
    before = digest(db)
    with pytest.raises(BackupError) as refused:
        restore(parse_config({"database": str(db)}), backup)
    assert refused.value.key == "backup.damaged"
    result = antrian_cli("restore", "-c", "antrian.toml", str(backup), cwd=tmp_path)
    assert result.returncode == 2, result
    assert "rusak" in result.stderr
    assert digest(db) == before
    assert not list(tmp_path.glob("*.before-restore-*"))
    assert not list(tmp_path.glob(".*restore*")), "the checked copy is removed"


def take(probe: Probe) -> str:
    body = probe.request(
        T.device_request("kiosk-1", "take_ticket"),
        T.device_response("kiosk-1", "take_ticket"),
        {"service": "A"},
    )
    data = body["data"]
    assert isinstance(data, dict), body
    return str(data["ticket"])


def test_a_restored_backup_brings_back_its_queue_and_restore_waits_for_the_hub_to_stop(
    broker: Mosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTRIAN_STRICT_REPLAY", raising=False)
    usb = tmp_path / "usb"
    hub = HubProcess(broker, office(kiosk(), backup={"folder": str(usb)}), tmp_path / "hub")
    probe = Probe(broker)
    probe.subscribe(T.hub_state)
    probe.subscribe("antrian/kantor/device/+/response/#")
    try:
        hub.start_online()
        assert [take(probe), take(probe)] == ["A-001", "A-002"]
        # beside the running hub: the day's backup now, with the two tickets
        made = antrian_cli("backup", "-c", str(hub.config_path), cwd=tmp_path)
        assert made.returncode == 0, made
        (backup,) = list_backups(hub.database, usb)
        assert take(probe) == "A-003"

        refused = antrian_cli("restore", "-c", str(hub.config_path), str(backup.path), cwd=tmp_path)
        assert refused.returncode == 2, refused
        assert "hub sedang berjalan" in refused.stderr
        assert not list(hub.workdir.glob("*.before-restore-*"))

        hub.stop()
        done = antrian_cli("restore", "-c", str(hub.config_path), str(backup.path), cwd=tmp_path)
        assert done.returncode == 0, done
        (kept,) = hub.workdir.glob("antrian.db.before-restore-*")
        with sqlite3.connect(kept) as old:
            assert old.execute("SELECT count(*) FROM events WHERE type = 'ticket_issued'").fetchone()[0] == 3

        start = probe.mark()
        hub.start()
        probe.wait_for(T.hub_state, is_online, 20.0, start)
        assert take(probe) == "A-003"
        assert "INCONSISTENT" not in hub.log()
    finally:
        probe.close()
        hub.stop()


def test_the_hub_makes_todays_backup_at_start_when_it_is_missing(broker: Mosquitto, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    hub = HubProcess(broker, office(kiosk(), backup={"folder": str(usb), "keep_days": 2}), tmp_path / "hub")
    try:
        hub.start_online()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not list_backups(hub.database, usb):
            time.sleep(0.05)
        (made,) = list_backups(hub.database, usb)
        with sqlite3.connect(f"file:{made.path}?mode=ro", uri=True) as check:
            assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert check.execute("SELECT name FROM sqlite_master WHERE name = 'events'").fetchall() == [
                ("events",)
            ]
    finally:
        hub.stop()
