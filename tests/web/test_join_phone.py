"""Taking a ticket from one's phone (/ambil), in Chromium at a phone's size, on the real hub:
two taps where the office knows a phone by its own token, three where it sends a code by SMS
(read back from the real gammu-smsd on Gammu's dummy phone); the ticket's page shows the
check-in code and its QR, the check-in lets it be called; and what a script meets: the
per-address, per-service and one-per-phone limits, and CSRF."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from web_helpers import Browser, T, hub_fixture, running_web_hub

from tests.notify.conftest import GammuSmsd

#: A phone's screen.
PHONE = (390, 844)

#: 127.0.0.80 plays the office's reverse proxy (Caddy or nginx in front of the hub).
PROXY = "127.0.0.80"
phone_hub = hub_fixture(
    "phonehub",
    f'trusted_proxies = ["{PROXY}"]\n[join]\nenabled = true\nfree = 100\nper_service_per_minute = 4\n',
)


@pytest.fixture(scope="module")
def sms_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A hub whose phones prove their number by a code sent through gammu-smsd (running)."""
    workdir = tmp_path_factory.mktemp("smshub")
    smsd = GammuSmsd(workdir)  # writes workdir/smsdrc, which [notify] names
    smsd.start()
    try:
        with running_web_hub(workdir, '\n[notify]\nsms_smsdrc = "smsdrc"\n[join]\nenabled = true\n') as hub:
            hub.smsd = smsd
            yield hub
    finally:
        smsd.stop()


def mqtt(probe, hub, command: str, **fields: Any) -> dict[str, Any]:
    client = probe(hub)
    client.subscribe(T.hub_response(command))
    return client.request(T.hub_request(command), T.hub_response(command), fields)


def test_a_phone_takes_a_ticket_in_two_taps_checks_in_with_its_code_and_is_called(
    phone_hub, new_page, probe, shot
):
    page = new_page(*PHONE)
    page.goto(f"{phone_hub.base}/ambil")
    page.wait_for_selector("#join-services")
    assert "Ambil antrean dari HP" in page.title()
    assert page.get_attribute('link[rel="manifest"]', "href").startswith("/ambil/manifest.webmanifest")
    shot(page, "ambil-services")
    page.click('#join-services [data-letter="E"]')  # tap 1
    assert "check-in di kios" in (page.text_content(".join-rule") or "")
    page.click("#join-take")  # tap 2
    page.wait_for_url(re.compile(r"/t/"))
    page.wait_for_selector("#checkin:not([hidden]) svg")
    code = (page.text_content("#checkin-code") or "").strip()
    assert re.fullmatch(r"[A-Z0-9]{6}", code), code
    assert page.text_content("#ticket") == "E-001"
    shot(page, "ambil-ticket")

    # the phone is back on /ambil: its ticket is one tap away, and a second one is refused
    page.goto(f"{phone_hub.base}/ambil")
    page.wait_for_selector("#join-yours")
    assert "E-001" in (page.text_content("#join-yours") or "")
    page.click('#join-services [data-letter="E"]')
    page.click("#join-take")
    page.wait_for_selector("#join-error:not([hidden])")
    assert "E-001" in (page.text_content("#join-error") or "")
    page.click("#join-open")
    page.wait_for_selector("#checkin:not([hidden])")

    # at the office: the kiosk's scanner reads the code (the same check_in an ESP32 kiosk sends)
    checked = mqtt(probe, phone_hub, "check_in", booking=code)
    assert checked["data"]["check_in"] == "remote", checked
    page.wait_for_selector("#checkin-done:not([hidden])")
    assert page.is_hidden("#checkin")
    assert mqtt(probe, phone_hub, "call_next", counter=3)["data"]["serving"] == "E-001"
    page.wait_for_selector("#card.state-called")


def test_the_page_is_an_installable_app_with_its_manifest_icons_and_service_worker(phone_hub, new_page):
    phone = Browser(phone_hub, "127.0.0.61")
    status, resp, body = phone.request("GET", "/ambil/manifest.webmanifest?lang=id")
    assert status == 200
    assert resp.headers["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(body)
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/ambil?lang=id",
        "/ambil",
        "standalone",
    )
    for icon in manifest["icons"]:
        status, resp, png = phone.request("GET", icon["src"])
        assert status == 200
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        side = int.from_bytes(png[16:20], "big")
        assert icon["sizes"] == f"{side}x{side}"
    page = new_page(*PHONE)
    page.goto(f"{phone_hub.base}/ambil")  # 127.0.0.1 is a secure context: the worker runs
    scope = page.evaluate(
        """() => Promise.race([
            navigator.serviceWorker.ready.then((r) => r.scope),
            new Promise((resolve) => setTimeout(() => resolve("not ready in 10 s"), 10000)),
        ])"""
    )
    assert scope == f"{phone_hub.base}/ambil"


