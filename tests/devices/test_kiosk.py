"""Kiosk firmware on MicroPython: press -> real hub -> ESC/POS stream decoded and checked."""

from __future__ import annotations

import json
import time

from escpos_decode import decode
from harness import kiosk_config, online


def printed(fw, since=0):
    stream = b"".join(bytes.fromhex(e["data"]) for e in fw.of("uart", since))
    return decode(stream)


def test_press_prints_the_hubs_ticket(broker, hub, watcher, firmware):
    fw = firmware(kiosk_config(broker))
    online(fw)
    n = fw.mark()
    t0 = fw.press("A")
    resp = json.loads(watcher.wait("antrian/kantor/device/kiosk-1/response/take_ticket"))
    fw.wait(lambda e: e["ev"] == "uart" and "1d5642" in e["data"], since=n)
    elapsed = time.monotonic() - t0
    assert resp["status"] == "ok"
    data = resp["data"]
    [ticket] = printed(fw, n)
    assert ticket.cut
    number = ticket.find(data["ticket"])
    assert (number.width, number.height, number.bold) == (2, 2, True)
    assert ticket.qr == [data["status_url"]]
    texts = ticket.texts()
    assert "Kantor Kecamatan Contoh" in texts
    assert "Administrasi kependudukan" in texts
    assert f"Antrean di depan Anda: {data['ahead']}" in texts
    assert "Berlaku hari ini" in texts
    assert "PRIORITAS" not in texts
    assert any(t.endswith(" WIB") for t in texts)
    print(f"press-to-print {elapsed * 1000:.0f} ms")
