"""The hub's side of the regency link: events by position, the head, and resends.

After each commit (`antrian.bus.Committed`, never before: the log is the truth) the hub
publishes the new rows of its event log on `central/events`, each with its `seq` (the log's
own position, one more per event, never reused), projected by `antrian.regency.outward` so
that nothing personal leaves the office. `central/head` (retained) says the last committed
`seq`, at most once a second and at every (re)connect, so the centre sees a lost tail. The
centre asks for a range on `central/resend`; the hub answers from its log with `resent: true`.

What leaves is read from the log, not from the bus event: rows committed while the hub was
off its own broker (published nowhere) go out at the next connect, in order. The office's
Mosquitto bridge (`antrian devices bridge`) carries these topics to the central broker and
queues them while the link is down; `persistence false` on the office broker means a broker
restart loses that queue, which the centre recovers with a resend.

Bounds: a message holds at most `MAX_EVENTS` events and `MAX_MESSAGE_BYTES` bytes (the office
broker's packet limit is 64 KiB); an ask covers fewer than `MAX_SEQ_RANGE` positions, is
clipped at the head, and at most `[regency] resend_per_minute` asks are served a minute. A
bad ask is logged and ignored: the centre is outside the office and must not stop its hub.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, Final

from antrian.bus import Committed, Connected, MessageIn
from antrian.config import Config
from antrian.contract import CentralEvent, CentralEvents, CentralHead, Outgoing, dumps
from antrian.extension import Extension
from antrian.queue import Event
from antrian.regency.outward import outward_event
from antrian.store import MAX_SEQ_RANGE

if TYPE_CHECKING:
    from antrian.service import HubService

log = logging.getLogger("antrian.regency")

#: Most events in one `central/events` message (a bigger batch is split).
MAX_EVENTS: Final = 500
#: Most bytes of one `central/events` payload: under the office broker's 64 KiB packet limit
#: with room for the topic and headers (500 events of ~250 bytes would not fit).
MAX_MESSAGE_BYTES: Final = 48 * 1024
#: `central/head` is republished at most this often (seconds) while commits go on.
HEAD_INTERVAL_S: Final = 1.0
#: The window the resend rate is counted over (seconds).
RESEND_WINDOW_S: Final = 60.0


class AskError(ValueError):
    """A `central/resend` payload that is not an ask this hub serves."""


def parse_ask(raw: bytes) -> tuple[int, int]:
    """`{"from": 5, "to": 9}` -> (5, 9), or AskError saying what is wrong."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise AskError(f"not JSON ({exc})") from None
    if not isinstance(body, dict) or set(body) != {"from", "to"}:
        raise AskError('must be an object with exactly "from" and "to"')
    first, last = body["from"], body["to"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (first, last)):
        raise AskError('"from" and "to" must be whole numbers')
    if first < 1 or last < first:
        raise AskError(f"need 1 <= from <= to (got {first}..{last})")
    if last - first >= MAX_SEQ_RANGE:
        raise AskError(f"range {first}..{last} too long: to - from must be under {MAX_SEQ_RANGE}")
    return first, last


