"""Backups and restore on real SQLite files, real processes and the real hub.

A backup killed in the middle (kill -9) leaves the last good backup as it was and no part file
taken for a backup; rotation keeps the newest days; a restore checks the backup first, refuses
while a hub runs on the database, when the backup is damaged, when its log does not replay,
when it belongs to another office or to a newer release, and the hub starts on a restored
backup with that day's queue. The hub's own daily backup follows its clock (a controlled one
here): once a day at the configured time, at start when the newest is over a day old.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from antrian.backup.extension import Backups
from antrian.backup.files import (
    BackupError,
    check_backup,
    latest_backup,
    list_backups,
    make_backup,
    restore,
)
from antrian.config import parse_config
from antrian.contract import Topics
from antrian.core import HubCore, Origin
from antrian.migrations import CURRENT
from antrian.store import EventStore
from tests.kit import MORNING, Clock, HubProcess, InProcessHub, Mosquitto, Probe
from tests.kit.hubs import is_online
from tests.kit.office import ALL_DAY, kiosk, office
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
        # killed mid-copy: its half file is still there, and it is no backup
        assert parts[0].exists()
        assert parts[0].stat().st_size < good.stat().st_size
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
    hub = HubProcess(broker, office(kiosk(), backup={"folder": str(usb)}, office=ALL_DAY), tmp_path / "hub")
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
        with sqlite3.connect(f"file:{backup.path}?mode=ro", uri=True) as made_by_hub:
            assert made_by_hub.execute("SELECT value FROM meta WHERE key = 'office'").fetchone() == (
                "kantor",
            )
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


# ---------------------------------------------------------------------------------------------
# restore refusals: a log that does not replay, another office, a newer release
# ---------------------------------------------------------------------------------------------

OFFICE = office(kiosk(), office=ALL_DAY)


def office_database(path: Path, slug: str = "kantor") -> None:
    """A database of the hub's own making: three tickets of 2026-11-30, one called."""
    cfg = parse_config(office(kiosk(), office=dict(ALL_DAY, slug=slug)))
    store = EventStore(path)
    store.set_meta("office", slug)
    core = HubCore(cfg, store, clock=Clock(MORNING))
    for _ in range(3):
        core.handle(Origin("kiosk-1"), "take_ticket", b'{"service": "A"}')
    core.handle(Origin(None), "call_next", json.dumps({"counter": 1}).encode())
    store.close()


def refused_restore(tmp_path: Path, backup: Path) -> str:
    """Restore `backup` over the office's database by the command; check that nothing changed
    and return what the command said."""
    db = tmp_path / "antrian.db"
    if not db.exists():
        office_database(db)
    before = digest(db)
    (tmp_path / "antrian.toml").write_text('database = "antrian.db"\n')
    result = antrian_cli("restore", "-c", "antrian.toml", str(backup), cwd=tmp_path)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert "Database sekarang tidak diubah" in result.stderr
    assert digest(db) == before
    assert not list(tmp_path.glob("*.before-restore-*"))
    assert not list(tmp_path.glob(".*restore*")), "the checked copy is removed"
    return result.stderr


def edited_backup(tmp_path: Path, sql: str, slug: str = "kantor") -> Path:
    """A real backup of a real office database, then changed by `sql` (as damage would)."""
    source = tmp_path / "source" / "antrian.db"
    source.parent.mkdir()
    office_database(source, slug)
    backup = make_backup(source, tmp_path / "usb", DAY)
    with closing(sqlite3.connect(backup, isolation_level=None)) as db:
        db.executescript(sql)
    return backup


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE events SET data = '{\"ticket\": \"A-0' WHERE type = 'ticket_called'",
        "UPDATE events SET data = replace(data, '\"A-001\"', '\"A-404\"') WHERE type = 'ticket_called'",
        "UPDATE events SET at = 'kemarin' WHERE seq = 2",
    ],
    ids=["cut-json", "unknown-ticket", "bad-time"],
)
def test_a_backup_whose_log_does_not_replay_is_refused(tmp_path: Path, damage: str) -> None:
    backup = edited_backup(tmp_path, damage)
    assert check_backup(parse_config(OFFICE), backup), "check_backup sees it too"
    said = refused_restore(tmp_path, backup)
    assert "tidak bisa diputar ulang (hari 2026-11-30" in said
    assert str(backup) in said


def test_a_backup_of_another_office_is_refused(tmp_path: Path) -> None:
    backup = edited_backup(tmp_path, "", slug="grati")
    said = refused_restore(tmp_path, backup)
    assert "milik kantor 'grati', bukan 'kantor'" in said


def test_a_backup_of_a_newer_release_is_refused(tmp_path: Path) -> None:
    backup = edited_backup(tmp_path, f"PRAGMA user_version = {CURRENT + 1}")
    said = refused_restore(tmp_path, backup)
    assert "dibuat oleh versi antrian yang lebih baru" in said


def test_a_sound_backup_of_an_older_release_restores_and_the_hub_migrates_it(tmp_path: Path) -> None:
    backup = edited_backup(tmp_path, "PRAGMA user_version = 0")
    assert check_backup(parse_config(OFFICE), backup) == []
    db = tmp_path / "antrian.db"
    office_database(db)
    (tmp_path / "antrian.toml").write_text('database = "antrian.db"\n')
    done = antrian_cli("restore", "-c", "antrian.toml", str(backup), cwd=tmp_path)
    assert done.returncode == 0, done
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as restored:
        assert restored.execute("PRAGMA user_version").fetchone() == (0,)
    store = EventStore(db)
    core = HubCore(parse_config(OFFICE), store, clock=Clock(MORNING))
    assert {c: t.state for c, t in core.state.tickets.items()} == {
        "A-001": "called",
        "A-002": "waiting",
        "A-003": "waiting",
    }
    store.close()
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as restored:
        assert restored.execute("PRAGMA user_version").fetchone() == (CURRENT,)