def test_a_phone_proves_its_number_with_the_code_the_sms_brings_in_three_taps(sms_hub, new_page, shot):
    page = new_page(*PHONE)
    page.goto(f"{sms_hub.base}/ambil")
    page.click('#join-services [data-letter="A"]')  # tap 1
    page.fill("#join-phone", "0812-3456-7890")
    page.click("#join-send")  # tap 2
    page.wait_for_selector("#join-sent")
    assert "+62812****7890" in (page.text_content("#join-sent") or "")
    sms = sms_hub.smsd.wait_transmitted(1)[0]
    assert sms.to == "+6281234567890"
    code = re.search(r"\b(\d{6})\b", sms.text)
    assert code, sms.text
    wrong = "000000" if code.group(1) != "000000" else "111111"
    page.fill("#join-code", wrong)
    page.click("#join-take")
    page.wait_for_selector("#join-error:not([hidden])")
    assert "Kode salah" in (page.text_content("#join-error") or "")
    page.fill("#join-code", code.group(1))
    shot(page, "ambil-code")
    page.click("#join-take")  # tap 3
    page.wait_for_url(re.compile(r"/t/"))
    page.wait_for_selector("#checkin:not([hidden])")
    token = page.url.split("/t/")[1].split("?")[0]
    # the number proven is the ticket's for its messages: nothing to type again
    answer = json.loads(Browser(sms_hub, "127.0.0.62").request("GET", f"/api/notify/{token}")[2])
    assert answer["data"]["subscription"]["phone"] == "+62812****7890"
    # nobody is ahead: "almost your turn" leaves at once, and says to come and check in
    check_in = (page.text_content("#checkin-code") or "").strip()
    almost = sms_hub.smsd.wait_transmitted(2)[1]
    assert almost.to == "+6281234567890"
    assert "A-001" in almost.text
    assert check_in in almost.text
    assert "check-in" in almost.text


def test_a_code_takes_one_ticket_and_a_refused_ticket_does_not_use_it_up(sms_hub):
    phone = Browser(sms_hub, "127.0.0.63")
    phone.request("GET", "/ambil")
    headers = {"Content-Type": "application/json", "X-CSRF-Token": phone.csrf("/ambil")}
    sent_before = len(sms_hub.smsd.transmitted())

    def post(path: str, body: dict[str, Any], client: Browser = phone) -> dict[str, Any]:
        sent = {**headers, "X-CSRF-Token": client.csrf("/ambil")}
        return json.loads(client.request("POST", path, json.dumps(body).encode(), sent)[2])

    assert post("/api/ambil/kode", {"phone": "0813 1111 2222"})["status"] == "ok"
    sms = sms_hub.smsd.wait_transmitted(sent_before + 1)[-1]
    code = re.search(r"\b(\d{6})\b", sms.text).group(1)
    refused = post("/api/ambil", {"service": "Z", "phone": "0813 1111 2222", "code": code})
    assert refused["data"]["code"] == "bad_service"
    taken = post("/api/ambil", {"service": "B", "phone": "+62 813-1111-2222", "code": code})
    assert taken["status"] == "ok", taken
    # (from another address: this one has taken its two tickets of the minute)
    again = post(
        "/api/ambil", {"service": "C", "phone": "081311112222", "code": code}, Browser(sms_hub, "127.0.0.64")
    )
    assert again["data"]["code"] == "code_expired"  # used: one code, one ticket


def _take(phone: Browser, service: str, csrf: bool = True, lang: str = "id") -> tuple[int, dict[str, Any]]:
    if "antrian_hp" not in phone.cookies:
        phone.request("GET", "/ambil")
    headers = {"Content-Type": "application/json"}
    if csrf:
        headers["X-CSRF-Token"] = phone.csrf("/ambil")
    body = json.dumps({"service": service, "lang": lang}).encode()
    status, _, answer = phone.request("POST", "/api/ambil", body, headers)
    return status, json.loads(answer)


