"""The regency page in a real Chromium: login with a regency account, every office live, the month."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from centre import same_log, wait_until
from playwright.sync_api import expect

from tests.web.web_helpers import CHROMIUM_ARGS

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Chromium missing: apt-get install chromium (./run test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        yield b
        b.close()


def users(centre, *args: str, password: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "antrian.cli", "central", "users", *args, "-c", str(centre.config)],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_a_regency_admin_logs_in_and_sees_every_office_live(centre, offices, browser):
    assert users(centre, "add", "bupati", "--password-stdin", password="rahasia-kab-1").returncode == 0
    short = users(centre, "add", "camat", "--password-stdin", password="pendek")
    assert short.returncode != 0
    assert "8-200" in short.stderr
    winongan, grati = offices("winongan"), offices("grati")
    winongan.publish_retained("hub/state", json.dumps({"state": "online", "instance": "a"}))
    winongan.publish_retained("service/A/state", json.dumps({"waiting": 4, "status": "open"}))
    winongan.publish_retained("counter/1/state", json.dumps({"serving": "A-007", "status": "open"}))
    winongan.publish_retained("device/kiosk-1/availability", "offline")
    grati.publish_retained("hub/state", json.dumps({"state": "offline", "instance": "b"}))
    winongan.commit(winongan.ticket_day("2026-11-30", 3))
    winongan.send(winongan.rows())
    wait_until(lambda: same_log(winongan, centre.db), 10, "the events are in")
    wait_until(lambda: len(centre.db.query("SELECT 1 FROM live_state")) == 5, 10, "the live state is in")

    page = browser.new_page()
    base = f"http://127.0.0.1:{centre.web_port}"
    page.goto(base + "/")
    assert page.url.endswith("/masuk")
    page.fill("input[name=name]", "bupati")
    page.fill("input[name=password]", "salah-sekali")
    page.click("button[type=submit]")
    assert "Nama atau kata sandi salah" in page.inner_text("#error")
    page.fill("input[name=name]", "bupati")
    page.fill("input[name=password]", "rahasia-kab-1")
    page.click("button[type=submit]")
    page.wait_for_selector("tr[data-office=winongan]")
    row = page.inner_text("tr[data-office=winongan]")
    assert "Kantor Kecamatan Winongan" in row
    assert "aktif" in row
    assert "A: 4" in row
    assert "A-007" in row
    assert "kiosk-1" in row
    assert "0 kejadian tertinggal" in row
    assert "mati" in page.inner_text("tr[data-office=grati]")

    winongan.publish_retained("service/A/state", json.dumps({"waiting": 9, "status": "open"}))
    expect(page.locator("tr[data-office=winongan]")).to_contain_text("A: 9", timeout=10_000)

    page.goto(base + "/laporan?bulan=2026-11")
    cells = page.locator("tr[data-office=winongan] td").all_inner_texts()
    assert cells[:4] == ["Kantor Kecamatan Winongan", "3", "3", "0"]
    assert page.locator("tr[data-office=regency] td").all_inner_texts()[1] == "3"
    assert page.locator("tr[data-office=grati] td").all_inner_texts()[1] == "0"

    page.goto(base + "/laporan?bulan=2026-11&lang=en")
    assert "Whole regency" in page.inner_text("#report")
    page.goto(base + "/")
    page.wait_for_selector("tr[data-office=winongan]")
    assert "events behind" in page.inner_text("tr[data-office=winongan]")
    page.click("text=Log out")
    page.goto(base + "/")
    assert page.url.endswith("/masuk")
    page.close()


def test_a_report_of_a_month_that_is_not_one_is_refused(centre, browser):
    assert users(centre, "add", "bupati", "--password-stdin", password="rahasia-kab-1").returncode == 0
    page = browser.new_page()
    base = f"http://127.0.0.1:{centre.web_port}"
    page.goto(base + "/masuk")
    page.fill("input[name=name]", "bupati")
    page.fill("input[name=password]", "rahasia-kab-1")
    page.click("button[type=submit]")
    page.wait_for_selector("#offices")
    answer = page.goto(base + "/laporan?bulan=2026-13")
    assert answer is not None
    assert answer.status == 400
    assert "2026-13" in page.inner_text("body")
    assert page.goto(base + "/laporan?kantor=nowhere").status == 400
    page.close()
