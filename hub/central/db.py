"""The centre's PostgreSQL schema: its version, and the numbered steps that bring it up.

Like the office's `antrian.migrations`: `STEPS` are numbered from 1, a database at version N
has had steps 1..N, each step runs in one transaction with the new version written in the same
transaction (a failed step leaves the database at the last step that committed), and a
database newer than this code is refused before anything is written. A released step never
changes: a new column or table is a new step at the end.

`events` is keyed (office, seq): `seq` is the office's own event number, so a message received
twice (QoS 1 redelivery, a resend overlapping what arrived) inserts nothing the second time.
"""

from __future__ import annotations

import logging
from typing import Final

import psycopg

log = logging.getLogger("antrian.central.db")

STEPS: Final[tuple[str, ...]] = (
    # 1: the offices' events, the offices, their live (retained) state, the regency's accounts
    """
    CREATE TABLE events (
        office text NOT NULL,
        seq bigint NOT NULL,
        day date NOT NULL,
        at timestamptz NOT NULL,
        type text NOT NULL,
        actor text NOT NULL,
        reason text,
        data jsonb NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (office, seq)
    );
    CREATE INDEX events_office_day ON events (office, day);
    CREATE TABLE offices (
        slug text PRIMARY KEY,
        name text,
        head_seq bigint,
        head_at timestamptz,
        last_event_at timestamptz,
        last_seen timestamptz
    );
    CREATE TABLE live_state (
        office text NOT NULL,
        topic text NOT NULL,
        payload jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (office, topic)
    );
    CREATE TABLE central_users (
        name text PRIMARY KEY,
        password text NOT NULL,
        created timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE central_sessions (
        id_hash text PRIMARY KEY,
        name text NOT NULL REFERENCES central_users (name) ON DELETE CASCADE,
        expires timestamptz NOT NULL
    );
    """,
)


class CentralSchemaError(RuntimeError):
    """The database is newer than this code, or a step failed."""


def version(conn: psycopg.Connection) -> int:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def upgrade(conn: psycopg.Connection) -> int:
    """Bring the database at `conn` to `len(STEPS)`; returns the version it was at.

    Two centres starting at once on a new database: the advisory lock makes the second wait
    for the first and then find nothing to do."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(180018)")
        found = version(conn)
    if found > len(STEPS):
        raise CentralSchemaError(
            f"the database is at schema version {found}, this release knows {len(STEPS)}: "
            "use the newer release (or a backup made by this one)"
        )
    for number in range(found + 1, len(STEPS) + 1):
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(180018)")
                if version(conn) >= number:
                    continue
                conn.execute(STEPS[number - 1].encode())
                conn.execute("INSERT INTO schema_version VALUES (%s)", (number,))
        except psycopg.Error as exc:
            raise CentralSchemaError(f"schema step {number} failed: {exc}") from exc
        log.info("central database: schema step %d applied", number)
    return found


def connect(dsn: str) -> psycopg.Connection:
    """A connection (autocommit: every write is in an explicit transaction) with the schema up."""
    conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
    upgrade(conn)
    return conn
