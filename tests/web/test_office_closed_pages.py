"""A closed office on the pages a citizen reads: the TV shows one notice across the screen
("Kantor tutup — buka lagi Selasa, 1 Desember pukul 07.30", the holiday's name above it)
instead of an empty queue, and the kiosk page shows the same with its buttons off; in both
languages, from the hub's `office/state`."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from web_helpers import Browser, hub_fixture

from tests.kit.office import WEEKDAYS

TZ = ZoneInfo("Asia/Jakarta")  # the pages' hub keeps the default time zone
HOLIDAY = "Hari Jadi Kabupaten"
DAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS_ID = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def hours(today_span: str = "07:30-16:00") -> str:
    """`[office.hours]`: 07.30-16.00 every day, `today_span` today (in the office's zone)."""
    today = WEEKDAYS[datetime.now(TZ).weekday()]
    return "[office.hours]\n" + "".join(
        f'{day} = "{today_span if day == today else "07:30-16:00"}"\n' for day in WEEKDAYS
    )


# Today is the regency's own holiday; the office opens again tomorrow at 07.30.
HOLIDAY_CONFIG = (
    hours() + f'[[holidays]]\ndate = "{datetime.now(TZ).date().isoformat()}"\nname = "{HOLIDAY}"\n'
)
hub = hub_fixture("officeclosed", HOLIDAY_CONFIG)


def tomorrow_text() -> str:
    tomorrow = datetime.now(TZ).date() + timedelta(days=1)
    return f"{DAYS_ID[tomorrow.weekday()]}, {tomorrow.day} {MONTHS_ID[tomorrow.month - 1]}"


def test_on_a_holiday_the_tv_shows_a_closed_notice_instead_of_an_empty_queue(hub, new_page, shot):
    tv = new_page(1920, 1080)
    tv.goto(f"{hub.base}/tv")
    notice = tv.locator("#closed-notice")
    expect(notice).to_be_visible()
    expect(tv.locator("#closed-holiday")).to_have_text(HOLIDAY)
    expect(tv.locator("#closed-headline")).to_have_text("Kantor tutup")
    expect(tv.locator("#closed-opens")).to_have_text(f"buka lagi {tomorrow_text()} pukul 07.30")
    expect(tv.locator("#hero")).to_be_hidden()
    expect(tv.locator("#counters")).to_be_hidden()
    shot(tv, "tv-office-closed")
    # the notice is read from the back of the room: no smaller than the services' rows
    height = tv.viewport_size["height"]
    size = float(tv.locator("#closed-opens").evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    assert size >= height / 30


def test_on_a_holiday_the_kiosk_page_says_so_and_its_buttons_are_off(hub, new_page, shot):
    kiosk = new_page(1280, 800)
    kiosk.goto(hub.kiosk())
    expect(kiosk.locator("#office-line")).to_have_text(
        f"Kantor tutup — buka lagi {tomorrow_text()} pukul 07.30"
    )
    expect(kiosk.locator("#office-holiday")).to_have_text(HOLIDAY)
    for letter in "ABCDE":
        expect(kiosk.locator(f'.svc-btn[data-service="{letter}"]')).to_be_disabled()
    expect(kiosk.locator("#priority")).to_be_disabled()
    shot(kiosk, "kiosk-office-closed")
    kiosk.locator('.svc-btn[data-service="A"]').click(force=True)
    expect(kiosk.locator("#result")).to_be_hidden()
    # a script that posts anyway is refused by the hub, with the same reason
    _, _, body = Browser(hub, "127.0.0.31").take_ticket("A")
    assert body["status"] == "error"
    assert body["data"]["code"] == "office_closed"
    assert body["data"]["holiday"] == HOLIDAY
    assert hub.service("A")["issued"] == 0


def test_the_closed_notice_speaks_english_on_english_pages(hub, new_page):
    tv = new_page(1920, 1080)
    tv.goto(f"{hub.base}/tv?lang=en")
    expect(tv.locator("#closed-headline")).to_have_text("Office closed")
    expect(tv.locator("#closed-opens")).to_contain_text("opens again")
    expect(tv.locator("#closed-opens")).to_contain_text("at 07:30")
    kiosk = new_page(1280, 800)
    kiosk.goto(hub.kiosk("en"))
    expect(kiosk.locator("#office-line")).to_contain_text("Office closed — opens again")
