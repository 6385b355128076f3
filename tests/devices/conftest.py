"""Fixtures for the device tests: the real hub, a probe on the whole office, firmware processes.

The harness itself (MicroPython runner, configs, event collection) is in `harness.py`; the
broker, the probe, the hub runner and the office come from the test kit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import Firmware

from tests.kit import HubProcess, Mosquitto, Probe
from tests.kit.office import DEVICE_OFFICE


@pytest.fixture
def watcher(broker: Mosquitto) -> Iterator[Probe]:
    """Every message under `antrian/#` from before the hub starts (the test's eyes)."""
    p = Probe(broker, follow=["antrian/#"])
    yield p
    p.close()


@pytest.fixture
def hub_config() -> dict[str, Any]:
    """The office; a test module or `parametrize` gives its own."""
    return DEVICE_OFFICE


@pytest.fixture
def hub(
    broker: Mosquitto, tmp_path: Path, watcher: Probe, hub_config: dict[str, Any]
) -> Iterator[HubProcess]:
    """The real hub on the test's broker, up once it announced `hub/state` online."""
    h = HubProcess(broker, hub_config, workdir=tmp_path / "hub").start_online()
    yield h
    h.stop()


@pytest.fixture
def firmware(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], Firmware]]:
    """`fw = firmware(cfg)` boots one device; every device is killed after the test."""
    started: list[Firmware] = []

    def boot(cfg: dict[str, Any]) -> Firmware:
        fw = Firmware(cfg, tmp_path)
        fw.start()
        started.append(fw)
        return fw

    yield boot
    for fw in started:
        fw.stop()
