"""The schema of the office's database: its version, and the numbered steps that bring it up.

Every table of the hub lives in one SQLite file (the event log, the web accounts, the
notification outbox, the survey answers), so one version number covers them all: SQLite's
`PRAGMA user_version`, in the file's header. `STEPS` are numbered from 1; a database at version
N has had steps 1..N. Whoever opens the database for writing (`antrian.store.EventStore`, and
each part's tables class on its connection) calls `upgrade`, which:

- refuses a database NEWER than this code (`SchemaTooNew`) before touching anything: the old
  code cannot know what the newer tables mean, and guessing would damage them. Going back to an
  older release means restoring a backup that release made (the one `upgrade` made before it
  migrated, for instance);
- makes a backup of the database before the first step (`antrian.backup.files.backup_before_
  upgrade`), so that an upgrade can always be undone;
- runs each missing step in a transaction of its own (`BEGIN IMMEDIATE`), with the new version
  set in the same transaction: a power cut or a failing step leaves the database at the last
  step that committed, never half-way through one. A failing step is rolled back and raised
  (`MigrationFailed`, naming the step): the hub does not start on a schema it does not know.

Steps run on the database as every earlier release left it. A database made before versions
existed is at version 0 with some or all of the tables, so the early steps create what is
missing (`IF NOT EXISTS`) and fold in the two layout changes made before (the day-scoped
transactions, the counters of web accounts). A step, once released, never changes: a new
column or table is a new step at the end.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

log = logging.getLogger("antrian.migrations")

#: Exit status of a hub that refused its database's schema (too new, or a step failed). A
#: unit file names it in `RestartPreventExitStatus=`: trying again every two seconds helps
#: nobody and would make a backup each time.
EXIT_SCHEMA: Final = 4


#: How long a step waits for another process's write before it counts as failed.
BUSY_MS: Final = 30_000


class SchemaError(RuntimeError):
    """The database cannot be used by this code; `key` and `params` are the catalogue message.

    `str()` gives the message in Bahasa Indonesia, then in English, like `AnotherHub`: it is
    printed by a hub that does not start, where nobody chose a language yet.
    """

    exit_code: Final = EXIT_SCHEMA

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key, params)
        self.key = key
        self.params = params

    def text(self, lang: str) -> str:
        from antrian.i18n import t

        return t(self.key, lang, **self.params)

    def __str__(self) -> str:
        return f"{self.text('id')}\n{self.text('en')}"


class SchemaTooNew(SchemaError):
    """The database was written by a newer release (its version is past `CURRENT`)."""


class MigrationFailed(SchemaError):
    """A step could not run (rolled back), or the backup before the steps could not be made."""


@dataclass(frozen=True)
class Step:
    """Step `number` of the schema; `name` says what it does, for the log and the refusals."""

    number: int
    name: str
    apply: Callable[[sqlite3.Connection], None]


def _script(sql: str) -> Callable[[sqlite3.Connection], None]:
    """A step of plain SQL statements, run one by one inside the step's transaction.

    Not `executescript`: that commits first, and the step would no longer be one transaction.
    """
    statements: list[str] = []
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in a schema step: {pending.strip()[:60]}")

    def apply(db: sqlite3.Connection) -> None:
        for statement in statements:
            db.execute(statement)

    return apply


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in db.execute(f"PRAGMA table_info({table})")]


#: The responses of requests with a `transaction`, one per sender, working day and id.
_TRANSACTIONS: Final = """transactions (
    sender      TEXT NOT NULL,
    day         TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    command     TEXT NOT NULL,
    response    TEXT NOT NULL,
    PRIMARY KEY (sender, day, transaction_id)
) WITHOUT ROWID;"""

_EVENT_LOG: Final = f"""
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
CREATE TABLE IF NOT EXISTS {_TRANSACTIONS}
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

#: Databases written before transactions were scoped to the day had the key (sender,
#: transaction_id): a device that reused an id the next day got yesterday's ticket.
_DAY_SCOPED_TRANSACTIONS: Final = _script(
    """
ALTER TABLE transactions RENAME TO transactions_v1;
CREATE TABLE {transactions}
INSERT OR IGNORE INTO transactions SELECT sender, day, transaction_id, command, response
    FROM transactions_v1;
DROP TABLE transactions_v1;
""".replace("{transactions}", _TRANSACTIONS)
)


def _transactions_per_day(db: sqlite3.Connection) -> None:
    if _columns(db, "transactions")[:3] != ["sender", "day", "transaction_id"]:
        _DAY_SCOPED_TRANSACTIONS(db)


