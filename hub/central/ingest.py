"""The centre's ingest: every office's events and live state from the central broker into PostgreSQL.

What it promises (and how):

- **Nothing lost, nothing twice.** A message is acknowledged to the broker (QoS 1 PUBACK) only
  after its rows are committed; the session is persistent (fixed client id, clean session off),
  so what was not acknowledged is delivered again after a crash or a lost connection. Rows are
  keyed (office, seq) and inserted with ON CONFLICT DO NOTHING: a message received twice, or a
  resend that overlaps what arrived, adds nothing.
- **Gaps repair themselves.** An office's log numbers its events 1, 2, 3 ... with no hole. A seq
  missing below what the centre knows of the office's head (its retained `central/head`, or the
  `head` of any events message) for longer than the grace time is asked again on
  `antrian/<slug>/central/resend`, in ranges of at most `MAX_RANGE` events, at most
  `ASKS_PER_MINUTE` asks per office (the office serves 10), retried with a growing wait. So a
  message lost while a bridge was down, or the tail of a day that never left, converges.
- **Cheap in the steady state.** Rows are written in batches (one multi-row INSERT per flush,
  every `FLUSH_S` or `FLUSH_ROWS` rows); the gap check reads only the rows above each office's
  known-complete prefix.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

import aiomqtt
import psycopg
from psycopg.types.json import Jsonb

from antrian import mqtt
from antrian.central.config import SLUG, CentralConfig
from antrian.central.db import upgrade

log = logging.getLogger("antrian.central")

#: A batch is written at the latest this long after its first row arrived...
FLUSH_S: Final = 0.2
#: ...or as soon as it holds this many rows.
FLUSH_ROWS: Final = 1000
#: At most this many events in one message (the contract's 500, with room).
MAX_EVENTS: Final = 1000
#: The largest message read (500 events of ~1 KiB each at most); larger ones are dropped.
MAX_MESSAGE_BYTES: Final = 2 * 1024 * 1024
#: The largest range in one resend ask (the contract: to - from < 5000).
MAX_RANGE: Final = 5000
#: Asks per office per minute (the office serves 10 and drops the rest).
ASKS_PER_MINUTE: Final = 8
#: The wait before a range is asked again, doubling up to RETRY_MAX_S.
RETRY_FIRST_S: Final = 5.0
RETRY_MAX_S: Final = 60.0
#: How often the gaps are looked for.
CHECK_S: Final = 0.5
#: Retained topics of an office kept in `live_state` (relative to `antrian/<slug>/`).
LIVE_TOPICS: Final = (
    "hub/state",
    "hub/info",
    "office/state",
    "service/+/state",
    "counter/+/state",
    "device/+/availability",
)
#: The largest live payload kept (hub/info is ~24 KiB at most).
MAX_LIVE_BYTES: Final = 64 * 1024


class BadMessage(ValueError):
    """A message that does not follow the contract; logged and acknowledged (it never will)."""


@dataclass
class EventRow:
    office: str
    seq: int
    day: date
    at: datetime
    type: str
    actor: str
    reason: str | None
    data: dict[str, Any]


def _str(e: dict[str, Any], key: str, limit: int, *, optional: bool = False) -> str | None:
    value = e.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadMessage(f"event field {key!r}: a string of at most {limit} characters")
    return value


def parse_events(slug: str, payload: bytes) -> tuple[list[EventRow], int]:
    """The rows of one `central/events` message and the office's head it names."""
    if len(payload) > MAX_MESSAGE_BYTES:
        raise BadMessage(f"larger than {MAX_MESSAGE_BYTES} bytes")
    try:
        msg = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadMessage(f"not UTF-8 JSON: {exc}") from None
    if not isinstance(msg, dict):
        raise BadMessage("not a JSON object")
    if msg.get("office") != slug:
        raise BadMessage(f"office {msg.get('office')!r} on the topic of {slug}")
    events, head = msg.get("events"), msg.get("head")
    if not isinstance(events, list) or len(events) > MAX_EVENTS:
        raise BadMessage(f"events: a list of at most {MAX_EVENTS}")
    if not isinstance(head, int) or isinstance(head, bool) or head < 0:
        raise BadMessage("head: a whole number >= 0")
    rows: list[EventRow] = []
    for e in events:
        if not isinstance(e, dict):
            raise BadMessage("an event is not an object")
        seq, data = e.get("seq"), e.get("data")
        if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq < 2**62:
            raise BadMessage("seq: a whole number >= 1")
        if not isinstance(data, dict):
            raise BadMessage("data: an object")
        try:
            day = date.fromisoformat(str(_str(e, "day", 10)))
            at = datetime.fromisoformat(str(_str(e, "at", 40)))
        except ValueError:
            raise BadMessage(f"seq {seq}: day or at is not an ISO date/time") from None
        if at.tzinfo is None:
            raise BadMessage(f"seq {seq}: at has no time zone")
        rows.append(
            EventRow(
                slug,
                seq,
                day,
                at,
                str(_str(e, "type", 64)),
                str(_str(e, "actor", 200)),
                _str(e, "reason", 1000, optional=True),
                data,
            )
        )
    return rows, max([head, *(r.seq for r in rows)])


