"""Shared fixtures: a real Mosquitto of the suite's own on a free port.

`broker` is one per test (cheap: ~10 ms to start) so a test may stop and restart it;
`session_broker` is shared by tests that only publish and subscribe on their own topics.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from hub.core import STRICT_REPLAY_ENV
from hub.testing import Mosquitto

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


class InProcessHub:
    """The real HubService on its own asyncio loop in a thread, against a real broker.

    Closer to production than calling HubCore directly (real MQTT both ways), and cheaper than
    a child process; tests that need kill -9 use hub.testing.HubProcess instead.
    """

    def __init__(self, broker: Mosquitto, tmp_path, config: dict | None = None) -> None:
        import dataclasses

        from hub.config import MqttConfig, parse_config

        raw = config or {}
        cfg = parse_config(raw)
        self.cfg = dataclasses.replace(
            cfg,
            mqtt=MqttConfig(host=broker.host, port=broker.port, client_id="hub-under-test"),
            database=str(tmp_path / "antrian.db"),
            web=dataclasses.replace(cfg.web, enabled=False),
        )
        self.thread = None
        self.loop = None
        self.service = None
        self.stop_event = None

    def start(self) -> InProcessHub:
        import asyncio
        import threading

        from hub.core import HubCore
        from hub.service import HubService
        from hub.store import EventStore

        started = threading.Event()

        def main() -> None:
            async def go() -> None:
                self.loop = asyncio.get_running_loop()
                self.stop_event = asyncio.Event()
                self.store = EventStore(self.cfg.database)
                self.service = HubService(HubCore(self.cfg, self.store), reconnect_max_s=0.5)
                task = asyncio.create_task(self.service.run(self.stop_event))
                await self.service.connected.wait()
                started.set()
                await task
                self.store.close()

            asyncio.run(go())

        self.thread = threading.Thread(target=main, daemon=True)
        self.thread.start()
        assert started.wait(10), "hub did not connect"
        return self

    @property
    def core(self):
        return self.service.core

    def call(self, fn):
        """Run `fn()` on the hub's loop and return its result (state reads stay consistent)."""
        import asyncio

        async def wrap():
            return fn()

        return asyncio.run_coroutine_threadsafe(wrap(), self.loop).result(5)

    def stop(self) -> None:
        if self.loop and self.stop_event and self.thread and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop_event.set)
            self.thread.join(10)


@pytest.fixture
def make_hub(broker, tmp_path):
    hubs: list[InProcessHub] = []

    def factory(config: dict | None = None) -> InProcessHub:
        h = InProcessHub(broker, tmp_path, config).start()
        hubs.append(h)
        return h

    yield factory
    for h in hubs:
        h.stop()


@pytest.fixture
def probe(broker):
    from hub.testing import Probe

    p = Probe(broker)
    yield p
    p.close()
