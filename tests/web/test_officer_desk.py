"""The officer's workstation in Chromium against the real hub: the counter's waiting list in
calling order, calling a chosen ticket, priority with a reason, a transfer to the front of
another service, a missed ticket put back, keyboard shortcuts, closing only after a second
yes; an account bound to its counter, refused elsewhere by the server; the guide behind
"Bantuan"; the admin's reason used once, its events in words, a call to a counter that does
not serve the service refused; both pages usable 390 px wide."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect
from web_helpers import ADMIN, hub_fixture

from antrian.contract import Topics

T = Topics("kantor")
BOUND = ("siti", "rahasia-petugas-2")

hub = hub_fixture("officerdesk")


def users(hub, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    """`antrian users ...` on the hub's own configuration, as the IT officer runs it."""
    return subprocess.run(
        [sys.executable, "-m", "antrian.cli", "users", *args, "-c", str(hub.proc.config_path)],
        input=(password + "\n") if password else None,
        text=True,
        capture_output=True,
        check=False,
        env={"ANTRIAN_LANG": "id", "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def office(hub, tmp_path_factory):
    """Tickets taken over MQTT (a kiosk board), and an officer account bound to counter 2."""
    from tests.kit import Probe

    probe = Probe(hub.proc.broker)
    probe.subscribe(T.hub_response("take_ticket"))
    for service in ("A", "A", "B", "D", "C"):
        answer = probe.request(
            T.hub_request("take_ticket"), T.hub_response("take_ticket"), {"service": service}
        )
        assert answer["status"] == "ok", answer
    probe.close()
    made = users(
        hub, "add", BOUND[0], "--role", "officer", "--counters", "2", "--password-stdin", password=BOUND[1]
    )
    assert made.returncode == 0, made.stderr
    return hub


def log_in(page, base: str, who: tuple[str, str], path: str) -> None:
    page.goto(f"{base}{path}")
    page.fill("#username", who[0])
    page.fill("#password", who[1])
    page.click("#login-submit")
    page.wait_for_url(f"**{path.split('?')[0]}*")


def queue_codes(page) -> list[str]:
    return page.locator("#queue li").evaluate_all("(xs) => xs.map((x) => x.dataset.ticket)")


def test_an_officer_works_the_counter_from_the_list_and_the_keyboard(office, new_page, login, shot):
    page = new_page(1024, 900)
    login(page, office.base, "officer", "/officer?counter=1")
    expect(page.locator("#queue li")).to_have_count(3)  # counter 1 serves A and B
    assert queue_codes(page) == ["A-001", "A-002", "B-001"]

    # a priority mark needs a reason, is refused without one, and moves the ticket to the front
    page.click("#prio-B-001")
    expect(page.locator("#result")).to_have_text("Gagal: Isi alasannya terlebih dahulu.")
    page.fill("#reason", "lansia, tidak menekan tombol prioritas")
    page.click("#prio-B-001")
    expect(page.locator("#result")).to_have_text("Berhasil: B-001 dijadikan prioritas")
    expect(page.locator("#reason")).to_have_value("")  # used once, then emptied
    expect(page.locator('#queue li[data-ticket="B-001"] .prio-badge')).to_have_text("PRIORITAS")
    expect(page.locator("#queue li").first).to_have_attribute("data-ticket", "B-001")

    # a chosen ticket is called; the desk shows its service, priority and waiting time
    page.click("#call-A-002")
    expect(page.locator("#result")).to_have_text("Berhasil: A-002 dipanggil ke Loket 1")
    expect(page.locator("#serving")).to_have_text("A-002")
    expect(page.locator("#current-service")).to_contain_text("A · ")
    expect(page.locator("#current-priority")).to_have_text("reguler")
    expect(page.locator("#current-waited")).to_contain_text("menit")
    expect(page.locator("#current-history")).to_have_text("belum pernah dialihkan")
    shot(page, "officer-desk")

    # transferred to D, at the front: counter 3 (which serves D) calls it before the older D-001
    page.select_option("#transfer-to", "D")
    page.select_option("#transfer-position", "front")
    page.click("#btn-transfer")
    expect(page.locator("#result")).to_have_text("Berhasil: A-002 dialihkan ke layanan D")
    expect(page.locator("#serving")).to_have_text("—")
    page.select_option("#counter", "3")
    expect(page.locator("#queue li").first).to_have_attribute("data-ticket", "A-002")
    page.click("#serving")  # out of the form fields: the shortcuts are live
    page.keyboard.press("p")
    expect(page.locator("#serving")).to_have_text("A-002")
    expect(page.locator("#current-history")).to_contain_text("dari A ke D pukul")

    # not there: skipped with the keyboard, then put back when the citizen returns
    page.keyboard.press("l")
    expect(page.locator("#result")).to_have_text("Berhasil: A-002 ditandai terlewat")
    expect(page.locator('#skipped li[data-ticket="A-002"]')).to_be_visible()
    page.click("#reinsert-A-002")
    expect(page.locator("#result")).to_have_text("Berhasil: A-002 dimasukkan kembali ke antrean")
    expect(page.locator('#queue li[data-ticket="A-002"]')).to_be_visible()
    expect(page.locator("#skipped li")).to_have_count(0)
    page.keyboard.press("s")  # "selesai" with nobody at the counter: said in words
    expect(page.locator("#result")).to_have_text("Gagal: Loket 3 tidak sedang melayani tiket")

    # closing asks once more; "Batal" leaves the counter open
    page.click("#btn-close")
    expect(page.locator("#close-confirm")).to_be_visible()
    expect(page.locator("#close-question")).to_contain_text("Tutup Loket 3")
    page.click("#btn-close-no")
    expect(page.locator("#close-confirm")).to_be_hidden()
    assert office.state()["counters"][2]["status"] == "open"
    page.click("#btn-close")
    page.click("#btn-close-yes")
    expect(page.locator("#result")).to_have_text("Berhasil: loket ditutup")
    expect(page.locator("#status")).to_have_text("tutup")
    page.click("#btn-open")
    expect(page.locator("#status")).to_have_text("buka")


def test_an_account_bound_to_its_counter_is_refused_elsewhere_by_the_server(office, new_page):
    listed = users(office, "list")
    assert re.search(r"siti\s+officer \(loket 2\)", listed.stdout), listed.stdout
    assert re.search(r"budi\s+officer \(semua loket\)", listed.stdout), listed.stdout
    refused = users(
        office, "add", "joko", "--role", "officer", "--counters", "9", "--password-stdin", password="x" * 12
    )
    assert refused.returncode == 2
    assert "loket 9 tidak ada" in refused.stderr

    page = new_page(1024, 800)
    log_in(page, office.base, BOUND, "/officer?counter=1")
    expect(page.locator("#counter option")).to_have_count(1)
    expect(page.locator("#counter")).to_have_value("2")
    token = page.locator('meta[name="csrf"]').get_attribute("content")

    def action(body: dict) -> tuple[int, dict]:
        r = page.context.request.post(f"{office.base}/api/action", headers={"X-CSRF-Token": token}, data=body)
        return r.status, r.json()

    status, body = action({"command": "call_next", "counter": 1})
    assert (status, body["data"]["code"]) == (403, "not_your_counter")
    assert body["error"] == "Akun siti tidak ditugaskan di Loket 1"
    status, body = action({"command": "set_priority", "ticket": "D-001", "priority": True, "reason": "uji"})
    assert (status, body["data"]["code"]) == (403, "not_your_service")  # counter 2 does not serve D
    assert office.state()["counters"][0]["serving"] is None  # nothing happened at counter 1
    status, body = action({"command": "call_next", "counter": 2})
    assert (status, body["status"]) == (200, "ok"), body


def test_the_help_link_opens_the_officers_guide_with_its_pictures(office, new_page, login):
    page = new_page(1024, 800)
    login(page, office.base, "officer", "/officer")
    expect(page.locator("#help-link")).to_have_text("Bantuan")
    href = page.locator("#help-link").get_attribute("href")
    page.goto(f"{office.base}{href}")
    expect(page.locator("#guide h1")).to_contain_text("Panduan")
    images = page.locator("#guide img")
    assert images.count() >= 3
    for i in range(images.count()):
        images.nth(i).scroll_into_view_if_needed()
        expect(images.nth(i)).to_have_js_property("complete", True)
        assert images.nth(i).evaluate("(img) => img.naturalWidth") > 0
    assert page.context.request.get(f"{office.base}/help/img/..%2Fofficer-guide.md").status == 404


def test_the_admin_reason_goes_with_one_action_and_the_audit_log_speaks_in_words(office, new_page, login):
    page = new_page(1400, 1000)
    login(page, office.base, "admin", "/admin")
    page.select_option("#ooo-counter", "3")
    page.fill("#reason", "salah loket")
    chip = page.locator('#queue .chip[data-ticket^="A-"]').first  # counter 3 serves C, D, E
    code = chip.get_attribute("data-ticket")
    chip.locator('button[data-act*="call_ticket"]').click()
    expect(page.locator("#result")).to_have_text(f"Gagal: Loket 3 tidak melayani layanan A (tiket {code})")
    expect(page.locator("#reason")).to_have_value("")
    page.click("#pause-E")  # the next action carries no reason of an earlier one
    expect(page.locator("#result")).to_have_text("Berhasil: layanan E dihentikan sementara")
    row = page.locator('#audit tr[data-type="service_status_changed"]').first
    expect(row).to_contain_text("Status layanan diubah")
    expect(row.locator("td").last).to_have_text("")
    expect(page.locator('#audit tr[data-type="ticket_issued"]').first).to_contain_text("Tiket diambil")
    page.click("#resume-E")
    page.goto(f"{office.base}/admin?lang=en")
    expect(page.locator('#audit tr[data-type="service_status_changed"]').first).to_contain_text(
        "Service status changed"
    )
    page.select_option("#ooo-counter", "3")  # the rules' refusal, in the page's language too
    page.locator(f'#queue .chip[data-ticket="{code}"] button[data-act*="call_ticket"]').click()
    expect(page.locator("#result")).to_have_text(
        f"Failed: Counter 3 does not serve service A (ticket {code})"
    )


@pytest.mark.parametrize("path", ["/officer?counter=1", "/admin"])
def test_a_page_fits_a_phone_390_px_wide(office, new_page, path, shot):
    page = new_page(390, 844)
    log_in(page, office.base, ADMIN, path)
    expect(page.locator("#counter option, #services tr[data-service]").first).to_be_attached()  # drawn
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"{path} is {width} px wide"
    shot(page, f"phone-{path.strip('/').split('?')[0]}", full_page=True)