def parse_head(slug: str, payload: bytes) -> tuple[int, datetime | None]:
    """The seq and time of a retained `central/head`."""
    try:
        msg = json.loads(payload[:4096])
    except (ValueError, UnicodeDecodeError):
        raise BadMessage("head: not JSON") from None
    if not isinstance(msg, dict) or msg.get("office") != slug:
        raise BadMessage("head: not an object of this office")
    seq = msg.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise BadMessage("head: seq a whole number >= 0")
    at = None
    with contextlib.suppress(TypeError, ValueError):
        at = datetime.fromisoformat(str(msg.get("at")))
    return seq, at


@dataclass
class Gap:
    first_seen: float
    next_ask: float = 0.0
    asks: int = 0


@dataclass
class OfficeTrack:
    """What the ingest knows of one office between flushes."""

    #: Every seq up to this one is committed (read from the database at start, then kept).
    complete: int = 0
    #: The highest seq the office is known to have committed.
    head: int = 0
    head_at: datetime | None = None
    #: Missing ranges (first, last) -> when first seen and when to ask next.
    gaps: dict[tuple[int, int], Gap] = field(default_factory=dict)
    #: Monotonic times of the asks of the last minute.
    asked: list[float] = field(default_factory=list)
    #: Something arrived since the last gap check.
    dirty: bool = True


