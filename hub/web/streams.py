"""Live pages: server-sent event streams, all fed from one rendering per change.

The hub answers the queue's MQTT requests on the same event loop as these streams, so the
streams must never hold that loop for long, however many pages are open:

- a change is drawn once for all streams of a kind (the waiting-room picture once, each
  ticket once, the admin picture once), in *rounds*: the first change renders at once, the
  changes that follow within `ROUND_S` share the next round;
- a round serves `SLICE` streams per turn of the loop, so a request that arrives meanwhile
  waits for at most one slice, not for every open page; and a round stops when the queue
  changes under it: the pictures still to draw would each be of a new state (and a ticket's
  picture runs the wait estimate again for every new state), so the pages not served yet are
  served first by the next round, with the new state;
- a stream only gets a new picture when its picture changed (and every `REFRESH_S` anyway,
  because estimates move with time);
- a reader that does not keep up is closed: a write that does not drain within `DRAIN_S`, or
  more than `MAX_BUFFERED` bytes waiting for it in the hub. A page that really reads gets one
  small picture per round and never comes near either bound;
- open streams are capped in total and per client address: beyond the cap the answer is
  429 (this client) or 503 (everybody), and the page's script tries again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import struct
from collections import Counter
from collections.abc import Callable
from typing import Any, Final, cast

from aiohttp import web

log = logging.getLogger("antrian.web")

#: At most one round of pictures this often, however fast the queue changes. A call reaches
#: the waiting-room pages at once, on its own (`call`); the pictures (waiting counts,
#: estimates) can wait a second, and a busy hub spends half as much on them as at 0.5 s.
ROUND_S: Final = 1.0
#: Every stream gets its picture again at least this often (estimates change with time).
REFRESH_S: Final = 10.0
#: Streams served per turn of the event loop during a round.
SLICE: Final = 25
#: A write to a stream must drain within this time ...
DRAIN_S: Final = 5.0
#: ... and no more than this many bytes may wait in the hub for one stream.
MAX_BUFFERED: Final = 16 * 1024
#: Calls kept for one waiting-room page that has not taken them yet (a burst; older ones go).
MAX_CALLS: Final = 20
#: The kernel's send buffer of a stream's socket: what a reader that stopped reading can hold
#: in the hub's kernel before the two bounds above see it.
SEND_BUFFER: Final = 16 * 1024

Key = tuple[str, str]
Render = Callable[[str, str], bytes]


def sse(event: str, data: dict[str, Any]) -> bytes:
    """One server-sent event carrying `data` as compact JSON."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event}\ndata: {text}\n\n".encode()


class Stream:
    """One open page: what it follows (`kind`, `key`) and what waits to be sent to it."""

    def __init__(self, kind: str, key: str, address: str, wants_mqtt: bool = False) -> None:
        self.kind = kind
        self.key = key
        self.address = address
        self.wants_mqtt = wants_mqtt
        self.wake = asyncio.Event()
        self.sent: bytes | None = None
        self.pending: list[bytes] = []
        self.mqtt: list[dict[str, Any]] = []
        self.calls: list[bytes] = []

    def offer(self, frame: bytes, force: bool) -> None:
        """A picture for this stream; queued only when it differs from the last one sent."""
        if force or frame != self.sent:
            self.sent = frame
            self.pending = [frame]
            self.wake.set()

    def take(self) -> list[bytes]:
        """What waits to be sent: calls (each one, in order), broker messages (admin), then
        the latest picture."""
        out = self.calls + self.pending
        self.calls, self.pending = [], []
        if self.mqtt:
            batch, self.mqtt = self.mqtt, []
            out.insert(0, sse("mqtt", {"messages": batch}))
        return out


class Refused(Exception):
    """No room for another stream: `status` 429 (this client) or 503 (everybody)."""

    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status = status
        self.key = key


