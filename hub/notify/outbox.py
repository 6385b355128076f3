"""The durable outbox: who asked to be told, and every message, in the hub's own database.

A message is a row written in the same SQLite transaction as the event that causes it (the
call, the pause, the expiry: see `antrian.bus.Committing`), so a hub that dies right after a
call has either both or neither. The row is unique per (day, ticket, kind): the same call
replayed, a batch retried, a hub restarted, can never queue a second "dipanggil" for it.

A row's life: `pending` -> `sending` (written before the channel is asked) -> `sent` ->
`delivered` (when the channel reports it). A temporary failure puts it back to `pending`
with a later `next_at` (backoff); a permanent one makes it `failed`; one that no longer
helps (the ticket was already called, the office closed) is `dropped` with its reason. A row
found in `sending` at start-up was interrupted mid-send: the SMS channel recognises its own
message by the row's key and never sends it twice; a channel that cannot (apprise) gets
`unknown` instead of a second message.

Phone numbers are in `notify_contacts`, only sealed (`antrian.notify.vault`), and deleted with
the day's key after closing. The counts per month and channel stay for the report.

A booking's reminders (`antrian.booking.reminders`) use the same rows: the contact and the
messages are keyed by the booking's day and `booking:CODE` in place of a ticket, and are
queued when the booking is made, each with its own due time (`next_at`). Such a message is
`created` at its due time: its age, give-up and latency count from when it was meant to leave,
not from the booking days before.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from antrian import migrations
from antrian.bus import StoreWrite

#: The tables (`notify_contacts`, `notify_outbox`, `notify_monthly`) are made by the schema
#: steps of `antrian.migrations`: a change to them is a new step there.

#: The kinds of message, in the order a ticket meets them.
KINDS: Final = ("almost", "called", "paused", "not_served", "test")
#: The kinds of a booking's reminders, in the order they leave.
REMINDERS: Final = ("day_before", "hour_before")
#: How a booking's contact and messages are named where a ticket's are (`booking:K7MX4Q`).
BOOKING_REF: Final = "booking:"
#: States from which nothing more happens to a row.
FINAL: Final = frozenset({"delivered", "failed", "dropped", "unknown"})


_RECENT: Final = [
    "id",
    "day",
    "ticket",
    "kind",
    "channel",
    "state",
    "attempts",
    "created",
    "sent_at",
    "final_at",
    "last_error",
]


def shown(ticket: str) -> str:
    """A ticket as logs and the admin page may show it; a booking's code only in part
    (`booking:K7****`): whoever holds the code may cancel the booking."""
    if ticket.startswith(BOOKING_REF):
        return ticket[: len(BOOKING_REF) + 2] + "****"
    return ticket


def _iso(at: datetime) -> str:
    """In UTC, always: the due times are compared as text (a reminder's is made in the
    office's zone, the clock's is UTC)."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Contact:
    """Who asked to be told about a ticket (the number itself stays sealed)."""

    day: str
    ticket: str
    sealed: bytes
    channel: str
    lang: str


@dataclass(frozen=True)
class Message:
    """A row of the outbox."""

    id: int
    day: str
    ticket: str
    kind: str
    channel: str
    text: str
    state: str
    attempts: int
    created: datetime

    @property
    def shown(self) -> str:
        """Its ticket as logs may show it (`shown`)."""
        return shown(self.ticket)


def _message(row: tuple[Any, ...]) -> Message:
    id_, day, ticket, kind, channel, text, state, attempts, created = row
    return Message(id_, day, ticket, kind, channel, text, state, attempts, datetime.fromisoformat(created))


