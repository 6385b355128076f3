"""Where every change is kept: an append-only event log in one SQLite file (WAL).

The hub commits a command's events here *before* it publishes any effect or response, with
`synchronous=FULL`, so an accepted ticket survives a crash or a power cut. The response to a
request with a `transaction` is stored in the same SQLite transaction: a resend after a crash
gets the first answer back and changes nothing.

Start-up reads only the current working day (`events.day` is indexed), so it does not grow
with months of history.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from hub.queue import Event

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq    INTEGER PRIMARY KEY,
    day    TEXT NOT NULL,
    at     TEXT NOT NULL,
    type   TEXT NOT NULL,
    actor  TEXT NOT NULL,
    reason TEXT,
    data   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_day ON events(day, seq);
CREATE TABLE IF NOT EXISTS transactions (
    sender      TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    day         TEXT NOT NULL,
    command     TEXT NOT NULL,
    response    TEXT NOT NULL,
    PRIMARY KEY (sender, transaction_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class StorageError(RuntimeError):
    """The log could not be written (disk full, read-only, locked): nothing was accepted."""


class EventStore:
    """The event log and the idempotency table, on one SQLite connection."""

    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous}")
        self.db.execute("PRAGMA busy_timeout=2000")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def append(
        self,
        events: Iterable[Event],
        *,
        transactions: Iterable[tuple[str, str, str, dict[str, Any]]] = (),
    ) -> list[int]:
        """Commit `events` (and the responses of `transactions`) atomically; their sequence numbers.

        Each transaction is (sender, transaction id, command, response). Raises StorageError and
        commits nothing when SQLite cannot write.
        """
        seqs: list[int] = []
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                day = ""
                for e in events:
                    day = e.day
                    cur = self.db.execute(
                        "INSERT INTO events(day, at, type, actor, reason, data) VALUES (?,?,?,?,?,?)",
                        (e.day, e.at.isoformat(), e.type, e.actor, e.reason,
                         json.dumps(dict(e.data), ensure_ascii=False)),
                    )  # fmt: skip
                    seqs.append(int(cur.lastrowid or 0))
                for sender, txn, command, resp in transactions:
                    self.db.execute(
                        "INSERT OR IGNORE INTO transactions VALUES (?,?,?,?,?)",
                        (sender, txn, day, command, json.dumps(resp, ensure_ascii=False)),
                    )
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc
        return seqs

    def transaction_response(self, sender: str, txn: str) -> dict[str, Any] | None:
        """The stored response of an earlier request with this transaction id, if any."""
        row = self.db.execute(
            "SELECT response FROM transactions WHERE sender=? AND transaction_id=?", (sender, txn)
        ).fetchone()
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

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        try:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM events").fetchone()[0])
