"""`esphome config` accepts every ESPHome YAML in devices/esphome.

ESPHome pins its own dependencies (paho-mqtt 1.6.1 among them), so it lives in its own venv,
`.venv-esphome/`, created here on first use; the project's venv never sees it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from harness import DEVICES, ROOT

VENV = ROOT / ".venv-esphome"
YAMLS = sorted((DEVICES / "esphome").glob("*.yaml"))


@pytest.fixture(scope="session")
def esphome() -> Path:
    exe = VENV / "bin" / "esphome"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "esphome"], check=True, timeout=900)
    return exe


@pytest.mark.parametrize("yaml", [p for p in YAMLS if p.name != "secrets.example.yaml"], ids=lambda p: p.name)
def test_esphome_config_valid(yaml, esphome, tmp_path):
    work = tmp_path / "esphome"
    shutil.copytree(DEVICES / "esphome", work)
    shutil.copy(work / "secrets.example.yaml", work / "secrets.yaml")
    result = subprocess.run(
        [str(esphome), "config", str(work / yaml.name)],
        capture_output=True,
        text=True,
        cwd=work,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Configuration is valid" in result.stdout + result.stderr
