"""The bookings, in a table of the office's database (`bookings`, schema step 7).

Why a table and not events in the queue's log: the log is the record of one working day, and a
restart replays only today's events; a booking is made days before the day it is for, and is
read for the page (what is left of each slot) on every other day. Written in the hub's own
SQLite file with `synchronous=FULL` and committed before the citizen sees the code, a booking
survives a crash, a power cut and a restart like a ticket does. Its check-in, on the day, is
both: the ticket and a `booking_checked_in` event in the log (the audit record of the rule
applied), and this row marked `checked_in` in the same transaction (`mark_checked_in`).

No personal data in this table: a booking is a code, a service and a slot. A number given
for reminders is the notifications part's, sealed under the booking day's key
(`antrian.booking.reminders`). Bookings of days more than `[booking] keep_days` ago are deleted
(`delete_before`).
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from antrian import migrations
from antrian.bus import StoreWrite
from antrian.contract import CODE_ALPHABET, CODE_LENGTH
from antrian.contract import normalise_code as normalise_code

#: A booking code is typed into the same kiosk field as a phone ticket's check-in code.
ALPHABET: Final = CODE_ALPHABET

BOOKED: Final = "booked"
CANCELLED: Final = "cancelled"
CHECKED_IN: Final = "checked_in"


@dataclass(frozen=True)
class Booking:
    code: str
    day: str
    service: str
    slot_start: datetime
    slot_end: datetime
    state: str
    ticket: str | None = None
    rule: str | None = None


class SlotFull(Exception):
    """The slot has its quota of bookings for that service."""


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


_COLUMNS: Final = "code, day, service, slot_start, slot_end, state, ticket, rule"


#: The columns are this module's constants, never input.
_INSERT: Final = f"INSERT INTO bookings({_COLUMNS}, booked_at) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?)"  # noqa: S608


def _row(r: tuple[str, ...]) -> Booking:
    return Booking(
        r[0], r[1], r[2], datetime.fromisoformat(r[3]), datetime.fromisoformat(r[4]), r[5], r[6], r[7]
    )


class BookingStore:
    """The `bookings` table on the hub's own connection (one writer, the hub's loop)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        migrations.upgrade(self.db)

    def book(
        self,
        day: str,
        service: str,
        start: datetime,
        end: datetime,
        quota: int,
        now: datetime,
        also: Callable[[str], list[StoreWrite]] | None = None,
    ) -> Booking:
        """A new booking in the slot, or SlotFull. Counted and written in one transaction:
        two citizens taking the last place at once cannot both get it. `also(code)` gives writes
        to commit with it (its reminders): a booking never exists without them, nor they without it."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            taken = self.db.execute(
                "SELECT count(*) FROM bookings WHERE day=? AND service=? AND slot_start=? AND state!=?",
                (day, service, start.isoformat(), CANCELLED),
            ).fetchone()[0]
            if int(taken) >= quota:
                raise SlotFull
            for _ in range(8):  # a collision is one in millions; a few tries are plenty
                code = new_code()
                try:
                    self.db.execute(
                        _INSERT,
                        (code, day, service, start.isoformat(), end.isoformat(), BOOKED, now.isoformat()),
                    )
                except sqlite3.IntegrityError:
                    continue
                for sql, params in also(code) if also else ():
                    self.db.execute(sql, params)
                return Booking(code, day, service, start, end, BOOKED)
        raise RuntimeError("no free booking code after 8 tries")

    def get(self, code: str) -> Booking | None:
        r = self.db.execute(f"SELECT {_COLUMNS} FROM bookings WHERE code=?", (code,)).fetchone()  # noqa: S608
        return _row(r) if r is not None else None

    def cancel(self, code: str, now: datetime) -> bool:
        """Cancel a booking not yet checked in; whether it was."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            cur = self.db.execute(
                "UPDATE bookings SET state=?, changed_at=? WHERE code=? AND state=?",
                (CANCELLED, now.isoformat(), code, BOOKED),
            )
        return cur.rowcount == 1

    def delete_before(self, day: str) -> int:
        """Delete the bookings of the days before `day`; how many."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            cur = self.db.execute("DELETE FROM bookings WHERE day<?", (day,))
        return cur.rowcount

    def taken(self, first: str, last: str) -> dict[tuple[str, str], int]:
        """How many places are taken, by (service, slot start ISO), on the days first..last."""
        rows = self.db.execute(
            "SELECT service, slot_start, count(*) FROM bookings WHERE day BETWEEN ? AND ? AND state!=?"
            " GROUP BY service, slot_start",
            (first, last, CANCELLED),
        )
        return {(str(s), str(at)): int(n) for s, at, n in rows}

    def expected_now(self, day: str, now: datetime, grace: timedelta) -> list[tuple[str, datetime]]:
        """(service, slot start) of the bookings of `day` not checked in whose slot has begun
        and whose grace has not passed at `now`: the ones that may still come and go first."""
        rows = self.db.execute(
            "SELECT service, slot_start, slot_end FROM bookings WHERE day=? AND state=?", (day, BOOKED)
        )
        out: list[tuple[str, datetime]] = []
        for service, start, end in rows:
            begins = datetime.fromisoformat(start)
            if begins <= now <= datetime.fromisoformat(end) + grace:
                out.append((str(service), begins))
        return out


def mark_checked_in(code: str, ticket: str, rule: str, now: datetime) -> StoreWrite:
    """The write that joins the check-in's commit: the row says which ticket it became."""
    return (
        "UPDATE bookings SET state=?, ticket=?, rule=?, changed_at=? WHERE code=?",
        (CHECKED_IN, ticket, rule, now.isoformat(), code),
    )
