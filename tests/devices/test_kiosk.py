"""Kiosk firmware on MicroPython: press -> real hub -> ESC/POS stream decoded and checked."""

from __future__ import annotations

import json
import time

import pytest
from escpos_decode import decode
from harness import kiosk_config, online

from tests.kit.office import DEVICE_OFFICE


def printed(fw, since=0):
    stream = b"".join(bytes.fromhex(e["data"]) for e in fw.of("uart", since))
    return decode(stream)


def wait_tickets(fw, since, count, timeout=10.0):
    """Wait until `count` complete (cut) tickets were printed since event `since`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tickets = printed(fw, since)
        if len(tickets) >= count and tickets[count - 1].cut:
            return tickets
        time.sleep(0.05)
    raise AssertionError(f"{len(printed(fw, since))} tickets printed, wanted {count}")


def test_press_prints_the_hubs_ticket(broker, hub, watcher, firmware):
    fw = firmware(kiosk_config(broker))
    online(fw)
    n = fw.mark()
    t0 = fw.press("A")
    resp = json.loads(watcher.latest("antrian/kantor/device/kiosk-1/response/take_ticket"))
    fw.wait_cut(since=n)
    elapsed = time.monotonic() - t0
    assert resp["status"] == "ok"
    data = resp["data"]
    [ticket] = printed(fw, n)
    assert ticket.cut
    number = ticket.find(data["ticket"])
    assert (number.width, number.height, number.bold) == (6, 6, True)  # as large as 58 mm takes
    assert ticket.qr == [data["status_url"]]
    texts = ticket.texts()
    assert "Kantor Kecamatan Contoh" in texts
    assert "Administrasi kependudukan" in texts
    assert f"Antrean di depan Anda: {data['ahead']}" in texts
    assert "Berlaku hari ini" in texts
    assert "Perkiraan selesai: 1 hari kerja" in texts  # A's completion, never "Selesai dalam"
    assert texts[texts.index("Harap menunggu panggilan") + 1] == "pantau layar"
    assert not any(t.startswith("Pengaduan") for t in texts)  # the office gave no contact
    assert "PRIORITAS" not in texts
    assert any(t.endswith(" WIB") for t in texts)
    print(f"press-to-print {elapsed * 1000:.0f} ms")


CONTACT_OFFICE = {
    **DEVICE_OFFICE,
    "office": {
        **DEVICE_OFFICE["office"],
        "complaint_contact": "WA 0812-3456-7890",
        "survey_url": "http://192.168.1.10:8080/skm",
    },
}


@pytest.mark.parametrize("hub_config", [CONTACT_OFFICE])
def test_a_kiosk_prints_the_words_it_was_given_and_the_offices_contact(broker, hub, watcher, firmware):
    """An English-speaking office: the words come from the kiosk's config.json (as provisioning
    wrote them), the complaint contact and the survey address from the hub's answer."""
    fw = firmware(kiosk_config(broker, lang="en"))
    online(fw)
    n = fw.mark()
    fw.press("B")
    fw.wait_cut(since=n)
    [ticket] = printed(fw, n)
    texts = ticket.texts()
    assert "Queue number" in texts
    assert "Nomor antrean" not in texts
    assert ticket.find("B-001").width == 6
    assert "Selesai hari ini" in texts  # B's completion, as the office wrote it
    assert "Please wait for your call" in texts
    assert texts[-3:] == ["http://192.168.1.10:8080/skm", "Complaints: WA 0812-3456-7890", "Valid today only"]
    assert texts[-4] == "Satisfaction survey (SKM):"


def error_blinks(fw, since):
    return [e for e in fw.of("pin", since) if e["pin"] == 4 and e["v"] == 1]


def test_priority_bounce_and_lock(broker, hub, watcher, firmware):
    fw = firmware(kiosk_config(broker))
    online(fw)
    n = fw.mark()
    fw.press("priority")
    fw.wait(lambda e: e["ev"] == "pin" and e["pin"] == 13 and e["v"] == 1, since=n)
    fw.press("B")
    time.sleep(0.3)
    fw.press("B")  # inside the 2 s lock: ignored, not a second ticket
    fw.wait_cut(since=n)
    time.sleep(0.5)
    [ticket] = printed(fw, n)
    assert ticket.find("PRIORITAS").bold
    assert "B-001" in ticket.texts()
    assert watcher.count("antrian/kantor/device/kiosk-1/request/take_ticket") == 1


def test_paper_out_refuses_and_reprints(broker, hub, watcher, firmware):
    fw = firmware(kiosk_config(broker))
    online(fw)
    req = "antrian/kantor/device/kiosk-1/request/take_ticket"
    # Paper out before the press: refused visibly, the hub never hears of it.
    fw.send("paper out")
    n = fw.mark()
    fw.press("A")
    fw.wait(lambda e: e["ev"] == "pin" and e["pin"] == 4 and e["v"] == 1, since=n)
    fw.wait_log("refused printer", since=n)
    assert watcher.count(req) == 0
    # Paper runs out during the job: the ticket is kept and printed again once paper is back.
    fw.send("paper out_after_job")
    time.sleep(2.1)  # the A button's lock after the refused press
    n = fw.mark()
    fw.press("A")
    fw.wait_log("reprint pending", since=n)
    fw.press("D")  # refused while a ticket waits for paper
    fw.wait_log("refused busy", since=n)
    fw.send("paper ok")
    first, again = wait_tickets(fw, n, 2)
    assert "(cetak ulang)" in again.texts()
    assert first.texts()[:8] == again.texts()[:8]
    assert "A-001" in again.texts()
    assert again.qr == first.qr
    assert watcher.count(req) == 1
    fw.wait(lambda e: e["ev"] == "pin" and e["pin"] == 2 and e["v"] == 1, since=n)
