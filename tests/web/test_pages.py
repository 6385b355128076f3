"""The pages in a real browser against the real hub: kiosk -> TV -> citizen page -> officer."""

from __future__ import annotations

import re
import sys
import urllib.request
from pathlib import Path

from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "devices"))
from escpos_decode import decode  # the decoder the firmware tests use


def take_ticket(kiosk, letter: str) -> tuple[str, str]:
    kiosk.click(f'.svc-btn[data-service="{letter}"]')
    code = kiosk.locator("#issued-ticket").inner_text()
    url = kiosk.locator("#status-qr").get_attribute("data-url")
    assert url is not None
    return code, url


def test_ticket_flow_kiosk_tv_status_officer(web_hub, new_page, login, shot):
    base = web_hub.base
    tv = new_page(1920, 1080)
    tv.goto(f"{base}/tv")
    expect(tv.locator(".svc[data-service='B'] .waiting")).to_have_text("0")

    kiosk = new_page(1280, 800)
    kiosk.goto(web_hub.kiosk())
    first, _ = take_ticket(kiosk, "B")
    assert first == "B-001"
    expect(kiosk.locator(".qr svg path")).to_have_count(1)
    shot(kiosk, "kiosk-ticket")
    # ... and it came out of the hub's printer, in the ESP32 kiosk's layout
    printed = decode(web_hub.printer.read_bytes())
    assert len(printed) == 1
    assert printed[0].find("B-001").width == 6  # the number as large as 58 mm paper takes
    assert printed[0].qr == [kiosk.locator("#status-qr").get_attribute("data-url")]
    assert printed[0].cut
    kiosk.click("#close")
    second, status_url = take_ticket(kiosk, "B")
    assert second == "B-002"
    kiosk.click("#close")
    shot(kiosk, "kiosk")

    # the TV saw both tickets arrive, without a reload
    expect(tv.locator(".svc[data-service='B'] .waiting")).to_have_text("2")

    phone = new_page(412, 860)
    phone.goto(status_url)
    expect(phone.locator("#ticket")).to_have_text("B-002")
    expect(phone.locator("#ahead")).to_have_text("1")
    shot(phone, "status-waiting")

    officer = new_page(1024, 800)
    login(officer, base, "officer", "/officer?counter=1")
    officer.select_option("#counter", "1")
    officer.click("#btn-next")
    expect(officer.locator("#serving")).to_have_text("B-001")
    shot(officer, "officer")

    # the call reaches the TV and the phone without a reload
    expect(tv.locator("#hero-ticket")).to_have_text("B-001")
    expect(tv.locator("#hero-counter")).to_have_text("Loket 1")
    expect(tv.locator("#hero")).to_have_class(re.compile("flash"))
    shot(tv, "tv")
    expect(phone.locator("#ahead")).to_have_text("0")
    expect(phone.locator("#ready")).to_be_visible()
    shot(phone, "status-ready")

    officer.click("#btn-next")
    expect(phone.locator("#state")).to_have_text("Silakan menuju Loket 1")
    expect(tv.locator("#hero-ticket")).to_have_text("B-002")
    expect(tv.locator("#recent li").first).to_contain_text("B-001")
    shot(phone, "status-called")
    shot(tv, "tv-second-call")

    officer.click("#btn-done")
    expect(phone.locator("#state")).to_have_text("Layanan selesai. Terima kasih.")


def test_admin_pause_is_refused_on_kiosk(web_hub, new_page, login, shot):
    base = web_hub.base
    admin = new_page(1400, 1000)
    login(admin, base, "admin", "/admin")
    admin.click("#pause-C")
    expect(admin.locator("#resume-C")).to_be_visible()
    assert web_hub.service("C")["status"] == "paused"

    kiosk = new_page(1280, 800)
    kiosk.goto(web_hub.kiosk())
    expect(kiosk.locator('.svc-btn[data-service="C"]')).to_contain_text("dihentikan sementara")
    kiosk.click('.svc-btn[data-service="C"]')
    expect(kiosk.locator("#kiosk-error")).to_contain_text("dihentikan sementara")
    shot(kiosk, "kiosk-refused")
    assert web_hub.service("C")["issued"] == 0

    # the audit log names the admin; the topic monitor shows the retained service state
    expect(admin.locator('#audit tr[data-type="service_status_changed"]').first).to_contain_text("admin:ani")
    for path in ("antrian", "antrian/kantor", "antrian/kantor/service", "antrian/kantor/service/C"):
        node = admin.locator(f'#tree details[data-path="{path}"]')
        node.locator("> summary").click()
        expect(node).to_have_attribute("open", "")  # the tree is redrawn live: opened, and stays
    expect(admin.locator('[data-topic="antrian/kantor/service/C/state"]')).to_contain_text('"paused"')
    expect(admin.locator("#stats svg.chart")).to_have_count(3)
    admin.wait_for_timeout(300)
    shot(admin, "admin", full_page=True)

    admin.click("#resume-C")
    expect(admin.locator("#pause-C")).to_be_visible()
    expect(kiosk.locator('.svc-btn[data-service="C"]')).not_to_contain_text("dihentikan")


