"""Today's statistics, the audit log and the CSV export, all read from the event log.

The event log is the single record of what happened (who called whom, which ticket jumped the
queue and why), so reports are computed from it rather than kept as counters of their own:
they cannot disagree with the audit log.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date
from html import escape
from typing import Any, Final

from antrian.config import Config
from antrian.queue import Event

#: Events an auditor looks at first: queue order changed by a person.
NOTABLE: Final = frozenset(
    {
        "priority_changed",
        "ticket_transferred",
        "ticket_reinserted",
        "ticket_skipped",
        "booking_checked_in",
        "service_status_changed",
    }
)


def _public_data(data: dict[str, Any]) -> dict[str, Any]:
    """Event data without the status token (a credential of the citizen, not audit content)."""
    return {k: v for k, v in data.items() if k != "token"}


def daily_stats(events: Iterable[Event], cfg: Config) -> dict[str, Any]:
    """Tickets per hour, mean wait per service, no-show share, from one day's events.

    Computed by the reports' code (`antrian.reports.figures`), so the admin's figures of today
    are the ones the day's report will print."""
    from antrian.reports.figures import Period, compute

    todays = list(events)
    day = date.fromisoformat(todays[0].day) if todays else date.today()
    r = compute(todays, cfg, Period("day", day, day), ongoing=day.isoformat())
    letters = [s.letter for s in cfg.services]
    share = r.office.no_show_share
    return {
        "per_hour": dict(sorted(r.hours.items())),
        "wait_minutes": {k: round(f.wait_mean, 1) for k, f in r.services.items() if f.wait_mean is not None},
        "issued": {k: r.services[k].issued for k in letters},
        "done": r.office.served,
        "skipped": r.office.skipped,
        "no_show_share": round(share, 3) if share is not None else 0.0,
    }


def bar_chart(
    values: dict[str, float], *, title: str, unit: str = "", width: int = 520, height: int = 200
) -> str:
    """A plain inline SVG bar chart (no script, no CDN), labelled for a screen reader."""
    n = max(len(values), 1)
    top = max([*values.values(), 1.0])
    slot = (width - 40) / n
    bars = []
    for i, (label, v) in enumerate(values.items()):
        h = (height - 50) * v / top
        x = 30 + i * slot + slot * 0.15
        y = height - 25 - h
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
            f'fill="#1d6fd8">'
            f"<title>{escape(label)}: {v:g}{escape(unit)}</title></rect>"
            f'<text x="{x + slot * 0.35:.1f}" y="{height - 8}" text-anchor="middle" '
            f'font-size="13">{escape(label)}</text>'
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
            f'font-size="13" font-weight="bold">{v:g}</text>'
        )
    axis = f'<line x1="25" y1="{height - 25}" x2="{width - 5}" y2="{height - 25}" stroke="#333"/>'
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">{axis}{"".join(bars)}</svg>'
    )


def share_chart(share: float, *, title: str, width: int = 520, height: int = 60) -> str:
    """One horizontal bar: the share of called tickets whose holder did not come."""
    w = (width - 20) * min(max(share, 0.0), 1.0)
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">'
        f'<rect x="10" y="10" width="{width - 20}" height="30" fill="#e6e9ef"/>'
        f'<rect x="10" y="10" width="{w:.1f}" height="30" fill="#c0392b"/>'
        f'<text x="{width / 2}" y="31" text-anchor="middle" font-size="16" font-weight="bold">'
        f"{share * 100:.0f}%</text></svg>"
    )


def audit_rows(events: Iterable[tuple[int, Event]], cfg: Config) -> list[dict[str, Any]]:
    """Audit log rows, newest first, without tokens."""
    rows = []
    for seq, e in events:
        rows.append(
            {
                "seq": seq,
                "day": e.day,
                "at": e.at.astimezone(cfg.office.tz).strftime("%H:%M:%S"),
                "type": e.type,
                "actor": e.actor,
                "reason": e.reason or "",
                "data": _public_data(dict(e.data)),
                "notable": e.type in NOTABLE
                or (
                    e.type == "ticket_called"
                    and (e.data.get("mode") == "out_of_order" or bool(e.data.get("as_priority")))
                ),
            }
        )
    rows.reverse()
    return rows


CSV_COLUMNS: Final = (
    "seq",
    "day",
    "time",
    "type",
    "actor",
    "ticket",
    "service",
    "counter",
    "priority",
    "reason",
    "data",
)


def export_csv(events: Iterable[tuple[int, Event]], cfg: Config) -> str:
    """Every event of a period as CSV (one row per event, local time), for spreadsheets."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_COLUMNS)
    for seq, e in events:
        d = _public_data(dict(e.data))
        w.writerow(
            [
                seq,
                e.day,
                e.at.astimezone(cfg.office.tz).strftime("%H:%M:%S"),
                e.type,
                e.actor,
                d.get("ticket", ""),
                d.get("service", ""),
                d.get("counter", ""),
                d.get("priority", ""),
                e.reason or "",
                json.dumps(d, ensure_ascii=False, sort_keys=True),
            ]
        )
    return out.getvalue()
