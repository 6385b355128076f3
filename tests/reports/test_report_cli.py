"""`antrian report` as the IT officer runs it, beside the office's database."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from antrian.config import parse_config
from antrian.store import EventStore
from tests.kit.office_month import write_month
from tests.kit.process import antrian_cli


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    folder = tmp_path_factory.mktemp("office")
    (folder / "antrian.toml").write_text(
        'database = "antrian.db"\n[office]\nname = "Kantor Kecamatan Winongan"\n'
    )
    store = EventStore(folder / "antrian.db", synchronous="OFF")
    write_month(store, parse_config({}), "2026-11", 30, seed=3)
    store.close()
    return folder


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="apt: poppler-utils")
def test_the_monthly_pdf_is_written_with_progress_and_a_closing_line(office):
    done = antrian_cli("report", "month", "2026-11", "--out", "laporan.pdf", "-c", "antrian.toml", cwd=office)
    assert done.returncode == 0, done.stderr
    assert "Membaca log: 2026-11-30 (30/30 hari)" in done.stderr
    # 21 working days of 30 tickets
    assert "Laporan November 2026 ditulis ke laporan.pdf: 630 tiket diambil" in done.stdout
    text = subprocess.run(
        ["pdftotext", "laporan.pdf", "-"], cwd=office, capture_output=True, text=True
    ).stdout
    assert "KANTOR KECAMATAN WINONGAN" in text


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("month", "2026-13"), "Periode month tidak sah: 2026-13"),
        (("range", "2025-01-01", "2026-06-30"), "Periode paling lama 366 hari"),
        (("week", "2026-W48", "--out", "laporan.docx"), "Format tidak dikenal"),
    ],
)
def test_a_wrong_request_is_refused_with_why(office, args, said):
    done = antrian_cli("report", *args, "-c", "antrian.toml", cwd=office)
    assert done.returncode == 2
    assert said in done.stderr


def test_a_missing_database_is_named(tmp_path):
    (tmp_path / "antrian.toml").write_text('database = "nowhere.db"\n')
    done = antrian_cli("report", "day", "2026-11-27", "-c", "antrian.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert "nowhere.db" in done.stderr


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="apt: poppler-utils")
def test_the_monthly_pdf_from_the_command_line_has_the_satisfaction_index(tmp_path):
    import sqlite3

    from antrian.survey.ikm import KEYS
    from antrian.survey.store import Response, SurveyStore

    (tmp_path / "antrian.toml").write_text(
        'database = "antrian.db"\n[office]\nname = "Kantor Kecamatan Winongan"\n'
    )
    store = EventStore(tmp_path / "antrian.db", synchronous="OFF")
    write_month(store, parse_config({}), "2026-11", 30, seed=5)
    store.close()
    db = sqlite3.connect(tmp_path / "antrian.db")
    answers = SurveyStore(db)
    for i, score in enumerate((4, 3, 4)):  # three answers: NRR 11/3 on every element
        answers.save(Response("2026-11-10", "A", dict.fromkeys(KEYS, score), {}), f"tag-{i}")
    db.close()

    done = antrian_cli(
        "report", "month", "2026-11", "--out", "laporan.pdf", "-c", "antrian.toml", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    text = subprocess.run(
        ["pdftotext", "laporan.pdf", "-"], cwd=tmp_path, capture_output=True, text=True
    ).stdout
    assert "Indeks Kepuasan Masyarakat" in text
    assert "3 responden" in " ".join(text.split())
    assert "91,67" in text  # 25 x 11/3 = 91.666... -> 91,67: A, Sangat Baik
