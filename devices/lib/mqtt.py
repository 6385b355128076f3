"""A small asyncio MQTT 3.1.1 client for MicroPython, written with mqtt_as's lessons.

Why not umqtt: umqtt.simple blocks, and the PyPI copy has no username, keepalive or last
will. Why not mqtt_as itself: it cannot be installed from a registry, and a queue device needs
only a small part of it. The lessons kept:

* the first connect after a power cut is retried like any other (the broker or the access
  point often boots slower than the ESP32);
* a keepalive ping and a read deadline, so a silently dead link is noticed;
* the last will is set on every connect, the birth message is sent on every connect;
* QoS 1 publishes stay in `_inflight` until their PUBACK and are sent again (DUP) after a
  reconnect, so a request published just before the link drops is not lost;
* after every reconnect the session is clean: the caller's `on_connect` resubscribes and
  re-announces;
* messages stay small (the contract limits payloads to 1 KiB), so nothing big is buffered;
* every failure of one connection is recoverable: on MicroPython `asyncio.TimeoutError` (a
  missed CONNACK, a broker that accepts TCP and never answers) is not an `OSError`, so the
  run loop catches every `Exception`, never only the network ones, and every step of a
  connect has a deadline.
"""

import asyncio
import os

from time import ticks_diff, ticks_ms

CONNECT = 0x10
CONNACK = 0x20
PUBLISH = 0x30
PUBACK = 0x40
SUBSCRIBE = 0x82
SUBACK = 0x90
PINGREQ = 0xC0
PINGRESP = 0xD0
DISCONNECT = 0xE0


class MQTTError(Exception):
    """The broker refused us or the stream broke; the run loop reconnects."""


