"""Updating a board from the admin page: its row shows the build it runs and how its last
update went, and a button that orders the build this hub offers (the `set` a board obeys,
tested with the real firmware in `tests/devices/test_ota.py`)."""

from __future__ import annotations

import json

from playwright.sync_api import expect
from web_helpers import T, hub_fixture

from antrian.provision.firmware import bundle
from tests.kit import Probe
from tests.kit.office import call_pad, kiosk, to_toml

hub = hub_fixture("firmware", to_toml({"devices": [kiosk(), call_pad("pad-1", 1)]}))

OLD = "000000000000"
INFO = {"firmware": "antrian-mpy 0.1.0", "model": "esp32", "role": "kiosk", "micropython": "1.29.0"}


def test_admin_orders_a_board_to_update_and_sees_how_it_went(hub, new_page, login):
    probe = Probe(hub.proc.broker, follow=[T.device_set("kiosk-1")])
    offered = bundle("kiosk").version

    def say(**info: object) -> None:
        probe.publish(T.device_availability("kiosk-1"), b"online", retain=True)
        probe.publish(T.device_info("kiosk-1"), json.dumps({**INFO, **info}).encode(), retain=True)

    try:
        say(build=OLD, update=None)
        admin = new_page(1400, 900)
        login(admin, hub.base, "admin", "/admin")
        cell = admin.locator("#devices tr[data-device='kiosk-1'] [data-field='firmware']")
        expect(cell.locator("[data-field='build']")).to_have_text(OLD)
        button = admin.locator("#ota-kiosk-1")
        expect(button).to_have_text(f"Perbarui ke {offered}")
        expect(admin.locator("#ota-pad-1")).to_have_count(0)  # a pad that said nothing: no offer

        button.click()
        order = json.loads(probe.latest(T.device_set("kiosk-1")))["update"]
        assert order["version"] == offered
        assert order["sha256"] == bundle("kiosk").sha256
        assert order["path"] == f"/firmware/kiosk/{offered}/"
        expect(admin.locator("#result")).to_contain_text(f"kiosk-1 mengunduh versi {offered}")

        say(build=OLD, update={"version": offered, "state": "failed", "error": "hash"})
        expect(cell).to_contain_text("⚠ pembaruan gagal (hash), versi lama tetap jalan")

        say(build=OLD, update={"version": offered, "error": "rolled_back"}, micropython="1.22.2")
        expect(cell).to_contain_text(f"⚠ versi {offered} tidak jalan, dikembalikan")
        expect(cell).to_contain_text("⚠ MicroPython 1.22.2, bukan 1.29")

        say(build=offered, update=None)
        expect(cell.locator("[data-field='build']")).to_have_text(offered)
        expect(button).to_have_count(0)  # up to date: nothing to offer
    finally:
        probe.close()


def test_admin_page_leads_to_the_reports_and_the_survey_results(hub, new_page, login):
    admin = new_page(1400, 900)
    login(admin, hub.base, "admin", "/admin")
    admin.click("#link-reports")
    expect(admin).to_have_url(f"{hub.base}/admin/reports?lang=id")
    expect(admin.locator("h1, h2").first).to_be_visible()
    admin.go_back()
    admin.click("#link-survey")
    expect(admin).to_have_url(f"{hub.base}/admin/survey?lang=id")
    expect(admin.get_by_text("Hasil Survei Kepuasan Masyarakat (IKM)").first).to_be_visible()
