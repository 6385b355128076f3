"""The booking page's reminder field in Chromium against the real hub with a WhatsApp channel:
a citizen adds a number (and consent) to the four taps, is told where the reminders go, and
the number is kept only sealed; a landline is refused in words and the chosen slot stays; a
number is given and removed later with the booking's code."""

from __future__ import annotations

import json
import sqlite3

from web_helpers import Browser, hub_fixture

#: A channel whose provider is never reached here: the reminders are due tomorrow at the soonest.
reminder_hub = hub_fixture(
    "reminderhub",
    '[booking]\nenabled = true\n[notify]\napprise_url = "json://127.0.0.1:9/notify?:to={to}"\n',
)

PHONE = (390, 844)


def test_a_citizen_adds_a_number_for_reminders_and_it_is_kept_only_sealed(reminder_hub, new_page, shot):
    page = new_page(*PHONE)
    page.goto(f"{reminder_hub.base}/reservasi")
    assert page.locator("#booking-reminder").count() == 0  # shown with the slot, not before
    page.click("#booking-services [data-value='A']")
    page.click("#booking-days button >> nth=-1")  # the window's last day: both reminders ahead
    page.click("#booking-slots button:not([disabled]) >> nth=0")
    assert "Ingatkan saya lewat SMS / WhatsApp" in (page.text_content("#booking-reminder legend") or "")

    page.fill("#reminder-phone", "021 555 1234")  # a landline: refused, the slot stays chosen
    page.click("#reminder-consent")
    page.click("#booking-submit")
    page.wait_for_selector("#booking-error:not([hidden])")
    assert "bukan nomor HP" in (page.text_content("#booking-error") or "")
    assert page.locator("#booking-slots .chosen").count() == 1
    assert page.is_checked("#reminder-consent")

    page.fill("#reminder-phone", "0812-3456-7890")
    shot(page, "booking-reminder")
    page.click("#booking-submit")
    code = (page.text_content("#booking-code", timeout=10_000) or "").strip()
    done = page.text_content("#booking-reminder-done") or ""
    assert done == "Pengingat akan dikirim ke +62812****7890."
    shot(page, "booking-reminder-done")

    db = sqlite3.connect(reminder_hub.proc.database, timeout=10)
    try:
        (sealed,) = db.execute(
            "SELECT sealed FROM notify_contacts WHERE ticket=?", (f"booking:{code}",)
        ).fetchone()
        kinds = {
            k for (k,) in db.execute("SELECT kind FROM notify_outbox WHERE ticket=?", (f"booking:{code}",))
        }
    finally:
        db.close()
    assert b"81234567890" not in bytes(sealed)
    assert kinds == {"day_before", "hour_before"}
    assert "81234567890" not in reminder_hub.proc.log()


def test_the_slots_answer_names_the_channels_and_a_number_without_consent_is_refused(reminder_hub):
    client = Browser(reminder_hub, "127.0.0.78")
    _, _, raw = client.request("GET", "/api/reservasi/slots")
    offer = json.loads(raw)["data"]
    assert offer["reminders"] == ["whatsapp"]
    day, slot = offer["days"][-1]["day"], offer["days"][-1]["slots"][0]["slot"]
    headers = {"Content-Type": "application/json", "X-CSRF-Token": client.csrf("/reservasi")}
    body = {"service": "A", "day": day, "slot": slot, "phone": "0812 3456 7890", "lang": "en"}
    status, _, data = client.request("POST", "/api/reservasi", json.dumps(body).encode(), headers)
    answer = json.loads(data)
    assert status == 400
    assert answer["data"]["code"] == "notify_consent_needed"


def test_a_number_is_given_and_removed_later_with_the_code(reminder_hub, new_page, shot):
    client = Browser(reminder_hub, "127.0.0.79")
    _, _, raw = client.request("GET", "/api/reservasi/slots")
    offer = json.loads(raw)["data"]
    day, slot = offer["days"][-1]["day"], offer["days"][-1]["slots"][1]["slot"]
    headers = {"Content-Type": "application/json", "X-CSRF-Token": client.csrf("/reservasi")}
    body = {"service": "B", "day": day, "slot": slot}
    _, _, data = client.request("POST", "/api/reservasi", json.dumps(body).encode(), headers)
    code = json.loads(data)["data"]["code"]  # booked without a number

    page = new_page(*PHONE)
    page.goto(f"{reminder_hub.base}/reservasi")
    page.fill("#reminder-change-code", code.lower())
    page.fill("#reminder-change-phone", "0813 1111 2222")
    page.click("#reminder-change-consent")
    page.click("#reminder-change-save")
    page.wait_for_selector("#reminder-change-result.ok")
    assert page.text_content("#reminder-change-result") == "Pengingat akan dikirim ke +62813****2222."
    shot(page, "booking-reminder-change", full_page=True)
    page.click("#reminder-change-remove")
    page.wait_for_selector(f"#reminder-change-result.ok >> text={code}")
    assert page.text_content("#reminder-change-result") == (
        f"Nomor untuk reservasi {code} sudah dihapus: tidak ada pengingat lagi."
    )
    db = sqlite3.connect(reminder_hub.proc.database, timeout=10)
    try:
        left = db.execute(
            "SELECT count(*) FROM notify_contacts WHERE ticket=?", (f"booking:{code}",)
        ).fetchone()
    finally:
        db.close()
    assert left == (0,)
