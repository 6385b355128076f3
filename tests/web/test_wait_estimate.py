"""The wait estimate on the pages, in Chromium against the real hub: the call window on the
citizen's status page, the warning on the kiosk page and the TV when the queue runs past
closing."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from web_helpers import kiosk_key

from antrian.net import free_port
from tests.kit import HubProcess, Mosquitto
from tests.kit.office import hours_now_at, office

WINDOW = re.compile(r"^sekitar pukul \d\d\.\d\d - \d\d\.\d\d$")


@pytest.fixture(scope="module")
def eta_web(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """A hub whose one counter for C takes an hour a citizen; it is 8 o'clock there and the
    office closes at 11: the second C ticket is called in about an hour, the fifth not today."""
    broker = Mosquitto()
    broker.start()
    port = free_port()
    config = office(
        web=port,
        office={"name": "Kantor Kecamatan Winongan", **hours_now_at(8, closing="11:00")},
        services=[
            {"letter": "C", "name": "Perizinan", "minutes": 60},
            {"letter": "D", "name": "Pengambilan dokumen", "minutes": 5},
        ],
        counters=[{"number": 1, "services": ["C"]}, {"number": 2, "services": ["D"]}],
    )
    hub = HubProcess(broker, config, tmp_path_factory.mktemp("eta-web"))
    key = kiosk_key(hub.config_path)
    hub.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            with urllib.request.urlopen(url + "/api/state", timeout=2) as r:
                if json.loads(r.read())["hub_online"]:
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, hub.log()
        time.sleep(0.1)
    yield url, key
    hub.stop()
    broker.close()


@pytest.fixture(scope="module")
def base(eta_web) -> str:
    return eta_web[0]


def test_status_page_shows_the_call_window_and_the_kiosk_warns_past_closing(eta_web, base, new_page, shot):
    kiosk = new_page(1280, 800)
    kiosk.goto(f"{base}/kiosk?key={eta_web[1]}")
    urls = []
    for _ in range(5):
        kiosk.click('.svc-btn[data-service="C"]')
        expect(kiosk.locator("#issued-ticket")).to_be_visible()
        urls.append(kiosk.locator("#status-qr").get_attribute("data-url"))
        if len(urls) == 2:
            expect(kiosk.locator("#issued-eta")).to_have_text(WINDOW)
            expect(kiosk.locator("#late-warning")).to_have_count(0)
        if len(urls) < 5:
            kiosk.click("#close")
    # the fifth is expected after closing: no time it cannot keep, the warning instead
    expect(kiosk.locator("#late-warning")).to_have_text("kemungkinan tidak terlayani hari ini")
    expect(kiosk.locator("#issued-eta")).to_have_text("setelah jam tutup")
    shot(kiosk, "kiosk-late-warning")

    phone = new_page(412, 860)
    phone.goto(urls[1])
    expect(phone.locator("#ahead")).to_have_text("1")
    expect(phone.locator("#eta")).to_have_text(WINDOW)
    assert "±" not in phone.locator("#eta").inner_text()
    expect(phone.locator("#ready")).to_be_visible()  # one ahead: "Bersiaplah"
    expect(phone.locator("#late")).to_be_hidden()
    shot(phone, "status-call-window")
    phone.goto(urls[4])
    expect(phone.locator("#ahead")).to_have_text("4")
    expect(phone.locator("#eta")).to_have_text("setelah jam tutup")
    expect(phone.locator("#late")).to_have_text("kemungkinan tidak terlayani hari ini")
    expect(phone.locator("#ready")).to_be_hidden()

    tv = new_page(1920, 1080)
    tv.goto(f"{base}/tv")
    expect(tv.locator(".svc[data-service='C'] .late")).to_have_text("kemungkinan tidak terlayani hari ini")
    expect(tv.locator(".svc[data-service='D'] .meta")).to_contain_text("segera")
