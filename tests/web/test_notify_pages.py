"""The pages of notifications, in Chromium: the citizen's form on the status page, and what the
admin sees of the channels and messages (never a number).

The hub runs with SMS on (a gammu-smsd configuration for Gammu's dummy phone; gammu-smsd itself
is not running here, as when the modem is away: messages wait in its outbox).
"""

from __future__ import annotations

import json
from pathlib import Path

from web_helpers import Browser, T, hub_fixture

from antrian.notify import gammu


def _smsdrc(workdir: Path) -> None:
    gammu.write_dummy_smsdrc(workdir / "smsdrc", workdir / "sms")


notify_hub = hub_fixture("notifyhub", '\n[notify]\nsms_smsdrc = "smsdrc"\n', prepare=_smsdrc)


def kiosk_ticket(hub) -> str:
    status, _, body = Browser(hub, "127.0.0.1").take_ticket("D")
    assert status == 200, body
    return body["data"]["status_url"].split("/t/")[-1]


def test_a_citizen_gives_a_number_on_the_status_page_and_sees_nothing_to_sign_up_for_once_called(
    notify_hub, new_page, probe
):
    token = kiosk_ticket(notify_hub)
    page = new_page(390, 844)  # a phone
    page.goto(f"{notify_hub.base}/t/{token}")
    page.wait_for_selector("#notify-form")
    assert page.is_visible("#keep-open")
    assert page.is_visible("#sound-on")
    assert "Beri tahu saya" not in page.content()
    consent = page.text_content("label.consent") or ""
    assert "dihapus pada akhir hari kerja" in consent

    page.fill("#notify-phone", "0812 3456 7890")
    page.click("#notify-send")  # consent not ticked: refused, with the reason
    page.wait_for_selector("#notify-error:not([hidden])")  # the first tap reached its button
    assert not page.is_visible("#sound-on")  # and armed the sound: the button has gone
    assert "persetujuan" in (page.text_content("#notify-error") or "")
    page.check("#notify-consent")
    page.click("#notify-send")
    page.wait_for_selector("#notify-done")
    assert "+62812****7890" in (page.text_content("#notify-done") or "")

    mqtt = probe(notify_hub)
    mqtt.subscribe(T.hub_response("call_next"))
    answer = mqtt.request(T.hub_request("call_next"), T.hub_response("call_next"), {"counter": 3})
    assert answer["status"] == "ok"
    page.wait_for_selector("#waiting-help", state="hidden")
    assert not page.is_visible("#notify-form")
    assert not page.is_visible("#notify-done")


def test_the_admin_sees_channels_and_messages_without_any_number(notify_hub, new_page, login):
    token = kiosk_ticket(notify_hub)
    phone = Browser(notify_hub, "127.0.0.2")
    csrf = phone.csrf(f"/t/{token}")
    status, _, body = phone.request(
        "POST",
        "/api/notify",
        json.dumps({"token": token, "phone": "0813 1111 2222", "consent": True}).encode(),
        {"Content-Type": "application/json", "X-CSRF-Token": csrf},
    )
    assert status == 200, body
    page = new_page()
    login(page, notify_hub.base, "admin", "/admin")
    page.wait_for_selector("#notify-card:not([hidden])")
    page.wait_for_selector('#notify-channels tr[data-channel="sms"]')
    shown = page.text_content("#notify-card") or ""
    assert "sms" in shown
    assert "2222" not in shown
    assert "1111" not in shown
    with_numbers = Browser(notify_hub, "127.0.0.3").request("GET", "/api/admin/notify")
    assert with_numbers[0] in (302, 303, 401, 403)  # not for anyone but an admin
