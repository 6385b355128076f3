"""The speaker node: a Raspberry Pi (or the office PC) that plays calls in the waiting room.

It subscribes to `{base}/device/{id}/play` and plays each announcement from its local clip
cache, strictly one after another: two counters calling at the same moment are queued, never
mixed. A clip the node lacks is fetched from the hub over HTTP once and kept. Availability is
published as a retained `online`, with `offline` as the last will. `{base}/device/{id}/set`
takes `{"volume": 0-100}`.

No call is dropped silently. Three counters calling within half a minute used to overflow a
queue of whole announcements (~12 s each: chime and the call said twice), and calls waiting
more than 30 s were thrown away unheard. So the queue shortens itself when calls pile up:

* a call with nothing waiting behind it, on a silent speaker, is played as the hub sent it,
  except that its second repetition is left out if other calls came in during the first;
* one that waited behind another announcement loses the chime (people are listening already);
* when several wait, they are joined into one announcement, each said once
  ("A-012 loket satu; B-003 loket dua"), with a chime only if the speaker was silent;
* a newer call for a counter replaces that counter's unplayed older one: a recall of the same
  ticket takes its place in the queue (or is said with it, when the older one is in the
  announcement already playing), a different ticket makes the older call moot.

Only a call that still cannot start before its `expires_at` (a call heard a minute late sends
people to a counter that moved on), or that was superseded, is given up, and it is reported on
`{base}/device/{id}/event` as `call_missed` (every call heard as `call_played`), so the hub can
show it to the officer and make the counter's board keep flashing.

Sound leaves through a *sink* (`antrian.speaker.sinks`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final, Literal

import aiohttp
import aiomqtt

from antrian import mqtt
from antrian.announce import CHIME, PAUSE_AFTER_CHIME, PAUSE_BETWEEN_CALLS, joined, split
from antrian.config import MqttConfig
from antrian.contract import (
    MAX_PAYLOAD_DEPTH,
    PLAY_EXPIRY_S,
    ContractError,
    SpeakerEvent,
    Topics,
    decode_payload,
    dumps,
    json_depth,
)
from antrian.i18n import t
from antrian.speaker.sinks import Sink, chunks, volume_gain
from antrian.voice import audio
from antrian.voice.cache import ClipCache, valid_clip_id

log = logging.getLogger(__name__)

#: A play message is larger than the 1 KiB device limit when a call is repeated 3 times.
MAX_PLAY_BYTES: Final = 8192
#: An announcement that starts within this many seconds of the last one's end needs no chime:
#: the waiting room is still listening.
BACK_TO_BACK_S: Final = 2.0
#: Events kept for the broker while the node is offline (QoS 1, sent on reconnect).
MAX_UNSENT_EVENTS: Final = 200

#: Why a call was not played: it arrived after its `expires_at` (the node was offline), it
#: could not start before it (too many calls ahead, even shortened), or a newer call of
#: another ticket for the same counter came first.
MissReason = Literal["expired", "late", "superseded"]


@dataclass
class SpeakerConfig:
    """Everything a speaker node needs; the CLI fills it from flags."""

    speaker_id: str
    cache_dir: Path
    office: str = "kantor"
    host: str = "127.0.0.1"
    port: int = 1883
    hub_url: str | None = None
    username: str | None = None
    password: str | None = None
    #: The office CA for a TLS listener (`antrian devices ... --tls`): `secrets/ca.crt`.
    tls_ca: str | None = None
    volume: int = 80
    gap_ms: int = audio.DEFAULT_GAP_MS
    lang: str = "id"
    #: Most calls joined into one announcement when a backlog builds up: more would keep the
    #: newest call waiting for the whole list before the queue is looked at again.
    max_join: int = 3


@dataclass(frozen=True)
class Call:
    """One announcement waiting in the node's queue."""

    call_id: str
    clips: tuple[str, ...]
    text: str
    expires_at: datetime | None
    received: float
    ticket: str | None = None
    counter: int | None = None
    issued_at: datetime | None = None
    #: Earlier unplayed calls of the same ticket and counter this one took the place of.
    replaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class Turn:
    """What the player says next: one or more calls, joined, and where each begins."""

    calls: tuple[Call, ...]
    parts: tuple[tuple[str, audio.Pcm], ...]
    #: Sample offset at which each call's words begin (the first call's at 0, its chime).
    starts: tuple[int, ...]
    #: Said with less than the hub sent: no chime, or each call once.
    shortened: bool
    #: A lone call's second repetition starts at this part: said only if no other call is
    #: waiting by then (it came in during the first), else the announcement ends there.
    cut: int | None = None

    @property
    def label(self) -> str:
        return "+".join(c.call_id for c in self.calls)


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time with offset, or None. A naive time is taken as UTC."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_play(raw: bytes, received: float) -> Call:
    """A `play` payload -> Call; ValueError says what is wrong with it."""
    if len(raw) > MAX_PLAY_BYTES:
        raise ValueError(f"play message too large ({len(raw)} bytes)")
    if json_depth(raw) > MAX_PAYLOAD_DEPTH:
        raise ValueError(f"play message nested deeper than {MAX_PAYLOAD_DEPTH}")
    body = json.loads(raw.decode("utf-8"))
    if not isinstance(body, dict):
        raise ValueError("play payload must be a JSON object")
    clips = body.get("clips")
    if not isinstance(clips, list) or not clips or not all(isinstance(c, str) for c in clips):
        raise ValueError("play needs `clips`, a non-empty list of clip ids")
    bad = [c for c in clips if not valid_clip_id(c)]
    if bad:
        raise ValueError(f"invalid clip ids: {bad[:3]}")
    issued = parse_time(body.get("issued_at"))
    expires = parse_time(body.get("expires_at"))
    if expires is None:
        expires = issued + timedelta(seconds=PLAY_EXPIRY_S) if issued else None
    ticket, counter = body.get("ticket"), body.get("counter")
    return Call(
        call_id=str(body.get("id") or ticket or "call")[:40],
        clips=tuple(clips),
        text=str(body.get("text", ""))[:300],
        expires_at=expires,
        received=received,
        ticket=ticket[:8] if isinstance(ticket, str) and ticket else None,
        # bool is an int: `"counter": true` is no counter
        counter=counter if isinstance(counter, int) and not isinstance(counter, bool) else None,
        issued_at=issued,
    )