def test_staff_correct_a_wrongly_priority_ticket_with_a_reason(web_hub, new_page, login, shot):
    base = web_hub.base
    kiosk = new_page(1280, 800)
    kiosk.goto(web_hub.kiosk())
    kiosk.click("#priority")
    code, _ = take_ticket(kiosk, "A")
    assert code == "A-001"
    expect(kiosk.locator(".prio-badge")).to_be_visible()
    assert web_hub.service("A")["waiting_priority"] == 1

    admin = new_page(1400, 1000)
    login(admin, base, "admin", "/admin")
    chip = admin.locator('#queue .chip[data-ticket="A-001"]')
    expect(chip).to_have_class(re.compile(r"\bprio\b"))
    admin.click("#prio-A-001")  # without a reason: refused on the page, nothing sent
    expect(admin.locator("#result")).to_contain_text("Isi alasannya terlebih dahulu.")
    admin.fill("#reason", "bukan lansia, salah tekan")
    admin.click("#prio-A-001")
    expect(chip).not_to_have_class(re.compile(r"\bprio\b"))
    expect(admin.locator('#audit tr[data-type="priority_changed"]').first).to_contain_text(
        "bukan lansia, salah tekan"
    )
    assert web_hub.service("A")["waiting_priority"] == 0
    shot(admin, "admin-priority-removed")

    # an officer marks it priority again from the call pad (the ticket is in their hand)
    officer = new_page(1024, 800)
    login(officer, base, "officer", "/officer?counter=1")
    officer.fill("#prio-ticket", "a-001")
    for reason, said in (
        ("", "Gagal: Isi alasannya terlebih dahulu."),
        ("ibu hamil", "Berhasil: A-001 dijadikan prioritas"),
    ):
        officer.fill("#prio-reason", reason)
        officer.click("#btn-prio-on")
        expect(officer.locator("#result")).to_have_text(said)
    expect(chip).to_have_class(re.compile(r"\bprio\b"))  # the admin's page, live
    assert web_hub.service("A")["waiting_priority"] == 1
    shot(officer, "officer-priority")
    # the hub itself insists on a reason (a script skipping the page gets nowhere)
    token = officer.locator('meta[name="csrf"]').get_attribute("content")
    r = officer.context.request.post(
        f"{base}/api/action",
        headers={"X-CSRF-Token": token},
        data={"command": "set_priority", "ticket": "A-001", "priority": False},
    )
    assert r.status == 400
    assert r.json()["error"] == "Isi alasannya terlebih dahulu."
    assert web_hub.service("A")["waiting_priority"] == 1


def test_wrong_password_is_refused(web_hub, new_page, shot, admin_account):
    page = new_page()
    page.goto(f"{web_hub.base}/admin")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("#username", admin_account[0])
    page.fill("#password", "salah-sekali")
    with page.expect_response(lambda r: r.request.method == "POST") as resp:
        page.click("#login-submit")
    assert resp.value.status == 401
    expect(page.locator("#login-error")).to_have_text("Nama pengguna atau kata sandi salah.")
    shot(page, "login-refused")
    page.goto(f"{web_hub.base}/admin")
    expect(page).to_have_url(re.compile(r"/login"))


def test_actions_without_csrf_token_are_refused(web_hub, new_page, login, admin_account):
    page = new_page()
    login(page, web_hub.base, "admin", "/admin")
    page.goto(web_hub.kiosk())  # a kiosk tablet: only the CSRF token is missing below
    api = page.context.request
    before = web_hub.service("E")
    for headers in ({}, {"X-CSRF-Token": "0" * 64}):
        r = api.post(
            f"{web_hub.base}/api/action",
            headers=headers,
            data={"command": "service_status", "service": "E", "status": "paused"},
        )
        assert r.status == 403
        r = api.post(f"{web_hub.base}/api/ticket", headers=headers, data={"service": "E"})
        assert r.status == 403
    name, password = admin_account
    r = api.post(f"{web_hub.base}/login", form={"username": name, "password": password})
    assert r.status == 403
    after = web_hub.service("E")
    assert (after["status"], after["issued"]) == (before["status"], before["issued"]) == ("open", 0)
    # the same action with the page's token goes through: the refusal was the token's doing
    token = page.locator('meta[name="csrf"]').get_attribute("content")
    r = api.post(f"{web_hub.base}/api/ticket", headers={"X-CSRF-Token": token}, data={"service": "E"})
    assert r.status == 200
    assert r.json()["data"]["ticket"] == "E-001"


def test_cookies_are_not_secure_by_default(web_hub):
    # plain http on the office LAN: a Secure cookie would never come back ([web] secure_cookies)
    with urllib.request.urlopen(f"{web_hub.base}/", timeout=5) as r:
        cookies = r.headers.get_all("Set-Cookie")
    assert any(c.startswith("antrian_anon=") for c in cookies)
    assert not any("Secure" in c for c in cookies)


def test_officer_may_not_do_admin_actions(web_hub, new_page, login):
    page = new_page()
    login(page, web_hub.base, "officer", "/officer")
    token = page.locator('meta[name="csrf"]').get_attribute("content")
    r = page.context.request.post(
        f"{web_hub.base}/api/action",
        headers={"X-CSRF-Token": token},
        data={"command": "service_status", "service": "D", "status": "paused"},
    )
    assert r.status == 403
    assert web_hub.service("D")["status"] == "open"
    response = page.goto(f"{web_hub.base}/admin")
    assert response is not None
    assert response.status == 403


def test_csv_export_and_english_pages(web_hub, new_page, login, shot):
    page = new_page()
    login(page, web_hub.base, "admin", "/admin")
    day = web_hub.state()["day"]
    r = page.context.request.get(f"{web_hub.base}/admin/export.csv?from={day}&to={day}")
    assert r.status == 200
    text = r.text()
    assert text.splitlines()[0].startswith("seq,day,time,type,actor,ticket")
    assert ",ticket_issued," in text
    assert "token" not in text  # the citizen's status link is not audit content

    tv = new_page(1920, 1080)
    tv.goto(f"{web_hub.base}/tv?lang=en")
    expect(tv.locator(".hero .label")).to_have_text("Now serving")
    shot(tv, "tv-en")
    status = new_page(412, 860)
    response = status.goto(f"{web_hub.base}/t/not-a-real-token")
    assert response is not None
    assert response.status == 404
    expect(status.locator("#token-unknown")).to_be_visible()
