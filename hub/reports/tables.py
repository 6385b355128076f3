"""The report's figures as tables: what the page, the PDF, the CSV and the spreadsheet all show.

One layout for every format, so a figure reads the same wherever a camat or an auditor sees it.
A table's cells are plain values (text, whole numbers, minutes, shares 0..1) with a kind per
column; each format writes them its own way (Indonesian `12,5` and `1.234` on the page and in
the PDF, numbers in the spreadsheet, plain `12.5` in CSV).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, Protocol

from antrian.config import Config
from antrian.i18n import t
from antrian.reports.figures import Figures, Report

Cell = str | int | float | None
#: Column kinds: text, a count, minutes, a share (0..1).
TEXT, COUNT, MINUTES, SHARE = "text", "count", "minutes", "share"


class ReportSection(Protocol):
    """A table any part can add to the monthly PDF (the satisfaction index of the survey):
    a title, column headings, rows of cells (already in words, or numbers) and a footnote."""

    @property
    def title(self) -> str: ...

    @property
    def columns(self) -> Sequence[str]: ...

    @property
    def rows(self) -> Sequence[Sequence[Cell]]: ...

    @property
    def footnote(self) -> str: ...


@dataclass(frozen=True)
class Table:
    """One table of the report (a `ReportSection` too)."""

    key: str
    title: str
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    footnote: str = ""


def number(value: Cell, lang: str, kind: str = MINUTES) -> str:
    """A cell as a person reads it: Indonesian `1.234` and `12,5` (English `1,234`, `12.5`);
    a share as a percentage; nothing known as a dash."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if kind == SHARE:
        text = f"{value * 100:,.1f}"
    elif kind == COUNT or isinstance(value, int):
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.1f}"
    if lang != "en":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text + ("%" if kind == SHARE else "")


#: Indonesia's zones by their Indonesian names (the office's `timezone` otherwise).
_TZ_LABELS: Final = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}


def tz_label(cfg: Config) -> str:
    """`WIB`, `WITA`, `WIT`, or the zone's name."""
    return _TZ_LABELS.get(cfg.office.timezone, cfg.office.timezone)


def long_date(d: date, lang: str) -> str:
    """`30 November 2026` (Indonesian month names in Indonesian)."""
    months = t("report.months", lang).split(",")
    return f"{d.day} {months[d.month - 1].strip()} {d.year}"


def period_title(report: Report, lang: str) -> str:
    """`November 2026`, `23 - 29 November 2026`, or one day."""
    p = report.period
    months = t("report.months", lang).split(",")
    if p.kind == "month":
        return f"{months[p.first.month - 1].strip()} {p.first.year}"
    if p.first == p.last:
        return long_date(p.first, lang)
    return f"{long_date(p.first, lang)} - {long_date(p.last, lang)}"


def actor_label(actor: str, lang: str) -> str:
    """`officer:budi` -> `budi`; a call pad -> `Perangkat pad-2` (no account behind it)."""
    kind, _, name = actor.partition(":")
    if kind == "device":
        return t("report.actor_device", lang, name=name)
    if kind == "admin":
        return t("report.actor_admin", lang, name=name)
    return name or actor


_FIGURE_COLUMNS: Final = (
    ("report.col_served", COUNT),
    ("report.col_skipped", COUNT),
    ("report.col_transferred", COUNT),
    ("report.col_wait_mean", MINUTES),
    ("report.col_wait_median", MINUTES),
    ("report.col_wait_p90", MINUTES),
    ("report.col_over_sop", SHARE),
    ("report.col_service_mean", MINUTES),
    ("report.col_no_show", SHARE),
)


def _figure_cells(f: Figures) -> tuple[Cell, ...]:
    return (
        f.served,
        f.skipped,
        f.transferred,
        f.wait_mean,
        f.wait_median,
        f.wait_p90,
        f.over_sop_share,
        f.service_mean,
        f.no_show_share,
    )


def _table(key: str, lang: str, first: list[tuple[str, str]], rows: list[tuple[Cell, ...]]) -> Table:
    cols = [*first, *_FIGURE_COLUMNS]
    return Table(
        key,
        t(f"report.table_{key}", lang),
        tuple(t(k, lang) for k, _ in cols),
        tuple(kind for _, kind in cols),
        tuple(rows),
    )


