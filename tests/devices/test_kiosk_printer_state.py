"""The hub hears what the kiosk's printer says. The kiosk firmware (on MicroPython, with the
fake printer of `mp/fakes.py`) publishes `info` again whenever its printer goes silent, runs
out of paper or answers again; the real hub logs the trouble loudly and shows it on the admin
page's devices table (`GET /admin/devices`, as the page gets it)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness import kiosk_config, online

from antrian.net import free_port
from tests.kit import HubProcess, Mosquitto, Probe
from tests.kit.office import DEVICE_OFFICE
from tests.web.web_helpers import ADMIN, Browser, WebHub, _add_user

INFO = "antrian/kantor/device/kiosk-1/info"


@pytest.fixture
def hub(broker: Mosquitto, tmp_path: Path, watcher: Probe) -> Iterator[WebHub]:
    """The real hub with its pages and an admin account."""
    port = free_port()
    office = {**DEVICE_OFFICE, "web": {"host": "127.0.0.1", "port": port}}
    proc = HubProcess(broker, office, workdir=tmp_path / "hub")
    _add_user(proc.config_path, ADMIN[0], "admin", ADMIN[1])
    proc.start_online()
    yield WebHub(proc, port)
    proc.stop()


def printer_seen_by_hub(hub: WebHub) -> Callable[[str | None], dict]:
    """Wait until the admin's devices table shows kiosk-1's printer in a given state."""
    admin = Browser(hub, "127.0.0.61")
    deadline = time.monotonic() + 30
    while admin.login(*ADMIN)[0] not in (200, 302):
        assert time.monotonic() < deadline, "the pages did not come up"
        time.sleep(0.2)

    def wait(state: str | None, timeout: float = 10.0) -> dict:
        until = time.monotonic() + timeout
        while True:
            _, _, body = admin.request("GET", "/admin/devices")
            row = next(d for d in json.loads(body)["devices"] if d["id"] == "kiosk-1")
            if row["printer"] == state:
                return row
            assert time.monotonic() < until, f"the hub shows the printer {row['printer']}, not {state}"
            time.sleep(0.2)

    return wait


def test_the_hub_shows_and_logs_a_kiosk_printer_gone_silent_or_out_of_paper_until_it_answers(
    broker, hub, watcher, firmware
):
    fw = firmware(kiosk_config(broker))
    online(fw)
    printer = printer_seen_by_hub(hub)
    row = printer("ok")  # asked once at start: known before any press
    assert row["hints"] == []
    assert row["reset_cause"] is not None
    assert row["free_heap"] > 0
    assert row["mqtt_connects"] == 1

    # out of paper: found at the next press, refused, and the hub is told at once
    fw.send("paper out")
    n = fw.mark()
    fw.press("A")
    fw.wait_log("refused printer", since=n)
    row = printer("paper_end")
    assert "printer_paper_end" in row["hints"]
    assert "kios kiosk-1: kertas habis" in hub.proc.log()
    # paper back: the kiosk keeps asking, and says so by itself, no press needed
    fw.send("paper ok")
    assert printer("ok")["hints"] == []
    assert "kios kiosk-1: printer siap lagi" in hub.proc.log()

    # the printer stops answering (switched off, cable out)
    fw.send("status silent")
    n = fw.mark()
    fw.press("B")
    fw.wait_log("refused printer silent", since=n)
    assert "printer_silent" in printer("silent")["hints"]
    assert "kios kiosk-1: printer tidak menjawab" in hub.proc.log()
    fw.send("status answers")
    fw.wait_log("printer answers again", since=n)
    printer("ok")

    # every change went out as the retained `info`, which a restarted hub reads again
    said = [json.loads(p).get("printer") for t, p, _ in watcher.messages if t == INFO and p]
    # (null in the first `info` when the first answer came after the connect)
    changes = [s for i, s in enumerate(said) if s is not None and (i == 0 or said[i - 1] != s)]
    assert changes == ["ok", "paper_end", "ok", "silent", "ok"]
    assert hub.proc.log().count("kertas habis") == 1  # once per change, not per question