_WEB_ACCOUNTS: Final = """
CREATE TABLE IF NOT EXISTS web_users (
    name     TEXT PRIMARY KEY,
    role     TEXT NOT NULL,
    password TEXT NOT NULL,
    created  TEXT NOT NULL,
    counters TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS web_sessions (
    id_hash  TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    role     TEXT NOT NULL,
    expires  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS web_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS web_login_audit (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    kind     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    address  TEXT NOT NULL,
    failures INTEGER NOT NULL,
    minutes  INTEGER NOT NULL
);
"""


def _accounts_bound_to_counters(db: sqlite3.Connection) -> None:
    """Accounts made before officers were bound to counters have no `counters` column."""
    if "counters" not in _columns(db, "web_users"):
        db.execute("ALTER TABLE web_users ADD COLUMN counters TEXT NOT NULL DEFAULT ''")


_NOTIFICATIONS: Final = """
CREATE TABLE IF NOT EXISTS notify_contacts (
    day      TEXT NOT NULL,
    ticket   TEXT NOT NULL,
    sealed   BLOB NOT NULL,
    tag      TEXT NOT NULL,
    channel  TEXT NOT NULL,
    lang     TEXT NOT NULL,
    changes  INTEGER NOT NULL DEFAULT 1,
    created  TEXT NOT NULL,
    PRIMARY KEY (day, ticket)
);
CREATE INDEX IF NOT EXISTS notify_contacts_tag ON notify_contacts(day, tag);
CREATE TABLE IF NOT EXISTS notify_outbox (
    id         INTEGER PRIMARY KEY,
    day        TEXT NOT NULL,
    ticket     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    channel    TEXT NOT NULL,
    text       TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending',
    attempts   INTEGER NOT NULL DEFAULT 0,
    created    TEXT NOT NULL,
    next_at    TEXT NOT NULL,
    sent_at    TEXT,
    final_at   TEXT,
    ref        TEXT,
    last_error TEXT,
    UNIQUE (day, ticket, kind)
);
CREATE INDEX IF NOT EXISTS notify_outbox_due ON notify_outbox(state, next_at);
CREATE TABLE IF NOT EXISTS notify_monthly (
    month   TEXT NOT NULL,
    channel TEXT NOT NULL,
    sent    INTEGER NOT NULL DEFAULT 0,
    failed  INTEGER NOT NULL DEFAULT 0,
    dropped INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, channel)
);
"""

_SURVEY: Final = (
    "CREATE TABLE IF NOT EXISTS survey_responses (\n"
    "    id         BLOB PRIMARY KEY,\n"
    "    day        TEXT NOT NULL,\n"
    "    service    TEXT NOT NULL,\n"
    + "".join(f"    u{i} INTEGER NOT NULL CHECK (u{i} BETWEEN 1 AND 4),\n" for i in range(1, 10))
    + "    age        TEXT,\n"
    "    sex        TEXT,\n"
    "    education  TEXT,\n"
    "    occupation TEXT\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS survey_responses_day ON survey_responses(day, service);\n"
    "CREATE TABLE IF NOT EXISTS survey_answered (\n"
    "    day TEXT NOT NULL,\n"
    "    tag TEXT NOT NULL,\n"
    "    PRIMARY KEY (day, tag)\n"
    ") WITHOUT ROWID;\n"
)

_BOOKINGS: Final = (
    "CREATE TABLE IF NOT EXISTS bookings (\n"
    "    code TEXT PRIMARY KEY,\n"
    "    day TEXT NOT NULL,\n"
    "    service TEXT NOT NULL,\n"
    "    slot_start TEXT NOT NULL,\n"
    "    slot_end TEXT NOT NULL,\n"
    "    state TEXT NOT NULL CHECK (state IN ('booked', 'cancelled', 'checked_in')),\n"
    "    booked_at TEXT NOT NULL,\n"
    "    changed_at TEXT,\n"
    "    ticket TEXT,\n"
    "    rule TEXT\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS bookings_slot ON bookings(day, service, slot_start, state);\n"
)

#: The admin's quota of one service on one day (reservasi), over `[booking] quota`; 0 closes
#: that service's bookings that day.
_BOOKING_QUOTAS: Final = (
    "CREATE TABLE IF NOT EXISTS booking_quotas (\n"
    "    day TEXT NOT NULL,\n"
    "    service TEXT NOT NULL,\n"
    "    quota INTEGER NOT NULL CHECK (quota BETWEEN 0 AND 1000),\n"
    "    PRIMARY KEY (day, service)\n"
    ") WITHOUT ROWID;\n"
)

