"""The report page in Chromium, on a hub whose log holds a month of office days (October 2026,
written by the queue's own rules before the hub starts): the admin picks the month, reads the
figures the report code computes from the same log, and downloads the PDF, CSV and XLSX."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

from web_helpers import OFFICER, Browser, hub_fixture

from antrian.config import parse_config
from antrian.reports.figures import from_log, parse_period
from antrian.store import EventStore
from tests.kit.office_month import write_month

CFG = parse_config({"office": {"name": "Kantor Kecamatan Winongan"}})
MONTH = "2026-10"


def _month_of_days(workdir: Path) -> None:
    store = EventStore(workdir / "antrian.db", synchronous="OFF")
    write_month(store, CFG, MONTH, 40, seed=7)
    store.close()


report_hub = hub_fixture("reporthub", prepare=_month_of_days)


def test_an_admin_reads_a_months_figures_and_downloads_the_report(report_hub, new_page, login, shot):
    expected = from_log(str(report_hub.proc.database), CFG, parse_period("month", MONTH)).office
    page = new_page(1280, 900)
    login(page, report_hub.base, "admin", "/admin/reports")
    page.wait_for_selector("#table-summary")
    page.select_option("#report-kind", "month")
    page.fill("#report-value", MONTH)
    page.click("#report-show")
    page.wait_for_selector("#report-period:has-text('Oktober 2026')")
    summary = page.inner_text("#table-summary")
    assert re.search(rf"Tiket diambil\s+{expected.issued}\b", summary), summary
    assert re.search(rf"Tiket dilayani\s+{expected.served}\b", summary), summary
    mean = f"{expected.wait_mean:.1f}".replace(".", ",")
    assert re.search(rf"Waktu tunggu rata-rata \(menit\)\s+{mean}", summary), summary
    for key in ("services", "counters", "officers", "days", "hours"):
        assert page.is_visible(f"#table-{key}")
    assert "Perangkat pad-2" in page.inner_text("#table-officers")
    assert page.locator("#report-charts svg.chart").count() == 3
    shot(page, "report-month", full_page=True)

    with page.expect_download() as got:
        page.click("#download-pdf")
    pdf = Path(got.value.path()).read_bytes()
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "LAPORAN BULANAN PELAYANAN ANTREAN" in text
    assert "Oktober 2026" in text

    query = f"kind=month&value={MONTH}"
    xlsx = page.request.get(f"{report_hub.base}/admin/reports/download?{query}&format=xlsx")
    assert xlsx.status == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.body()))["summary"]
    assert [c.value for c in sheet["A"]][:2] == [
        "Kantor Kecamatan Winongan",
        "Periode: Oktober 2026 (waktu WIB)",
    ]
    csv_text = page.request.get(f"{report_hub.base}/admin/reports/download?{query}&format=csv").text()
    assert f"Tiket diambil,{expected.issued}" in csv_text


def test_a_period_out_of_bounds_is_refused_with_the_reason_and_officers_get_no_report(
    report_hub, new_page, login
):
    page = new_page()
    login(page, report_hub.base, "admin", "/admin/reports")
    for query, said in (
        ("kind=month&value=2026-13", "Periode month tidak sah"),
        ("kind=range&value=2024-01-01&until=2026-01-01", "paling lama 366 hari"),
        ("kind=range&value=2026-10-10&until=2026-10-01", "sebelum tanggal awal"),
        ("kind=decade&value=2020", "Jenis periode tidak dikenal"),
    ):
        answer = page.request.get(f"{report_hub.base}/api/admin/report?{query}")
        assert answer.status == 400
        assert said in answer.text()
    page.select_option("#report-kind", "range")
    page.fill("#report-value", "2026-10-10")
    page.fill("#report-until", "2026-10-01")
    page.click("#report-show")
    page.wait_for_selector("#report-status.error")
    assert "sebelum tanggal awal" in page.inner_text("#report-status")

    officer = Browser(report_hub, "127.0.0.1")
    officer.login(*OFFICER)
    assert officer.request("GET", "/api/admin/report?kind=month&value=2026-10")[0] == 403
