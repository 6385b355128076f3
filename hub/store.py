"""Where every change is kept: an append-only event log in one SQLite file (WAL).

The hub commits a command's events here *before* it publishes any effect or response, with
`synchronous=FULL`, so an accepted ticket survives a crash or a power cut. The response to a
request with a `transaction` is stored in the same SQLite transaction: a resend after a crash
gets the first answer back and changes nothing.

Start-up reads only the current working day (`events.day` is indexed), so it does not grow
with months of history. The tables, and the numbered steps that bring an older file up to
this code, are in `antrian.migrations`.

A transaction id is remembered per sender per working day: a device that reuses an id on
another day (a reset counter, a reflashed board) gets a new answer, not yesterday's ticket.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from antrian import migrations
from antrian.queue import Event

log = logging.getLogger("antrian.store")

#: Most events `events_by_seq` reads in one call (the regency link's resend bound).
MAX_SEQ_RANGE = 5000


class StorageError(RuntimeError):
    """The log could not be written (disk full, read-only, locked, damaged): nothing was accepted.

    `code` says which, for the error response: `storage_full` when the disk (or the database's
    size limit) is full, `storage_damaged` when SQLite finds the file corrupt, `storage_failed`
    for anything else.
    """

    def __init__(self, message: str, code: str = "storage_failed") -> None:
        super().__init__(message)
        self.code = code


def _storage_error(exc: sqlite3.Error) -> StorageError:
    """The StorageError for an SQLite error, with the code an officer can act on."""
    errcode = getattr(exc, "sqlite_errorcode", None)
    if errcode == sqlite3.SQLITE_FULL or "disk is full" in str(exc):
        return StorageError(str(exc), "storage_full")
    if errcode in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in str(exc):
        return StorageError(str(exc), "storage_damaged")
    return StorageError(str(exc))


def _backup_into(folder: Path | None) -> migrations.BeforeUpgrade | None:
    """The backup made before a schema upgrade, into the office's backup folder."""
    if folder is None:
        return None

    def before(database: Path, found: int, target: int) -> Path:
        from antrian.backup.files import backup_before_upgrade

        return backup_before_upgrade(database, folder, found, target)

    return before


