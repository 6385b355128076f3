"""Making, listing, rotating, checking and restoring backups of the office's SQLite database.

A backup is `{database stem}-{YYYY-MM-DD}.db` in the backup folder: one per day, the later
backup of a day replacing the earlier. It is written as `.{name}.part-{pid}` beside it, through
SQLite's backup API from a read transaction of its own (one consistent moment of the log, while
the hub goes on writing), switched to a rollback journal (one self-contained file), fsynced,
renamed, and the folder fsynced. A part file is never taken as a backup; one left by a killed
process is removed by the next backup.

A restore checks the backup on a copy beside the database (`PRAGMA integrity_check`, a schema
version this code knows, the office's slug, then every day of the log replayed by the hub's own
rules), keeps the current database as
`{database}.before-restore-{time}`, and only then renames the checked copy into place. It holds
the hub's lock (`antrian.lock.HubLock`) throughout: it refuses while a hub runs on the
database, and no hub can start in the middle of it. A backup of an older release is restored
as it is: the hub migrates it when it starts (`antrian.migrations`).

`latest_backup` and `check_backup` answer "the newest backup: where, how old, does it
restore?" for `antrian doctor`; `backup_before_upgrade` is the backup made before a schema
upgrade.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final

from antrian.config import Config
from antrian.lock import HubLock

#: Pages copied per step of the backup API (4 MiB of 4 KiB pages): the progress is reported
#: between steps.
STEP_PAGES: Final = 1024
#: Days of backups kept when the configuration does not say.
KEEP_DAYS: Final = 14

#: The `meta` key that names the office (its `[office] slug`) a database belongs to: a restore
#: refuses a backup of another office.
OFFICE_META: Final = "office"

#: (pages copied, pages in all), after each step.
Progress = Callable[[int, int], None]


class BackupError(Exception):
    """What stopped a backup or a restore: a catalogue key and its parameters."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key, params)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Backup:
    path: Path
    day: date


def default_folder(cfg: Config) -> Path:
    """Where backups go: `[backup] folder`, or `backup/` beside the database."""
    if cfg.backup.folder:
        return Path(cfg.backup.folder)
    return Path(cfg.database).resolve().parent / "backup"


def _stem(database: str | Path) -> str:
    return Path(database).stem or "antrian"


def backup_name(database: str | Path, day: date) -> str:
    return f"{_stem(database)}-{day.isoformat()}.db"


def list_backups(database: str | Path, folder: Path) -> list[Backup]:
    """The finished backups of `database` in `folder`, oldest first (part files are not)."""
    pattern = re.compile(rf"^{re.escape(_stem(database))}-(\d{{4}}-\d{{2}}-\d{{2}})\.db$")
    found: list[Backup] = []
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        m = pattern.match(path.name)
        if m and path.is_file():
            with contextlib.suppress(ValueError):
                found.append(Backup(path, date.fromisoformat(m.group(1))))
    return sorted(found, key=lambda b: b.day)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_parts(folder: Path) -> None:
    for path in folder.glob(".*.part-*"):
        pid = path.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or not _pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                path.unlink()


def make_backup(
    database: str | Path,
    folder: Path,
    day: date,
    *,
    keep_days: int = KEEP_DAYS,
    progress: Progress | None = None,
    step_pages: int = STEP_PAGES,
) -> Path:
    """Back `database` up into `folder` as the backup of `day`; return its path.

    Safe beside a running hub. The previous backups stay intact whatever happens before the
    final rename; after it, backups older than `keep_days` days are removed.
    """
    source = Path(database)
    final = _prepare(source, folder) / backup_name(source, day)
    _copy_online(source, final, progress=progress, step_pages=step_pages)
    rotate(source, folder, keep_days)
    return final


