"""The "Reservasi" section of the admin page in Chromium against the real hub: the booking
window day by day with its holiday and closed day, places booked per service counted; the
admin closes one service on one day by typing 0, lowers another below what is booked and is
told the bookings stay, sees it slot by slot, and looks a code up. An office without bookings
shows no such section."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from web_helpers import Browser, WebHub, hub_fixture

from antrian.config import parse_config
from antrian.schedule import schedule_of

TODAY = datetime.now(ZoneInfo("Asia/Jakarta")).date()
HOLIDAY = next(
    d
    for d in (TODAY + timedelta(days=n) for n in range(3, 14))
    if d.weekday() < 5 and schedule_of(parse_config({})).holiday(d) is None
)
#: Open Monday to Saturday all day (the hub runs on the machine's clock), closed on Sunday.
hub = hub_fixture(
    "adminbooking",
    "[booking]\nenabled = true\nquota = 2\ndays_ahead = 14\nslot_minutes = 120\n"
    f'[[holidays]]\ndate = "{HOLIDAY.isoformat()}"\nname = "Hari Jadi Kabupaten"\n'
    "[office.hours]\n"
    + "".join(f'{day} = "00:00-23:59"\n' for day in ("mon", "tue", "wed", "thu", "fri", "sat")),
)


def book(hub: WebHub, address: str, service: str, day: str, slot: str) -> str:
    citizen = Browser(hub, address)
    headers = {"Content-Type": "application/json", "X-CSRF-Token": citizen.csrf("/reservasi")}
    body = json.dumps({"service": service, "day": day, "slot": slot}).encode()
    status, _, raw = citizen.request("POST", "/api/reservasi", body, headers)
    assert status == 200, raw
    return str(json.loads(raw)["data"]["code"])


def open_days(hub: WebHub) -> list[dict[str, Any]]:
    _, _, raw = Browser(hub, "127.0.4.1").request("GET", "/api/reservasi/slots")
    days: list[dict[str, Any]] = json.loads(raw)["data"]["days"]
    return days


def test_the_admin_sees_the_window_and_changes_a_quota_of_one_service_on_one_day(hub, new_page, login, shot):
    first, second = open_days(hub)[:2]
    slot = first["slots"][0]
    codes = [book(hub, f"127.0.4.{10 + i}", "C", first["day"], slot["slot"]) for i in range(2)]
    admin = new_page(1400, 900)
    login(admin, hub.base, "admin", "/admin")
    card = admin.locator("#booking-card")
    expect(card).to_be_visible()
    expect(card.locator("h2")).to_have_text("Reservasi")
    rows = admin.locator("#booking-days tr[data-day]")
    expect(rows).to_have_count(14)
    holiday = admin.locator(f"#booking-days tr[data-day='{HOLIDAY.isoformat()}'] [data-field='closed']")
    expect(holiday).to_have_text("Libur: Hari Jadi Kabupaten")
    sunday = next(
        TODAY + timedelta(days=n) for n in range(1, 15) if (TODAY + timedelta(days=n)).weekday() == 6
    )
    expect(
        admin.locator(f"#booking-days tr[data-day='{sunday.isoformat()}'] [data-field='closed']")
    ).to_have_text("Kantor tutup")
    row = admin.locator(f"#booking-days tr[data-day='{first['day']}']")
    expect(row.locator("[data-field='codes']")).to_have_text("2")
    places = 2 * len(first["slots"])
    expect(row.locator("[data-service='C'] [data-field='booked']")).to_have_text(f"2/{places}")
    # counts only: no code on the overview
    assert all(code not in (card.text_content() or "") for code in codes)

    # 0 closes service B on the second day; the citizen's page has no place left there
    quota_b = admin.locator(f"#booking-days input[data-day='{second['day']}'][data-service='B']")
    quota_b.fill("0")
    quota_b.press("Enter")
    expect(admin.locator("#booking-result")).to_contain_text("Reservasi layanan B pada")
    expect(admin.locator("#booking-result")).to_contain_text("ditutup")
    expect(
        admin.locator(f"#booking-days tr[data-day='{second['day']}'] [data-service='B'] small")
    ).to_have_text("diubah admin")
    after = next(d for d in open_days(hub) if d["day"] == second["day"])
    assert {s["left"]["B"] for s in after["slots"]} == {0}
    assert {s["left"]["A"] for s in after["slots"]} == {2}

    # C lowered to 1 on the first day, below its 2 bookings: they stay, and it says so
    quota_c = admin.locator(f"#booking-days input[data-day='{first['day']}'][data-service='C']")
    quota_c.fill("1")
    quota_c.press("Enter")
    expect(admin.locator("#booking-result")).to_contain_text(f"tetap berlaku: {slot['label']} (2)")
    admin.select_option("#booking-day", first["day"])
    cell = admin.locator(f"#booking-slots tr[data-slot='{slot['slot']}'] [data-service='C']")
    expect(cell).to_have_text("2/1")
    expect(cell).to_have_class("notable status-closed")
    shot(admin, "admin-booking", full_page=True)

    # a wrong number is refused with words, and nothing changes
    quota_c.fill("99")
    quota_c.press("Enter")
    expect(admin.locator("#booking-result")).to_contain_text("Kuota harus bilangan bulat 0 sampai 50.")
    expect(quota_c).to_have_value("1")

    # one code looked up
    admin.fill("#booking-lookup-code", codes[0].lower())
    admin.click("#booking-lookup-go")
    expect(admin.locator("#booking-found")).to_contain_text(f"{codes[0]}: C Perizinan")
    expect(admin.locator("#booking-found")).to_contain_text("dipesan")


def test_the_section_speaks_english(hub, new_page, login):
    admin = new_page(1400, 900)
    login(admin, hub.base, "admin", "/admin?lang=en")
    expect(admin.locator("#booking-card h2")).to_have_text("Bookings")
    expect(
        admin.locator(f"#booking-days tr[data-day='{HOLIDAY.isoformat()}'] [data-field='closed']")
    ).to_have_text("Holiday: Hari Jadi Kabupaten")


def test_an_office_without_bookings_has_no_booking_section(web_hub, new_page, login):
    admin = new_page(1400, 900)
    login(admin, web_hub.base, "admin", "/admin")
    expect(admin.locator("#services tr[data-service='A']")).to_be_visible()
    assert Browser(web_hub, "127.0.4.2").request("GET", "/api/admin/booking")[0] == 404
    expect(admin.locator("#booking-card")).to_be_hidden()
