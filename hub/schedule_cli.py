"""`antrian holidays [--year Y]`: the year's days the office is closed, and its weekly hours.

So the admin can check the configuration before the kiosks start refusing tickets: which
national holidays and cuti bersama the `holidays` package lists this year, which local days
`[[holidays]]` adds or opens, and the hours of each weekday and special range.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime

from antrian.config import Config, ConfigError, TimeSpan, find_config, load_config
from antrian.i18n import default_lang, t
from antrian.schedule import clock, schedule_of, weekday_name


def holidays_text(cfg: Config, year: int, lang: str) -> str:
    """The listing `antrian holidays` prints."""

    def span_text(span: TimeSpan | None) -> str:
        if span is None:
            return t("schedule.cli.closed", lang)
        d = date(2000, 1, 1)
        return "-".join(clock(datetime.combine(d, at), lang) for at in span)

    schedule = schedule_of(cfg)
    office = cfg.office
    monday = date(2024, 1, 1)  # a Monday: its week names the weekdays
    lines = [t("schedule.cli.title", lang, year=year, office=office.slug), "", t("schedule.cli.weekly", lang)]
    for wd in range(7):
        lines.append(
            f"  {weekday_name(monday.replace(day=1 + wd), lang):<8} {span_text(office.hours_of(wd))}"
        )
    for special in office.special_hours:
        lines.append("")
        lines.append(t("schedule.cli.special", lang, name=special.name, start=special.start, end=special.end))
        for wd in sorted(special.days):
            lines.append(
                f"  {weekday_name(monday.replace(day=1 + wd), lang):<8} {span_text(special.days[wd])}"
            )
    rows: dict[date, tuple[str, str]] = {
        d: (name, t("schedule.cli.kind.national", lang)) for d, name in schedule.national(year).items()
    }
    for h in cfg.holidays:
        if h.day.year != year:
            continue
        if h.open:
            listed = rows.get(h.day, (h.name, ""))[0]
            rows[h.day] = (h.name or listed, t("schedule.cli.kind.open", lang))
        else:
            rows[h.day] = (h.name, t("schedule.cli.kind.local", lang))
    lines.append("")
    if not rows:
        lines.append(t("schedule.cli.none", lang))
    for d in sorted(rows):
        name, kind = rows[d]
        lines.append(f"{d.isoformat()}  {weekday_name(d, lang):<8} {name:<45} {kind}")
    return "\n".join(lines) + "\n"


def cmd_holidays(args: argparse.Namespace) -> int:
    lang = default_lang()
    try:
        cfg = load_config(find_config(args.config))
    except ConfigError as exc:
        print(f"Konfigurasi salah / bad configuration: {exc}", file=sys.stderr)
        return 2
    year = args.year or date.today().year
    print(holidays_text(cfg, year, lang), end="")
    return 0


def _year(text: str) -> int:
    year = int(text)
    if not 2000 <= year <= 2100:
        raise argparse.ArgumentTypeError("2000..2100")
    return year


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    lang = default_lang()
    p = subparsers.add_parser("holidays", help=t("cli.holidays", lang))
    p.add_argument("-c", "--config", help=t("cli.config", lang))
    p.add_argument("--year", type=_year, help=t("cli.holidays.year", lang))
    p.set_defaults(func=cmd_holidays)
