"""Notifications as an office runs them: `antrian run` with its pages on, a real gammu-smsd.

The citizen takes a ticket from the ESP32 kiosk (over MQTT), gives a number on the status page
opened from the ticket's QR (over HTTP, with the page's CSRF token), and the counter calls
(over MQTT). What the hub hands to SMS is read back from what gammu-smsd transmitted on
Gammu's dummy phone. The number never crosses MQTT.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from tests.kit import Probe
from tests.web.web_helpers import Browser, running_web_hub

NUMBER = "0812 3456 7890"


def give_number(hub, token: str, phone: str = NUMBER) -> tuple[int, dict]:
    phone_browser = Browser(hub, "127.0.0.1")
    csrf = phone_browser.csrf(f"/t/{token}")
    status, _, data = phone_browser.request(
        "POST",
        "/api/notify",
        json.dumps({"token": token, "phone": phone, "consent": True}).encode(),
        {"Content-Type": "application/json", "X-CSRF-Token": csrf},
    )
    return status, json.loads(data)


def test_a_number_given_on_the_status_page_gets_sms_before_and_at_the_call(tmp_path: Path, gammu_smsd):
    extra = f'\n[notify]\nsms_smsdrc = "{gammu_smsd.smsdrc}"\n'
    with running_web_hub(tmp_path / "hub", extra) as hub:
        T = hub.proc.topics
        probe = Probe(hub.proc.broker, "citizen-watch")
        probe.subscribe("#")
        try:
            tickets = [
                probe.request(T.hub_request("take_ticket"), T.hub_response("take_ticket"), {"service": "D"})
                for _ in range(5)
            ]
            mine = tickets[-1]["data"]
            status, answer = give_number(hub, mine["token"])
            assert status == 200, answer
            assert answer["data"]["phone"] == "+62812****7890"

            def call() -> None:
                probe.request(
                    T.hub_request("call_next"),
                    T.hub_response("call_next"),
                    {"counter": 3, "actor": "petugas"},
                )

            call()  # D-001 called: D-005 has 3 ahead, "Bersiaplah"
            (almost,) = gammu_smsd.wait_transmitted(1)
            assert almost.to == "+6281234567890"
            assert almost.text.startswith("Nomor antrean D-005: 3 orang lagi")
            assert (almost.encoding, almost.parts) == ("gsm7", 1)
            for _ in range(4):
                call()
            sent = gammu_smsd.wait_transmitted(2)
            assert sent[1].text == "Nomor antrean D-005 dipanggil ke Loket 3. Silakan menuju loket sekarang."

            # the status page offers nothing more to sign up for once called
            with_sub = Browser(hub, "127.0.0.1").request("GET", f"/api/notify/{mine['token']}")
            assert json.loads(with_sub[2])["data"]["subscription"]["phone"] == "+62812****7890"
            late_status, late = give_number(hub, mine["token"], "0812 0000 0001")
            assert late_status == 409
            assert late["data"]["code"] == "notify_ticket_closed"

            time.sleep(0.5)
            on_mqtt = b"".join(payload for _, payload, _ in probe.messages)
            assert b"3456" not in on_mqtt
            assert b"7890" not in on_mqtt
        finally:
            probe.close()
        log = hub.proc.log()
        assert "+62812****7890" in log
        assert "3456 7890" not in log
        assert "81234567890" not in log


def test_a_message_queued_while_the_modem_is_down_survives_a_kill_and_goes_once(tmp_path: Path, gammu_smsd):
    """kill -9 of the hub between queueing and sending loses nothing and sends nothing twice."""
    gammu_smsd.stop()  # the modem is unplugged
    extra = f'\n[notify]\nsms_smsdrc = "{gammu_smsd.smsdrc}"\n'
    with running_web_hub(tmp_path / "hub", extra) as hub:
        T = hub.proc.topics
        probe = Probe(hub.proc.broker, "counter-3")
        probe.subscribe(T.hub_response("+"))
        try:
            (ticket,) = [
                probe.request(T.hub_request("take_ticket"), T.hub_response("take_ticket"), {"service": "D"})
            ]
            status, _ = give_number(hub, ticket["data"]["token"])
            assert status == 200
            probe.request(T.hub_request("call_next"), T.hub_response("call_next"), {"counter": 3})
            db = sqlite3.connect(hub.proc.database)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                rows = db.execute("SELECT kind, state FROM notify_outbox ORDER BY id").fetchall()
                if ("called", "sent") in rows:  # handed to gammu-smsd's outbox: the modem is away
                    break
                time.sleep(0.05)
            hub.proc.kill()  # SIGKILL: no goodbye
            hub.proc.start_online()  # starts it again, and waits for its "online"
            gammu_smsd.start()  # the modem is back
            gammu_smsd.wait_transmitted(1, timeout=30)
            time.sleep(3)  # time enough for a second copy, were there one
            sent = gammu_smsd.transmitted()
        finally:
            probe.close()
    texts = sorted(m.text for m in sent)
    assert texts == [
        "Nomor antrean D-001 dipanggil ke Loket 3. Silakan menuju loket sekarang.",
    ], texts


def test_the_it_officer_checks_the_modem_with_a_test_message_and_reads_the_status(tmp_path: Path, gammu_smsd):
    import subprocess
    import sys

    config = tmp_path / "antrian.toml"
    config.write_text(
        f'database = "antrian.db"\n[office]\nname = "Kantor Kecamatan Winongan"\n'
        f'[notify]\nsms_smsdrc = "{gammu_smsd.smsdrc}"\n'
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "antrian.cli", "notify", *args, "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin", "ANTRIAN_LANG": "id"},
            check=False,
        )

    sent = cli("test", "--to", "0812 3456 7890")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "+62812****7890" in sent.stdout
    assert "3456" not in sent.stdout + sent.stderr
    (message,) = gammu_smsd.wait_transmitted(1)
    assert message.to == "+6281234567890"
    assert message.text == "Pesan uji dari Kantor Kecamatan Winongan: notifikasi antrean berfungsi."

    bad = cli("test", "--to", "021 555 1234")
    assert bad.returncode == 2
    assert "telepon rumah" in bad.stderr

    status = cli("status")
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert shown["channels"][0]["name"] == "sms"
    assert shown["channels"][0]["up"] is True
