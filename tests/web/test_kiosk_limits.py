"""The kiosk page's tickets are rate-limited per client (address and browser) and in total,
and the kiosk page says so in Bahasa Indonesia."""

from __future__ import annotations

from playwright.sync_api import expect
from web_helpers import Browser, hub_fixture

# Small allowances refill slowly (one ticket a minute per client, one per 30 s in all), so the
# test never sees one refilled, however slow the machine.
LIMITS = """
tickets_per_minute_per_client = 1
tickets_per_minute = 2
"""
hub = hub_fixture("kiosk", LIMITS)


def test_kiosk_tickets_are_rate_limited_per_client_and_in_total(hub):
    script = Browser(hub, "127.0.0.2")
    results = [script.take_ticket("A") for _ in range(2)]
    assert [r[0] for r in results] == [200, 429]
    _, resp, body = results[-1]
    assert body["status"] == "error"
    assert body["data"]["code"] == "rate_limited"
    assert "Terlalu banyak permintaan tiket" in body["error"]
    assert int(resp.headers["Retry-After"]) >= 1
    # a fresh cookie at the same address changes nothing: the address has its own limit
    assert Browser(hub, "127.0.0.2").take_ticket("A")[0] == 429
    # another address gets its own allowance, until the kiosk's total (2 a minute) is spent
    assert Browser(hub, "127.0.0.3").take_ticket("A")[0] == 200
    assert Browser(hub, "127.0.0.4").take_ticket("A")[0] == 429
    assert hub.service("A")["issued"] == 2


def test_kiosk_page_says_why_no_ticket_was_issued(hub, new_page, shot):
    kiosk = new_page(1280, 800)
    kiosk.goto(hub.kiosk())
    for _ in range(3):  # the total allowance may already be spent by another test
        kiosk.click('.svc-btn[data-service="B"]')
        kiosk.wait_for_selector("#kiosk-error, #ticket-card")  # the answer, whichever it is
        if kiosk.locator("#kiosk-error").count():
            break
        kiosk.click("#close")
    expect(kiosk.locator("#kiosk-error")).to_contain_text("Terlalu banyak permintaan tiket")
    shot(kiosk, "kiosk-rate-limited")