class Outbox:
    """The notification tables, on the hub's own SQLite connection (one writer, one loop)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        # Deleted rows are overwritten, not merely unlinked: a number deleted at the end of the
        # day must not linger in free pages (it is sealed, but keep no more than needed).
        self.db.execute("PRAGMA secure_delete=ON")
        migrations.upgrade(self.db)

    # -- contacts -------------------------------------------------------------------------

    def contact(self, day: str, ticket: str) -> Contact | None:
        row = self.db.execute(
            "SELECT day, ticket, sealed, channel, lang FROM notify_contacts WHERE day=? AND ticket=?",
            (day, ticket),
        ).fetchone()
        return Contact(*row) if row else None

    def contacts(self, day: str) -> list[Contact]:
        """The day's contacts of tickets (a booking's contact is not a ticket's)."""
        rows = self.db.execute(
            "SELECT day, ticket, sealed, channel, lang FROM notify_contacts WHERE day=? "
            "AND substr(ticket, 1, ?) != ? ORDER BY created",
            (day, len(BOOKING_REF), BOOKING_REF),
        )
        return [Contact(*r) for r in rows]

    def bookings_of_tag(self, day: str, tag: str, but: str = "") -> int:
        """How many bookings of `day` (other than `but`) the number with `tag` is reminded of."""
        row = self.db.execute(
            "SELECT count(*) FROM notify_contacts WHERE day=? AND tag=? AND substr(ticket, 1, ?) = ? "
            "AND ticket != ?",
            (day, tag, len(BOOKING_REF), BOOKING_REF, but),
        ).fetchone()
        return int(row[0])

    def changes(self, day: str, ticket: str) -> int:
        row = self.db.execute(
            "SELECT changes FROM notify_contacts WHERE day=? AND ticket=?", (day, ticket)
        ).fetchone()
        return int(row[0]) if row else 0

    def tickets_of_tag(self, day: str, tag: str) -> set[str]:
        """The tickets (not the bookings) the number with `tag` follows on `day`."""
        rows = self.db.execute(
            "SELECT ticket FROM notify_contacts WHERE day=? AND tag=? AND substr(ticket, 1, ?) != ?",
            (day, tag, len(BOOKING_REF), BOOKING_REF),
        )
        return {str(r[0]) for r in rows}

    def save_contact(
        self, contact: Contact, tag: str, now: datetime, messages: list[StoreWrite] | None = None
    ) -> None:
        """Keep (or replace) the ticket's contact, and queue `messages`, in one transaction."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for sql, params in [self.contact_write(contact, tag, now), *(messages or ())]:
                self.db.execute(sql, params)

    @staticmethod
    def contact_write(contact: Contact, tag: str, now: datetime) -> StoreWrite:
        """The write that keeps (or replaces) a contact, to join another part's transaction."""
        return (
            "INSERT INTO notify_contacts(day, ticket, sealed, tag, channel, lang, created) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT(day, ticket) DO UPDATE SET sealed=excluded.sealed, "
            "tag=excluded.tag, channel=excluded.channel, lang=excluded.lang, changes=changes+1",
            (contact.day, contact.ticket, contact.sealed, tag, contact.channel, contact.lang, _iso(now)),
        )

    def withdraw(self, day: str, ticket: str, reason: str, now: datetime) -> int:
        """Drop the pending messages of `ticket` (a booking cancelled) and delete its contact,
        in one transaction; how many messages were dropped."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            rows = self.db.execute(
                "SELECT channel FROM notify_outbox WHERE day=? AND ticket=? AND state='pending'",
                (day, ticket),
            ).fetchall()
            self.db.execute(
                "UPDATE notify_outbox SET state='dropped', final_at=?, last_error=? "
                "WHERE day=? AND ticket=? AND state='pending'",
                (_iso(now), reason[:200], day, ticket),
            )
            for (channel,) in rows:
                self._count(str(channel), now, "dropped")
            self.db.execute("DELETE FROM notify_contacts WHERE day=? AND ticket=?", (day, ticket))
        return len(rows)

    def save_writes(self, writes: list[StoreWrite]) -> None:
        """Queue messages that no event causes (time alone made a ticket "almost" due)."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for sql, params in writes:
                self.db.execute(sql, params)

    def forget_day(self, day: str) -> int:
        """Delete the day's contacts (their numbers); the messages stay, without any number."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            cur = self.db.execute("DELETE FROM notify_contacts WHERE day=?", (day,))
        # the deleted pages leave the WAL for the main file (overwritten there: secure_delete)
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return cur.rowcount

    def contact_days(self) -> list[str]:
        return [str(r[0]) for r in self.db.execute("SELECT DISTINCT day FROM notify_contacts ORDER BY day")]

    # -- messages -------------------------------------------------------------------------

    @staticmethod
    def queue(day: str, ticket: str, kind: str, channel: str, text: str, now: datetime) -> StoreWrite:
        """The write that queues one message (ignored if this ticket already has one of `kind`);
        due at `now`, or for a reminder queued ahead, at its own time."""
        return (
            "INSERT OR IGNORE INTO notify_outbox(day, ticket, kind, channel, text, created, next_at) "
            "VALUES (?,?,?,?,?,?,?)",
            (day, ticket, kind, channel, text, _iso(now), _iso(now)),
        )

    @staticmethod
    def rearm(day: str, ticket: str, kind: str, channel: str, text: str, due: datetime) -> StoreWrite:
        """The write that queues a reminder anew when its number is given again or changed: a
        row still pending takes the new channel and text, one dropped (the number removed)
        is pending again; one that left stays as it is (each leaves at most once)."""
        return (
            "INSERT INTO notify_outbox(day, ticket, kind, channel, text, created, next_at) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT(day, ticket, kind) DO UPDATE SET "
            "channel=excluded.channel, text=excluded.text, created=excluded.created, "
            "next_at=excluded.next_at, state='pending', attempts=0, last_error=NULL, final_at=NULL "
            "WHERE state IN ('pending', 'dropped')",
            (day, ticket, kind, channel, text, _iso(due), _iso(due)),
        )

    def queued_kinds(self, day: str) -> set[tuple[str, str]]:
        """(ticket, kind) of every message of the day, whatever its state."""
        rows = self.db.execute("SELECT ticket, kind FROM notify_outbox WHERE day=?", (day,))
        return {(str(t), str(k)) for t, k in rows}

    def due(self, now: datetime, limit: int = 50) -> list[Message]:
        rows = self.db.execute(
            "SELECT id, day, ticket, kind, channel, text, state, attempts, created FROM notify_outbox "
            "WHERE state='pending' AND next_at<=? ORDER BY id LIMIT ?",
            (_iso(now), limit),
        )
        return [_message(r) for r in rows]

    def next_due(self) -> datetime | None:
        row = self.db.execute("SELECT min(next_at) FROM notify_outbox WHERE state='pending'").fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def handed_over(self, since: str) -> list[Message]:
        """Messages a channel took but may not have sent yet (state `sent`) that can turn late:
        "almost", "paused", "called" and a booking's reminders, of the days from `since` on
        (a message without a delivery report stays `sent`: the older ones are left alone)."""
        rows = self.db.execute(
            "SELECT id, day, ticket, kind, channel, text, state, attempts, created FROM notify_outbox "
            "WHERE state='sent' AND kind IN ('almost', 'paused', 'called', 'day_before', 'hour_before') "
            "AND day>=? ORDER BY id",
            (since,),
        )
        return [_message(r) for r in rows]

    def interrupted(self) -> list[Message]:
        """Rows left in `sending` by a hub that stopped mid-send."""
        rows = self.db.execute(
            "SELECT id, day, ticket, kind, channel, text, state, attempts, created FROM notify_outbox "
            "WHERE state='sending' ORDER BY id"
        )
        return [_message(r) for r in rows]

    def _set(self, sql: str, params: tuple[object, ...]) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(sql, params)

    def sending(self, msg: Message) -> bool:
        """Claim a due message for sending; False if it is no longer pending (taken already)."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            cur = self.db.execute(
                "UPDATE notify_outbox SET state='sending', attempts=attempts+1 "
                "WHERE id=? AND state='pending'",
                (msg.id,),
            )
        return cur.rowcount == 1

    def sent(self, msg: Message, ref: str, now: datetime) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "UPDATE notify_outbox SET state='sent', ref=?, sent_at=?, last_error=NULL WHERE id=?",
                (ref, _iso(now), msg.id),
            )
            self._count(msg.channel, now, "sent")

    def retry(self, msg: Message, at: datetime, error: str) -> None:
        self._set(
            "UPDATE notify_outbox SET state='pending', next_at=?, last_error=? WHERE id=?",
            (_iso(at), error[:200], msg.id),
        )

    def finish(self, msg: Message, state: str, reason: str, now: datetime) -> None:
        """A final state other than delivered: `failed`, `dropped` or `unknown`, with why."""
        assert state in FINAL
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "UPDATE notify_outbox SET state=?, final_at=?, last_error=? WHERE id=?",
                (state, _iso(now), reason[:200], msg.id),
            )
            if state in ("failed", "dropped"):
                self._count(msg.channel, now, state)

    def delivered(self, channel: str, ref: str, state: str, at: datetime) -> None:
        """A channel's report on a sent message: `delivered`, or `failed` after all."""
        self._set(
            "UPDATE notify_outbox SET state=?, final_at=? WHERE channel=? AND ref=? AND state='sent'",
            (state, _iso(at), channel, ref),
        )

    def _count(self, channel: str, now: datetime, column: str) -> None:
        assert column in ("sent", "failed", "dropped")
        self.db.execute(
            f"INSERT INTO notify_monthly(month, channel, {column}) VALUES (?,?,1) "  # noqa: S608
            f"ON CONFLICT(month, channel) DO UPDATE SET {column}={column}+1",
            (now.strftime("%Y-%m"), channel),
        )

    # -- for people -----------------------------------------------------------------------

    def counts(self, day: str | None = None) -> dict[str, int]:
        """Messages per state (of one day, or all)."""
        sql = "SELECT state, count(*) FROM notify_outbox"
        rows = (
            self.db.execute(sql + " WHERE day=? GROUP BY state", (day,))
            if day
            else self.db.execute(sql + " GROUP BY state")
        )
        return {str(s): int(n) for s, n in rows}

    def recent(self, limit: int = 50) -> list[dict[str, object]]:
        """The latest messages as the admin page shows them: no number, the ticket and the kind."""
        rows = self.db.execute(
            f"SELECT {', '.join(_RECENT)} FROM notify_outbox ORDER BY id DESC LIMIT ?",  # noqa: S608
            (limit,),
        )
        out = [dict(zip(_RECENT, r, strict=True)) for r in rows]
        for row in out:
            row["ticket"] = shown(str(row["ticket"]))
        return out

    def monthly(self) -> list[dict[str, object]]:
        rows = self.db.execute(
            "SELECT month, channel, sent, failed, dropped FROM notify_monthly ORDER BY month, channel"
        )
        return [dict(zip(("month", "channel", "sent", "failed", "dropped"), r, strict=True)) for r in rows]
