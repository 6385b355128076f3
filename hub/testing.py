"""A real Mosquitto on a free loopback port, for tests, benchmarks and the demo.

Tests never share the system broker: each run starts its own from a small config file so that
it can stop and restart it (broker-outage tests) and so that nothing retained leaks between
runs. `set_tcp_nodelay true` matters: with Mosquitto's default (Nagle on) every QoS 1
request/response round trip stalls 40-90 ms against delayed ACKs.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    """True when something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class Mosquitto:
    """One Mosquitto process on 127.0.0.1:`port`, stoppable and restartable.

    `extra_conf` lines are appended to the generated config (password files, ACLs, TLS
    listeners). Persistence is off: a restart is a broker that lost its retained messages,
    the harder case for the hub, which must republish them.
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
        self.log_path = self.workdir / "mosquitto.log"
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
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 5.0) -> None:
        if self.proc and self.proc.poll() is None:
            return
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own config
            [self.binary, "-c", str(self.conf_path)],
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log_path.read_text()[-2000:]}")
            if port_open(self.host, self.port, 0.1):
                return
            time.sleep(0.01)
        raise RuntimeError(f"mosquitto did not listen on {self.port} in {timeout}s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class HubProcess:
    """`antrian run` as a real child process, for tests that kill, restart or time it.

    `config_text` is the TOML of the office; `[mqtt]` and `database` are filled in to point at
    `broker` and a file in `workdir` unless the text sets them.
    """

    def __init__(self, broker: Mosquitto, config_text: str = "", workdir: Path | None = None,
                 *, extra_args: tuple[str, ...] = ()) -> None:  # fmt: skip
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="antrian-hub-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.workdir / "antrian.toml"
        text = config_text
        if "database" not in text:
            text = 'database = "antrian.db"\n' + text
        if "[mqtt]" not in text:
            text += f'\n[mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\n'
        self.config_path.write_text(text)
        self.log_path = self.workdir / "hub.log"
        self.argv = [sys.executable, "-m", "hub.cli", "run", "-c", str(self.config_path),
                     *extra_args]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None
        self.broker = broker

    @property
    def database(self) -> Path:
        return self.workdir / "antrian.db"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=log)  # noqa: S603

    def kill(self) -> None:
        """SIGKILL: a crash or a power cut, no goodbye."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Probe:
    """A plain paho client for tests: subscribe, publish, wait for messages, ask the hub.

    Synchronous on purpose, so a test reads top to bottom. Every message received is kept in
    `messages` (topic, payload bytes, retained flag) in arrival order.
    """

    def __init__(self, broker: Mosquitto, client_id: str = "", **auth: str) -> None:
        self._cond = threading.Condition()
        self.messages: list[tuple[str, bytes, bool]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        if auth:
            self.client.username_pw_set(auth.get("username"), auth.get("password"))
        self.client.on_message = self._on_message
        self.client.on_socket_open = lambda c, u, s: s.setsockopt(  # type: ignore[attr-defined]
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
        )
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self._seq = 0

    def _on_message(self, client: object, userdata: object, msg: object) -> None:
        with self._cond:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))  # type: ignore[attr-defined]
            self._cond.notify_all()

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *a: done.set()
        self.client.subscribe(topic, qos=1)
        if not done.wait(5):
            raise TimeoutError(f"no SUBACK for {topic}")

    def publish(self, topic: str, payload: bytes | str | dict[str, object], retain: bool = False) -> None:
        body = json.dumps(payload).encode() if isinstance(payload, dict) else payload
        self.client.publish(topic, body, qos=1, retain=retain).wait_for_publish(5)

    def wait_for(self, topic: str, predicate: object = None, timeout: float = 5.0,
                 start: int = 0) -> bytes:  # fmt: skip
        """The first payload on `topic` (from index `start`) that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for t, p, _ in self.messages[start:]:
                    if t == topic and (predicate is None or predicate(p)):  # type: ignore[operator]
                        return p
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"nothing on {topic} within {timeout}s")
                self._cond.wait(left)

    def request(self, request_topic: str, response_topic: str, payload: dict[str, object],
                timeout: float = 5.0) -> dict[str, object]:  # fmt: skip
        """Publish a request with a fresh transaction and return the matching response."""
        self._seq += 1
        txn = payload.get("transaction") or f"probe-{id(self)}-{self._seq}"
        body = {**payload, "transaction": txn}
        start = len(self.messages)
        self.publish(request_topic, body)
        raw = self.wait_for(response_topic, lambda p: json.loads(p).get("transaction") == txn,
                            timeout, start)  # fmt: skip
        result: dict[str, object] = json.loads(raw)
        return result

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
