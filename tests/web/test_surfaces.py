"""The daily quota on the pages a citizen reads: the kiosk page and the waiting-room TV say how
many tickets are left once few are, and "Kuota hari ini habis" (the kiosk's button off) once
none are; they follow the hub live, in both languages."""

from __future__ import annotations

import json

from playwright.sync_api import expect
from web_helpers import T, hub_fixture, mqtt_ticket

# A: a quota of 2 (few from the start); B: 12 (plenty, until 10 are left); C: no quota.
SERVICES = """
[[services]]
letter = "A"
name = "Administrasi kependudukan"
quota = 2
[[services]]
letter = "B"
name = "Surat keterangan"
quota = 12
[[services]]
letter = "C"
name = "Perizinan"
"""
hub = hub_fixture("surfaces", SERVICES)


def kiosk_meta(page, letter: str):
    return page.locator(f'.svc-btn[data-service="{letter}"] .meta')


def tv_meta(page, letter: str):
    return page.locator(f'.svc[data-service="{letter}"] .meta')


def test_the_kiosk_and_the_tv_count_down_the_quota_and_the_kiosk_stops_at_zero(hub, new_page, probe, shot):
    mqtt = probe(hub)
    kiosk = new_page(1280, 800)
    kiosk.goto(hub.kiosk())
    tv = new_page(1920, 1080)
    tv.goto(f"{hub.base}/tv")
    expect(kiosk_meta(kiosk, "A")).to_contain_text("Sisa kuota: 2")
    expect(tv_meta(tv, "A")).to_contain_text("Sisa kuota: 2")
    for page, meta in ((kiosk, kiosk_meta), (tv, tv_meta)):
        expect(meta(page, "B")).not_to_contain_text("kuota")  # 12 of 12 left: nothing to say yet
        expect(meta(page, "C")).not_to_contain_text("kuota")  # no quota at all

    assert mqtt_ticket(mqtt, "A")["status"] == "ok"
    expect(kiosk_meta(kiosk, "A")).to_contain_text("Sisa kuota: 1")
    expect(tv_meta(tv, "A")).to_contain_text("Sisa kuota: 1")
    for _ in range(2):
        assert mqtt_ticket(mqtt, "B")["status"] == "ok"
    expect(kiosk_meta(kiosk, "B")).to_contain_text("Sisa kuota: 10")
    expect(tv_meta(tv, "B")).to_contain_text("Sisa kuota: 10")

    assert mqtt_ticket(mqtt, "A")["status"] == "ok"
    button = kiosk.locator('.svc-btn[data-service="A"]')
    expect(button).to_be_disabled()
    expect(kiosk_meta(kiosk, "A")).to_have_text("Kuota hari ini habis")
    expect(tv_meta(tv, "A")).to_have_text("Kuota hari ini habis")
    expect(kiosk.locator('.svc-btn[data-service="B"]')).to_be_enabled()
    shot(kiosk, "kiosk-quota")
    shot(tv, "tv-quota")
    # the button is off: a tap on it asks the hub nothing
    issued = hub.service("A")["issued"]
    button.click(force=True)
    expect(kiosk.locator("#result")).to_be_hidden()
    assert hub.service("A")["issued"] == issued == 2

    english = new_page(1280, 800)
    english.goto(hub.kiosk("en"))
    expect(kiosk_meta(english, "A")).to_have_text("Today's quota is used up")
    expect(kiosk_meta(english, "B")).to_contain_text("Quota left: 10")


def test_the_service_state_says_how_many_tickets_the_quota_leaves(hub, probe):
    mqtt = probe(hub)
    mqtt.subscribe(T.service_state("+"))
    before = {s["service"]: s for s in hub.state()["services"]}
    assert before["C"]["quota"] is None
    assert before["C"]["quota_left"] is None
    assert before["B"]["quota_left"] == before["B"]["quota"] - before["B"]["issued"]
    assert mqtt_ticket(mqtt, "B")["status"] == "ok"
    after = hub.service("B")
    assert after["quota_left"] == before["B"]["quota_left"] - 1
    left = after["quota_left"]
    published = mqtt.wait_for(T.service_state("B"), lambda p: json.loads(p)["quota_left"] == left, timeout=10)
    assert json.loads(published)["issued"] == after["issued"]