class Streams:
    """The open streams of one hub, their caps and the rounds that feed them."""

    def __init__(
        self,
        render: Render,
        *,
        max_total: int,
        max_per_client: int,
        version: Callable[[], object] = lambda: None,
    ) -> None:
        self.render = render
        self.version = version
        self.max_total = max_total
        self.max_per_client = max_per_client
        self.open: set[Stream] = set()
        #: The streams that show broker messages (admin pages): the topic monitor hears every
        #: message of the office, and must not walk every open page for each of them.
        self.watching: set[Stream] = set()
        self.per_address: Counter[str] = Counter()
        self.dirty = asyncio.Event()
        self.closing = False
        self.dropped = 0
        self._frames: dict[Key, bytes] = {}
        #: The streams the current cycle of rounds has not served yet.
        self._queue: list[Stream] = []

    # pictures -----------------------------------------------------------------------------------

    def frame(self, kind: str, key: str) -> bytes:
        """The picture of (`kind`, `key`) in this round: rendered once, then shared."""
        found = self._frames.get((kind, key))
        if found is None:
            found = self._frames[(kind, key)] = self.render(kind, key)
        return found

    def changed(self) -> None:
        """Something changed: the next round draws it (at once, unless one just ran). Pictures
        drawn before are forgotten now, so a page opened (or `/api/state` asked) meanwhile
        never gets an old one."""
        self._frames.clear()
        self.dirty.set()

    async def run(self) -> None:
        """Rounds until closed: after a change, or every `REFRESH_S` for every stream."""
        while not self.closing:
            forced = False
            try:
                await asyncio.wait_for(self.dirty.wait(), REFRESH_S)
            except TimeoutError:
                forced = True
            self.dirty.clear()
            try:
                await self.round(forced)
            except Exception:  # a page must never stop the pictures of the others
                log.exception("error drawing the live pages")
            await asyncio.sleep(ROUND_S)

    async def round(self, force: bool) -> None:
        """Offer the current pictures to the streams of this cycle not served yet (all of them
        when the cycle is new, or `force`), until done or the state changes."""
        self._frames.clear()
        if force or not self._queue:
            self._queue = list(self.open)
        start = self.version()
        while self._queue:
            batch, self._queue = self._queue[:SLICE], self._queue[SLICE:]
            for stream in batch:
                if stream in self.open:
                    stream.offer(self.frame(stream.kind, stream.key), force)
            await asyncio.sleep(0)
            if self._queue and self.version() != start:
                self.dirty.set()  # the others next round, with the new state
                return

    def call(self, frame: bytes) -> None:
        """A call for every waiting-room page: sent as it is, never merged into a picture, so
        two pads calling in the same moment are both shown and spoken."""
        for stream in self.open:
            if stream.kind == "public":
                stream.calls.append(frame)
                del stream.calls[:-MAX_CALLS]
                stream.wake.set()

    def mqtt(self, msg: dict[str, Any]) -> None:
        """A broker message for the streams that show them (the admin's topic monitor)."""
        for stream in self.watching:
            stream.mqtt.append(msg)
            del stream.mqtt[:-200]
            stream.wake.set()

    def close_all(self) -> None:
        self.closing = True
        self.dirty.set()
        for stream in self.open:
            stream.wake.set()

    # one stream ---------------------------------------------------------------------------------

    def admit(self, address: str) -> None:
        """Raise `Refused` when there is no room for another stream from `address`."""
        if self.per_address[address] >= self.max_per_client:
            raise Refused(429, "too_many_pages")
        if len(self.open) >= self.max_total:
            raise Refused(503, "busy")

    async def serve(self, request: web.Request, stream: Stream, first: list[bytes]) -> web.StreamResponse:
        """Send `first`, then whatever the rounds offer, until the page goes or is too slow.

        The caller has checked `admit` (and drawn `first`) just before, with no pause between.
        """
        resp = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        transport = request.transport
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        self.open.add(stream)
        if stream.wants_mqtt:
            self.watching.add(stream)
        self.per_address[stream.address] += 1
        try:
            await resp.prepare(request)
            stream.sent = first[-1] if first else None
            out = [b"retry: 2000\n\n", *first]
            while not self.closing and transport is not None:
                await self._send(transport, resp, b"".join(out))
                await stream.wake.wait()
                stream.wake.clear()
                out = stream.take()
        except _TooSlow:
            self.dropped += 1
            log.info("closed a live page that does not read (%s)", stream.address)
            if sock is not None:  # reset, not close: nothing more is sent to it, nor kept for it
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            if transport is not None:
                transport.abort()
        except ConnectionError:
            pass  # the page went away
        finally:
            self.open.discard(stream)
            self.watching.discard(stream)
            self.per_address[stream.address] -= 1
            if self.per_address[stream.address] <= 0:
                del self.per_address[stream.address]
        return resp

    @staticmethod
    async def _send(transport: asyncio.BaseTransport, resp: web.StreamResponse, data: bytes) -> None:
        if not data:
            return
        try:
            async with asyncio.timeout(DRAIN_S):  # a timer, not a task per write
                await resp.write(data)
        except TimeoutError:
            raise _TooSlow from None
        writer = cast(asyncio.WriteTransport, transport)  # uvloop's does not subclass it
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_S
        while writer.get_write_buffer_size() > MAX_BUFFERED:
            if loop.time() > deadline or writer.is_closing():
                raise _TooSlow
            await asyncio.sleep(0.2)


class _TooSlow(Exception):
    """The page does not read what it is sent."""