# ---------------------------------------------------------------------------------------------
# what `antrian doctor` reads: the newest backup, its age, whether it restores
# ---------------------------------------------------------------------------------------------


def test_latest_backup_names_the_newest_with_its_age_and_check_backup_its_problems(tmp_path: Path) -> None:
    db = tmp_path / "antrian.db"
    office_database(db)
    cfg = parse_config(dict(OFFICE, database=str(db)))
    assert latest_backup(cfg) is None
    folder = tmp_path / "backup"  # the default: beside the database
    for n, day in enumerate((DAY - timedelta(days=1), DAY)):
        made = make_backup(db, folder, day)
        stamp = datetime(2026, 11, 29 + n, 9, 30, tzinfo=UTC).timestamp()
        os.utime(made, (stamp, stamp))
    newest = latest_backup(cfg, now=datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    assert newest is not None
    assert (newest.path.name, newest.day, newest.age) == ("antrian-2026-11-30.db", DAY, timedelta(days=1))
    assert newest.size == newest.path.stat().st_size
    assert check_backup(cfg, newest.path) == []
    assert check_backup(cfg, folder / "nothing.db", "en") == [
        f"Backup file {folder / 'nothing.db'} does not exist."
    ]
    with closing(sqlite3.connect(newest.path, isolation_level=None)) as bad:
        bad.execute("UPDATE events SET data = 'x' WHERE seq = 2")
    (problem,) = check_backup(cfg, newest.path, "en")
    assert "does not replay (day 2026-11-30" in problem


# ---------------------------------------------------------------------------------------------
# the hub's daily backup, on a controlled clock
# ---------------------------------------------------------------------------------------------

#: 16.31 WIB: a minute after the configured backup time.
AFTER_BACKUP_TIME = MORNING + timedelta(hours=8, minutes=31)


def backups_of(hub: InProcessHub) -> Backups:
    part = hub.service.extension("backup")
    assert isinstance(part, Backups)
    return part


def settled(hub: InProcessHub) -> None:
    """Wait until the backup the hub is making, if any, is finished."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        task = hub.call(lambda: backups_of(hub)._task)
        if task is None or hub.call(task.done):
            return
        time.sleep(0.02)
    raise AssertionError("the hub's backup did not finish")


def tick(hub: InProcessHub, clock: Clock, now: datetime) -> None:
    """Move the hub's clock and run one tick of the hub, as its ticker does every few seconds."""
    clock.now = now
    hub.call(lambda: hub.service.publish(hub.core.tick()))
    settled(hub)


def made_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def test_the_hub_backs_up_once_a_day_at_the_configured_time_and_keeps_the_newest(
    broker: Mosquitto, tmp_path: Path
) -> None:
    usb = tmp_path / "usb"
    clock = Clock(MORNING)
    config = office(kiosk(), office=ALL_DAY, backup={"folder": str(usb), "keep_days": 2, "time": "16:30"})
    hub = InProcessHub(broker, tmp_path / "hub", config, clock=clock).start()
    try:
        settled(hub)
        # no backup yet: one at start
        (first,) = list_backups(hub.cfg.database, usb)
        assert first.day == DAY
        assert made_at(first.path) == MORNING
        tick(hub, clock, MORNING + timedelta(hours=4))
        assert made_at(first.path) == MORNING, "nothing before the backup time"
        tick(hub, clock, AFTER_BACKUP_TIME)
        assert made_at(first.path) == AFTER_BACKUP_TIME, "the day's backup at 16.30"
        tick(hub, clock, AFTER_BACKUP_TIME + timedelta(minutes=40))
        assert made_at(first.path) == AFTER_BACKUP_TIME, "once a day"
        assert len(list_backups(hub.cfg.database, usb)) == 1
        for days in (1, 2, 3):
            tick(hub, clock, MORNING + timedelta(days=days, hours=2))
            tick(hub, clock, AFTER_BACKUP_TIME + timedelta(days=days))
        kept = list_backups(hub.cfg.database, usb)
        assert [b.day for b in kept] == [DAY + timedelta(days=2), DAY + timedelta(days=3)]
        assert [made_at(b.path) for b in kept] == [AFTER_BACKUP_TIME + timedelta(days=d) for d in (2, 3)]
        assert not list(usb.glob(".*.part-*"))
    finally:
        hub.stop()


@pytest.mark.parametrize(("age_hours", "backs_up"), [(30, True), (10, False)])
def test_the_hub_backs_up_at_start_when_the_newest_backup_is_over_a_day_old(
    broker: Mosquitto, tmp_path: Path, age_hours: int, backs_up: bool
) -> None:
    usb = tmp_path / "usb"
    workdir = tmp_path / "hub"
    workdir.mkdir()
    office_database(workdir / "antrian.db")
    old = make_backup(workdir / "antrian.db", usb, DAY - timedelta(days=1))
    stamp = (MORNING - timedelta(hours=age_hours)).timestamp()
    os.utime(old, (stamp, stamp))
    clock = Clock(MORNING)
    config = office(kiosk(), office=ALL_DAY, backup={"folder": str(usb), "time": "16:30"})
    hub = InProcessHub(broker, workdir, config, clock=clock).start()
    try:
        settled(hub)
        days = [b.day for b in list_backups(hub.cfg.database, usb)]
        assert days == ([DAY - timedelta(days=1), DAY] if backs_up else [DAY - timedelta(days=1)])
        tick(hub, clock, MORNING + timedelta(hours=1))
        assert len(list_backups(hub.cfg.database, usb)) == len(days), "not again at the next tick"
    finally:
        hub.stop()
