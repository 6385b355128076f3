"""`esphome config` accepts every ESPHome YAML in devices/esphome, with what a device in the
field needs: updates over the air behind a password, a setup access point with a captive
portal when the WiFi cannot be joined, the debug log; and a call pad that sends one request
per press, only while the hub is online, and hears the hub's answers.

ESPHome pins its own dependencies (paho-mqtt 1.6.1 among them), so it lives in its own venv,
`.venv-esphome/`, created here on first use; the project's venv never sees it. The checks
read the configuration as ESPHome validated and printed it, not the source file, so a key
ESPHome dropped or rewrote counts as missing. C++ inside lambdas is only compiled on a full
build (not done here).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import DEVICES, ROOT

VENV = ROOT / ".venv-esphome"
YAMLS = sorted(p for p in (DEVICES / "esphome").glob("*.yaml") if p.name != "secrets.example.yaml")
PAD = DEVICES / "esphome" / "call-pad.yaml"


class _Loader(yaml.SafeLoader):
    """ESPHome's output with its tags (`!secret`, `!lambda`) kept as text: "!secret name"."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return f"!{suffix} {loader.construct_scalar(node)}"
    return loader.construct_object(node, deep=True)


_Loader.add_multi_constructor("!", _tagged)


@pytest.fixture(scope="session")
def esphome() -> Path:
    exe = VENV / "bin" / "esphome"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "esphome"], check=True, timeout=900)
    return exe


def validated(esphome: Path, source: Path, tmp_path: Path) -> dict[str, Any]:
    """Run `esphome config` on `source` (with the example secrets); the validated config."""
    work = tmp_path / "esphome"
    shutil.copytree(DEVICES / "esphome", work)
    shutil.copy(work / "secrets.example.yaml", work / "secrets.yaml")
    result = subprocess.run(
        [str(esphome), "config", str(work / source.name)],
        capture_output=True,
        text=True,
        cwd=work,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Configuration is valid" in result.stdout + result.stderr
    config: dict[str, Any] = yaml.load(result.stdout, Loader=_Loader)
    return config


@pytest.mark.parametrize("source", YAMLS, ids=lambda p: p.name)
def test_esphome_config_valid(source: Path, esphome: Path, tmp_path: Path) -> None:
    validated(esphome, source, tmp_path)


@pytest.mark.parametrize("source", YAMLS, ids=lambda p: p.name)
def test_every_esphome_device_updates_over_the_air_and_opens_a_setup_portal(
    source: Path, esphome: Path, tmp_path: Path
) -> None:
    config = validated(esphome, source, tmp_path)
    ota = [o for o in config["ota"] if o["platform"] == "esphome"]
    assert ota, "no ESPHome OTA"
    assert ota[0]["password"] == "!secret ota_password"
    assert config["wifi"]["ap"]["password"] == "!secret ap_password"
    assert config["wifi"]["ap"]["ssid"]
    assert "captive_portal" in config
    assert "debug" in config
    # the broker may lose the retained hub state with the link: forget it on disconnect
    assert "hub_online" in str(config["mqtt"]["on_disconnect"])


def test_the_call_pad_sends_one_request_at_a_time_and_only_to_an_online_hub(
    esphome: Path, tmp_path: Path
) -> None:
    config = validated(esphome, PAD, tmp_path)
    send = next(s for s in config["script"] if s["id"] == "send")
    assert send["mode"] == "single", "a second press while one waits must be dropped"
    steps = str(send["then"])
    assert "is_connected()" in steps
    assert "hub_online" in steps
    assert "wait_until" in steps, "the lock must hold until the answer"
    assert "timeout" in steps, "the lock must open when no answer comes"
    for sensor in config["binary_sensor"]:
        assert "script.execute" in str(sensor["on_press"]), sensor["name"]
    topics = {m["topic"] for m in config["mqtt"]["on_json_message"]}
    base = config["substitutions"]["base"]
    assert f"{base}/hub/state" in topics
    assert any(t.endswith("/response/+") for t in topics)
    source = PAD.read_text()
    assert "esp_random" not in source
    assert "random_uint32()" in source


def test_the_esphome_led_board_sends_the_max7219_registers_again_every_few_seconds(
    esphome: Path, tmp_path: Path
) -> None:
    config = validated(esphome, DEVICES / "esphome" / "led-board.yaml", tmp_path)
    resend = [i for i in config["interval"] if "0x0B, 7" in str(i["then"])]
    assert resend, "no periodic write of the control registers"
    steps = str(resend[0]["then"])
    for reg in ("0x0F, 0", "0x09, 0", "0x0C, 1", "intensity(id(level))"):
        assert reg in steps
    assert resend[0]["interval"] in ("5s", "5000ms", 5000), resend[0]["interval"]
