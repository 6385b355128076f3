"""The reports part: the report page for admins and its downloads, beside the hub.

It adds nothing to the queue and listens to nothing: a report is read from the event log when
asked for. Computing a month means reading every event of it, so it runs in a thread with a
read-only connection of its own (the hub's connection keeps serving requests), one report at
a time, and the last few are kept until the log grows (a reload or a download after viewing
costs nothing).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Final

from antrian.config import Config
from antrian.extension import Extension
from antrian.i18n import t
from antrian.queue import local_day
from antrian.reports.figures import Period, Report, compute, from_log
from antrian.reports.tables import ReportSection, tz_label

if TYPE_CHECKING:
    from aiohttp import web

    from antrian.service import HubService

#: Reports kept, newest last.
CACHED: Final = 8


class Reports(Extension):
    """`/admin/reports`, `/api/admin/report`, `/admin/reports/download`."""

    name: ClassVar[str] = "reports"

    def __init__(self, hub: HubService) -> None:
        super().__init__(hub)
        self.lock = asyncio.Lock()
        self.cache: OrderedDict[tuple[str, str, str, int], Report] = OrderedDict()

    def web_routes(self) -> list[web.RouteDef]:
        from antrian.reports.web import routes

        return routes(self)

    def today(self) -> str:
        """Today in the office's time zone (not the queue's day, which is the last day with a
        ticket until today's first one): the only day whose waiting tickets are not expired."""
        return local_day(self.core.clock(), self.cfg)

    async def report(self, period: Period) -> Report:
        """The report of `period`, computed once per state of the log."""
        store = self.core.store
        last_seq = store.db.execute("SELECT max(seq) FROM events").fetchone()[0] or 0
        key = (period.kind, period.first.isoformat(), period.last.isoformat(), int(last_seq))
        if key in self.cache:
            self.cache.move_to_end(key)
            return self.cache[key]
        async with self.lock:
            today = self.today()
            if store.path == ":memory:":  # no file to open beside the hub's connection
                events = (e for _, e in store.events_between(key[1], key[2]))
                report = compute(events, self.cfg, period, ongoing=today)
            else:
                report = await asyncio.to_thread(from_log, store.path, self.cfg, period, ongoing=today)
        self.cache[key] = report
        while len(self.cache) > CACHED:
            self.cache.popitem(last=False)
        return report

    async def render(self, report: Report, fmt: str, lang: str) -> bytes:
        """The report as a file: `pdf`, `csv` or `xlsx` (in a thread: a PDF of a month takes a
        moment, and the queue's requests go on meanwhile). The PDF gets the sections of the
        other parts (`sections`)."""
        extra = self.sections(report.period, lang) if fmt == "pdf" else []
        return await asyncio.to_thread(render, report, self.cfg, fmt, lang, extra)

    def sections(self, period: Period, lang: str) -> list[ReportSection]:
        """What the other running parts add to the PDF of `period`.

        A part adds a section by having a method `report_sections(first: date, last: date,
        lang: str) -> Sequence[ReportSection]` (the satisfaction survey: its IKM recap table);
        it is called on the hub's loop, so it must be quick. The reports import no other part:
        a part that is not installed or not enabled simply adds nothing.
        """
        found: list[ReportSection] = []
        for part in self.hub.extensions:
            provide = getattr(part, "report_sections", None)
            if part is not self and callable(provide):
                found.extend(provide(period.first, period.last, lang))
        return found


def render(report: Report, cfg: Config, fmt: str, lang: str, sections: Sequence[ReportSection] = ()) -> bytes:
    """The report as a file, the same for the page and `antrian report`.

    `sections`: tables other parts add to the PDF (the satisfaction index), see
    `antrian.reports.pdf.monthly_pdf`."""
    from antrian.reports.export import to_csv, to_xlsx
    from antrian.reports.tables import all_tables, period_title

    if fmt == "pdf":
        from antrian.reports.pdf import monthly_pdf

        return monthly_pdf(report, cfg, lang, sections=sections)
    heading = [
        cfg.office.name,
        t("report.pdf_period", lang, period=period_title(report, lang), tz=tz_label(cfg)),
    ]
    tables = all_tables(report, cfg, lang)
    return to_csv(tables, heading) if fmt == "csv" else to_xlsx(tables, heading)
