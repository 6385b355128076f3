"""The report as a PDF to print and sign: Indonesian words and numbers, the office's name.

Built with fpdf2 (the `reports` extra): pure Python, no browser or system library, so it runs
on the office PC as it is. A4 landscape, because the tables per service, counter and officer
have a dozen columns. The core Helvetica font is used (every PDF reader has it): texts are
written in Latin-1, and a character outside it (a name typed with one) becomes the nearest
plain letter or `?`, never an error.

Other parts add tables through `sections` (`antrian.reports.tables.ReportSection`: a title,
headings, rows, a footnote), e.g. the satisfaction index of the survey; they are printed after
the queue's tables and before the signatures.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from antrian.config import Config
from antrian.i18n import t
from antrian.reports.figures import Report
from antrian.reports.tables import (
    TEXT,
    ReportSection,
    Table,
    all_tables,
    long_date,
    number,
    period_title,
    tz_label,
)

_SUBSTITUTES = {"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}


def latin1(text: str) -> str:
    """`text` in the core font's Latin-1: dashes and quotes made plain, accents kept where
    Latin-1 has them, other letters without their marks, anything else `?`."""
    out = []
    for ch in str(text):
        ch = _SUBSTITUTES.get(ch, ch)
        if ord(ch) < 256:
            out.append(ch)
            continue
        plain = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
        out.append(plain or "?")
    return "".join(out)


def _pdf_class() -> Any:  # noqa: ANN401 - fpdf2 has no type stubs of its own for subclassing
    from fpdf import FPDF

    class ReportPdf(FPDF):
        footer_text = ""

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", size=8)
            self.set_text_color(90)
            self.cell(0, 6, latin1(self.footer_text.format(page=self.page_no())), align="C")

    return ReportPdf


def _cells(section: ReportSection | Table, lang: str) -> list[list[str]]:
    kinds = section.kinds if isinstance(section, Table) else (TEXT,) * len(section.columns)
    return [[latin1(number(v, lang, k)) for v, k in zip(row, kinds, strict=True)] for row in section.rows]


def _figures(cells: Iterable[str]) -> bool:
    """A column of figures (right-aligned, so digits line up): `1.234`, `12,5%`, `-` or empty."""
    filled = [c for c in cells if c]
    return bool(filled) and all(ch.isdigit() or ch in ".,%- " for c in filled for ch in c)


def _table(pdf: Any, section: ReportSection | Table, lang: str) -> None:  # noqa: ANN401
    from fpdf.fonts import FontFace

    pdf.set_font("Helvetica", "B", 11)
    if pdf.will_page_break(30):
        pdf.add_page()
    pdf.cell(0, 8, latin1(section.title), new_x="LMARGIN", new_y="NEXT")
    rows = _cells(section, lang)
    n = len(section.columns)
    if isinstance(section, Table):  # the report's own: a name, then figures of one width
        first = 0.3 if n > 3 else 0.5
        widths: tuple[float, ...] = (first, *((1 - first) / (n - 1),) * (n - 1)) if n > 1 else (1.0,)
    else:  # another part's: each column as wide as its longest word or cell (within bounds)
        widths = tuple(
            min(max(len(max(str(c).split() or [""], key=len)), *(len(r[i]) for r in rows), 4), 60)
            for i, c in enumerate(section.columns)
        )
    pdf.set_font("Helvetica", size=8 if n > 6 else 9)
    pdf.set_fill_color(255, 255, 255)
    if not rows:
        pdf.cell(0, 6, latin1(t("report.no_data", lang)), new_x="LMARGIN", new_y="NEXT")
    else:
        with pdf.table(
            col_widths=tuple(w * 100 for w in widths),
            text_align=tuple("RIGHT" if i and _figures(r[i] for r in rows) else "LEFT" for i in range(n)),
            headings_style=FontFace(emphasis="BOLD", fill_color=(225, 231, 240)),
            line_height=4.6,
            first_row_as_headings=True,
        ) as table:
            for row in [[latin1(c) for c in section.columns], *rows]:
                table.row(row)
    if section.footnote:
        pdf.set_font("Helvetica", "I", 7.5)
        pdf.multi_cell(0, 4, latin1(section.footnote), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _hours_chart(pdf: Any, report: Report, lang: str) -> None:  # noqa: ANN401
    """Tickets issued per hour of the day: bars drawn on the page (busiest hours at a glance)."""
    if not report.hours:
        return
    if pdf.will_page_break(62):
        pdf.add_page()
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 8, latin1(t("report.chart_hours", lang)), new_x="LMARGIN", new_y="NEXT")
    hours = range(min(report.hours), max(report.hours) + 1)
    top = max(report.hours.values())
    x0, y0, height = pdf.l_margin + 4, pdf.get_y() + 44, 40.0
    slot = min(16.0, (pdf.epw - 8) / len(hours))
    pdf.set_font("Helvetica", size=7)
    for i, h in enumerate(hours):
        n = report.hours.get(h, 0)
        bar = height * n / top
        pdf.set_fill_color(29, 111, 216)
        pdf.rect(x0 + i * slot + 1, y0 - bar, slot - 2, bar, style="F")
        pdf.set_xy(x0 + i * slot, y0 - bar - 4)
        pdf.cell(slot, 4, number(n, lang, "count"), align="C")
        pdf.set_xy(x0 + i * slot, y0 + 0.5)
        pdf.cell(slot, 4, f"{h:02d}", align="C")
    pdf.line(x0, y0, x0 + len(hours) * slot, y0)
    pdf.set_y(y0 + 8)


def monthly_pdf(
    report: Report,
    cfg: Config,
    lang: str = "id",
    *,
    sections: Sequence[ReportSection] = (),
    printed_on: date | None = None,
) -> bytes:
    """The report of `report.period` as a PDF: heading with the office's name, the summary,
    the hours chart, the tables per service, counter, officer and day, then `sections`, the
    definitions and the signature blocks."""
    pdf = _pdf_class()(orientation="L", unit="mm", format="A4")
    pdf.set_title(latin1(f"{t('report.pdf_title', lang)} {period_title(report, lang)}"))
    pdf.set_author(latin1(cfg.office.name))
    pdf.set_creator("antrian")
    pdf.footer_text = t("report.pdf_footer", lang, office=cfg.office.name, page="{page}")
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_margins(14, 12, 14)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 8, latin1(cfg.office.name.upper()), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 13)
    title = t("report.pdf_title" if report.period.kind == "month" else "report.pdf_title_period", lang)
    pdf.cell(0, 7, latin1(title.upper()), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    tz = tz_label(cfg)
    line = t("report.pdf_period", lang, period=period_title(report, lang), tz=tz)
    pdf.cell(0, 6, latin1(line), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(40)
    pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.w - pdf.r_margin, pdf.get_y() + 2)
    pdf.ln(6)

    tables = all_tables(report, cfg, lang)
    _table(pdf, tables[0], lang)
    _hours_chart(pdf, report, lang)
    for table in tables[1:5]:  # services, counters, officers, days (the hours are the chart)
        _table(pdf, table, lang)
    for section in sections:
        _table(pdf, section, lang)

    pdf.set_font("Helvetica", "B", 10)
    if pdf.will_page_break(40):
        pdf.add_page()
    pdf.cell(0, 6, latin1(t("report.definitions_title", lang)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    pdf.multi_cell(0, 4, latin1(t("report.definitions", lang)), new_x="LMARGIN", new_y="NEXT")
    _signatures(pdf, cfg, lang, printed_on or date.today())
    return bytes(pdf.output())


def _signatures(pdf: Any, cfg: Config, lang: str, printed_on: date) -> None:  # noqa: ANN401
    """Two blocks to sign by hand: who made the report, and the camat who acknowledges it."""
    if pdf.will_page_break(52):
        pdf.add_page()
    pdf.ln(6)
    half = pdf.epw / 2
    pdf.set_font("Helvetica", size=10)
    y = pdf.get_y()
    blocks = (
        (t("report.sign_made", lang), t("report.sign_maker", lang)),
        (t("report.sign_known", lang), t("report.sign_head", lang)),
    )
    for i, (above, role) in enumerate(blocks):
        x = pdf.l_margin + i * half
        pdf.set_xy(x, y)
        top = t("report.sign_place", lang, office=cfg.office.name, date=long_date(printed_on, lang))
        pdf.cell(half, 5, latin1(top) if i == 1 else "", align="C", new_x="LEFT", new_y="NEXT")
        pdf.cell(half, 5, latin1(above), align="C", new_x="LEFT", new_y="NEXT")
        pdf.cell(half, 5, latin1(role), align="C", new_x="LEFT", new_y="NEXT")
        pdf.ln(20)
        pdf.set_x(x)
        pdf.cell(half, 5, "(.......................................)", align="C", new_x="LEFT", new_y="NEXT")
        pdf.cell(half, 5, latin1(t("report.sign_nip", lang)), align="C", new_x="LEFT", new_y="NEXT")