@dataclass
class SpeakerStats:
    """What the node did, for logs, tests and the benchmark."""

    played: list[str] = field(default_factory=list)
    #: (call id, reason) of every call given up, each also reported as `call_missed`.
    missed: list[tuple[str, str]] = field(default_factory=list)
    #: An unplayed call -> the recall of the same ticket that took its place.
    replaced: dict[str, str] = field(default_factory=dict)
    #: Call id -> the node's clock when the first frame of its words went to the sink.
    started: dict[str, datetime] = field(default_factory=dict)
    #: Calls said with less than the hub sent (no chime, or once).
    shortened: list[str] = field(default_factory=list)
    rejected: int = 0
    fetched: Counter[str] = field(default_factory=Counter)
    fetch_failed: Counter[str] = field(default_factory=Counter)


class SpeakerNode:
    """One speaker: MQTT in, a queue, a single player task, a sink out."""

    def __init__(
        self,
        config: SpeakerConfig,
        sink: Sink,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.sink = sink
        self.now = now
        self.topics = Topics(config.office)
        self.cache = ClipCache(config.cache_dir)
        self.volume = config.volume
        self.stats = SpeakerStats()
        self.connected = asyncio.Event()
        #: Calls not yet played, oldest first.
        self.pending: list[Call] = []
        self._wake = asyncio.Event()
        self._last_end: datetime | None = None
        #: Calls of the announcement being played whose words have not been reached yet.
        self._coming: list[Call] = []
        #: Call id -> later calls of its ticket it stands for (recalls made before it was heard).
        self._absorbed: dict[str, list[str]] = {}
        self._events: asyncio.Queue[bytes] = asyncio.Queue(MAX_UNSENT_EVENTS)
        self._fetching: dict[str, asyncio.Task[bool]] = {}
        self._http: aiohttp.ClientSession | None = None

    # -- the queue -----------------------------------------------------------------------
    def expired(self, call: Call, at: datetime | None = None) -> bool:
        """Whether `call` would start too late at `at` (now by default)."""
        return call.expires_at is not None and (at or self.now()) >= call.expires_at

    def admit(self, call: Call) -> None:
        """A new call into the queue: in place of its counter's unplayed one, else at the end."""
        if self.expired(call):
            self.miss(call, "expired")
            return
        coming = next((c for c in self._coming if (c.counter, c.ticket) == (call.counter, call.ticket)), None)
        if coming is not None and call.counter is not None:
            # a recall of a ticket about to be said in this very announcement: it is said once
            self.stats.replaced[call.call_id] = coming.call_id
            self._absorbed.setdefault(coming.call_id, []).append(call.call_id)
            return
        older = next(
            (i for i, c in enumerate(self.pending) if call.counter is not None and c.counter == call.counter),
            None,
        )
        if older is None:
            self.pending.append(call)
        else:
            old = self.pending[older]
            if old.ticket == call.ticket:  # a recall: one announcement, in the older one's place
                call = replace(call, replaces=(*old.replaces, old.call_id))
                for earlier in call.replaces:
                    self.stats.replaced[earlier] = call.call_id
            else:
                self.miss(old, "superseded")
            self.pending[older] = call
        self._wake.set()

    def next_turn(self) -> Turn | None:
        """Take what to say next from the queue; give up (and report) calls that cannot start
        in time even shortened."""
        while self.pending:
            now = self.now()
            for call in [c for c in self.pending if self.expired(c, now)]:
                self.pending.remove(call)
                self.miss(call, "late")
            if not self.pending:
                return None
            quiet = self._last_end is None or now - self._last_end >= timedelta(seconds=BACK_TO_BACK_S)
            turn = self.shape(self.pending[: max(1, self.config.max_join)], chime=quiet)
            rate = self.sink.rate
            late = [
                c
                for c, start in zip(turn.calls, turn.starts, strict=True)
                if self.expired(c, now + timedelta(seconds=start / rate))
            ]
            for call in late:
                self.pending.remove(call)
                self.miss(call, "late")
            if not late:
                for call in turn.calls:
                    self.pending.remove(call)
                return turn
        return None

    def shape(self, calls: list[Call], *, chime: bool) -> Turn:
        """The announcement for `calls`: one call alone as sent (less the chime when `chime`
        is False); several each said once, joined, with one chime at most."""
        if len(calls) == 1:
            had_chime, reps = split(calls[0].clips)
            keep = chime or not (had_chime and reps)  # not the calling grammar: as sent
            units = [calls[0].clips if keep else joined(reps, chime=False)]
        else:
            units = [reps[0] if reps else c.clips for c, (_, reps) in ((c, split(c.clips)) for c in calls)]
            if chime:
                units[0] = (CHIME, PAUSE_AFTER_CHIME, *units[0])
        parts: list[tuple[str, audio.Pcm]] = []
        firsts: list[int] = []
        for call, unit in zip(calls, units, strict=True):
            if parts:
                parts.append((PAUSE_BETWEEN_CALLS, self.cache.load(PAUSE_BETWEEN_CALLS)))
            firsts.append(len(parts))
            parts += self.load(unit, call)
        timeline: list[audio.Segment] = []
        end = sum(len(chunk) for _, chunk in audio.stream(parts, self.config.gap_ms, timeline))
        starts = tuple(timeline[f].start if f < len(timeline) else end for f in firsts)
        shortened = units != [c.clips for c in calls]
        pauses = [i for i, (clip_id, _) in enumerate(parts) if clip_id == PAUSE_BETWEEN_CALLS]
        cut = pauses[0] if len(calls) == 1 and pauses and len(split(calls[0].clips)[1]) > 1 else None
        return Turn(tuple(calls), tuple(parts), (0, *starts[1:]), shortened, cut)

    def load(self, clips: Iterable[str], call: Call) -> list[tuple[str, audio.Pcm]]:
        """The audio of `clips`; a clip the node cannot load is left out (and logged)."""
        parts: list[tuple[str, audio.Pcm]] = []
        for clip_id in clips:
            try:
                parts.append((clip_id, self.cache.load(clip_id)))
            except (OSError, audio.AudioError) as exc:
                log.warning("call %s: clip %s unavailable (%s)", call.call_id, clip_id, exc)
        return parts

    # -- playing -------------------------------------------------------------------------
    async def player(self) -> None:
        """Plays the queue one turn at a time: the only place that touches the sink."""
        while True:
            if not self.pending:
                self._wake.clear()
                await self._wake.wait()
            try:
                asked: set[str] = set()  # calls that came in while fetching need theirs too
                while todo := {c for call in self.pending for c in call.clips} - asked:
                    asked |= todo
                    await self.ensure_clips(todo)
                turn = self.next_turn()
                if turn is not None:
                    await self.play(turn)
            except Exception:
                log.exception("playing failed")
                await asyncio.sleep(0.1)  # never spin on a call that keeps failing

    async def play(self, turn: Turn) -> None:
        gain = volume_gain(self.volume)
        marks = list(zip(turn.starts, turn.calls, strict=True))

        self._coming = list(turn.calls)

        def said() -> Iterator[array[int]]:
            head = turn.parts if turn.cut is None else turn.parts[: turn.cut]
            yield from (c for _, c in audio.stream(head, self.config.gap_ms))
            if turn.cut is not None:
                if self.pending:  # others came in while it was said once: their turn now
                    self.stats.shortened += [
                        c.call_id for c in turn.calls if c.call_id not in self.stats.shortened
                    ]
                    return
                yield from (c for _, c in audio.stream(turn.parts[turn.cut :], self.config.gap_ms))

        def frames() -> Iterator[array[int]]:
            pos = 0
            for chunk in chunks(said()):
                while marks and marks[0][0] < pos + len(chunk):
                    self.heard(marks.pop(0)[1], turn)
                yield audio.scale(chunk, gain)
                pos += len(chunk)
            while marks:  # a call whose clips were all missing: said as far as it could be
                self.heard(marks.pop(0)[1], turn)

        log.info("playing %s: %s", turn.label, " / ".join(c.text for c in turn.calls))
        try:
            await self.sink.play(turn.label, frames())
        finally:
            self._coming = []
        self._last_end = self.now()

    def heard(self, call: Call, turn: Turn) -> None:
        """The first frame of `call`'s words has gone to the sink."""
        now = self.now()
        if call in self._coming:
            self._coming.remove(call)
        self.stats.played.append(call.call_id)
        self.stats.started[call.call_id] = now
        if turn.shortened:
            self.stats.shortened.append(call.call_id)
        event: SpeakerEvent = {"event_type": "call_played", **self._about(call), "at": now.isoformat()}
        if call.issued_at is not None:
            event["delay_s"] = round((now - call.issued_at).total_seconds(), 2)
        event["shortened"] = turn.shortened
        event["joined"] = len(turn.calls)
        stands_for = [*call.replaces, *self._absorbed.pop(call.call_id, ())]
        if stands_for:
            event["replaces"] = stands_for[-5:]
        self.report(event)

    def miss(self, call: Call, reason: MissReason) -> None:
        """Give up `call`: logged loudly and reported, never silent."""
        lang = self.config.lang
        log.warning(
            "%s",
            t(
                "voice.speaker_missed",
                lang,
                call=call.call_id,
                ticket=call.ticket or "-",
                counter=call.counter if call.counter is not None else "-",
                reason=t(f"voice.missed_{reason}", lang),
            ),
        )
        self.stats.missed.append((call.call_id, reason))
        event: SpeakerEvent = {
            "event_type": "call_missed",
            **self._about(call),
            "reason": reason,
            "at": self.now().isoformat(),
        }
        if call.replaces:  # the recalls it stood for went unheard with it
            event["replaces"] = list(call.replaces[-5:])
        self.report(event)

    @staticmethod
    def _about(call: Call) -> SpeakerEvent:
        return {"id": call.call_id, "ticket": call.ticket, "counter": call.counter}  # type: ignore[typeddict-item]

    def report(self, event: SpeakerEvent) -> None:
        """Queue an event for `device/{id}/event`; sent at once, or after a reconnect."""
        try:
            self._events.put_nowait(dumps(event))
        except asyncio.QueueFull:
            log.error("event queue full, not reported: %s", event)

    async def _send_events(self, client: aiomqtt.Client) -> None:
        topic = self.topics.device_event(self.config.speaker_id)
        while True:
            payload = await self._events.get()
            try:
                await client.publish(topic, payload, qos=1)
            except (aiomqtt.MqttError, asyncio.CancelledError):
                # not sent (the link dropped, or the node stops): first in line next time
                items = [payload]
                while not self._events.empty():
                    items.append(self._events.get_nowait())
                for item in items[:MAX_UNSENT_EVENTS]:
                    self._events.put_nowait(item)
                raise

    # -- clips from the hub --------------------------------------------------------------
    async def ensure_clips(self, clips: Iterable[str]) -> None:
        """Fetch every clip missing locally, each once even if several calls need it."""
        missing = sorted({c for c in clips if not self.cache.has(c)})
        if not missing:
            return
        tasks = []
        for clip_id in missing:
            task = self._fetching.get(clip_id)
            if task is None:
                task = asyncio.create_task(self._fetch(clip_id))
                self._fetching[clip_id] = task
                task.add_done_callback(self._fetch_done)
            tasks.append(task)
        await asyncio.gather(*tasks)

    def _fetch_done(self, task: asyncio.Task[bool]) -> None:
        self._fetching = {k: v for k, v in self._fetching.items() if v is not task}

    async def _fetch(self, clip_id: str) -> bool:
        if not self.config.hub_url:
            log.warning("clip %s missing and no hub URL to fetch it from", clip_id)
            return False
        url = f"{self.config.hub_url.rstrip('/')}/audio/clip/{clip_id}.wav"
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        try:
            async with self._http.get(url) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"HTTP {resp.status}")
                data = await resp.read()
            self.cache.store(clip_id, data)
        except (aiohttp.ClientError, TimeoutError, RuntimeError, audio.AudioError) as exc:
            self.stats.fetch_failed[clip_id] += 1
            log.warning("fetching clip %s from %s failed: %s", clip_id, url, exc)
            return False
        self.stats.fetched[clip_id] += 1
        log.info("fetched clip %s from the hub", clip_id)
        return True

    # -- MQTT ----------------------------------------------------------------------------
    def handle(self, topic: str, payload: bytes) -> None:
        """One incoming message: queue a call or change the volume."""
        if topic == self.topics.device_play(self.config.speaker_id):
            try:
                call = parse_play(payload, time.perf_counter())
            except (ValueError, UnicodeDecodeError) as exc:
                self.stats.rejected += 1
                log.warning("ignored play message: %s", exc)
                return
            self.admit(call)
        elif topic == self.topics.device_set(self.config.speaker_id):
            try:
                volume = decode_payload(payload)["volume"]
                if isinstance(volume, bool) or not isinstance(volume, int | float):
                    raise TypeError("volume must be a number")
            except (ContractError, KeyError, TypeError) as exc:
                log.warning("ignored set message: %s", exc)
                return
            self.volume = max(0, min(100, int(volume)))
            log.info("volume set to %d", self.volume)

    def _client(self) -> aiomqtt.Client:
        c = self.config
        account = MqttConfig(
            host=c.host,
            port=c.port,
            username=c.username,
            password=c.password,
            client_id=f"antrian-speaker-{c.speaker_id}",
            tls_ca=c.tls_ca,
        )
        availability = self.topics.device_availability(c.speaker_id)
        will = aiomqtt.Will(availability, b"offline", qos=1, retain=True)
        # clean_session=False: QoS 1 calls sent during a short drop still arrive
        return mqtt.client(account, will=will, keepalive=30, clean_session=False)

    def _log_started(self) -> None:
        c = self.config
        log.info("%s", t("voice.speaker_start", c.lang, speaker=c.speaker_id, host=c.host, port=c.port))

    async def run(self) -> None:
        """Connect, serve, reconnect forever. Cancel the task to stop (publishes `offline`)."""
        player = asyncio.create_task(self.player())
        try:
            name = f"speaker {self.config.speaker_id}"
            await mqtt.reconnecting(self._client, self._serve, name=name, on_down=self.connected.clear)
        finally:
            player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await player
            if self._http is not None:
                await self._http.close()

    async def _serve(self, client: aiomqtt.Client) -> None:
        c = self.config
        availability = self.topics.device_availability(c.speaker_id)
        sender: asyncio.Task[None] | None = None
        try:
            await client.subscribe(self.topics.device_play(c.speaker_id), 1)
            await client.subscribe(self.topics.device_set(c.speaker_id), 1)
            await client.publish(availability, b"online", qos=1, retain=True)
            sender = asyncio.create_task(self._send_events(client))
            self.connected.set()
            self._log_started()
            mine = {self.topics.device_play(c.speaker_id), self.topics.device_set(c.speaker_id)}
            async for message in client.messages:
                payload = message.payload
                if message.topic.value not in mine:
                    # a broker that hands over retained messages of topics never subscribed to
                    # (amqtt, the demo's embedded broker, does): not ours, not worth a warning
                    log.debug("not subscribed, ignored: %s", message.topic.value)
                elif message.retain:
                    # commands are never retained: one found on the broker would be replayed
                    # on every reconnect
                    log.warning("ignored retained message on %s", message.topic.value)
                elif isinstance(payload, bytes | bytearray):
                    self.handle(message.topic.value, bytes(payload))
        except asyncio.CancelledError:
            # leaving on purpose, also while still connecting: say goodbye, because a clean
            # disconnect does not send the will and `online` would stay retained
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                await asyncio.wait_for(client.publish(availability, b"offline", qos=1, retain=True), 2)
            raise
        finally:
            if sender is not None:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender
