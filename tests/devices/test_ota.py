"""Over-the-air updates on the real MicroPython interpreter: a board whose flash is a folder
(loader, firmware, `ota.json`, as `antrian devices flash` writes it) fetches a new firmware
from the real hub's web server, restarts into it and reports its build; a download with a
wrong hash changes nothing; a firmware that cannot run is rolled back by the loader after
its trial boots. A restart of the process is the board's reset (the fake `machine.reset()`
ends the process, the test powers it up again)."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import MICROPYTHON, Firmware, flash_board, kiosk_config, online

from antrian.contract import Topics
from antrian.net import free_port
from antrian.provision.firmware import DEVICES, Bundle, bundle
from tests.kit import HubProcess, Mosquitto, Probe
from tests.kit.office import DEVICE_OFFICE, SLUG
from tests.web.web_helpers import ADMIN, Browser, _add_user

T = Topics(SLUG)
OLD = "000000000000"


def info(
    watcher: Probe,
    predicate: Any,
    timeout: float = 20.0,
    fw: Firmware | None = None,
) -> dict[str, Any]:
    """kiosk-1's latest `info` that satisfies `predicate` (the board's last events if none)."""
    try:
        raw = watcher.latest(T.device_info("kiosk-1"), lambda p: predicate(json.loads(p)), timeout)
    except TimeoutError:
        seen = [e for e in fw.events if e["ev"] != "wdt_feed"][-15:] if fw else "no such info"
        raise AssertionError(seen) from None
    return json.loads(raw)


def older_board(tmp_path: Path, cfg: dict[str, Any]) -> Firmware:
    """A kiosk flashed by USB with an older build of the firmware (one file differs)."""
    flash = flash_board(tmp_path, "kiosk")
    with (flash / "runtime.py").open("a") as f:
        f.write("# an older build\n")
    (flash / "ota.json").write_text(json.dumps({"state": "ok", "version": OLD}))
    return Firmware(cfg, tmp_path, flash=flash)


def firmware_status(admin: Browser, until: Any, timeout: float = 10.0) -> dict[str, Any]:
    """The admin API's row of kiosk-1 once `until(row)` (the hub hears `info` on its own time)."""
    deadline = time.monotonic() + timeout
    while True:
        _, _, raw = admin.request("GET", "/api/admin/firmware")
        row = {d["device"]: d for d in json.loads(raw)["data"]}["kiosk-1"]
        if until(row) or time.monotonic() > deadline:
            return row
        time.sleep(0.1)


def boot_until_online(fw: Firmware, tries: int) -> int:
    """Power the board up again after each reset until it is online; the boots it took."""
    for n in range(1, tries + 1):
        mark = fw.mark()
        fw.start()
        try:
            online(fw, mark, timeout=8)
            return n
        except AssertionError:
            assert fw.proc is not None
            fw.proc.wait(10)  # it reset itself (import failed): power it up again
    raise AssertionError(f"not online after {tries} boots: {fw.events[-10:]}")


