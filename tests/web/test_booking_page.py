"""The booking page (reservasi) in Chromium against the real hub: a citizen on a phone books
a time for another day in four taps and gets a code with its QR, then cancels it by code; the
page in English; a script is stopped by the rate limit and bad input gets a clear refusal."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from web_helpers import Browser, hub_fixture

from antrian.booking.store import ALPHABET

booking_hub = hub_fixture("bookinghub", "[booking]\nenabled = true\nquota = 3\n")

PHONE = (390, 844)
CODE = re.compile(f"^[{ALPHABET}]{{6}}$")


def post(client: Browser, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json", "X-CSRF-Token": client.csrf("/reservasi")}
    status, _, data = client.request("POST", path, json.dumps(body).encode(), headers)
    return status, json.loads(data)


def test_a_citizen_books_in_four_taps_gets_a_code_and_a_qr_and_cancels_it(booking_hub, new_page, shot):
    page = new_page(*PHONE)
    page.goto(f"{booking_hub.base}/reservasi")
    assert page.text_content("h1") == "Reservasi Antrean"
    page.click("#booking-services [data-value='A']")
    page.click("#booking-days button >> nth=0")
    page.click("#booking-slots button:not([disabled]) >> nth=0")
    shot(page, "booking-chosen")
    page.click("#booking-submit")
    code = (page.text_content("#booking-code", timeout=10_000) or "").strip()
    assert CODE.match(code), code
    assert page.locator("#booking-qr svg").count() == 1
    assert "Administrasi kependudukan" in (page.text_content("#booking-what") or "")
    shot(page, "booking-code")

    # stored: the code is known to the hub, booked
    _, _, raw = Browser(booking_hub, "127.0.0.76").request("GET", f"/api/reservasi/{code}")
    assert json.loads(raw)["data"]["state"] == "booked"

    page.click("#booking-again")
    page.fill("#booking-cancel-code", code.lower())
    page.click("#booking-cancel-go")
    page.wait_for_selector("#booking-cancel-result.ok")
    assert code in (page.text_content("#booking-cancel-result") or "")
    page.click("#booking-cancel-go")  # twice: told it is cancelled already
    page.wait_for_selector("#booking-cancel-result.error")
    assert "sudah dibatalkan" in (page.text_content("#booking-cancel-result") or "")


def test_the_page_speaks_english_on_request(booking_hub, new_page):
    page = new_page(*PHONE)
    page.goto(f"{booking_hub.base}/reservasi?lang=en")
    assert page.text_content("h1") == "Book a Queue Time"
    assert "Choose a service" in (page.text_content("#app") or "")


def test_a_script_is_slowed_and_bad_input_is_refused_clearly(booking_hub):
    client = Browser(booking_hub, "127.0.0.77")
    _, _, raw = client.request("GET", "/api/reservasi/slots")
    offer = json.loads(raw)["data"]
    day, slot = offer["days"][-1]["day"], offer["days"][-1]["slots"][-1]["slot"]
    status, bad = post(client, "/api/reservasi", {"service": "A", "day": "besok", "slot": slot})
    assert status == 400
    assert bad["data"]["code"] == "booking_bad_day"
    assert bad["error"] == "Tanggal tidak valid."
    answers = [post(client, "/api/reservasi", {"service": "B", "day": day, "slot": slot}) for _ in range(3)]
    # the refused one counted too: three a minute
    assert [s for s, _ in answers] == [200, 200, 429]
    status, limited = post(client, "/api/reservasi", {"service": "B", "day": day, "slot": slot})
    assert status == 429
    assert limited["data"]["code"] == "rate_limited"


def test_an_officer_turns_a_citizens_booking_code_into_a_ticket_at_the_desk(booking_hub, new_page, login):
    """A booking of today's current slot (written as the page would have, days before): the
    officer types the code as the citizen reads it out, and gets the ticket."""
    now = datetime.now(ZoneInfo("Asia/Jakarta"))
    start, end = now - timedelta(minutes=5), now + timedelta(minutes=25)
    db = sqlite3.connect(booking_hub.proc.database, timeout=10)
    try:
        with db:
            db.execute(
                "INSERT INTO bookings(code, day, service, slot_start, slot_end, state, booked_at)"
                " VALUES ('K7MX4Q', ?, 'B', ?, ?, 'booked', ?)",
                (now.date().isoformat(), start.isoformat(), end.isoformat(), now.isoformat()),
            )
    finally:
        db.close()
    page = new_page()
    login(page, booking_hub.base, "officer", "/officer?counter=1")
    page.wait_for_selector("#checkin-box:not([hidden])")
    page.fill("#checkin-code", "k7m-x4q")
    page.click("#btn-checkin")
    page.wait_for_selector("#result.ok")
    result = page.text_content("#result") or ""
    assert re.search(r"nomor antrean B-\d{3}", result), result
    page.fill("#checkin-code", "K7MX4Q")  # the same code again: refused, saying which ticket
    page.click("#btn-checkin")
    page.wait_for_selector("#result.error")
    assert "sudah dipakai" in (page.text_content("#result") or "")
