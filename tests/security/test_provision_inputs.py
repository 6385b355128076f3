"""`antrian devices` checks every value before it reaches a generated file.

`mosquitto.conf`, `acl` and `passwd` are line-based: a value with a line break in it is a new
line of the broker's security config (`--bind $'127.0.0.1\\nallow_anonymous true'` once wrote
exactly that). A refused command exits 2 and leaves every file as it was.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from antrian.cli import main


def files(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def add(folder: Path, *extra: str, device: str = "pad-1") -> int:
    return main(
        [
            "devices",
            "add",
            device,
            "--role",
            "call_pad",
            "--counter",
            "1",
            "--dir",
            str(folder),
            "--host",
            "127.0.0.1",
            *extra,
        ]
    )


def test_a_bind_address_with_a_line_break_is_refused_and_nothing_is_written(tmp_path, capsys):
    folder = tmp_path / "broker"
    assert add(folder, "--bind", "127.0.0.1\nallow_anonymous true") == 2
    assert "--bind" in capsys.readouterr().err
    conf = folder / "mosquitto.conf"
    assert not conf.exists() or "allow_anonymous true" not in conf.read_text()


def test_a_port_out_of_range_is_refused(tmp_path, capsys):
    assert add(tmp_path / "broker", "--port", "99999") == 2
    assert "1..65535" in capsys.readouterr().err
    assert not (tmp_path / "broker" / "mosquitto.conf").exists()


BAD = [
    ("--host", "192.168.1.10 allow_anonymous"),
    ("--host", "hub\nlistener 1884"),
    ("--host", ""),
    ("--bind", "0.0.0.0\tx"),
    ("--bind", "256.1.1.1 "),
    ("--port", "-1"),
    ("--port", "65536"),
    ("--tls-port", "0"),
    ("--tls-port", "70000"),
    ("--tls-host", "broker.lan\nallow_anonymous true"),
    ("--tls-host", "a b"),
    ("--conf-dir", "relative/dir"),
    ("--conf-dir", "/etc/mosquitto/antrian\nallow_anonymous true"),
    ("--office", "Kantor Grati"),
    ("--office", "kantor/#"),
]


@pytest.mark.parametrize(("option", "value"), BAD)
def test_a_bad_setting_changes_nothing(tmp_path, option, value):
    folder = tmp_path / "broker"
    assert add(folder, device="kiosk-0") == 0  # a folder that already works
    before = files(folder)
    tls = ["--tls"] if option.startswith("--tls") else []
    assert add(folder, *tls, option, value) == 2
    assert files(folder) == before


@pytest.mark.parametrize(
    "args",
    [
        ["pad 2", "--role", "call_pad", "--counter", "2"],
        ["pad-2\nuser x", "--role", "call_pad", "--counter", "2"],
        ["antrian-monitor", "--role", "kiosk"],
        ["antrian-doctor", "--role", "kiosk"],
        ["pad-2", "--role", "call_pad", "--counter", "0"],
        ["pad-2", "--role", "call_pad", "--counter", "100"],
        ["pad-2", "--role", "call_pad"],
        ["pad-2", "--role", "printer"],
        ["kiosk-2", "--role", "kiosk", "--services", "A,b"],
        ["kiosk-2", "--role", "kiosk", "--services", "A,A"],
        ["kiosk-2", "--role", "kiosk", "--services", 'A"]\nid = "x'],
    ],
)
def test_a_bad_device_changes_nothing(tmp_path, args):
    folder = tmp_path / "broker"
    assert add(folder, device="kiosk-0") == 0
    before = files(folder)
    assert main(["devices", "add", *args, "--dir", str(folder)]) == 2
    assert files(folder) == before


def test_good_addresses_are_accepted(tmp_path):
    folder = tmp_path / "broker"
    assert (
        add(
            folder,
            "--bind",
            "::1",
            "--tls",
            "--tls-host",
            "broker.kantor.lan",
            "--tls-host",
            "192.168.1.10",
            "--port",
            "1884",
            "--tls-port",
            "8884",
        )
        == 0
    )
    conf = (folder / "mosquitto.conf").read_text()
    assert "listener 1884 ::1\n" in conf
    assert "listener 8884 ::1\n" in conf
    assert main(["devices", "write", "--dir", str(folder), "--host", "hub.kantor.lan"]) == 0


def test_a_tampered_registry_is_refused(tmp_path, capsys):
    folder = tmp_path / "broker"
    assert add(folder) == 0
    registry = folder / "registry.json"
    for field, value in (
        ("settings", {"bind": "0.0.0.0\nallow_anonymous true"}),
        ("settings", {"port": 99999}),
        ("devices", {"id": "pad-1\nuser antrian-hub"}),
        ("devices", {"hash": "x\ny:z"}),
    ):
        raw = json.loads(registry.read_text())
        good = registry.read_text()
        if field == "settings":
            raw["settings"].update(value)
        else:
            raw["devices"][0].update(value)
        registry.write_text(json.dumps(raw))
        before = {k: v for k, v in files(folder).items() if k != "registry.json"}
        assert main(["devices", "write", "--dir", str(folder)]) == 2, value
        assert "registry" in capsys.readouterr().err
        assert {k: v for k, v in files(folder).items() if k != "registry.json"} == before
        registry.write_text(good)


def test_generated_toml_strings_read_back_as_written():
    from antrian.provision.files import _toml_str

    for text in ("plain", 'with "quotes"', "back\\slash", "line\nbreak", "tab\tdel\x7f", "ümlaut"):
        assert tomllib.loads(f"x = {_toml_str(text)}")["x"] == text


def test_a_broker_folder_whose_path_breaks_a_line_is_refused(tmp_path):
    folder = tmp_path / "bro\nker"
    assert add(folder) == 2
    assert not folder.exists()
