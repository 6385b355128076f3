"""The tablet kiosk's "Punya kode reservasi?" in Chromium against the real hub: a citizen with a
booking taps the entry, types the code on the page's own keypad and gets the number, printed;
a barcode scanner that types the code and Enter needs no tap at all; a wrong, used or
another day's code is refused in the hub's words, in the page's language; no tap leaves the
page, and the tablet is back at its start screen 20 s after the last touch; while the kiosk
issues nothing the entry is off. Without `[booking]` every code is refused, and the route keeps
the kiosk's key, CSRF and limits."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from web_helpers import Browser, WebHub, hub_fixture

from antrian.booking.store import ALPHABET, BookingStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "devices"))
from escpos_decode import decode  # the decoder the firmware tests use

#: The browsers of these tests all come from 127.0.0.1: room for all their check-ins a minute.
hub = hub_fixture("kioskcheckin", "tickets_per_minute_per_client = 100\n[booking]\nenabled = true\n")

TICKET = re.compile(r"^[A-E]-\d{3}$")


#: Today is the office's own holiday: its kiosks issue nothing today.
closed_hub = hub_fixture(
    "kioskcheckinclosed",
    f'[booking]\nenabled = true\n[[holidays]]\ndate = "{datetime.now(ZoneInfo("Asia/Jakarta")).date()}"\n'
    'name = "Hari Jadi Kabupaten"\n',
)


def book_today(hub: WebHub, service: str, *, days: int = 0) -> str:
    """A booking of the slot around now (`days` on), made by the booking store in the hub's
    database as the booking page makes it, days before; its code."""
    now = datetime.now(ZoneInfo("Asia/Jakarta")) + timedelta(days=days)
    db = sqlite3.connect(hub.proc.database, timeout=10, isolation_level=None)
    try:
        start = now - timedelta(minutes=5)
        booking = BookingStore(db).book(
            now.date().isoformat(), service, start, start + timedelta(minutes=30), 9, now
        )
    finally:
        db.close()
    return booking.code


def booking_state(hub: WebHub, code: str) -> dict[str, Any]:
    _, _, raw = Browser(hub, "127.0.0.91").request("GET", f"/api/reservasi/{code}")
    data: dict[str, Any] = json.loads(raw)["data"]
    return data


def kiosk_post(client: Browser, body: dict[str, Any], *, csrf: bool = True) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if csrf:
        headers["X-CSRF-Token"] = client.csrf()
    status, _, data = client.request("POST", "/api/check-in", json.dumps(body).encode(), headers)
    return status, json.loads(data)


def test_a_citizen_taps_the_entry_types_the_code_on_the_keypad_and_gets_the_number_printed(
    hub, new_page, shot
):
    code = book_today(hub, "B")
    kiosk = new_page(1280, 800)
    kiosk.goto(hub.kiosk())
    printed_before = len(hub.printer.read_bytes()) if hub.printer.exists() else 0
    kiosk.click("#has-code")  # tap 1
    expect(kiosk.locator("#code-card")).to_be_visible()
    field = kiosk.locator("#code-input")
    expect(field).to_be_focused()
    # no system keyboard: the field asks for none, the page's keys are the code's characters
    assert field.get_attribute("inputmode") == "none"
    keys = kiosk.locator("#keypad button[data-key]")
    assert "".join(keys.nth(i).inner_text() for i in range(keys.count())) == ALPHABET
    wrong = next(c for c in ALPHABET if c != code[-1])
    for c in code[:-1] + wrong:  # taps 2-7, the last one wrong
        kiosk.click(f"#keypad [data-key='{c}']")
    kiosk.click("#code-erase")
    kiosk.click(f"#keypad [data-key='{code[-1]}']")
    expect(field).to_have_value(code)
    expect(field).to_be_focused()  # still where a scanner types
    shot(kiosk, "kiosk-checkin-keypad")
    kiosk.click("#code-send")  # the last tap
    ticket = kiosk.locator("#issued-ticket")
    expect(ticket).to_have_text(TICKET)
    number = ticket.inner_text()
    assert number.startswith("B-")
    expect(kiosk.locator("#checked-in")).to_have_text("Reservasi Anda sudah menjadi nomor antrean.")
    # the status link as its QR code only, and the slip printed as for a ticket taken here
    assert kiosk.locator("#ticket-card a").count() == 0
    assert "/t/" in (kiosk.locator("#status-qr").get_attribute("data-url") or "")
    assert kiosk.locator("#status-qr svg").count() == 1
    expect(kiosk.locator("#print-error")).to_have_count(0)
    (printed,) = decode(hub.printer.read_bytes()[printed_before:])
    assert printed.find(number).width == 6
    assert printed.qr == [kiosk.locator("#status-qr").get_attribute("data-url")]
    shot(kiosk, "kiosk-checkin-ticket")
    state = booking_state(hub, code)
    assert (state["state"], state["ticket"]) == ("checked_in", number)


def test_a_scanner_types_the_code_and_enter_on_the_start_screen_or_in_the_field(hub, new_page):
    scanned, typed = book_today(hub, "C"), book_today(hub, "C")
    kiosk = new_page(1280, 800)
    kiosk.goto(hub.kiosk())
    expect(kiosk.locator(".svc-btn").first).to_be_visible()
    # a QR held to the scanner on the start screen: no tap at all; the scanner's dash is dropped
    kiosk.keyboard.type(f"{scanned[:3].lower()}-{scanned[3:].lower()}")
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#issued-ticket")).to_have_text(TICKET)
    assert kiosk.locator("#issued-ticket").inner_text().startswith("C-")
    kiosk.click("#close")
    expect(kiosk.locator("#result")).to_be_hidden()
    # the entry tapped first, then the scanner
    kiosk.click("#has-code")
    kiosk.keyboard.type(typed)
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#issued-ticket")).to_have_text(TICKET)
    for code in (scanned, typed):
        assert booking_state(hub, code)["state"] == "checked_in"


def test_a_wrong_used_or_other_days_code_is_refused_in_words_and_can_be_corrected(hub, new_page):
    code, tomorrows = book_today(hub, "D"), book_today(hub, "D", days=1)
    kiosk = new_page(1280, 800)
    kiosk.goto(hub.kiosk())
    kiosk.click("#has-code")
    field, said = kiosk.locator("#code-input"), kiosk.locator("#code-error")

    def send(code: str) -> str:
        field.fill(code)
        kiosk.click("#code-send")
        expect(said).to_be_visible()
        text = said.inner_text()
        kiosk.evaluate("document.getElementById('code-error').hidden = true")
        return text

    assert (
        send("AAAAAA") == "Kode reservasi AAAAAA tidak ditemukan, sudah dibatalkan, atau bukan untuk hari ini"
    )
    assert send(tomorrows).startswith(f"Kode reservasi {tomorrows} tidak ditemukan")
    assert send("K7M") == "Ini bukan kode reservasi: kodenya 6 huruf/angka. Periksa lalu coba lagi."
    # the refused code stays, selected: the next key or scan replaces it
    kiosk.click(f"#keypad [data-key='{code[0]}']")
    expect(field).to_have_value(code[0])
    field.fill(code)
    kiosk.click("#code-send")
    expect(kiosk.locator("#issued-ticket")).to_have_text(TICKET)
    used = kiosk.locator("#issued-ticket").inner_text()
    kiosk.click("#close")
    kiosk.click("#has-code")
    assert send(code) == f"Kode reservasi {code} sudah dipakai (tiket {used})"
    assert booking_state(hub, tomorrows)["state"] == "booked"

    # the English page: the entry, and the hub's refusal in English
    english = new_page(1280, 800)
    english.goto(hub.kiosk("en"))
    expect(english.locator("#has-code")).to_have_text("Have a booking code?")
    english.click("#has-code")
    english.locator("#code-input").fill(code)
    english.click("#code-send")
    expect(english.locator("#code-error")).to_have_text(
        f"Booking code {code} has been used already (ticket {used})"
    )


def test_no_tap_on_the_code_screen_leaves_the_kiosk_page(hub, new_page):
    kiosk = new_page(1280, 800)
    kiosk.goto(hub.kiosk())
    kiosk.click("#has-code")
    card = kiosk.locator("#code-card")
    assert card.locator("a").count() == 0
    # everything but the two buttons that close the screen or send the code
    parts = kiosk.locator("#code-card *:not(.code-actions):not(.code-actions *)")
    assert parts.count() > 20
    for i in range(parts.count()):
        if parts.nth(i).is_visible():
            parts.nth(i).click(force=True)
    kiosk.keyboard.press("Enter")  # what the keys typed is no code: refused, on the same page
    expect(kiosk.locator("#code-error")).to_be_visible()
    kiosk.wait_for_timeout(300)  # a navigation, had one started, would have begun by now
    assert kiosk.url.split("?")[0] == f"{hub.base}/kiosk"
    assert len(kiosk.context.pages) == 1
    expect(card).to_be_visible()


def test_the_code_screen_and_its_ticket_go_back_to_the_start_by_themselves(hub, new_page):
    code = book_today(hub, "E")
    kiosk = new_page(1280, 800)
    kiosk.clock.install()
    kiosk.goto(hub.kiosk())
    kiosk.click("#has-code")
    kiosk.click("#keypad [data-key='Q']")
    kiosk.clock.run_for(15_000)
    expect(kiosk.locator("#code-card")).to_be_visible()
    kiosk.click("#keypad [data-key='F']")  # a key is a touch: a fresh 20 s
    kiosk.clock.run_for(15_000)
    expect(kiosk.locator("#code-card")).to_be_visible()
    kiosk.clock.run_for(6_000)
    expect(kiosk.locator("#result")).to_be_hidden()
    expect(kiosk.locator("#code-input")).to_have_count(0)  # the half-typed code is gone
    # after the ticket, too
    kiosk.click("#has-code")
    kiosk.locator("#code-input").fill(code)
    kiosk.click("#code-send")
    expect(kiosk.locator("#issued-ticket")).to_have_text(TICKET)
    kiosk.clock.run_for(21_000)
    expect(kiosk.locator("#result")).to_be_hidden()
    assert kiosk.url.split("?")[0] == f"{hub.base}/kiosk"


def test_without_bookings_a_code_is_refused_and_the_route_keeps_the_kiosks_gate(web_hub):
    """The office's shared hub has no `[booking]`: a well-formed code is the hub's refusal."""
    tablet = Browser(web_hub, "127.0.0.92")
    tablet.request("GET", f"/kiosk?key={web_hub.key}")
    status, answer = kiosk_post(tablet, {"code": "k7m-x4q", "transaction": "k-1"})
    assert (status, answer["status"], answer["data"]["code"]) == (200, "error", "booking_unknown")
    assert (
        answer["error"]
        == "Kode reservasi K7MX4Q tidak ditemukan, sudah dibatalkan, atau bukan untuk hari ini"
    )
    # what is no code at all is refused before the hub is asked
    for typed in ("", "K7MX4", "K7MX4QQ", "O0O0O0", "K" * 33, 123456, None):
        status, answer = kiosk_post(tablet, {"code": typed})
        assert (status, answer["data"]["code"]) == (400, "not_a_code"), typed
    # no tablet key, or no CSRF token: refused like a ticket
    phone = Browser(web_hub, "127.0.0.93")
    status, answer = kiosk_post(phone, {"code": "K7MX4Q"})
    assert (status, answer["data"]["code"]) == (403, "kiosk_key")
    status, answer = kiosk_post(tablet, {"code": "K7MX4Q"}, csrf=False)
    assert (status, answer["data"]["code"]) == (403, "csrf")
    # a script guessing codes on a tablet gets the kiosk's allowance, shared with tickets
    guesser = Browser(web_hub, "127.0.0.94")
    guesser.request("GET", f"/kiosk?key={web_hub.key}")
    statuses = [kiosk_post(guesser, {"code": "AAAAAA"})[0] for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    assert guesser.take_ticket("A")[0] == 429


def test_while_the_kiosk_issues_nothing_the_entry_is_off_and_a_scan_opens_nothing(closed_hub, new_page):
    code = book_today(closed_hub, "A")
    kiosk = new_page(1280, 800)
    kiosk.goto(closed_hub.kiosk())
    expect(kiosk.locator("#office-notice")).to_be_visible()
    expect(kiosk.locator("#has-code")).to_be_disabled()
    kiosk.keyboard.type(code)
    kiosk.keyboard.press("Enter")
    kiosk.wait_for_timeout(300)  # a screen, had one opened, would be there by now
    expect(kiosk.locator("#result")).to_be_hidden()
    # and a script that posts anyway is refused by the hub, the booking kept
    tablet = Browser(closed_hub, "127.0.0.95")
    tablet.request("GET", f"/kiosk?key={closed_hub.key}")
    status, answer = kiosk_post(tablet, {"code": code})
    assert (status, answer["status"]) == (200, "error")
    assert (answer["data"]["code"], answer["data"]["holiday"]) == ("office_closed", "Hari Jadi Kabupaten")
    assert answer["error"].startswith("Kantor tutup (Hari Jadi Kabupaten).")
    assert booking_state(closed_hub, code)["state"] == "booked"


def test_a_phone_tickets_code_scanned_at_the_tablet_checks_its_holder_in_without_a_new_slip(
    hub, new_page, probe
):
    client = probe(hub)
    client.subscribe("antrian/kantor/hub/response/take_ticket")
    taken = client.request(
        "antrian/kantor/hub/request/take_ticket",
        "antrian/kantor/hub/response/take_ticket",
        {"service": "E", "actor": "phone:tablet-test"},
    )
    assert taken["status"] == "ok", taken
    kiosk = new_page(1280, 800)
    kiosk.goto(hub.kiosk())
    expect(kiosk.locator(".svc-btn").first).to_be_visible()
    printed_before = len(hub.printer.read_bytes()) if hub.printer.exists() else 0
    kiosk.keyboard.type(taken["data"]["check_in_code"])  # the phone's QR held to the scanner
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#checked-in")).to_have_text(
        f"Anda sudah tercatat hadir. Nomor Anda {taken['data']['ticket']}"
    )
    expect(kiosk.locator("#issued-ticket")).to_have_text(taken["data"]["ticket"])
    assert (
        len(hub.printer.read_bytes()) if hub.printer.exists() else 0
    ) == printed_before  # the phone is the slip
    # the same code again: refused in words, nothing else happens
    kiosk.click("#close")
    kiosk.click("#has-code")
    kiosk.keyboard.type(taken["data"]["check_in_code"])
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#code-error")).to_contain_text("sudah tercatat hadir")