def test_a_script_meets_the_limits_per_address_per_service_per_phone_and_csrf(phone_hub):
    status, body = _take(Browser(phone_hub, "127.0.0.70"), "A", csrf=False)
    assert status == 403
    assert body["data"]["code"] == "csrf"

    # one phone, one active ticket
    phone = Browser(phone_hub, "127.0.0.71")
    assert _take(phone, "A")[0] == 200
    status, body = _take(phone, "A")
    assert body["data"]["code"] == "phone_ticket_active"
    assert "sudah memegang" in body["error"]
    moved = Browser(phone_hub, "127.0.0.73")  # the same phone (its token) in another browser and network
    moved.cookies = {"antrian_hp": phone.cookies["antrian_hp"]}
    status, body = _take(moved, "A", lang="en")
    assert body["data"]["code"] == "phone_ticket_active"
    assert "This phone already holds" in body["error"]  # the refusal in the page's language

    # a script that drops its cookie each time: two a minute per address
    script = [Browser(phone_hub, "127.0.0.72") for _ in range(3)]
    answers = [_take(s, "A") for s in script]
    assert [a[0] for a in answers] == [200, 200, 429]
    assert answers[2][1]["data"]["code"] == "rate_limited"

    # and one that also changes address: the service's own limit (4 a minute) holds
    answers = [_take(Browser(phone_hub, f"127.0.1.{i}"), "B") for i in range(1, 7)]
    assert [a[0] for a in answers] == [200, 200, 200, 200, 429, 429]
    assert "Coba lagi dalam" in answers[4][1]["error"]
    assert phone_hub.service("B")["issued"] == 4


def test_the_officer_sees_a_phone_ticket_not_checked_in_and_checks_its_holder_in(
    phone_hub, new_page, login, probe
):
    taken = mqtt(probe, phone_hub, "take_ticket", service="C", actor="phone:at-the-counter")
    assert taken["status"] == "ok", taken
    page = new_page()
    login(page, phone_hub.base, "officer", "/officer?counter=3")
    page.wait_for_selector("#phone-C-001")
    assert "belum check-in" in (page.text_content("#phone-C-001") or "")
    page.click("#checkin-C-001")
    page.wait_for_selector("#result.ok")
    assert "C-001 tercatat hadir" in (page.text_content("#result") or "")
    page.wait_for_selector("#phone-C-001", state="detached")
    assert mqtt(probe, phone_hub, "call_next", counter=3)["data"]["serving"] == "C-001"


def test_behind_the_https_proxy_the_phones_cookies_are_secure_and_the_lan_pages_keep_theirs(phone_hub):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    proxy = Browser(phone_hub, PROXY)
    proxy.request("GET", "/ambil", headers=forwarded)
    assert {c.split("=")[0] for c in proxy.set_cookie} == {"antrian_anon", "antrian_hp"}
    assert all("Secure" in c for c in proxy.set_cookie), proxy.set_cookie
    # the same header from anyone else proves nothing; the office LAN's http page as before
    for address, headers in (("127.0.0.81", forwarded), ("127.0.0.82", {})):
        lan = Browser(phone_hub, address)
        lan.request("GET", "/ambil", headers=headers)
        assert lan.set_cookie
        assert not any("Secure" in c for c in lan.set_cookie), lan.set_cookie


def test_the_admin_prints_the_entrance_poster_with_the_pages_address_as_qr(phone_hub, new_page, login, shot):
    anonymous = Browser(phone_hub, "127.0.0.83")
    status, _, _ = anonymous.request("GET", "/ambil/poster")
    assert status in (302, 303)  # to the login page: the poster is the admin's
    page = new_page(794, 1123)  # A4 at 96 dpi
    login(page, phone_hub.base, "admin", "/ambil/poster")
    assert page.text_content("#poster-url") == f"{phone_hub.base}/ambil"  # the hub's own, by default
    page.goto(f"{phone_hub.base}/ambil/poster?url=https://antrean.contoh.go.id/ambil")
    assert page.text_content("#poster-url") == "https://antrean.contoh.go.id/ambil"
    assert page.get_attribute("#poster-qr", "data-url") == "https://antrean.contoh.go.id/ambil"
    assert page.locator("#poster-qr svg").count() == 1
    assert "check-in di kios" in (page.text_content(".poster ol") or "")
    shot(page, "ambil-poster")
    page.goto(f"{phone_hub.base}/ambil/poster?url=javascript:alert(1)")  # not an address: the hub's own
    assert page.text_content("#poster-url") == f"{phone_hub.base}/ambil"
