"""Fixtures for the device tests: the real hub, a watcher on the broker, firmware processes.

The harness itself (MicroPython runner, configs, event collection) is in `harness.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import HUB_CONFIG, Firmware, Watcher

from tests.kit import HubProcess, Mosquitto


@pytest.fixture
def watcher(broker: Mosquitto) -> Iterator[Watcher]:
    w = Watcher(broker)
    yield w
    w.close()


@pytest.fixture
def hub_config() -> str:
    """The hub's TOML; a test module or `parametrize` gives its own office."""
    return HUB_CONFIG


@pytest.fixture
def hub(broker: Mosquitto, tmp_path: Path, watcher: Watcher, hub_config: str) -> Iterator[HubProcess]:
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
