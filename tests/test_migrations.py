"""Schema versions and migrations, on real SQLite files and the real hub.

`tests/fixtures/release-0.1.0.db` was written by release 0.1.0 (before schema versions): the
hub's own code issued A-001..A-003 and a priority B-001 on 2026-11-30 from kiosk-1, counter 1
called B-001 then A-001 (so B-001 is done, A-001 is being served, A-002 and A-003 wait), an
admin account `ani` was added, and the notification and survey tables were made. The new code
must take it over with the day's queue as it was, after a backup of it. A newer database is
refused untouched; a step that fails, or a power cut (kill -9) inside one, leaves the database
at the step before.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from antrian import migrations
from antrian.config import parse_config
from antrian.core import HubCore, Origin
from antrian.migrations import CURRENT, STEPS, MigrationFailed, SchemaTooNew, Step
from antrian.store import EventStore
from antrian.web.accounts import Accounts
from tests.kit import MORNING, Clock, HubProcess, Mosquitto
from tests.kit.office import ALL_DAY, call_pad, kiosk, office
from tests.kit.process import antrian_cli

RELEASE_0_1_0 = Path(__file__).parent / "fixtures" / "release-0.1.0.db"
CFG = parse_config(office(kiosk(), call_pad()))
#: The fixture's day, an hour after its last call.
LATER = MORNING + timedelta(hours=1)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def release_db(tmp_path: Path) -> Path:
    path = tmp_path / "antrian.db"
    shutil.copyfile(RELEASE_0_1_0, path)
    return path


def user_version(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def request(core: HubCore, device: str, command: str, body: dict[str, Any]) -> dict[str, Any]:
    out = core.handle(Origin(device), command, json.dumps(body).encode())
    answer = json.loads(out[0].payload)
    assert isinstance(answer, dict)
    return answer


def test_the_fixture_is_a_database_of_release_0_1_0() -> None:
    with sqlite3.connect(f"file:{RELEASE_0_1_0}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"events", "transactions", "meta", "web_users", "notify_outbox", "survey_responses"} <= tables
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 8


def test_a_release_0_1_0_database_is_migrated_and_keeps_todays_queue(tmp_path: Path) -> None:
    path = release_db(tmp_path)
    folder = tmp_path / "usb"
    store = EventStore(path, backup_folder=folder)
    core = HubCore(CFG, store, clock=Clock(LATER))
    states = {code: t.state for code, t in core.state.tickets.items()}
    assert states == {"A-001": "called", "A-002": "waiting", "A-003": "waiting", "B-001": "done"}
    assert core.state.counters[1].serving == "A-001"
    # the numbers go on, and a kiosk's resend of its first press still gets its first answer
    assert request(core, "kiosk-1", "take_ticket", {"service": "A"})["data"]["ticket"] == "A-004"
    again = request(core, "kiosk-1", "take_ticket", {"service": "A", "transaction": "k-0"})
    assert again["data"]["ticket"] == "A-001"
    assert request(core, "pad-1", "call_next", {})["data"]["serving"] == "A-002"
    # the admin account made by the old release still logs in; it is bound to no counter
    user = Accounts(store.db).check("ani", "kata-sandi-ani-2026")
    assert user is not None
    assert user.counters == ()
    store.close()
    assert user_version(path) == CURRENT
    # the backup made before the upgrade is the old database, version 0, with its 8 events
    (before,) = folder.glob("antrian-before-upgrade-v0-v*.db")
    assert before.name.startswith(f"antrian-before-upgrade-v0-v{CURRENT}-")
    with sqlite3.connect(f"file:{before}?mode=ro", uri=True) as old:
        assert old.execute("PRAGMA user_version").fetchone()[0] == 0
        assert old.execute("SELECT count(*) FROM events").fetchone()[0] == 8


def test_migrating_twice_does_nothing_more(tmp_path: Path) -> None:
    path = release_db(tmp_path)
    EventStore(path, backup_folder=tmp_path / "backup").close()
    migrated = digest(path)
    with sqlite3.connect(path, isolation_level=None) as db:
        assert migrations.upgrade(db) == []
    store = EventStore(path, backup_folder=tmp_path / "backup")
    store.close()
    assert digest(path) == migrated
    assert len(list((tmp_path / "backup").iterdir())) == 1, "no second backup"


def test_a_new_database_gets_every_step_and_no_backup(tmp_path: Path) -> None:
    path = tmp_path / "new" / "antrian.db"
    EventStore(path, backup_folder=tmp_path / "backup").close()
    assert user_version(path) == CURRENT
    assert not (tmp_path / "backup").exists()
    assert not (path.parent / "backup").exists()


def test_a_database_with_bookings_gains_the_booking_quotas_and_keeps_its_bookings(tmp_path: Path) -> None:
    """Step 8 on a database the release with bookings (step 7) left: the quotas table is
    added empty, the bookings stay, and the table refuses a quota out of its bounds."""
    path = release_db(tmp_path)
    seven = STEPS[:7]
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        migrations.upgrade(db, steps=seven)
        db.execute(
            "INSERT INTO bookings(code, day, service, slot_start, slot_end, state, booked_at) VALUES"
            " ('K7MX4Q', '2026-12-01', 'A', '2026-12-01T08:00:00+07:00', '2026-12-01T08:30:00+07:00',"
            " 'booked', '2026-11-30T10:00:00+07:00')"
        )
    assert user_version(path) == 7
    EventStore(path, backup_folder=tmp_path / "backup").close()
    assert user_version(path) == CURRENT
    assert len(list((tmp_path / "backup").glob(f"antrian-before-upgrade-v7-v{CURRENT}-*.db"))) == 1
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        assert db.execute("SELECT code, state FROM bookings").fetchall() == [("K7MX4Q", "booked")]
        assert db.execute("SELECT count(*) FROM booking_quotas").fetchone() == (0,)
        db.execute("INSERT INTO booking_quotas VALUES ('2026-12-01', 'A', 0)")
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("INSERT INTO booking_quotas VALUES ('2026-12-02', 'A', -1)")
        with pytest.raises(sqlite3.IntegrityError):  # one quota a service a day
            db.execute("INSERT INTO booking_quotas VALUES ('2026-12-01', 'A', 3)")


def newer(tmp_path: Path) -> Path:
    """The release database as a release after this code would leave it (closed, checkpointed)."""
    path = release_db(tmp_path)
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA user_version = {CURRENT + 1}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["antrian.db"]
    return path


def test_a_database_newer_than_the_code_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = newer(tmp_path)
    before = digest(path)
    with pytest.raises(SchemaTooNew) as refused:
        EventStore(path, backup_folder=tmp_path / "backup")
    assert refused.value.params["found"] == CURRENT + 1
    assert "versi antrian yang lebih baru" in str(refused.value)
    assert "restore a backup made by this release" in str(refused.value)
    assert digest(path) == before
    assert not (tmp_path / "backup").exists()
    # the parts' own tables refuse it too, without writing
    with closing(sqlite3.connect(path, isolation_level=None)) as db, pytest.raises(SchemaTooNew):
        Accounts(db)
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["antrian.db"]


def test_the_hub_refuses_a_newer_database_with_its_own_exit_status(tmp_path: Path) -> None:
    path = newer(tmp_path)
    before = digest(path)
    (tmp_path / "antrian.toml").write_text('database = "antrian.db"\n[mqtt]\nport = 1\n')
    ran = antrian_cli("run", "-c", "antrian.toml", cwd=tmp_path)
    assert ran.returncode == migrations.EXIT_SCHEMA, ran
    assert "dibuat oleh versi antrian yang lebih baru" in ran.stderr
    assert "Traceback" not in ran.stderr
    assert digest(path) == before
    queue = antrian_cli("queue", "-c", "antrian.toml", cwd=tmp_path)
    assert queue.returncode == migrations.EXIT_SCHEMA, queue
    assert digest(path) == before


def create_later(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE later (x)")


def broken_step(number: int) -> Step:
    def apply(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        db.execute("INSERT INTO no_such_table VALUES (1)")

    return Step(number, "a step that fails half-way", apply)


def test_a_failing_step_is_rolled_back_and_named(tmp_path: Path) -> None:
    path = release_db(tmp_path)
    EventStore(path).close()
    migrated = digest(path)
    steps = (*STEPS, broken_step(CURRENT + 1))
    with sqlite3.connect(path, isolation_level=None) as db:
        with pytest.raises(MigrationFailed) as failed:
            migrations.upgrade(db, steps=steps)
        assert failed.value.params["step"] == CURRENT + 1
        assert "a step that fails half-way" in str(failed.value)
        assert "no_such_table" in str(failed.value)
        assert migrations.version(db) == CURRENT
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchall() == []
    # the backup before it was made; the database itself is as it was
    backups = list((tmp_path / "backup").glob(f"antrian-before-upgrade-v{CURRENT}-v{CURRENT + 1}-*.db"))
    assert len(backups) == 1
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert digest(path) == migrated


def test_steps_before_a_failing_one_stay_done(tmp_path: Path) -> None:
    path = release_db(tmp_path)
    good = Step(CURRENT + 1, "a good step", create_later)
    with sqlite3.connect(path, isolation_level=None) as db:
        with pytest.raises(MigrationFailed):
            migrations.upgrade(db, steps=(*STEPS, good, broken_step(CURRENT + 2)))
        assert migrations.version(db) == CURRENT + 1
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'later'").fetchall() == [("later",)]


def test_a_database_from_before_day_scoped_transactions_keeps_its_answers(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the layout of the first releases, with a day's events
        db.executescript(
            "CREATE TABLE events (seq INTEGER PRIMARY KEY, day TEXT NOT NULL, at TEXT NOT NULL,"
            " type TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT, data TEXT NOT NULL);"
            "CREATE TABLE transactions (sender TEXT NOT NULL, transaction_id TEXT NOT NULL,"
            " day TEXT NOT NULL, command TEXT NOT NULL, response TEXT NOT NULL,"
            " PRIMARY KEY (sender, transaction_id)) WITHOUT ROWID;"
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        )
        day_started = {"previous_day": None, "expired": []}
        issued = {
            "ticket": "A-001",
            "service": "A",
            "number": 1,
            "priority": False,
            "token": "t1",
            "order": 1,
        }
        db.executemany(
            "INSERT INTO events(day, at, type, actor, data) VALUES ('2026-11-30', ?, ?, ?, ?)",
            [
                ("2026-11-30T01:02:00+00:00", "day_started", "system", json.dumps(day_started)),
                ("2026-11-30T01:02:00+00:00", "ticket_issued", "device:kiosk-1", json.dumps(issued)),
            ],
        )
        db.execute(
            "INSERT INTO transactions VALUES ('kiosk-1', 'k-0', '2026-11-30', 'take_ticket', ?)",
            (json.dumps({"status": "ok", "data": {"ticket": "A-001"}, "transaction": "k-0"}),),
        )
    store = EventStore(path)
    columns = [r[1] for r in store.db.execute("PRAGMA table_info(transactions)")]
    assert columns[:3] == ["sender", "day", "transaction_id"]
    core = HubCore(CFG, store, clock=Clock(LATER))
    assert request(core, "kiosk-1", "take_ticket", {"service": "A", "transaction": "k-0"})["data"] == {
        "ticket": "A-001"
    }
    assert request(core, "kiosk-1", "take_ticket", {"service": "A"})["data"]["ticket"] == "A-002"
    store.close()
    assert user_version(path) == CURRENT
    assert len(list((tmp_path / "backup").glob("old-before-upgrade-v0-*.db"))) == 1


def test_the_hub_process_migrates_a_release_database_and_logs_each_step(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """`antrian run` on the old file: each step in its log, the backup in [backup] folder."""
    workdir = tmp_path / "hub"
    workdir.mkdir()
    release_db(workdir)
    usb = tmp_path / "usb"
    hub = HubProcess(broker, office(kiosk(), office=ALL_DAY, backup={"folder": str(usb)}), workdir)
    try:
        hub.start_online()
        for step in STEPS:
            assert f"schema step {step.number} of {CURRENT} done: {step.name}" in hub.log()
    finally:
        hub.stop()
    assert user_version(hub.database) == CURRENT
    assert len(list(usb.glob("antrian-before-upgrade-v0-*.db"))) == 1


SLOW_STEP = """
import sqlite3, sys, time
from antrian import migrations

def slow(db):
    db.execute("CREATE TABLE later (x)")
    db.execute("INSERT INTO later VALUES (1)")
    print("inside the step", flush=True)
    time.sleep(120)

db = sqlite3.connect(sys.argv[1], isolation_level=None)
migrations.upgrade(db, steps=(*migrations.STEPS, migrations.Step(migrations.CURRENT + 1, "slow", slow)))
"""


def test_a_power_cut_inside_a_step_leaves_the_step_before_and_the_step_runs_again(tmp_path: Path) -> None:
    path = release_db(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_STEP, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "inside the step", proc.stderr
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        assert migrations.version(db) == CURRENT
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'later'").fetchall() == []
        assert db.execute("SELECT count(*) FROM events").fetchone() == (8,)
        again = Step(CURRENT + 1, "the same step, quick", create_later)
        assert migrations.upgrade(db, steps=(*STEPS, again)) == [again]
        assert migrations.version(db) == CURRENT + 1
