"""The report page for admins and its data and downloads.

- `GET /admin/reports`: the page (`static/reports.js`): period picker, summary, charts, the
  tables per service, counter, officer, day and hour, download buttons.
- `GET /api/admin/report?kind=month&value=2026-11` (`kind` day, week, month or range with
  `until`): the tables as the page shows them (Indonesian numbers) and the charts (SVG).
- `GET /admin/reports/download?kind=...&value=...&format=pdf|csv|xlsx`: the report as a file.

Admins only. Every input is bounded (`antrian.reports.figures.parse_period`: a real day, week
or month, at most 366 days); a bad one gets 400 with the reason in the page's language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from antrian.i18n import t
from antrian.reports.figures import KINDS, Period, PeriodError, Report, parse_period
from antrian.reports.tables import Table, all_tables, number, period_title
from antrian.web.server import K_WEB, WebApp
from antrian.web.stats import bar_chart

if TYPE_CHECKING:
    from antrian.reports.extension import Reports

FORMATS: Final = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


#: The report page's own layout (the shared style sheet is the other pages'): figures
#: right-aligned, wide tables scroll sideways on a phone, charts side by side on a PC.
STYLE: Final = (
    "<style>.report td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".report .scroll{overflow-x:auto}.report table{font-size:.9em}"
    ".report th{text-align:left;vertical-align:bottom}"
    ".report-charts{display:flex;flex-wrap:wrap;gap:1em}.report-charts figure{margin:0;flex:1 1 420px}"
    ".report .downloads a{margin-right:.8em}.report-form{display:flex;flex-wrap:wrap;gap:.8em;"
    "align-items:end}</style>"
)


def _period(request: web.Request, lang: str) -> Period:
    q = request.rel_url.query
    try:
        return parse_period(q.get("kind", "month")[:16], q.get("value", ""), q.get("until"))
    except PeriodError as exc:
        raise web.HTTPBadRequest(text=t(exc.key, lang, **exc.params)) from None


def _shown(table: Table, lang: str) -> dict[str, Any]:
    return {
        "key": table.key,
        "title": table.title,
        "columns": list(table.columns),
        "kinds": list(table.kinds),
        "rows": [[number(v, lang, k) for v, k in zip(row, table.kinds, strict=True)] for row in table.rows],
        "footnote": table.footnote,
    }


def charts(report: Report, lang: str) -> dict[str, str]:
    """The page's charts, drawn as the admin dashboard draws today's (inline SVG)."""
    days = {d[8:]: float(f.issued) for d, f in report.days.items()} or {"-": 0.0}
    hours = {f"{h:02d}": float(n) for h, n in sorted(report.hours.items())} or {"-": 0.0}
    waits = {
        letter: round(f.wait_mean, 1) for letter, f in report.services.items() if f.wait_mean is not None
    } or {"-": 0.0}
    p90 = {
        f"{letter} P90": round(f.wait_p90, 1)
        for letter, f in report.services.items()
        if f.wait_p90 is not None
    }
    title_days = t("web.report_chart_days", lang)
    return {
        "days": bar_chart(days, title=title_days, width=max(520, 18 * len(days) + 40)),
        "hours": bar_chart(hours, title=t("web.report_chart_hours", lang)),
        "wait": bar_chart(
            {k: v for pair in zip(waits.items(), p90.items(), strict=False) for k, v in pair} or waits,
            title=t("web.report_chart_wait", lang),
            unit=" min",
        ),
    }


def routes(part: Reports) -> list[web.RouteDef]:
    """The report routes, bound to the running part."""

    async def page(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        app.need_user(request, ("admin",))
        today = part.today()
        boot = {"today": today, "kinds": list(KINDS), "office": part.cfg.office.name}
        return app.page(request, "reports", "report_title", STYLE + '<div id="app"></div>', boot)

    async def data(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        app.need_user(request, ("admin",))
        lang = app.lang(request)
        report = await part.report(_period(request, lang))
        body = {
            "period": period_title(report, lang),
            "first": report.period.first.isoformat(),
            "last": report.period.last.isoformat(),
            "tables": [_shown(tb, lang) for tb in all_tables(report, part.cfg, lang)],
            "charts": charts(report, lang),
        }
        return web.json_response({"status": "ok", "data": body})

    async def download(request: web.Request) -> web.Response:
        app: WebApp = request.app[K_WEB]
        app.need_user(request, ("admin",))
        lang = app.lang(request)
        fmt = request.rel_url.query.get("format", "pdf")
        if fmt not in FORMATS:
            raise web.HTTPBadRequest(text="format: pdf, csv, xlsx")
        period = _period(request, lang)
        report = await part.report(period)
        body = await part.render(report, fmt, lang)
        name = f"laporan-{period.first.isoformat()}-{period.last.isoformat()}.{fmt}"
        return web.Response(
            body=body,
            headers={
                "Content-Type": FORMATS[fmt],
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    return [
        web.get("/admin/reports", page),
        web.get("/api/admin/report", data),
        web.get("/admin/reports/download", download),
    ]
