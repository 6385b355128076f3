"""The admin's quota of one service on one day, over `[booking] quota` (`booking_quotas`,
schema step 8).

`[booking] quota` is the places of one slot per service, every day alike. An office knows its
days differ: the head of the office is out on Thursday, so fewer permits can be handled; the
document service is closed on the day of a training. The admin then sets the quota of that
service on that day (places per slot, as in the configuration); 0 closes that service's
bookings that day. Only new bookings are held to it: a booking already made stays, so a
citizen who has a code is never turned away because the admin lowered a number.

Read before the store's count-and-insert (`BookingStore.book`), on the hub's one loop that
also runs the admin's change: no change can come between the read and the insert.
"""

from __future__ import annotations

import sqlite3
from typing import Final

from antrian import migrations

#: The highest quota an admin may set: the configuration's own bound (`[booking] quota`).
MAX_QUOTA: Final = 50


class Quotas:
    """The per-day quotas on the hub's own connection; `default` is `[booking] quota`."""

    def __init__(self, db: sqlite3.Connection, default: int) -> None:
        self.db = db
        self.default = default
        migrations.upgrade(self.db)

    def on(self, day: str, service: str) -> int:
        """The places per slot of `service` on `day`: the admin's, else the configuration's."""
        row = self.db.execute(
            "SELECT quota FROM booking_quotas WHERE day=? AND service=?", (day, service)
        ).fetchone()
        return int(row[0]) if row is not None else self.default

    def set_by_admin(self, first: str, last: str) -> dict[tuple[str, str], int]:
        """The quotas the admin set for the days first..last, by (day, service)."""
        rows = self.db.execute(
            "SELECT day, service, quota FROM booking_quotas WHERE day BETWEEN ? AND ?", (first, last)
        )
        return {(str(d), str(s)): int(q) for d, s, q in rows}

    def change(self, day: str, service: str, quota: int | None, today: str) -> None:
        """Set the quota of `service` on `day` (None: back to the configuration's). The rows of
        days gone by are dropped on the way: the table holds at most the booking window."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM booking_quotas WHERE day < ?", (today,))
            if quota is None or quota == self.default:
                self.db.execute("DELETE FROM booking_quotas WHERE day=? AND service=?", (day, service))
            else:
                self.db.execute(
                    "INSERT INTO booking_quotas(day, service, quota) VALUES (?, ?, ?)"
                    " ON CONFLICT(day, service) DO UPDATE SET quota=excluded.quota",
                    (day, service, quota),
                )
