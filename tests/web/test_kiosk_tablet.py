"""The tablet kiosk is the office's shared tablet: it opens only with its key, never leaves the
kiosk page whatever a citizen taps, and goes back to the start screen by itself."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from playwright.sync_api import expect
from web_helpers import Browser, hub_fixture, kiosk_key

hub = hub_fixture("kiosktablet")


def test_without_the_tablet_key_the_kiosk_page_and_its_tickets_are_refused(hub):
    phone = Browser(hub, "127.0.0.41")
    status, _, page = phone.request("GET", "/kiosk")
    assert status == 403
    assert b'id="kiosk-locked"' in page
    assert b"hanya untuk tablet kiosk kantor" in page
    # a script with a valid CSRF token of its own, but no key, gets no ticket
    headers = {"Content-Type": "application/json", "X-CSRF-Token": phone.csrf("/")}
    status, _, body = phone.request("POST", "/api/ticket", json.dumps({"service": "A"}).encode(), headers)
    assert status == 403
    assert json.loads(body)["data"]["code"] == "kiosk_key"
    # a forged key, and a key with another tablet's name, are refused too
    for key in ("tablet-1.forged", "tablet-2." + hub.key.rpartition(".")[2], "x" * 500):
        assert phone.request("GET", f"/kiosk?key={key}")[0] == 403
    assert "antrian_kiosk" not in phone.cookies
    assert hub.service("A")["issued"] == 0


def test_the_key_is_kept_by_the_tablet_and_replacing_it_locks_out_the_old_one(hub):
    tablet = Browser(hub, "127.0.0.42")
    status, resp, _ = tablet.request("GET", f"/kiosk?key={hub.key}&lang=en")
    # kept as a cookie the page's scripts cannot read, and taken out of the address at once
    assert (status, resp.headers["Location"]) == (303, "/kiosk?lang=en")
    kept = next(c for c in tablet.set_cookie if c.startswith("antrian_kiosk="))
    assert "HttpOnly" in kept
    assert "SameSite=Strict" in kept
    assert tablet.request("GET", "/kiosk")[0] == 200
    assert tablet.take_ticket("A")[0] == 200
    # the audit log says which tablet issued it
    log = subprocess.run(
        [sys.executable, "-m", "antrian.cli", "log", "-c", str(hub.proc.config_path)],
        text=True,
        capture_output=True,
        check=True,
    ).stdout
    assert re.search(r"A-001.*kiosk:tablet-1|kiosk:tablet-1.*A-001", log), log
    # a lost tablet: a new key for the same name, and the old one opens nothing any more
    new_key = kiosk_key(hub.proc.config_path)
    assert tablet.request("GET", "/kiosk")[0] == 403
    assert tablet.take_ticket("A")[0] == 403
    old_key, hub.key = hub.key, new_key
    assert Browser(hub, "127.0.0.43").request("GET", f"/kiosk?key={old_key}")[0] == 403
    assert Browser(hub, "127.0.0.43").take_ticket("A")[0] == 200
    assert hub.service("A")["issued"] == 2


def test_tapping_anywhere_on_the_ticket_never_leaves_the_kiosk_page(hub, new_page):
    kiosk = new_page(1280, 800)
    kiosk.goto(hub.kiosk())
    kiosk.click('.svc-btn[data-service="B"]')
    expect(kiosk.locator("#issued-ticket")).to_have_text("B-001")
    # the status link is there only as the QR code, for the citizen's own phone
    assert kiosk.locator("#ticket-card a").count() == 0
    assert "/t/" in (kiosk.locator("#status-qr").get_attribute("data-url") or "")
    # a link that ever ends up on the card (a message, a future change) is inert all the same
    kiosk.evaluate(
        """() => { const a = document.createElement("a"); a.id = "stray"; a.href = "/tv";
           a.textContent = "link"; document.getElementById("ticket-card").prepend(a); }"""
    )
    parts = kiosk.locator("#ticket-card *:not(#close):not(#kiosk-notify *):not(#kiosk-notify)")
    assert parts.count() > 10
    for i in range(parts.count()):
        if parts.nth(i).is_visible():
            parts.nth(i).click(force=True)
    kiosk.locator("#stray").click(button="middle")
    kiosk.locator(".qr svg").click(click_count=2)
    kiosk.wait_for_timeout(300)  # a navigation, had one started, would have begun by now
    assert kiosk.url.split("?")[0] == f"{hub.base}/kiosk"
    assert len(kiosk.context.pages) == 1
    expect(kiosk.locator("#issued-ticket")).to_have_text("B-001")


def test_the_tablet_returns_to_the_start_screen_by_itself_after_a_ticket_and_when_idle(hub, new_page):
    kiosk = new_page(1280, 800)
    kiosk.clock.install()
    kiosk.goto(hub.kiosk())
    kiosk.click("#priority")
    kiosk.click('.svc-btn[data-service="C"]')
    expect(kiosk.locator("#issued-ticket")).to_be_visible()
    expect(kiosk.locator(".prio-badge")).to_be_visible()
    kiosk.clock.run_for(15_000)
    expect(kiosk.locator("#result")).to_be_visible()
    kiosk.locator("#ticket-card .big-ticket").click()  # the citizen is still reading: a fresh 20 s
    kiosk.clock.run_for(15_000)
    expect(kiosk.locator("#result")).to_be_visible()
    kiosk.clock.run_for(6_000)
    # back at the start, priority off, for the next citizen
    expect(kiosk.locator("#result")).to_be_hidden()
    expect(kiosk.locator("#priority")).to_have_attribute("aria-pressed", "false")
    # the priority button pressed and left: idle, the start screen comes back as it was
    kiosk.click("#priority")
    expect(kiosk.locator("#priority")).to_have_attribute("aria-pressed", "true")
    kiosk.clock.run_for(21_000)
    expect(kiosk.locator("#priority")).to_have_attribute("aria-pressed", "false")
    assert kiosk.url.split("?")[0] == f"{hub.base}/kiosk"


def _users(hub, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "antrian.cli", "users", *args, "-c", str(hub.proc.config_path)],
        text=True,
        capture_output=True,
        check=False,
    )


def test_the_it_officer_lists_and_removes_kiosk_tablets_and_a_bad_name_is_refused(hub):
    spare = _users(hub, "kiosk", "tablet-9")
    assert spare.returncode == 0, spare.stderr
    assert "Buka alamat ini sekali di tablet tablet-9" in spare.stdout
    key = spare.stdout.rpartition("?key=")[2].strip()
    assert re.search(r"tablet-9\s+tablet kiosk", _users(hub, "list").stdout)
    assert Browser(hub, "127.0.0.44").request("GET", f"/kiosk?key={key}")[0] == 303
    removed = _users(hub, "kiosk-remove", "tablet-9")
    assert removed.returncode == 0, removed.stderr
    assert Browser(hub, "127.0.0.44").request("GET", f"/kiosk?key={key}")[0] == 403
    assert "tablet-9" not in _users(hub, "list").stdout
    again = _users(hub, "kiosk-remove", "tablet-9")
    assert (again.returncode, again.stderr.strip()) == (1, "Tidak ada tablet kiosk bernama tablet-9.")
    bad = _users(hub, "kiosk", "tablet 1; rm")
    assert bad.returncode == 2
    assert "Ditolak" in bad.stderr