class Ingest:
    """One process's ingest: the MQTT side and the PostgreSQL side, on one asyncio loop."""

    def __init__(self, cfg: CentralConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.cfg = cfg
        self.clock = clock
        self.offices: dict[str, OfficeTrack] = {slug: OfficeTrack() for slug in cfg.offices}
        self.rows: list[EventRow] = []
        self.live: dict[tuple[str, str], Any] = {}
        self.seen: dict[str, datetime] = {}
        #: (mid, qos) of messages to acknowledge after the next commit.
        self.to_ack: list[tuple[int, int]] = []
        self.first_row_at: float | None = None
        self.wake = asyncio.Event()
        self.stop = asyncio.Event()
        self.unknown: set[str] = set()
        self.client: aiomqtt.Client | None = None
        self.conn: psycopg.AsyncConnection[Any] | None = None
        self.stats = {"inserted": 0, "duplicates": 0, "asks": 0, "bad": 0}

    # ---- start ---------------------------------------------------------------------------
    async def open(self) -> None:
        """Connect to PostgreSQL, bring the schema up, read where each office stands."""
        with psycopg.connect(self.cfg.dsn, autocommit=True, connect_timeout=10) as sync:
            upgrade(sync)
        self.conn = await psycopg.AsyncConnection.connect(self.cfg.dsn, autocommit=True, connect_timeout=10)
        async with self.conn.transaction():
            for slug, name in self.cfg.offices.items():
                await self.conn.execute(
                    "INSERT INTO offices (slug, name) VALUES (%s, %s) "
                    "ON CONFLICT (slug) DO UPDATE SET name = excluded.name",
                    (slug, name),
                )
            cur = await self.conn.execute("SELECT slug, coalesce(head_seq, 0) FROM offices")
            for slug, head in await cur.fetchall():
                if slug in self.offices:
                    self.offices[slug].head = int(head)
            for slug, track in self.offices.items():
                track.complete = await self._complete_prefix(slug)

    async def _complete_prefix(self, slug: str) -> int:
        """The highest seq up to which the office's events are all here (one index scan)."""
        assert self.conn is not None
        cur = await self.conn.execute(
            "SELECT min(seq) - 1 FROM (SELECT seq, lead(seq) OVER (ORDER BY seq) AS next "
            "FROM events WHERE office = %s) s WHERE next IS NULL OR next > seq + 1",
            (slug,),
        )
        row = await cur.fetchone()
        first = await (
            await self.conn.execute("SELECT min(seq) FROM events WHERE office = %s", (slug,))
        ).fetchone()
        if row is None or row[0] is None or first is None or first[0] != 1:
            return 0
        return int(row[0]) + 1

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()

    # ---- messages ------------------------------------------------------------------------
    def subscriptions(self) -> list[str]:
        topics = ["antrian/+/central/events", "antrian/+/central/head"]
        topics += [f"antrian/+/{t}" for t in LIVE_TOPICS]
        return topics

    def handle(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        """Take one message into the next batch; its acknowledgement waits for the commit."""
        self.to_ack.append((mid, qos))
        parts = topic.split("/")
        if len(parts) < 4 or parts[0] != "antrian" or not SLUG.match(parts[1]):
            return
        slug, rest = parts[1], "/".join(parts[2:])
        track = self.offices.get(slug)
        if track is None:
            if slug not in self.unknown:  # once per office: a stray office must not flood the log
                self.unknown.add(slug)
                log.warning("messages of office %r, which is not in [offices], are ignored", slug)
            return
        self.seen[slug] = datetime.now().astimezone()
        try:
            if rest == "central/events":
                rows, head = parse_events(slug, payload)
                self._head(track, head, None)
                self.rows.extend(rows)
                track.dirty = True
            elif rest == "central/head":
                seq, at = parse_head(slug, payload)
                self._head(track, seq, at)
            elif rest != "central/resend":
                self._live(slug, rest, payload)
        except BadMessage as exc:
            self.stats["bad"] += 1
            log.warning("office %s, %s: %s (dropped)", slug, rest, exc)
        if self.first_row_at is None:
            self.first_row_at = self.clock()
        if len(self.rows) >= FLUSH_ROWS:
            self.wake.set()

    def _head(self, track: OfficeTrack, seq: int, at: datetime | None) -> None:
        if seq > track.head:
            track.head, track.dirty = seq, True
        if at is not None:
            track.head_at = at

    def _live(self, slug: str, rest: str, payload: bytes) -> None:
        if len(payload) > MAX_LIVE_BYTES:
            raise BadMessage(f"live state larger than {MAX_LIVE_BYTES} bytes")
        if not payload:
            self.live[(slug, rest)] = None  # cleared retained state
            return
        if rest.endswith("/availability"):
            self.live[(slug, rest)] = payload.decode("utf-8", "replace")[:32]
            return
        try:
            self.live[(slug, rest)] = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            raise BadMessage("live state is not JSON") from None

    # ---- writing -------------------------------------------------------------------------
    async def flush(self) -> None:
        """Commit what is buffered, then acknowledge the messages it came in."""
        assert self.conn is not None
        client = self.client
        rows, live, acks, seen = self.rows, self.live, self.to_ack, self.seen
        self.rows, self.live, self.to_ack, self.seen = [], {}, [], {}
        self.first_row_at = None
        if rows or live or seen:
            async with self.conn.transaction():
                await self._write(rows, live, seen)
        # the message ids belong to the connection they came on: after a reconnect the broker
        # delivers those messages again, under new ids
        if client is not None and client is self.client:
            for mid, qos in acks:
                if qos > 0:
                    client._client.ack(mid, qos)

    async def _write(
        self, rows: list[EventRow], live: dict[tuple[str, str], Any], seen: dict[str, datetime]
    ) -> None:
        assert self.conn is not None
        for start in range(0, len(rows), FLUSH_ROWS):
            chunk = rows[start : start + FLUSH_ROWS]
            values = ",".join(["(%s,%s,%s,%s,%s,%s,%s,%s)"] * len(chunk))
            params: list[Any] = []
            for r in chunk:
                params += [r.office, r.seq, r.day, r.at, r.type, r.actor, r.reason, Jsonb(r.data)]
            cur = await self.conn.execute(
                f"INSERT INTO events (office, seq, day, at, type, actor, reason, data) VALUES {values} "  # noqa: S608 - placeholders only
                "ON CONFLICT (office, seq) DO NOTHING",
                params,
            )
            self.stats["inserted"] += cur.rowcount
            self.stats["duplicates"] += len(chunk) - cur.rowcount
        last_event: dict[str, datetime] = {}
        for r in rows:
            if r.office not in last_event or r.at > last_event[r.office]:
                last_event[r.office] = r.at
        for slug, track in self.offices.items():
            if slug not in seen and slug not in last_event:
                continue
            await self.conn.execute(
                "UPDATE offices SET head_seq = greatest(coalesce(head_seq, 0), %s), "
                "head_at = coalesce(%s, head_at), "
                "last_event_at = greatest(last_event_at, %s::timestamptz), "
                "last_seen = greatest(last_seen, %s::timestamptz) WHERE slug = %s",
                (track.head, track.head_at, last_event.get(slug), seen.get(slug), slug),
            )
        for (slug, topic), payload in live.items():
            if payload is None:
                await self.conn.execute(
                    "DELETE FROM live_state WHERE office = %s AND topic = %s", (slug, topic)
                )
            else:
                await self.conn.execute(
                    "INSERT INTO live_state (office, topic, payload, updated_at) "
                    "VALUES (%s, %s, %s, now()) ON CONFLICT (office, topic) "
                    "DO UPDATE SET payload = excluded.payload, updated_at = now()",
                    (slug, topic, Jsonb(payload)),
                )

    # ---- gaps ----------------------------------------------------------------------------
    async def missing(self, slug: str) -> list[tuple[int, int]]:
        """The ranges of seq missing for `slug` below its known head (advancing `complete`)."""
        assert self.conn is not None
        track = self.offices[slug]
        cur = await self.conn.execute(
            "SELECT seq FROM events WHERE office = %s AND seq > %s ORDER BY seq LIMIT 100000",
            (slug, track.complete),
        )
        expected, ranges = track.complete + 1, []
        seqs = await cur.fetchall()
        for (seq,) in seqs:
            if seq > expected:
                ranges.append((expected, seq - 1))
            elif not ranges:
                track.complete = seq
            expected = seq + 1
        if track.head >= expected and len(seqs) < 100000:
            ranges.append((expected, track.head))
        return ranges

    async def check_gaps(self) -> None:
        """Ask the offices again for what stayed missing longer than the grace time."""
        now = self.clock()
        for slug, track in self.offices.items():
            # nothing new and no ask due: no query (a gap the office cannot fill costs nothing
            # between its asks)
            due = any(
                now >= max(g.first_seen + self.cfg.gap_grace_s, g.next_ask) for g in track.gaps.values()
            )
            if not track.dirty and not due:
                continue
            track.dirty = False
            found: dict[tuple[int, int], Gap] = {}
            for first, last in await self.missing(slug):
                for lo in range(first, last + 1, MAX_RANGE):
                    key = (lo, min(lo + MAX_RANGE - 1, last))
                    # a range still partly missing keeps the age of the gap it came from
                    old = next(
                        (g for (a, b), g in track.gaps.items() if a <= key[0] <= b or key[0] <= a <= key[1]),
                        None,
                    )
                    found[key] = old or Gap(first_seen=now)
                    if len(found) > 100:
                        break
            track.gaps = found
            track.asked = [t for t in track.asked if now - t < 60]
            for (lo, hi), gap in sorted(found.items()):
                if now - gap.first_seen < self.cfg.gap_grace_s or now < gap.next_ask:
                    continue
                if len(track.asked) >= ASKS_PER_MINUTE:
                    break
                if await self._ask(slug, lo, hi):
                    track.asked.append(now)
                    gap.asks += 1
                    gap.next_ask = now + min(RETRY_FIRST_S * 2 ** (gap.asks - 1), RETRY_MAX_S)

    async def _ask(self, slug: str, lo: int, hi: int) -> bool:
        if self.client is None:
            return False
        log.info("office %s: events %d-%d missing, asking again", slug, lo, hi)
        try:
            await self.client.publish(
                f"antrian/{slug}/central/resend", json.dumps({"from": lo, "to": hi}), qos=1, retain=False
            )
        except aiomqtt.MqttError as exc:
            log.warning("office %s: resend ask not sent (%s)", slug, exc)
            return False
        self.stats["asks"] += 1
        return True

    # ---- running -------------------------------------------------------------------------
    async def _writer(self) -> None:
        """Flush every FLUSH_S (sooner when a batch is full) and look for gaps every CHECK_S."""
        next_check = self.clock()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), FLUSH_S)
            self.wake.clear()
            if self.to_ack or self.rows or self.live or self.seen:
                await self.flush()
            if self.clock() >= next_check:
                next_check = self.clock() + CHECK_S
                await self.check_gaps()

    async def _serve(self, client: aiomqtt.Client) -> None:
        self.client = client
        # unacknowledged messages of a lost connection are delivered again on the next one
        self.to_ack = []
        for topic in self.subscriptions():
            await client.subscribe(topic, qos=1)
        for track in self.offices.values():
            track.dirty = True
        log.info("central ingest connected to %s:%d", self.cfg.mqtt.host, self.cfg.mqtt.port)
        receive = asyncio.create_task(self._receive(client))
        stopping = asyncio.create_task(self.stop.wait())
        try:
            await asyncio.wait((receive, stopping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            receive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receive
        if self.stop.is_set():
            await self.flush()  # a clean stop commits and acknowledges what it holds
        elif receive.exception() is not None:
            raise receive.exception()  # type: ignore[misc]

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for m in client.messages:
            payload = m.payload if isinstance(m.payload, bytes) else str(m.payload or "").encode()
            self.handle(str(m.topic), payload, m.mid, m.qos)

    def _down(self) -> None:
        self.client = None

    def _connect(self) -> aiomqtt.Client:
        client = mqtt.client(self.cfg.mqtt, clean_session=False, max_inflight_messages=100)
        # a message is acknowledged after its commit, not when it arrives (see `flush`); set
        # before connecting, as the broker sends what it kept for the session at once
        client._client.manual_ack_set(True)
        return client

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Serve until `stop` is set (or the task is cancelled)."""
        if stop is not None:
            self.stop = stop
        await self.open()
        writer = asyncio.create_task(self._writer())
        try:
            await mqtt.reconnecting(
                self._connect,
                self._serve,
                name="central ingest",
                stop=self.stop,
                on_down=self._down,
            )
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            await self.close()
