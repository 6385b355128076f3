"""A real Mosquitto on a free loopback port, for tests and benchmarks.

Tests never share the system broker: each run starts its own from a small config file so that
it can stop and restart it (broker-outage tests) and so that nothing retained leaks between
runs. `set_tcp_nodelay true` matters: with Mosquitto's default (Nagle on) every QoS 1
request/response round trip stalls 40-90 ms against delayed ACKs.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from antrian.net import free_port, port_open

from .process import ChildProcess

MOSQUITTO_CANDIDATES = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def find_mosquitto() -> str | None:
    """Path of the mosquitto binary, or None where it is not installed."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for cand in MOSQUITTO_CANDIDATES:
        if Path(cand).exists():
            return cand
    return None


class Mosquitto(ChildProcess):
    """One Mosquitto process on 127.0.0.1:`port`, stoppable and restartable.

    `extra_conf` lines are appended to the generated config (password files, ACLs, TLS
    listeners); `conf_path` may be pointed at a config written elsewhere (the one
    `antrian devices` generates). Persistence is off: a restart is a broker that lost its
    retained messages, the harder case for every part, which must publish them again.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        extra_conf: str = "",
        allow_anonymous: bool = True,
        workdir: Path | None = None,
    ) -> None:
        binary = find_mosquitto()
        if binary is None:
            raise RuntimeError("mosquitto is not installed (apt-get install mosquitto)")
        self.binary = binary
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self._own_dir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="antrian-mosq-"))
        self.conf_path = self.workdir / "mosquitto.conf"
        super().__init__([], self.workdir / "mosquitto.log")
        anonymous = "true" if allow_anonymous else "false"
        self.conf_path.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"allow_anonymous {anonymous}\n"
            "set_tcp_nodelay true\n"
            "persistence false\n"
            "log_dest stderr\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
            "max_inflight_messages 100\n"
            f"{extra_conf}\n"
        )

    def start(self, timeout: float = 5.0) -> None:
        if self.alive():
            return
        self.argv = [self.binary, "-c", str(self.conf_path)]
        super().start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"mosquitto exited: {self.log()[-2000:]}")
            if port_open(self.host, self.port, 0.1):
                return
            time.sleep(0.01)
        raise RuntimeError(f"mosquitto did not listen on {self.port} in {timeout}s")

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)
