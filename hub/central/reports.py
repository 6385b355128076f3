"""The regency's monthly figures, computed in SQL from the offices' events.

The definitions are the office reports' (`antrian.reports.figures`), so that a kecamatan's
figure at the centre is the figure on its own monthly report:

- **issued**: `ticket_issued` events.
- **outcome** of a ticket (office, day, code): the last of `ticket_done` (served),
  `ticket_skipped` or `ticket_not_checked_in` (no-show, terlewat: a phone ticket whose holder
  had not checked in at its turn) and its appearance in a `tickets_expired` list
  (expired); a skipped ticket put back and then served counts as served. A ticket of a past day
  with none of them expired with its day (the office's hub expires it at the next day's start).
- **waiting time**: from the issue (or a transfer, which starts a second wait at the new
  service) to the next call, never below zero (a clock set back); a reinsert after a missed
  call does not start a new wait. Mean, and
  the 90th percentile by nearest rank (`percentile_disc`, the same rank the office uses).
- **no-show share**: skipped / (served + skipped).

Within the service standard (SOP) is not given: the standard of each service lives in the
office's configuration, which the centre does not receive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import psycopg

REGENCY: Final = ""

_SQL: Final = """
WITH ev AS (
    SELECT office, seq, day, at, type, data FROM events
    WHERE day >= %(first)s AND day <= %(last)s AND (%(office)s::text IS NULL OR office = %(office)s)
), tickets AS (
    SELECT office, day, seq, at, type, data->>'ticket' AS ticket FROM ev
    WHERE type IN ('ticket_issued', 'ticket_called', 'ticket_transferred', 'ticket_done', 'ticket_skipped')
    UNION ALL
    -- a phone ticket not checked in at its turn: a no-show, as a missed call is
    SELECT office, day, seq, at, 'ticket_skipped', data->>'ticket' FROM ev
    WHERE type = 'ticket_not_checked_in'
    UNION ALL
    SELECT office, day, seq, at, 'ticket_expired', t.code FROM ev,
        jsonb_array_elements_text(CASE WHEN jsonb_typeof(data->'tickets') = 'array'
                                       THEN data->'tickets' ELSE '[]'::jsonb END) AS t(code)
    WHERE type = 'tickets_expired'
), waits AS (
    SELECT office, greatest(extract(epoch FROM at - prev_at) / 60, 0) AS minutes FROM (
        SELECT office, type, at,
            lag(type) OVER w AS prev_type, lag(at) OVER w AS prev_at
        FROM tickets WHERE type IN ('ticket_issued', 'ticket_transferred', 'ticket_called')
        WINDOW w AS (PARTITION BY office, day, ticket ORDER BY seq)
    ) s
    WHERE type = 'ticket_called' AND prev_type IN ('ticket_issued', 'ticket_transferred')
), outcomes AS (
    SELECT office, day, ticket,
        (array_agg(type ORDER BY seq DESC) FILTER (
            WHERE type IN ('ticket_done', 'ticket_skipped', 'ticket_expired')))[1] AS outcome
    FROM tickets GROUP BY office, day, ticket
    HAVING bool_or(type = 'ticket_issued')
), per_office AS (
    SELECT o.office,
        count(*) AS issued,
        count(*) FILTER (WHERE outcome = 'ticket_done') AS served,
        count(*) FILTER (WHERE outcome = 'ticket_skipped') AS skipped,
        count(*) FILTER (WHERE outcome = 'ticket_expired'
                         OR (outcome IS NULL AND day < %(today)s)) AS expired
    FROM outcomes o GROUP BY o.office
)
SELECT coalesce(p.office, w.office) AS office, coalesce(p.issued, 0), coalesce(p.served, 0),
    coalesce(p.skipped, 0), coalesce(p.expired, 0), w.waits, w.wait_mean, w.wait_p90
FROM per_office p FULL JOIN (
    SELECT office, count(*) AS waits, avg(minutes) AS wait_mean,
        percentile_disc(0.9) WITHIN GROUP (ORDER BY minutes) AS wait_p90
    FROM waits GROUP BY office
) w ON w.office = p.office
"""

#: The same waits, over the whole regency: its statements up to `waits`, then one aggregate.
_REGENCY_WAITS: Final = (
    _SQL.split("), outcomes AS")[0]  # noqa: S608 - constant text, no input in it
    + ") SELECT count(*), avg(minutes), percentile_disc(0.9) WITHIN GROUP (ORDER BY minutes) FROM waits"
).encode()


_SQL_BYTES: Final = _SQL.encode()


@dataclass
class OfficeFigures:
    office: str
    issued: int = 0
    served: int = 0
    skipped: int = 0
    expired: int = 0
    waits: int = 0
    wait_mean: float | None = None
    wait_p90: float | None = None

    @property
    def no_show_share(self) -> float | None:
        finished = self.served + self.skipped
        return self.skipped / finished if finished else None


def month_bounds(month: str) -> tuple[date, date]:
    """The first and last day of `month` (YYYY-MM); ValueError for anything else."""
    if len(month) != 7 or month[4] != "-":
        raise ValueError(f"month {month!r}: YYYY-MM")
    first = date(int(month[:4]), int(month[5:]), 1)
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, date.fromordinal(after.toordinal() - 1)


def month_figures(
    conn: psycopg.Connection[Any], month: str, office: str | None = None, *, today: date | None = None
) -> dict[str, OfficeFigures]:
    """The figures of `month` per office, and the regency's under the key REGENCY ("").

    `today`: a day still open, whose unfinished tickets are still waiting (default: today)."""
    first, last = month_bounds(month)
    params = {"first": first, "last": last, "office": office, "today": today or date.today()}
    out: dict[str, OfficeFigures] = {}
    for row in conn.execute(_SQL_BYTES, params).fetchall():
        f = OfficeFigures(str(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]), int(row[5] or 0))
        f.wait_mean = float(row[6]) if row[6] is not None else None
        f.wait_p90 = float(row[7]) if row[7] is not None else None
        out[f.office] = f
    total = OfficeFigures(REGENCY)
    for f in out.values():
        total.issued += f.issued
        total.served += f.served
        total.skipped += f.skipped
        total.expired += f.expired
    # the regency's mean and percentile are over all its waits, not a mean of the offices'
    row = conn.execute(_REGENCY_WAITS, params).fetchone()
    if row is not None:
        total.waits = int(row[0] or 0)
        total.wait_mean = float(row[1]) if row[1] is not None else None
        total.wait_p90 = float(row[2]) if row[2] is not None else None
    out[REGENCY] = total
    return out
