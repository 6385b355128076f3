"""A new board set up in the field, end to end, in the production setup: the board's own
`main.py` on the real interpreter opens its setup network (no config yet), a phone's form
reaches its page, `antrian devices pair` on the hub PC hands it the config that
`antrian devices add` wrote (only for the right code), and the board then takes a ticket
through the generated broker and the hub."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from urllib.parse import urlencode

from secure_broker import Office

from antrian.net import free_port
from antrian.provision.firmware import write_flash_folder
from tests.devices.harness import Firmware, kiosk_config, online, run_main, setup_page


def start_pairing(office: Office, pair_port: int) -> tuple[subprocess.Popen[str], str]:
    """`antrian devices pair kiosk-1` and the code it shows."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "antrian.cli",
            "devices",
            "pair",
            "kiosk-1",
            "--dir",
            str(office.folder.path),
            "--listen",
            "127.0.0.1",
            "--pair-port",
            str(pair_port),
            "--minutes",
            "2",
            "--lang",
            "en",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    shown = ""
    while not (found := re.search(r"\b(\d{4}) (\d{4})\b", shown)):
        line = proc.stdout.readline()
        assert line, shown
        shown += line
    return proc, found.group(1) + found.group(2)


def rest_of(proc: subprocess.Popen[str]) -> str:
    """What the command says after its code, once it has ended."""
    proc.wait(20)
    assert proc.stdout is not None
    return proc.stdout.read()


def form(code: str, pair_port: int) -> bytes:
    return urlencode(
        {
            "ssid": "kantor-kecamatan",
            "password": "rahasia-wifi-kantor",
            "hub": "127.0.0.1",
            "port": pair_port,
            "id": "kiosk-1",
            "code": code,
        }
    ).encode()


def test_new_board_is_paired_from_a_phone_and_serves(office, tmp_path):
    flash = tmp_path / "flash"
    write_flash_folder("kiosk", flash)  # flashed by USB: no config.json
    setup_port, pair_port = free_port(), free_port()
    board = run_main(flash, setup_port)
    pairing = None
    try:
        status, page = setup_page(setup_port, board=board)
        assert status == 200
        assert "kantor-kecamatan" in page
        pairing, code = start_pairing(office, pair_port)

        wrong = "00000000" if code != "00000000" else "11111111"
        status, page = setup_page(setup_port, form(wrong, pair_port), board=board)
        assert 'id="msg"' in page
        assert not (flash / "config.json").exists()

        status, page = setup_page(setup_port, form(code, pair_port), board=board)
        assert 'id="saved"' in page, page
        assert board.wait(20) in (75, 77)  # it restarts into its new config
        out = rest_of(pairing)
        assert pairing.returncode == 0, out
        assert "Wrong code from 127.0.0.1" in out
        assert "has fetched its config" in out
    finally:
        board.kill()
        board.communicate()
        if pairing is not None:
            pairing.kill()

    saved = json.loads((flash / "config.json").read_text())
    written = json.loads((office.folder.path / "devices" / "kiosk-1.json").read_text())
    assert saved["wifi"] == {"ssid": "kantor-kecamatan", "password": "rahasia-wifi-kantor"}
    assert saved["mqtt"] == written["mqtt"]
    assert saved["mqtt"]["password"] == office.passwords["kiosk-1"]
    assert saved["topics"] == written["topics"]

    # the board as it boots now: its saved config, the test's wiring of the buttons
    hardware = kiosk_config(office.broker)
    fw = Firmware(
        {**saved, "kiosk": hardware["kiosk"], "printer": hardware["printer"]}, tmp_path, flash=flash
    )
    fw.start()
    try:
        online(fw, timeout=20)
        n = fw.mark()
        fw.press("A")
        fw.wait_cut(since=n, timeout=20)
    finally:
        fw.stop()


def test_pairing_ends_after_five_wrong_codes(office, tmp_path):
    pair_port = free_port()
    pairing, code = start_pairing(office, pair_port)
    import urllib.error
    import urllib.request

    statuses = []
    for _ in range(6):
        req = urllib.request.Request(
            f"http://127.0.0.1:{pair_port}/pair/kiosk-1", headers={"X-Pair-Code": "9" + code[1:][::-1]}
        )
        try:
            urllib.request.urlopen(req, timeout=5)
            statuses.append(200)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)
        except OSError:
            statuses.append(0)  # closed: the pairing is over
        if pairing.poll() is not None:
            break
    out = rest_of(pairing)
    assert pairing.returncode == 1
    assert statuses[:5] == [403] * 5
    assert out.count("Wrong code") == 5
    assert "Pairing kiosk-1 ended without result" in out
    assert office.passwords["kiosk-1"] not in out