def backup_before_upgrade(
    database: str | Path, folder: Path, found: int, target: int, *, now: datetime | None = None
) -> Path:
    """The backup made before the schema steps `found`+1..`target` run (`antrian.migrations`).

    Named `{stem}-before-upgrade-v{found}-v{target}-{YYYYmmdd-HHMMSS}.db`: not a daily backup,
    so never rotated away; restoring it (with the release that made it) undoes the upgrade.
    """
    source = Path(database)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    final = _prepare(source, folder) / f"{_stem(source)}-before-upgrade-v{found}-v{target}-{stamp}.db"
    _copy_online(source, final, progress=None, step_pages=STEP_PAGES)
    return final


def _prepare(source: Path, folder: Path) -> Path:
    """Check that there is a database, make the folder, clear part files of killed backups."""
    if not source.is_file():
        raise BackupError("backup.no_database", path=source)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError("backup.cannot_write", path=folder, error=exc.strerror or exc) from exc
    _remove_stale_parts(folder)
    return folder


def _copy_online(source: Path, final: Path, *, progress: Progress | None, step_pages: int) -> None:
    """Copy `source` to `final` through a part file (see the module): all or nothing."""
    folder = final.parent
    part = folder / f".{final.name}.part-{os.getpid()}"
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, isolation_level=None)
        try:
            src.execute("PRAGMA busy_timeout=5000")
            # one read transaction across every step: one moment of the log, never restarted
            src.execute("BEGIN")
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
            dest = sqlite3.connect(part, isolation_level=None)
            try:

                def step(_status: int, remaining: int, total: int) -> None:
                    if progress is not None:
                        progress(total - remaining, total)

                src.backup(dest, pages=step_pages, progress=step)
                dest.execute("PRAGMA journal_mode=DELETE")
            finally:
                dest.close()
            src.execute("COMMIT")
        finally:
            src.close()
        with open(part, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(part, final)
        _fsync_dir(folder)
    except (OSError, sqlite3.Error) as exc:
        with contextlib.suppress(OSError):
            part.unlink()
        raise BackupError("backup.failed", path=final, error=getattr(exc, "strerror", None) or exc) from exc


def rotate(database: str | Path, folder: Path, keep_days: int) -> list[Path]:
    """Remove all but the newest `keep_days` backups of `database`; return what was removed."""
    backups = list_backups(database, folder)
    old = backups[: max(0, len(backups) - max(1, keep_days))]
    for b in old:
        with contextlib.suppress(OSError):
            b.path.unlink()
    return [b.path for b in old]


def check_copy(cfg: Config, path: Path) -> tuple[int, int]:
    """Check a backup (or a copy of one) as the hub would open it, without writing to it:
    SQLite's integrity check, the schema version (not newer than this code), the office it
    belongs to (`meta` `office`, written by every hub since it was kept), then every day of
    the log replayed. Returns (days, events); raises BackupError on the first problem."""
    from antrian.migrations import SchemaTooNew
    from antrian.queue import replay
    from antrian.store import EventStore, StorageError

    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = [str(r[0]) for r in db.execute("PRAGMA integrity_check(20)")]
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise BackupError("backup.damaged", path=path, problem=exc) from exc
    if rows != ["ok"]:
        raise BackupError("backup.damaged", path=path, problem="; ".join(rows[:3]))
    try:
        store = EventStore(path, read_only=True)
    except SchemaTooNew as exc:
        raise BackupError(
            "backup.too_new", path=path, found=exc.params["found"], supported=exc.params["supported"]
        ) from exc
    except (sqlite3.Error, StorageError) as exc:
        raise BackupError("backup.damaged", path=path, problem=exc) from exc
    try:
        office = store.meta(OFFICE_META)
        if office is not None and office != cfg.office.slug:
            raise BackupError("backup.other_office", path=path, office=office, expected=cfg.office.slug)
        days = store.days()
        for day in days:
            try:
                _, problems = replay(cfg, store.events_between(day, day))
            except (ValueError, TypeError, KeyError, AttributeError) as exc:  # a row that is no event
                problems = [f"{type(exc).__name__}: {exc}"]
            if problems:
                raise BackupError("backup.inconsistent", path=path, day=day, problem=problems[0])
        return len(days), store.count()
    except (sqlite3.Error, StorageError) as exc:
        raise BackupError("backup.damaged", path=path, problem=exc) from exc
    finally:
        store.close()


@dataclass(frozen=True)
class BackupInfo:
    """The newest daily backup, as `antrian doctor` reports it."""

    path: Path
    day: date
    #: When the file was written (its modification time), in the machine's local time.
    made: datetime
    age: timedelta
    size: int


def latest_backup(cfg: Config, *, now: datetime | None = None) -> BackupInfo | None:
    """The newest daily backup of the office's database in its backup folder, or None."""
    backups = list_backups(cfg.database, default_folder(cfg))
    if not backups:
        return None
    newest = backups[-1]
    stat = newest.path.stat()
    made = datetime.fromtimestamp(stat.st_mtime).astimezone()
    return BackupInfo(
        newest.path, newest.day, made, (now or datetime.now().astimezone()) - made, stat.st_size
    )


def check_backup(cfg: Config, path: Path, lang: str = "id") -> list[str]:
    """What is wrong with the backup at `path`, in `lang` (empty: it restores and replays).

    Reads the file only (no copy, no migration): safe on the backup folder of a running hub.
    """
    from antrian.i18n import t

    if not path.is_file():
        return [t("backup.no_file", lang, path=path)]
    try:
        check_copy(cfg, path)
    except BackupError as exc:
        return [t(exc.key, lang, **exc.params)]
    return []


@dataclass(frozen=True)
class Restored:
    database: Path
    kept: Path | None
    days: int
    events: int


def restore(cfg: Config, backup: Path, *, now: datetime | None = None) -> Restored:
    """Put `backup` in place of the office's database, after checking it (see the module)."""
    database = Path(cfg.database)
    try:
        with backup.open("rb"):  # run by root, this is the hub's user (`antrian.data_owner`)
            pass
    except FileNotFoundError:
        raise BackupError("backup.no_file", path=backup) from None
    except OSError as exc:
        import getpass

        user = getpass.getuser()
        raise BackupError("backup.unreadable", path=backup, user=user, error=exc.strerror) from None
    if not backup.is_file():
        raise BackupError("backup.no_file", path=backup)
    lock = HubLock(database)
    from antrian.lock import AnotherHub

    try:
        lock.acquire()
    except AnotherHub as exc:
        raise BackupError("backup.hub_running", path=database, lock=lock.path) from exc
    try:
        copy = database.parent / f".{database.name}.restore-{os.getpid()}"
        try:
            src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
            try:
                dest = sqlite3.connect(copy)
                try:
                    src.backup(dest)
                finally:
                    dest.close()
            finally:
                src.close()
        except sqlite3.Error as exc:
            with contextlib.suppress(OSError):
                copy.unlink()
            raise BackupError("backup.damaged", path=backup, problem=exc) from exc
        try:
            days, events = check_copy(cfg, copy)
            with open(copy, "rb+") as f:
                os.fsync(f.fileno())
        except BaseException as exc:
            for p in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
                with contextlib.suppress(OSError):
                    p.unlink()
            if isinstance(exc, BackupError):
                exc.params["path"] = backup  # the file the officer named, not the checked copy
            raise
        kept = _set_aside(database, now or datetime.now())
        os.replace(copy, database)
        _fsync_dir(database.parent)
        return Restored(database, kept, days, events)
    finally:
        lock.release()


def _set_aside(database: Path, now: datetime) -> Path | None:
    """Move the current database (with its WAL, checkpointed first) to `.before-restore-*`."""
    if not database.exists():
        return None
    with contextlib.suppress(sqlite3.Error):
        db = sqlite3.connect(database)
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()
    kept = database.with_name(f"{database.name}.before-restore-{now.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        current = Path(f"{database}{suffix}")
        if current.exists():
            os.replace(current, Path(f"{kept}{suffix}"))
    return kept