#: Every step, in order; `STEPS[n - 1].number == n`. Append only.
STEPS: Final[tuple[Step, ...]] = (
    Step(1, "event log, transactions and meta tables", _script(_EVENT_LOG)),
    Step(2, "transactions remembered per working day", _transactions_per_day),
    Step(3, "web page accounts, sessions and login audit", _script(_WEB_ACCOUNTS)),
    Step(4, "web accounts bound to counters", _accounts_bound_to_counters),
    Step(5, "notification contacts, outbox and monthly counts", _script(_NOTIFICATIONS)),
    Step(6, "satisfaction survey answers", _script(_SURVEY)),
    Step(7, "bookings for another day (reservasi)", _script(_BOOKINGS)),
    Step(8, "booking quotas per day and service", _script(_BOOKING_QUOTAS)),
)

#: The schema version this code writes and reads.
CURRENT: Final = len(STEPS)

#: Called with (database file, version found, version to reach) before the first step; makes
#: the backup that undoes the upgrade and returns its path (`antrian.backup.files`).
BeforeUpgrade = Callable[[Path, int, int], Path]


def version(db: sqlite3.Connection) -> int:
    """The schema version of the database on `db` (0: made before versions, or empty)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def check(db: sqlite3.Connection, supported: int = CURRENT) -> int:
    """The database's version, or SchemaTooNew when this code is older than the database.

    Reads only: call it before anything that could write (even `PRAGMA journal_mode`).
    """
    found = version(db)
    if found > supported:
        raise SchemaTooNew(
            "schema.too_new", path=_file_of(db) or ":memory:", found=found, supported=supported
        )
    return found


def _file_of(db: sqlite3.Connection) -> str:
    for _, name, file in db.execute("PRAGMA database_list"):
        if name == "main":
            return str(file or "")
    return ""


def _has_tables(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchone() is not None


def upgrade(
    db: sqlite3.Connection, *, before: BeforeUpgrade | None = None, steps: tuple[Step, ...] = STEPS
) -> list[Step]:
    """Bring the database on `db` to the last of `steps`; return the steps that ran here.

    `db` must be in autocommit mode (`isolation_level=None`), outside a transaction. `before`
    makes the backup of a database that has something to lose (a new, empty file needs none);
    without it the backup goes to `backup/` beside the database. `steps` is for tests (a step
    that fails); the hub always uses `STEPS`. Raises SchemaTooNew (nothing touched) or
    MigrationFailed (the failing step rolled back, the earlier ones kept).
    """
    target = len(steps)
    found = check(db, target)
    if found >= target:
        return []
    path = _file_of(db)
    if path and _has_tables(db):
        _backup(Path(path), found, target, before)
    # a writer of another process (`antrian users add` at the same moment) is waited for, not
    # taken for a failed step: a failed step stops the hub until someone looks
    waited = int(db.execute("PRAGMA busy_timeout").fetchone()[0])
    db.execute(f"PRAGMA busy_timeout = {max(waited, BUSY_MS)}")
    try:
        return _run(db, steps[found:], target, path)
    finally:
        db.execute(f"PRAGMA busy_timeout = {waited}")


def _run(db: sqlite3.Connection, steps: tuple[Step, ...], target: int, path: str) -> list[Step]:
    ran: list[Step] = []
    for step in steps:
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                now = check(db, target)  # another process may have migrated meanwhile
                if now >= step.number:
                    db.execute("COMMIT")
                    continue
                step.apply(db)
                db.execute(f"PRAGMA user_version = {step.number}")
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except SchemaTooNew:
            raise
        except Exception as exc:
            log.error("schema step %d (%s) failed and was rolled back: %s", step.number, step.name, exc)
            raise MigrationFailed(
                "schema.step_failed", path=path or ":memory:", step=step.number, name=step.name, error=exc
            ) from exc
        log.info("schema step %d of %d done: %s (%s)", step.number, target, step.name, path or ":memory:")
        ran.append(step)
    return ran


def _backup(database: Path, found: int, target: int, before: BeforeUpgrade | None) -> None:
    from antrian.backup.files import BackupError, backup_before_upgrade

    beside = database.resolve().parent / "backup"
    made: Path | None = None
    problems: list[str] = []
    if before is not None:
        try:
            made = before(database, found, target)
        except BackupError as exc:
            problems.append(str(exc.params.get("error", exc.key)))
    if made is None:  # no folder given, or it failed (a USB disk not mounted): beside the database
        try:
            made = backup_before_upgrade(database, beside, found, target)
        except BackupError as exc:
            problems.append(str(exc.params.get("error", exc.key)))
            raise MigrationFailed(
                "schema.backup_failed", path=database, folder=beside, error="; ".join(problems)
            ) from exc
    log.info("backup before schema upgrade %d -> %d: %s", found, target, made)
