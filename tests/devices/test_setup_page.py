"""The setup network and page of a board (`devices/lib/fieldsetup.py`), on the real interpreter,
from the board's own `main.py`: opened when the setup button is held at power-on, bounded, and
never showing a saved password. Pairing a new board end to end with the generated production
broker is `tests/security/test_pairing.py`."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from harness import flash_board, kiosk_config, run_main, setup_page

from antrian.net import free_port
from antrian.provision.firmware import write_flash_folder
from tests.kit import Mosquitto


def held_board(tmp_path: Path, broker: Mosquitto) -> tuple[Path, int]:
    flash = flash_board(tmp_path, "kiosk")
    cfg = {**kiosk_config(broker), "fake": {"held": [0]}}
    cfg["wifi"] = {"ssid": "kantor-kecamatan", "password": "rahasia-wifi-kantor"}
    (flash / "config.json").write_text(json.dumps(cfg))
    return flash, free_port()


def test_held_setup_button_opens_the_setup_page_without_the_saved_password(broker, tmp_path):
    flash, port = held_board(tmp_path, broker)
    board = run_main(flash, port)
    try:
        status, page = setup_page(port, board=board)
        assert status == 200
        assert 'value="kiosk-1"' in page  # the board's id, and its hub, filled in
        assert f'value="{broker.host}"' in page
        assert '<option value="kantor-kecamatan" selected>' in page  # its own network, once
        assert page.count('value="kantor-kecamatan"') == 1
        assert "&lt;b&gt;warung&lt;/b&gt;" in page  # a neighbour's network name, as text
        assert "<b>warung" not in page
        assert "rahasia-wifi-kantor" not in page
        assert "secret" not in page  # the MQTT password
    finally:
        board.kill()
        out = board.communicate()[0].decode()
    assert '"essid": "antrian-setup-kiosk-1"' in out


def test_setup_page_answers_a_bad_request_and_keeps_serving(broker, tmp_path):
    flash, port = held_board(tmp_path, broker)
    before = (flash / "config.json").read_bytes()
    board = run_main(flash, port)
    try:
        setup_page(port, board=board)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:  # 3 KB of headers
            s.sendall(b"GET / HTTP/1.0\r\n" + b"X-Junk: " + b"x" * 3000 + b"\r\n\r\n")
            assert s.recv(64).startswith(b"HTTP/1.0 400")
        status, page = setup_page(port, b"ssid=kantor&hub=bad%20host&id=kiosk-1&code=1", board=board)
        assert status == 200
        assert 'id="msg"' in page  # told, nothing saved
        status, _ = setup_page(port, board=board)
        assert status == 200
    finally:
        board.kill()
        board.communicate()
    assert (flash / "config.json").read_bytes() == before


def test_a_new_kiosk_opens_its_setup_page_with_a_quarter_less_heap(tmp_path):
    """The loader used to import the kiosk's firmware before knowing that the setup page was
    wanted; compiling the page then needed more heap than was left (MemoryError, a reset loop
    and no setup network), at 128 KB only some of the time and below it always. The firmware
    is now imported only when no setup is wanted: the page opens with 96 KB."""
    flash = tmp_path / "flash"
    write_flash_folder("kiosk", flash)  # no config.json: a board fresh from flashing
    port = free_port()
    board = run_main(flash, port, heap="96K")
    try:
        status, page = setup_page(port, board=board)
    finally:
        board.kill()
        board.communicate()
    assert status == 200
    assert "Pengaturan papan antrian" in page
