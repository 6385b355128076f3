"""The test's eyes and hands on the broker: one paho client for every test and benchmark.

Synchronous on purpose, so a test reads top to bottom. Every message received is kept in
`messages` (topic, payload bytes, retained flag) in arrival order; the waits look there.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

Predicate = Callable[[bytes], bool]


class Endpoint(Protocol):
    """Where a broker listens (a `Mosquitto`, or anything with `host` and `port`)."""

    host: str
    port: int


def mqtt_client(
    client_id: str = "",
    *,
    username: str | None = None,
    password: str | None = None,
    tls: bool = False,
    ca: Path | None = None,
) -> mqtt.Client:
    """A paho client set up the way every client of this project must be.

    API version 2 (paho silently falls back to the deprecated v1 without it); TCP_NODELAY on
    the socket (paho never sets it, and Nagle's algorithm against delayed ACKs costs ~40 ms per
    round trip); room for many QoS 1 messages in flight (load tests); quick reconnects after a
    broker restart.
    """
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    if username is not None:
        client.username_pw_set(username, password)
    if tls:
        client.tls_set_context(ssl.create_default_context(cafile=str(ca) if ca else None))
    client.on_socket_open = lambda _c, _u, sock: sock.setsockopt(  # type: ignore[union-attr]
        socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
    )
    client.max_inflight_messages_set(1000)
    client.reconnect_delay_set(0.05, 0.5)
    return client


class Probe:
    """A plain MQTT client for tests: subscribe, publish, wait for messages, ask the hub.

    `target` is a broker (or a bare port on 127.0.0.1). Topics in `follow` and every topic
    passed to `subscribe` are subscribed again after each reconnect, so a probe keeps seeing
    everything across a broker restart. With `require=False` a refused connection is recorded
    in `result` instead of raised (broker security tests).
    """

    def __init__(
        self,
        target: Endpoint | int,
        client_id: str = "",
        *,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        ca: Path | None = None,
        follow: Iterable[str] = (),
        require: bool = True,
    ) -> None:
        host, port = ("127.0.0.1", target) if isinstance(target, int) else (target.host, target.port)
        self._cond = threading.Condition()
        self.messages: list[tuple[str, bytes, bool]] = []
        self.result: str | None = None
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self._answered = threading.Event()
        self._following: list[str] = list(follow)
        self._triggers: list[tuple[str, Callable[[], None]]] = []
        self._subacks: dict[int, threading.Event] = {}
        self._resubscribed: list[threading.Event] = []
        self._seq = 0
        self.client = mqtt_client(client_id, username=username, password=password, tls=tls, ca=ca)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        try:
            self.client.connect(host, port, keepalive=10)
        except (ssl.SSLError, OSError) as exc:
            self.result = f"tls: {exc}" if tls else f"connect: {exc}"
            if require:
                raise
            return
        self.client.loop_start()
        self._answered.wait(5)
        if require and not self.ok:
            self.close()
            raise ConnectionError(f"broker refused the probe: {self.result}")
        if self.ok and not all(done.wait(5) for done in self._resubscribed):
            raise TimeoutError(f"no SUBACK for {self._following}")

    # -- paho callbacks (network thread) ------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
        self.result = str(rc)
        if rc.is_failure:
            client.disconnect()  # no retry loop against a broker that said no
        else:
            self.disconnected.clear()
            self.connected.set()
            with self._cond:
                for topic in list(self._following):
                    _rc, mid = client.subscribe(topic, qos=1)
                    self._subacks[mid] = done = threading.Event()
                    self._resubscribed.append(done)
        self._answered.set()

    def _on_disconnect(self, *_a: Any) -> None:
        self.connected.clear()
        self.disconnected.set()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))
            fired = [action for topic, action in self._triggers if topic == msg.topic]
            self._triggers = [(t, a) for t, a in self._triggers if t != msg.topic]
            self._cond.notify_all()
        for action in fired:
            action()

    def _on_subscribe(self, _c: Any, _u: Any, mid: int, *_a: Any) -> None:
        with self._cond:
            done = self._subacks.pop(mid, None)
        if done is not None:
            done.set()

    # -- what tests use -----------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        """True while the broker accepts this client."""
        return self.connected.is_set()

    def subscribe(self, topic: str) -> None:
        """Subscribe at QoS 1 and return once the broker confirmed it (and after reconnects)."""
        done = threading.Event()
        with self._cond:
            self._following.append(topic)
            _rc, mid = self.client.subscribe(topic, qos=1)
            self._subacks[mid] = done
        if not done.wait(5):
            raise TimeoutError(f"no SUBACK for {topic}")

    def publish(self, topic: str, payload: bytes | str | Any, retain: bool = False) -> None:
        """Publish at QoS 1 and wait for the PUBACK; anything but bytes or str is sent as JSON."""
        body = payload if isinstance(payload, bytes | str) else json.dumps(payload).encode()
        self.client.publish(topic, body, qos=1, retain=retain).wait_for_publish(5)

    def when(self, topic: str, action: Callable[[], None]) -> None:
        """Run `action` once, on the network thread, the moment a message on `topic` arrives:
        before this probe reads the next one (a broker stopped right as a request went by)."""
        with self._cond:
            self._triggers.append((topic, action))

    def mark(self) -> int:
        """The number of messages so far: pass it as `start` to wait only for later ones."""
        with self._cond:
            return len(self.messages)

    def wait_for(
        self,
        topic: str,
        predicate: Predicate | None = None,
        timeout: float = 5.0,
        start: int = 0,
        *,
        live: bool = False,
    ) -> bytes:
        """The first payload on `topic` (from index `start`) that satisfies `predicate`;
        `live` skips retained copies (a message published after this probe subscribed)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for t, p, retained in self.messages[start:]:
                    if t == topic and not (live and retained) and (predicate is None or predicate(p)):
                        return p
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"nothing on {topic} within {timeout}s")
                self._cond.wait(left)

    def latest(self, topic: str, predicate: Predicate | None = None, timeout: float = 10.0) -> bytes:
        """The newest payload on `topic` that satisfies `predicate`, waiting for one if none yet."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for t, p, _ in reversed(self.messages):
                    if t == topic and (predicate is None or predicate(p)):
                        return p
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"nothing on {topic} within {timeout}s")
                self._cond.wait(left)

    def last(self, topic: str) -> bytes:
        """The newest payload seen on `topic` (b"" if none yet), without waiting."""
        with self._cond:
            return next((p for t, p, _ in reversed(self.messages) if t == topic), b"")

    def count(self, topic: str, start: int = 0) -> int:
        with self._cond:
            return sum(1 for t, _p, _r in self.messages[start:] if t == topic)

    def topics(self) -> list[str]:
        with self._cond:
            return [t for t, _, _ in self.messages]

    def request(
        self, request_topic: str, response_topic: str, payload: dict[str, object], timeout: float = 5.0
    ) -> dict[str, object]:
        """Publish a request with a fresh transaction and return the matching response."""
        self._seq += 1
        txn = payload.get("transaction") or f"probe-{id(self)}-{self._seq}"
        body = {**payload, "transaction": txn}
        start = self.mark()
        self.publish(request_topic, body)
        raw = self.wait_for(response_topic, lambda p: json.loads(p).get("transaction") == txn, timeout, start)
        result: dict[str, object] = json.loads(raw)
        return result

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