@pytest.fixture(autouse=True)
def _boards_stopped(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every board a test here powers up is powered off after it, however the test ends."""
    made: list[Firmware] = []
    start = Firmware.start

    def tracked(fw: Firmware) -> None:
        made.append(fw)
        start(fw)

    monkeypatch.setattr(Firmware, "start", tracked)
    yield
    for fw in made:
        fw.stop()


@pytest.fixture
def web_hub(broker: Mosquitto, tmp_path: Path, watcher: Probe) -> Iterator[HubProcess]:
    """The real hub with its web pages (where boards download from) and an admin account."""
    port = free_port()
    h = HubProcess(broker, {**DEVICE_OFFICE, "web": {"host": "127.0.0.1", "port": port}}, tmp_path / "hub")
    _add_user(h.config_path, ADMIN[0], "admin", ADMIN[1])
    h.start_online()
    h.port = port  # type: ignore[attr-defined]
    yield h
    h.stop()


class _Served:
    """A plain HTTP server with the given files (a hub serving another bundle)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                data = files.get(self.path)
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def log_message(self, *_a: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(b: Bundle, files: dict[str, bytes] | None = None) -> _Served:
    base = f"/fw/{b.version}/"
    return _Served(
        {base + "manifest.json": b.manifest} | {base + n: d for n, d in (files or b.files).items()}
    )


def update_message(b: Bundle, port: int) -> str:
    return json.dumps(
        {"update": {"version": b.version, "sha256": b.sha256, "port": port, "path": f"/fw/{b.version}/"}}
    )


def test_board_updates_from_the_hub_and_reports_its_new_build(web_hub, watcher, tmp_path):
    fw = older_board(tmp_path, kiosk_config(web_hub.broker))
    fw.start()
    online(fw)
    assert info(watcher, lambda i: i.get("build") == OLD)["micropython"].startswith("1.")
    current = bundle("kiosk")

    admin = Browser(web_hub, "127.0.0.1")
    admin.login(*ADMIN)
    before = firmware_status(admin, lambda d: d["build"] is not None)
    assert before["build"] == OLD
    assert before["current"] is False
    assert before["available"] == current.version
    token = admin.csrf("/admin")
    ordered = time.monotonic()
    status, _, raw = admin.request("POST", "/api/admin/firmware/kiosk-1", b"", {"X-CSRF-Token": token})
    assert status == 200, raw
    assert json.loads(raw)["data"]["version"] == current.version

    fetched = fw.wait(lambda e: e["ev"] == "reboot", timeout=30)["t"]  # checked, restarting
    assert info(watcher, lambda i: (i.get("update") or {}).get("state") == "restarting")
    boots = boot_until_online(fw, 1)
    assert boots == 1
    after = info(watcher, lambda i: i.get("build") == current.version)
    size = sum(len(d) for d in current.files.values())
    print(
        f"update of {len(current.files)} files, {size} B: ordered to restart {fetched - ordered:.2f} s, "
        f"to online on the new build {time.monotonic() - ordered:.2f} s (unix port, loopback)"
    )
    assert after["update"] is None
    assert fw.flash is not None
    for name, data in current.files.items():
        assert (fw.flash / name).read_bytes() == data, name
    assert json.loads((fw.flash / "ota.json").read_text())["state"] == "ok"  # confirmed
    assert firmware_status(admin, lambda d: d["current"])["build"] == current.version

    # the kiosk still makes tickets on the new build
    n = fw.mark()
    fw.press("A")
    fw.wait_cut(since=n, timeout=15)


def test_hub_serves_only_the_bundle_it_offers(web_hub):
    b = bundle("kiosk")
    browser = Browser(web_hub, "127.0.0.2")
    status, _, manifest = browser.request("GET", f"/firmware/kiosk/{b.version}/manifest.json")
    assert status == 200
    assert hashlib.sha256(manifest).hexdigest() == b.sha256
    status, _, data = browser.request("GET", f"/firmware/kiosk/{b.version}/runtime.py")
    assert status == 200
    assert data == (DEVICES / "lib" / "runtime.py").read_bytes()
    for path in (
        f"/firmware/kiosk/{b.version}/config.json",
        f"/firmware/kiosk/{b.version}/main.py",
        f"/firmware/kiosk/{OLD}/runtime.py",
        f"/firmware/speaker/{b.version}/manifest.json",
    ):
        assert browser.request("GET", path)[0] == 404, path
    # updating is for the admin only
    status, _, _ = browser.request("POST", "/api/admin/firmware/kiosk-1", b"")
    assert status in (302, 403)


def test_download_with_a_wrong_hash_changes_nothing(broker, hub, watcher, tmp_path):
    flash = flash_board(tmp_path, "kiosk")
    before = {p.name: p.read_bytes() for p in flash.iterdir()}
    fw = Firmware(kiosk_config(broker), tmp_path, flash=flash)
    fw.start()
    online(fw)
    b = bundle("kiosk")
    files = dict(b.files)
    files["runtime.py"] = files["runtime.py"].replace(b"hub_online", b"hub_0nline")  # same size
    server = serve(b, files)
    try:
        watcher.publish(T.device_set("kiosk-1"), update_message(b, server.port))
        failed = info(watcher, lambda i: (i.get("update") or {}).get("state") == "failed", fw=fw)
    finally:
        server.close()
    assert failed["update"]["error"] == "hash"
    assert not fw.of("reboot")
    h = fw.heap()  # the figure for devices/README.md: the updater's bytes come on top
    print(f"peak heap with an update fetched: {h['peak'] - h['baseline']} B firmware")
    for name, data in before.items():
        assert (flash / name).read_bytes() == data, name
    n = fw.mark()  # still serving on the build it had
    fw.press("A")
    fw.wait_cut(since=n, timeout=15)


def test_manifest_that_does_not_match_the_hubs_hash_is_refused(broker, hub, watcher, tmp_path):
    fw = Firmware(kiosk_config(broker), tmp_path, flash=flash_board(tmp_path, "kiosk"))
    fw.start()
    online(fw)
    b = bundle("kiosk")
    server = serve(b)
    try:
        msg = json.loads(update_message(b, server.port))
        msg["update"]["sha256"] = "0" * 64
        watcher.publish(T.device_set("kiosk-1"), json.dumps(msg))
        failed = info(watcher, lambda i: (i.get("update") or {}).get("state") == "failed", fw=fw)
    finally:
        server.close()
    assert failed["update"]["error"] == "hash"
    assert not fw.of("reboot")


def test_firmware_that_cannot_run_is_rolled_back(broker, hub, watcher, tmp_path):
    fw = Firmware(kiosk_config(broker), tmp_path, flash=flash_board(tmp_path, "kiosk"))
    good = bundle("kiosk").version
    fw.start()
    online(fw)
    info(watcher, lambda i: i.get("build") == good)

    broken = tmp_path / "broken-devices"
    shutil.copytree(DEVICES, broken)
    runtime = broken / "lib" / "runtime.py"
    runtime.write_text('raise ImportError("a build that cannot start")\n' + runtime.read_text())
    bad = bundle("kiosk", broken)
    server = serve(bad)
    try:
        watcher.publish(T.device_set("kiosk-1"), update_message(bad, server.port))
        fw.wait(lambda e: e["ev"] == "reboot", timeout=30)
    finally:
        server.close()
    assert fw.proc is not None
    fw.proc.wait(10)
    boots = boot_until_online(fw, 6)
    assert boots == 4  # three trial boots fail, the fourth rolls back
    assert any("a build that cannot start" in line for line in fw.stderr + [str(e) for e in fw.events])
    back = info(watcher, lambda i: i.get("build") == good and (i.get("update") or {}).get("error"), fw=fw)
    assert back["update"] == {"version": bad.version, "error": "rolled_back"}
    assert fw.flash is not None
    assert (fw.flash / "runtime.py").read_bytes() == (DEVICES / "lib" / "runtime.py").read_bytes()


def run_loader(flash: Path) -> list[str]:
    """`otaboot.boot()` once in `flash`, on the real interpreter (a board's start)."""
    env = dict(os.environ, MICROPYPATH=f"{flash}:.frozen")
    out = subprocess.run(
        [str(MICROPYTHON), "-c", "import otaboot\notaboot.boot()"],
        cwd=flash,
        env=env,
        capture_output=True,
        timeout=20,
        check=True,
    )
    return out.stdout.decode().splitlines()


def test_swap_cut_by_a_power_cut_is_finished_at_the_next_boot(tmp_path):
    flash = flash_board(tmp_path, "kiosk")
    old = {n: (flash / n).read_bytes() for n in ("runtime.py", "hw.py", "mqtt.py")}
    staged = flash / "ota_new"
    staged.mkdir()
    (flash / "ota_old").mkdir()
    new = {n: b"# new build of " + n.encode() + b"\n" for n in old}
    for n, data in new.items():
        (staged / n).write_bytes(data)
    (flash / "ota.json").write_text(
        json.dumps({"state": "swap", "version": "n", "prev": "o", "files": sorted(new), "added": []})
    )
    # the cut came after hw.py went to ota_old/ and before the new one took its place
    (flash / "hw.py").rename(flash / "ota_old" / "hw.py")

    assert any("ota: installed" in line for line in run_loader(flash))
    for n, data in new.items():
        assert (flash / n).read_bytes() == data, n
        assert (flash / "ota_old" / n).read_bytes() == old[n], n
    state = json.loads((flash / "ota.json").read_text())
    assert state["state"] == "trial"
    assert state["boots"] == 1

    for _ in range(3):  # three more boots that never confirm: the old files come back
        run_loader(flash)
    for n, data in old.items():
        assert (flash / n).read_bytes() == data, n
    assert json.loads((flash / "ota.json").read_text()) == {"state": "ok", "version": "o", "failed": "n"}


def test_unreadable_update_state_does_not_stop_the_board(tmp_path):
    flash = flash_board(tmp_path, "kiosk")
    (flash / "ota.json").write_text("{half a fi")
    lines = run_loader(flash)  # no exception: the board starts on what it has
    assert not any("Traceback" in line for line in lines)
