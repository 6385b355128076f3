"""Shared fixtures: a real Mosquitto of the suite's own on a free port.

`broker` is one per test (cheap: ~10 ms to start) so a test may stop and restart it;
`session_broker` is shared by tests that only publish and subscribe on their own topics.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.testing import Mosquitto


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
