"""The hub under test, two ways: in this process (fast, its state readable) or as its own
process (`antrian run`, for kill -9, restarts and anything an office would see).

Both take an office as a dict (see `office.py`); the process also takes TOML text. Both point
the hub at the test's broker and at a database in the test's folder.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import tempfile
import threading
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from antrian.config import Config, MqttConfig, parse_config
from antrian.contract import Topics
from antrian.core import HubCore, utc_now
from antrian.service import HubService
from antrian.store import EventStore

from .broker import Mosquitto
from .office import SLUG, open_every_day, open_every_day_toml, to_toml
from .process import ChildProcess

R = TypeVar("R")


def is_online(payload: bytes) -> bool:
    """True for a `hub/state` payload that says `online`."""
    return bool(payload) and json.loads(payload).get("state") == "online"


def is_offline(payload: bytes) -> bool:
    return bool(payload) and json.loads(payload).get("state") == "offline"


class InProcessHub:
    """The real HubService on its own asyncio loop in a thread, against a real broker.

    Closer to production than calling HubCore directly (real MQTT both ways), and cheaper than
    a child process; tests that need kill -9 use `HubProcess` instead.
    """

    def __init__(
        self,
        broker: Mosquitto,
        workdir: Path,
        config: dict[str, Any] | None = None,
        *,
        reconnect_max_s: float = 0.5,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        # a hub on the machine's clock may run on a Sunday, a holiday or at night
        cfg = parse_config(open_every_day(config or {}) if clock is utc_now else config or {})
        #: The hub's time (`HubCore(clock=)`): a faster clock lets a test live minutes in seconds.
        self.clock = clock
        self.cfg: Config = dataclasses.replace(
            cfg,
            mqtt=MqttConfig(host=broker.host, port=broker.port, client_id="hub-under-test"),
            database=str(workdir / "antrian.db"),
            web=dataclasses.replace(cfg.web, enabled=False),
        )
        self.reconnect_max_s = reconnect_max_s
        self.thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._service: HubService | None = None
        self.stop_event: asyncio.Event | None = None

    def start(self) -> InProcessHub:
        started = threading.Event()

        async def serve() -> None:
            self.loop = asyncio.get_running_loop()
            self.stop_event = asyncio.Event()
            store = EventStore(self.cfg.database)
            core = HubCore(self.cfg, store, clock=self.clock)
            self._service = HubService(core, reconnect_max_s=self.reconnect_max_s)
            task = asyncio.create_task(self._service.run(self.stop_event))
            await self._service.connected.wait()
            started.set()
            await task
            store.close()

        self.thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
        self.thread.start()
        assert started.wait(10), "hub did not connect"
        return self

    @property
    def service(self) -> HubService:
        assert self._service is not None, "the hub was not started"
        return self._service

    @property
    def core(self) -> HubCore:
        return self.service.core

    def call(self, fn: Callable[[], R]) -> R:
        """Run `fn()` on the hub's loop and return its result (state reads stay consistent)."""
        assert self.loop is not None

        async def wrap() -> R:
            return fn()

        return asyncio.run_coroutine_threadsafe(wrap(), self.loop).result(5)

    def stop(self) -> None:
        if self.loop and self.stop_event and self.thread and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop_event.set)
            self.thread.join(10)


class HubProcess(ChildProcess):
    """`antrian run` as a real child process, for tests that kill, restart or time it.

    `config` is the office, as a dict or as TOML text; `[mqtt]` and `database` are filled in to
    point at `broker` and a file in `workdir` unless the config sets them.
    """

    def __init__(
        self,
        broker: Mosquitto,
        config: str | dict[str, Any] = "",
        workdir: Path | None = None,
        *,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="antrian-hub-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.workdir / "antrian.toml"
        # its own process runs on the machine's clock: maybe a Sunday, a holiday or at night
        text = open_every_day_toml(config) if isinstance(config, str) else to_toml(open_every_day(config))
        if "database" not in text:
            text = 'database = "antrian.db"\n' + text
        if "[mqtt]" not in text:
            text += f'\n[mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\n'
        self.config_path.write_text(text)
        self.topics = Topics(tomllib.loads(text).get("office", {}).get("slug", SLUG))
        argv = [sys.executable, "-m", "antrian.cli", "run", "-c", str(self.config_path), *extra_args]
        super().__init__(argv, self.workdir / "hub.log")
        self.broker = broker

    @property
    def database(self) -> Path:
        return self.workdir / "antrian.db"

    def start_online(self, timeout: float = 20.0) -> HubProcess:
        """Start and return once this process announced `online` (its log tail if it does not)."""
        self.announced(self.broker, self.topics.hub_state, is_online, timeout)
        return self


@contextmanager
def hub_on_own_broker(config: str | dict[str, Any], workdir: Path) -> Iterator[tuple[Mosquitto, HubProcess]]:
    """A Mosquitto of its own and a `HubProcess` on it, in `workdir/broker` and `workdir/hub`.

    The broker is started, the hub is not: a kill -9 or restart scenario decides when the hub
    comes up. Both are stopped on the way out, even when the body fails, the hub first so that
    its last words reach a broker; a run that breaks leaves no process behind.
    """
    (workdir / "broker").mkdir(parents=True, exist_ok=True)
    broker = Mosquitto(workdir=workdir / "broker")
    try:
        broker.start()
        hub = HubProcess(broker, config, workdir / "hub")
        try:
            yield broker, hub
        finally:
            hub.stop()
    finally:
        broker.close()
