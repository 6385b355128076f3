"""Shared fixtures: a real Mosquitto of the suite's own on a free port, the hub, a probe.

`broker` is one per test (cheap: ~10 ms to start) so a test may stop and restart it;
`session_broker` is shared by tests that only publish and subscribe on their own topics.
Everything behind them is the test kit, `tests/kit`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from antrian.core import STRICT_REPLAY_ENV
from tests.kit import InProcessHub, Mosquitto, Probe

# A log that does not replay is a bug the suite must see, in this process and in every hub
# process it starts (production reports such an event and serves on).
os.environ[STRICT_REPLAY_ENV] = "1"


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    b = Mosquitto()
    b.start()
    yield b
    b.close()


@pytest.fixture(scope="session")
def session_broker() -> Iterator[Mosquitto]:
    b = Mosquitto()
    b.start()
    yield b
    b.close()


@pytest.fixture
def make_hub(broker: Mosquitto, tmp_path: Path) -> Iterator[Callable[..., InProcessHub]]:
    """`hub = make_hub(config)` starts the real hub in this process on the test's broker."""
    hubs: list[InProcessHub] = []

    def factory(config: dict[str, Any] | None = None) -> InProcessHub:
        h = InProcessHub(broker, tmp_path, config).start()
        hubs.append(h)
        return h

    yield factory
    for h in hubs:
        h.stop()


@pytest.fixture
def probe(broker: Mosquitto) -> Iterator[Probe]:
    p = Probe(broker)
    yield p
    p.close()