class RegencyLink(Extension):
    """Publishes committed events by position, keeps the head, serves resends."""

    name: ClassVar[str] = "regency"

    def __init__(self, hub: HubService) -> None:
        super().__init__(hub)
        self.office = self.cfg.office.slug
        self.tz = self.cfg.office.tz
        #: The last `seq` published on `central/events` (as it was committed).
        self.sent = 0
        self._asks: deque[float] = deque()
        self._head_at = 0.0
        self._head_timer: asyncio.TimerHandle | None = None
        #: Asks refused (bad payload) and dropped (over the rate), for the logs and tests.
        self.refused = 0
        self.dropped = 0

    @classmethod
    def enabled(cls, cfg: Config) -> bool:
        return cfg.regency.enabled

    async def start(self) -> None:
        # what was committed before this start is the centre's to ask for (it sees the head)
        self.sent = self.core.store.head_seq()
        self.bus.on(Committed, self, lambda _e: self._new_rows())
        self.bus.on(Connected, self, lambda _e: [*self._new_rows(), self._head()])
        self.bus.on(MessageIn, self, self._on_message)

    async def stop(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        await super().stop()

    # -- events -------------------------------------------------------------------------------

    def _new_rows(self) -> list[Outgoing]:
        """The rows after `sent`, while the hub is on its broker (else they wait for it)."""
        if self.hub.client is None:
            return []
        head = self.core.store.head_seq()
        out: list[Outgoing] = []
        while self.sent < head:
            last = min(head, self.sent + MAX_SEQ_RANGE - 1)
            out += self._messages(self.core.store.events_by_seq(self.sent + 1, last), head, resent=False)
            self.sent = last
        if out:
            self._head_soon()
        return out

    def _messages(self, rows: Iterable[tuple[int, Event]], head: int, *, resent: bool) -> list[Outgoing]:
        """`central/events` messages of `rows`, split by `MAX_EVENTS` and `MAX_MESSAGE_BYTES`."""
        out: list[Outgoing] = []
        batch: list[CentralEvent] = []
        size = 0
        for seq, event in rows:
            item = outward_event(seq, event, self.tz)
            item_size = len(dumps(item)) + 1
            if batch and (len(batch) >= MAX_EVENTS or size + item_size > MAX_MESSAGE_BYTES):
                out.append(self._message(batch, head, resent))
                batch, size = [], 0
            batch.append(item)
            size += item_size
        if batch:
            out.append(self._message(batch, head, resent))
        return out

    def _message(self, events: list[CentralEvent], head: int, resent: bool) -> Outgoing:
        body: CentralEvents = {"office": self.office, "events": events, "head": head, "resent": resent}
        return Outgoing(self.topics.central_events, dumps(body))

    # -- head ---------------------------------------------------------------------------------

    def _head(self) -> Outgoing:
        self._head_at = time.monotonic()
        body: CentralHead = {
            "office": self.office,
            "seq": self.core.store.head_seq(),
            "at": self.core.clock().astimezone(self.tz).isoformat(timespec="seconds"),
        }
        return Outgoing(self.topics.central_head, dumps(body), retain=True)

    def _head_soon(self) -> None:
        """`central/head` once, at most `HEAD_INTERVAL_S` after the last one."""
        if self._head_timer is not None:
            return  # one is due already and will say the newest head
        wait = max(0.0, self._head_at + HEAD_INTERVAL_S - time.monotonic())
        self._head_timer = asyncio.get_running_loop().call_later(wait, self._head_due)

    def _head_due(self) -> None:
        self._head_timer = None
        if self.hub.client is not None:
            self.publish([self._head()])

    # -- resend -------------------------------------------------------------------------------

    def _on_message(self, message: MessageIn) -> list[Outgoing]:
        if message.topic != self.topics.central_resend:
            return []
        if message.retained:
            self.refused += 1
            log.warning("regency: ignored a retained resend ask (asks are never retained)")
            return []
        try:
            first, last = parse_ask(message.payload)
        except AskError as exc:
            self.refused += 1
            log.warning("regency: resend ask ignored: %s", exc)
            return []
        now = time.monotonic()
        while self._asks and now - self._asks[0] >= RESEND_WINDOW_S:
            self._asks.popleft()
        if len(self._asks) >= self.cfg.regency.resend_per_minute:
            self.dropped += 1
            log.warning(
                "regency: resend ask %d..%d dropped: over %d asks a minute",
                first,
                last,
                self.cfg.regency.resend_per_minute,
            )
            return []
        self._asks.append(now)
        head = self.core.store.head_seq()
        if first > head:
            log.info("regency: resend ask %d..%d is beyond the head %d: nothing to send", first, last, head)
            return []
        last = min(last, head)
        rows = self.core.store.events_by_seq(first, last)
        log.info("regency: resending %d..%d (%d events)", first, last, len(rows))
        return self._messages(rows, head, resent=True)
