"""`antrian report`: a report from the command line, for the IT officer's monthly routine.

    antrian report month 2026-11 --out laporan.pdf     the monthly PDF to print and sign
    antrian report week 2026-W48 --out minggu.xlsx     the tables as a spreadsheet
    antrian report range 2026-11-01 2026-11-15 --out paruh.csv
    antrian report day 2026-11-27

The format follows the file name (`--format` to say it). It reads the office's database with a
read-only connection, so it can run beside a running hub; it shows which day it is reading
(a year of a busy office takes a few seconds), and says what is wrong in the office's language
(a period that is not one, no database, the `reports` extra missing) with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from antrian.config import Config
from antrian.i18n import default_lang, t
from antrian.queue import local_day
from antrian.reports.figures import KINDS, Period, PeriodError, from_log, parse_period
from antrian.reports.tables import ReportSection

FORMATS = ("pdf", "csv", "xlsx")


def cmd_report(args: argparse.Namespace) -> int:
    from antrian.cli import _config

    lang = default_lang()  # what the command says; the report itself is in the office's language
    try:
        period = parse_period(args.kind, args.value, args.until)
    except PeriodError as exc:
        print(t(exc.key, lang, **exc.params), file=sys.stderr)
        return 2
    cfg = _config(args.config)
    out = Path(args.out or f"laporan-{period.first.isoformat()}-{period.last.isoformat()}.pdf")
    fmt = args.format or out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        print(t("report.cli_format", lang, path=out), file=sys.stderr)
        return 2
    if not Path(cfg.database).is_file():
        print(t("report.cli_no_database", lang, path=cfg.database), file=sys.stderr)
        return 2
    tty = sys.stderr.isatty()

    def progress(day: str, n: int, total: int) -> None:
        if tty:
            end = "\n" if n == total else ""
            print(f"\r{t('report.cli_reading', lang, day=day, n=n, total=total)}", end=end, file=sys.stderr)
        elif n == total or n % 7 == 0:
            print(t("report.cli_reading", lang, day=day, n=n, total=total), file=sys.stderr)

    today = local_day(datetime.now(cfg.office.tz), cfg)
    report = from_log(cfg.database, cfg, period, ongoing=today, progress=progress)
    from antrian.reports.extension import render
    from antrian.reports.tables import period_title

    report_lang = args.lang or cfg.office.language
    try:
        extra = _sections(cfg, report.period, report_lang) if fmt == "pdf" else []
        body = render(report, cfg, fmt, report_lang, extra)
    except ModuleNotFoundError as exc:
        print(t("report.missing_extra", lang, module=exc.name), file=sys.stderr)
        return 2
    try:
        out.write_bytes(body)
    except OSError as exc:
        print(t("report.cli_cannot_write", lang, path=out, error=exc.strerror or exc), file=sys.stderr)
        return 1
    title = period_title(report, lang)
    if not report.office.issued:
        print(t("report.cli_no_tickets", lang, period=title), file=sys.stderr)
    o = report.office
    print(t("report.cli_written", lang, period=title, path=out, issued=o.issued, served=o.served))
    return 0


def _sections(cfg: Config, period: Period, lang: str) -> list[ReportSection]:
    """What the office's other parts add to the PDF without a running hub: each built-in part
    that has `report_sections_offline(cfg, first, last, lang)` (the survey's IKM recap). The
    reports import none of them by name, as on the page (`Reports.sections`)."""
    from antrian.extensions import BUILTIN

    found: list[ReportSection] = []
    for part in BUILTIN:
        offline = getattr(part, "report_sections_offline", None)
        if offline is not None and part.enabled(cfg):
            found.extend(offline(cfg, period.first, period.last, lang))
    return found


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    lang = default_lang()
    p = subparsers.add_parser("report", help=t("cli.report", lang))
    p.add_argument("kind", choices=KINDS, help=t("cli.report_kind", lang))
    p.add_argument("value", help=t("cli.report_value", lang))
    p.add_argument("until", nargs="?", help=t("cli.report_until", lang))
    p.add_argument("-o", "--out", help=t("cli.report_out", lang))
    p.add_argument("--format", choices=FORMATS, help=t("cli.report_format", lang))
    p.add_argument("--lang", choices=("id", "en"), help=t("cli.report_lang", lang))
    p.add_argument("-c", "--config", help=t("cli.config", lang))
    p.set_defaults(func=cmd_report)