class EventStore:
    """The event log and the idempotency table, on one SQLite connection."""

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "FULL",
        backup_folder: Path | None = None,
        read_only: bool = False,
    ) -> None:
        """Open (or create) the log at `path`, its schema brought to this code's version.

        A database newer than this code is refused (`antrian.migrations.SchemaTooNew`) before
        anything is written, even the journal mode; an older one is backed up (into
        `backup_folder`, else `backup/` beside it) and migrated (`antrian.migrations`).
        `read_only` opens a file as it is, for checking a backup: no migration, no write.
        """
        self.path = str(path)
        if read_only:
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._check_schema()
            return
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA busy_timeout=2000")
        self._check_schema()
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous}")
        try:
            migrations.upgrade(self.db, before=_backup_into(backup_folder))
        except BaseException:
            self.db.close()
            raise

    def _check_schema(self) -> None:
        try:
            migrations.check(self.db)
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    def append(
        self,
        events: Iterable[Event],
        *,
        transactions: Iterable[tuple[str, str, str, str, Mapping[str, Any]]] = (),
        writes: Iterable[tuple[str, tuple[Any, ...]]] = (),
    ) -> list[int]:
        """Commit `events` (and the responses of `transactions`) atomically; their sequence numbers.

        Each transaction is (sender, day, transaction id, command, response). `writes` are the
        statements the parts around the core add to the same commit (`antrian.bus.Committing`:
        a notification queued with the call that causes it). Raises StorageError and commits
        nothing when SQLite cannot write.
        """
        seqs: list[int] = []
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for e in events:
                    cur = self.db.execute(
                        "INSERT INTO events(day, at, type, actor, reason, data) VALUES (?,?,?,?,?,?)",
                        (
                            e.day,
                            e.at.isoformat(),
                            e.type,
                            e.actor,
                            e.reason,
                            json.dumps(dict(e.data), ensure_ascii=False),
                        ),
                    )
                    seqs.append(int(cur.lastrowid or 0))
                for sender, day, txn, command, resp in transactions:
                    self.db.execute(
                        "INSERT OR IGNORE INTO transactions VALUES (?,?,?,?,?)",
                        (sender, day, txn, command, json.dumps(resp, ensure_ascii=False)),
                    )
                for sql, params in writes:
                    self._write_apart(sql, params)
                self.db.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (disk full) may already have rolled back: rolling back again
                # would raise "no transaction is active" and hide the real cause.
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise _storage_error(exc) from exc
        return seqs

    def _write_apart(self, sql: str, params: tuple[Any, ...]) -> None:
        """One statement of a part around the core, inside the commit but under a savepoint:
        if it is wrong (a constraint, a bug), it alone is undone and logged, and the queue's
        events still commit. A full disk still fails the whole commit, as it must."""
        self.db.execute("SAVEPOINT part_write")
        try:
            self.db.execute(sql, params)
        except sqlite3.Error as exc:
            self.db.execute("ROLLBACK TO part_write")
            self.db.execute("RELEASE part_write")
            if _storage_error(exc).code != "storage_failed":
                raise
            log.error("a write added to the commit failed and was left out: %s (%s)", exc, sql[:60])
            return
        self.db.execute("RELEASE part_write")

    def transaction_response(self, sender: str, day: str, txn: str) -> dict[str, Any] | None:
        """The stored response of an earlier request of this sender and day with this id."""
        try:
            row = self.db.execute(
                "SELECT response FROM transactions WHERE sender=? AND day=? AND transaction_id=?",
                (sender, day, txn),
            ).fetchone()
        except sqlite3.Error as exc:
            raise _storage_error(exc) from exc
        return json.loads(row[0]) if row else None

    def last_day(self) -> str | None:
        row = self.db.execute("SELECT day FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return str(row[0]) if row else None

    def events_of_day(self, day: str) -> Iterator[Event]:
        """The events of one working day, in order (what start-up replays)."""
        cur = self.db.execute(
            "SELECT at, type, actor, reason, data FROM events WHERE day=? ORDER BY seq", (day,)
        )
        for at, type_, actor, reason, data in cur:
            yield Event(type_, datetime.fromisoformat(at), day, actor, json.loads(data), reason)

    def events_between(self, first_day: str, last_day: str) -> Iterator[tuple[int, Event]]:
        """Events of a period of days (inclusive), for reports and CSV export."""
        cur = self.db.execute(
            "SELECT seq, day, at, type, actor, reason, data FROM events "
            "WHERE day BETWEEN ? AND ? ORDER BY seq",
            (first_day, last_day),
        )
        for seq, day, at, type_, actor, reason, data in cur:
            yield seq, Event(type_, datetime.fromisoformat(at), day, actor, json.loads(data), reason)

    def head_seq(self) -> int:
        """The sequence number of the last committed event (0 for an empty log).

        `events.seq` grows by one per event and is never reused: it is the office's position
        in its own history, which the regency's copy is replicated by (`antrian.regency`)."""
        row = self.db.execute("SELECT max(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def events_by_seq(self, first: int, last: int) -> list[tuple[int, Event]]:
        """The events with `first <= seq <= last`, in order; at most `MAX_SEQ_RANGE` of them.

        Bounded on purpose: a resend asked over MQTT must never make the hub read (and hold)
        a month of its log at once. A wider or reversed range is a ValueError."""
        if first < 1 or last < first or last - first >= MAX_SEQ_RANGE:
            raise ValueError(f"seq range {first}..{last}: need 1 <= first <= last < first + {MAX_SEQ_RANGE}")
        cur = self.db.execute(
            "SELECT seq, day, at, type, actor, reason, data FROM events "
            "WHERE seq BETWEEN ? AND ? ORDER BY seq",
            (first, last),
        )
        return [
            (seq, Event(type_, datetime.fromisoformat(at), day, actor, json.loads(data), reason))
            for seq, day, at, type_, actor, reason, data in cur
        ]

    def meta(self, key: str) -> str | None:
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        except sqlite3.Error as exc:
            raise _storage_error(exc) from exc
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        try:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        except sqlite3.Error as exc:
            raise _storage_error(exc) from exc

    def integrity_problems(self, *, full: bool = False) -> list[str]:
        """What SQLite finds wrong with the file (`quick_check`, or `integrity_check` if `full`).

        Empty when the file is sound. Run at start-up: a damaged page outside today's events
        does not stop the queue, but the officer must hear of it before the backup is too old.
        """
        pragma = "integrity_check" if full else "quick_check"
        try:
            rows = [str(r[0]) for r in self.db.execute(f"PRAGMA {pragma}(100)")]
        except sqlite3.Error as exc:
            return [str(exc)]
        return [] if rows == ["ok"] else rows

    def days(self) -> list[str]:
        """Every working day that has events, oldest first (for `antrian log verify`)."""
        return [str(r[0]) for r in self.db.execute("SELECT DISTINCT day FROM events ORDER BY day")]

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM events").fetchone()[0])