def _varlen(n):
    """MQTT remaining-length encoding (1-4 bytes)."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return out


def _str(s):
    """A UTF-8 string with its 2-byte length prefix."""
    b = s.encode() if isinstance(s, str) else s
    return len(b).to_bytes(2, "big") + b


def _packet(first, body):
    return bytes([first]) + _varlen(len(body)) + body


class MQTTClient:
    """One connection to one broker, kept up forever by `run()`.

    `on_message(topic: str, payload: bytes, retained: bool)` is called for every incoming
    PUBLISH; it must not block. `on_connect()` is a coroutine run after every CONNACK:
    subscribe and publish the birth message there. `on_down()` (plain function) is called
    when a connection is lost, so the device can show it at once.
    """

    def __init__(
        self,
        client_id,
        host,
        port=1883,
        user=None,
        password=None,
        keepalive=30,
        will=None,
        on_message=None,
        on_connect=None,
        on_down=None,
        backoff_ms=(500, 30000),
        log=None,
        link_up=None,
        timeout_ms=5000,
    ):
        self.client_id = client_id
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.keepalive = keepalive
        self.will = will  # (topic, payload bytes, retain, qos)
        self.on_message = on_message
        self.on_connect = on_connect
        self.on_down = on_down
        self.backoff_ms = backoff_ms
        self.log = log or (lambda *a: None)
        self.link_up = link_up  # () -> bool: the WLAN is up; no connect attempt while down
        self.timeout_ms = timeout_ms  # deadline of the TCP connect and of the CONNACK
        self.connected = False
        self.connects = 0
        self._reader = None
        self._writer = None
        self._pid = 0
        self._inflight = {}  # pid -> PUBLISH packet (QoS 1, waiting for PUBACK)
        self._acked = asyncio.Event()
        self._last_rx = ticks_ms()
        self._up = asyncio.Event()
        self._dead = asyncio.Event()

    # -- public API ---------------------------------------------------------------------

    async def wait_connected(self):
        await self._up.wait()

    async def publish(self, topic, payload, retain=False, qos=0):
        """Publish; for QoS 1 return once the broker has acknowledged it.

        While disconnected a QoS 1 message waits in `_inflight` and goes out on the next
        connect; a QoS 0 message is dropped (it would be stale: availability is re-announced
        on connect anyway).
        """
        if isinstance(payload, str):
            payload = payload.encode()
        first = PUBLISH | (qos << 1) | (1 if retain else 0)
        body = _str(topic)
        pid = 0
        if qos:
            pid = self._next_pid()
            body += pid.to_bytes(2, "big")
        pkt = _packet(first, body + payload)
        if qos:
            self._inflight[pid] = pkt
        if self.connected:
            try:
                await self._send(pkt)
            except (OSError, MQTTError):
                if not qos:
                    return
        elif not qos:
            return
        while pid in self._inflight:
            self._acked.clear()
            await self._acked.wait()

    async def subscribe(self, topic, qos=1):
        """Subscribe (fire and forget: a refused SUBACK only shows in the broker log)."""
        pid = self._next_pid()
        await self._send(_packet(SUBSCRIBE, pid.to_bytes(2, "big") + _str(topic) + bytes([qos])))

    async def run(self):
        """Connect, serve, reconnect with exponential backoff; never returns."""
        delay = self.backoff_ms[0]
        while True:
            if self.link_up and not self.link_up():
                await asyncio.sleep_ms(500)
                continue
            try:
                await self._connect()
                delay = self.backoff_ms[0]
                await self._serve()
            except Exception as exc:  # noqa: BLE001 - TimeoutError is no OSError on MicroPython
                self.log("mqtt: down", repr(exc))
            try:
                await self._close()
            except Exception as exc:  # noqa: BLE001 - on_down draws on a display
                self.log("mqtt: close failed", repr(exc))
            jitter = os.urandom(1)[0]  # spread many devices after a broker restart
            await asyncio.sleep_ms(delay + jitter)
            delay = min(delay * 2, self.backoff_ms[1])

    def drop(self):
        """The link is gone (the WLAN dropped): say so now and reconnect, without waiting
        for the keepalive to notice."""
        if self.connected:
            self.connected = False
            self._up.clear()
            self._dead.set()
            if self.on_down:
                self.on_down()

    async def disconnect(self):
        """Clean DISCONNECT: the broker then does not publish the last will."""
        if self.connected:
            try:
                await self._send(bytes([DISCONNECT, 0]))
            except OSError:
                pass
        await self._close()

    # -- internals ----------------------------------------------------------------------

    def _next_pid(self):
        self._pid = self._pid % 65535 + 1
        return self._pid

    async def _send(self, pkt):
        w = self._writer
        if w is None:
            raise MQTTError("not connected")
        w.write(pkt)
        await w.drain()

    async def _connect(self):
        self.log("mqtt: connecting", self.host, self.port)
        self._reader, self._writer = await asyncio.wait_for_ms(
            asyncio.open_connection(self.host, self.port), self.timeout_ms
        )
        try:  # Nagle against delayed ACKs costs ~40 ms per request/response round trip.
            getattr(self._writer, "s").setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY
        except (AttributeError, OSError):
            pass
        flags = 0x02  # clean session: we resubscribe ourselves
        payload = _str(self.client_id)
        if self.will:
            topic, msg, retain, qos = self.will
            flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
            payload += _str(topic) + _str(msg)
        if self.user:
            flags |= 0x80
            payload += _str(self.user)
            if self.password:
                flags |= 0x40
                payload += _str(self.password)
        body = _str("MQTT") + bytes([4, flags]) + self.keepalive.to_bytes(2, "big") + payload
        await self._send(_packet(CONNECT, body))
        head: bytes = await asyncio.wait_for_ms(self._reader.readexactly(4), self.timeout_ms)
        if head[0] != CONNACK or head[3] != 0:
            raise MQTTError("connack refused rc=%d" % head[3])
        self.connected = True
        self.connects += 1
        self._last_rx = ticks_ms()
        self.log("mqtt: connected")
        # Resend what the broker never acknowledged, flagged DUP, oldest first.
        for pid in sorted(self._inflight):
            pkt = self._inflight[pid]
            await self._send(bytes([pkt[0] | 0x08]) + pkt[1:])
        self._up.set()

    async def _serve(self):
        """Read packets and ping until the link dies, then return to `run()`."""
        self._dead.clear()
        if self.on_connect:
            # on_connect subscribes and publishes with QoS 1: it needs the read loop running,
            # so it runs as a task beside it.
            asyncio.create_task(self._announce())
        rtask = asyncio.create_task(self._read_task())
        ka = self.keepalive * 1000
        try:
            while True:
                try:
                    await asyncio.wait_for_ms(self._dead.wait(), ka // 2)
                    return
                except asyncio.TimeoutError:
                    pass
                if ticks_diff(ticks_ms(), self._last_rx) > ka * 3 // 2:
                    raise MQTTError("keepalive timeout")
                await self._send(bytes([PINGREQ, 0]))
        finally:
            rtask.cancel()

    async def _announce(self):
        try:
            await self.on_connect()
        except Exception as exc:  # noqa: BLE001 - the link goes on; the next connect retries
            self.log("mqtt: on_connect failed", repr(exc))

    async def _read_task(self):
        try:
            await self._read_loop()
        except Exception as exc:  # noqa: BLE001 - any failure ends this connection only
            self.log("mqtt: read ended", repr(exc))
        finally:
            self._dead.set()

    async def _read_loop(self):
        r = self._reader
        while True:
            if r is None:
                raise MQTTError("closed")
            first = await r.readexactly(1)
            if not first:
                raise EOFError
            first = first[0]
            n = 0
            shift = 0
            while True:
                b = (await r.readexactly(1))[0]
                n |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            body = await r.readexactly(n) if n else b""
            self._last_rx = ticks_ms()
            kind = first & 0xF0
            if kind == PUBLISH:
                qos = (first >> 1) & 3
                tlen = int.from_bytes(body[:2], "big")
                topic = body[2 : 2 + tlen].decode()
                pos = 2 + tlen
                if qos:
                    pid = body[pos : pos + 2]
                    pos += 2
                    await self._send(bytes([PUBACK, 2]) + pid)
                if self.on_message:
                    try:
                        self.on_message(topic, body[pos:], bool(first & 1))
                    except Exception as exc:  # noqa: BLE001 - a bad payload must not kill the link
                        self.log("mqtt: handler error", repr(exc))
            elif kind == PUBACK:
                self._inflight.pop(int.from_bytes(body[:2], "big"), None)
                self._acked.set()

    async def _close(self):
        was = self.connected
        self.connected = False
        self._up.clear()
        w = self._writer
        self._writer = None
        self._reader = None
        if w is not None:
            try:
                w.close()
                await w.wait_closed()
            except (OSError, AttributeError):
                pass
        if was and self.on_down:
            self.on_down()