def summary(report: Report, cfg: Config, lang: str) -> Table:
    """The figures of the whole office, one per line: what the camat reads first."""
    o = report.office
    per_day = o.issued / report.open_days if report.open_days else None
    busiest = ", ".join(
        f"{h:02d}.00-{h + 1:02d}.00 ({number(n, lang, COUNT)})" for h, n in report.busiest_hours()
    )
    lines: list[tuple[str, Cell, str]] = [
        ("report.sum_days", report.open_days, COUNT),
        ("report.sum_issued", o.issued, COUNT),
        ("report.sum_per_day", per_day, MINUTES),
        ("report.sum_served", o.served, COUNT),
        ("report.sum_skipped", o.skipped, COUNT),
        ("report.sum_expired", o.expired, COUNT),
        ("report.sum_wait_mean", o.wait_mean, MINUTES),
        ("report.sum_wait_median", o.wait_median, MINUTES),
        ("report.sum_wait_p90", o.wait_p90, MINUTES),
        ("report.sum_over_sop", o.over_sop_share, SHARE),
        ("report.sum_service_mean", o.service_mean, MINUTES),
        ("report.sum_no_show", o.no_show_share, SHARE),
        ("report.sum_busiest", busiest or "-", TEXT),
    ]
    return Table(
        "summary",
        t("report.table_summary", lang),
        (t("report.col_figure", lang), t("report.col_value", lang)),
        (TEXT, TEXT),
        tuple((t(k, lang), number(v, lang, kind)) for k, v, kind in lines),
        t("report.footnote_summary", lang),
    )


def services(report: Report, cfg: Config, lang: str) -> Table:
    rows = []
    for letter, f in report.services.items():
        sc = cfg.service(letter)
        name = f"{letter} {sc.name}" if sc else letter
        rows.append((name, sc.sop if sc else None, f.issued, f.expired, *_figure_cells(f)))
    first = [
        ("report.col_service", TEXT),
        ("report.col_sop", MINUTES),
        ("report.col_issued", COUNT),
        ("report.col_expired", COUNT),
    ]
    return _table("services", lang, first, rows)


def counters(report: Report, cfg: Config, lang: str) -> Table:
    rows = []
    for number_, f in sorted(report.counters.items()):
        cc = cfg.counter(number_)
        rows.append((cc.label if cc else f"Loket {number_}", f.calls, *_figure_cells(f)))
    return _table("counters", lang, [("report.col_counter", TEXT), ("report.col_calls", COUNT)], rows)


def officers(report: Report, cfg: Config, lang: str) -> Table:
    rows = [
        (actor_label(actor, lang), f.calls, *_figure_cells(f))
        for actor, f in sorted(report.officers.items(), key=lambda kv: actor_label(kv[0], lang))
    ]
    return _table("officers", lang, [("report.col_officer", TEXT), ("report.col_calls", COUNT)], rows)


def days(report: Report, cfg: Config, lang: str) -> Table:
    rows: list[tuple[Cell, ...]] = [
        (date.fromisoformat(d).strftime("%d-%m-%Y"), f.issued, f.expired, *_figure_cells(f))
        for d, f in report.days.items()
        if f.issued
    ]
    first = [("report.col_date", TEXT), ("report.col_issued", COUNT), ("report.col_expired", COUNT)]
    return _table("days", lang, first, rows)


def hours(report: Report, cfg: Config, lang: str) -> Table:
    n = report.open_days or 1
    rows: list[tuple[Cell, ...]] = [
        (f"{h:02d}.00-{h + 1:02d}.00", count, count / n) for h, count in sorted(report.hours.items())
    ]
    return Table(
        "hours",
        t("report.table_hours", lang),
        (t("report.col_hour", lang), t("report.col_issued", lang), t("report.col_per_day", lang)),
        (TEXT, COUNT, MINUTES),
        tuple(rows),
    )


def all_tables(report: Report, cfg: Config, lang: str) -> list[Table]:
    """Every table of a report, in the order the PDF and the spreadsheet print them."""
    return [
        summary(report, cfg, lang),
        services(report, cfg, lang),
        counters(report, cfg, lang),
        officers(report, cfg, lang),
        days(report, cfg, lang),
        hours(report, cfg, lang),
    ]
