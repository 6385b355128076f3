"""The report as a person gets it: the PDF read back with pdftotext, the CSV with a CSV reader
and the spreadsheet with openpyxl, for the hand-computed days of test_figures and for a month
written by the queue's own rules."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date

import pytest

from antrian.config import parse_config
from antrian.reports.extension import render
from antrian.reports.figures import compute, from_log, parse_period
from antrian.reports.pdf import monthly_pdf
from antrian.store import EventStore
from tests.kit.office_month import write_month
from tests.reports.test_figures import CFG, EVENTS

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="apt: poppler-utils")


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "laporan.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return re.sub(r"[ \t]+", " ", out.stdout)


@dataclass(frozen=True)
class SurveyTable:
    """What the satisfaction survey hands the PDF: a title, headings, rows and a footnote."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    footnote: str


@pytest.fixture(scope="module")
def report():
    return compute(EVENTS, CFG, parse_period("month", "2026-11"))


def test_the_monthly_pdf_is_in_indonesian_with_the_figures_and_room_to_sign(report, tmp_path):
    survey = SurveyTable(
        "Indeks Kepuasan Masyarakat (IKM)",
        ("Unsur", "NRR"),
        (("U1 Persyaratan", "3,25"),),
        "IKM = 25 x jumlah NRR x 1/9",
    )
    pdf = monthly_pdf(report, CFG, "id", sections=[survey], printed_on=date(2026, 12, 1))
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    for expected in (
        "KANTOR KECAMATAN",
        "LAPORAN BULANAN PELAYANAN ANTREAN",
        "Periode: November 2026 (waktu WIB)",
        "Tiket diambil 7",
        "Waktu tunggu rata-rata (menit) 20,5",  # 123 / 6, with the Indonesian decimal comma
        "Menunggu lebih lama dari standar pelayanan 33,3%",  # 2 of 6
        "Bagian tidak hadir 20,0%",
        "08.00-09.00 (5)",
        "A Administrasi kependudukan 30,0 4 2 3 0 0 22,7 20,0 30,0 0,0% 13,3 0,0%",
        "Per petugas (internal)",
        "Perangkat pad-2",
        "Indeks Kepuasan Masyarakat (IKM)",
        "U1 Persyaratan 3,25",
        "IKM = 25 x jumlah NRR x 1/9",
        "Kantor Kecamatan, 1 Desember 2026",
        "Camat",
        "NIP.",
    ):
        assert expected in text, expected


def test_the_report_reads_in_english_when_asked(report, tmp_path):
    text = pdf_text(monthly_pdf(report, CFG, "en"), tmp_path)
    assert "MONTHLY QUEUE SERVICE REPORT" in text
    assert "Mean wait (minutes) 20.5" in text


def test_csv_and_xlsx_hold_the_report_tables_as_numbers(report):
    rows = list(csv.reader(io.StringIO(render(report, CFG, "csv", "id").decode("utf-8-sig"))))
    assert rows[0] == ["Kantor Kecamatan"]
    services = rows.index(["Per layanan"])
    header, a_row = rows[services + 1], rows[services + 2]
    assert a_row[: len(header)] == [
        "A Administrasi kependudukan",
        "30.0",
        "4",
        "2",
        "3",
        "0",
        "0",
        "22.7",
        "20.0",
        "30.0",
        "0.0",
        "13.3",
        "0.0",
    ]  # the service's row, as the PDF prints it
    assert "Melebihi standar (%)" in header

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(render(report, CFG, "xlsx", "id")))
    assert book.sheetnames == ["summary", "services", "counters", "officers", "days", "hours"]
    sheet = book["services"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    b_row = next(r for r in values if r[0] == "B Surat keterangan")
    assert b_row[2] == 3  # issued
    assert b_row[10] == pytest.approx(2 / 3)  # share over the standard
    counters = [[c.value for c in row] for row in book["counters"].iter_rows()]
    assert next(r for r in counters if r[0] == "Loket 1")[1] == 4  # calls


def test_a_month_of_office_days_from_the_log_prints_whole(tmp_path):
    cfg = parse_config({"office": {"name": "Kantor Kecamatan Winongan"}})
    store = EventStore(tmp_path / "antrian.db", synchronous="OFF")
    days, _ = write_month(store, cfg, "2026-11", 60)
    store.close()
    seen = []
    report = from_log(
        str(tmp_path / "antrian.db"),
        cfg,
        parse_period("month", "2026-11"),
        progress=lambda *a: seen.append(a),
    )
    assert len(seen) == 30
    assert seen[-1] == ("2026-11-30", 30, 30)
    assert report.open_days == days == 21
    o = report.office
    assert o.issued == 21 * 60
    assert o.issued == o.served + o.skipped + o.expired  # every ticket ends somewhere
    text = pdf_text(monthly_pdf(report, cfg, "id"), tmp_path)
    assert "KANTOR KECAMATAN WINONGAN" in text
    assert f"Tiket diambil {o.issued:,}".replace(",", ".") in text
    assert "30-11-2026" in text  # the last working day's row


def test_a_part_with_report_sections_adds_its_table_to_the_hubs_monthly_pdf(tmp_path):
    """The survey adds its IKM recap by having `report_sections`; the reports import nothing of it."""
    import asyncio

    from antrian.core import HubCore
    from antrian.extension import Extension
    from antrian.reports.extension import Reports
    from antrian.service import HubService

    class Satisfaction(Extension):
        name = "survey"

        def report_sections(self, first, last, lang):
            title = f"IKM {first.isoformat()} - {last.isoformat()}"
            return [SurveyTable(title, ("Unsur", "NRR"), (("U9 Sarana dan prasarana", "3,10"),), "")]

    store = EventStore(tmp_path / "antrian.db")
    for e in EVENTS:
        store.append([e])
    service = HubService(HubCore(CFG, store), extensions=[Satisfaction, Reports])
    reports = service.extension("reports")
    assert isinstance(reports, Reports)

    async def month_pdf() -> bytes:
        report = await reports.report(parse_period("month", "2026-11"))
        assert report.office.issued == 7
        return await reports.render(report, "pdf", "id")

    text = pdf_text(asyncio.run(month_pdf()), tmp_path)
    assert "IKM 2026-11-01 - 2026-11-30" in text
    assert "U9 Sarana dan prasarana 3,10" in text
    store.close()
