"""The speaker node: a Raspberry Pi (or the office PC) that plays calls in the waiting room.

It subscribes to `{base}/device/{id}/play` and plays each announcement from its local clip
cache, strictly one after another: two counters calling at the same moment are queued, never
mixed. An announcement whose `expires_at` has passed (the node was offline, or the queue was
long) is dropped, because a call heard a minute late sends people to the wrong counter. A clip
the node lacks is fetched from the hub over HTTP once and kept. Availability is published as a
retained `online`, with `offline` as the last will. `{base}/device/{id}/set` takes
`{"volume": 0-100}`.

Sound leaves through a *sink* (`antrian.speaker.sinks`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import aiohttp
import aiomqtt

from antrian import mqtt
from antrian.config import MqttConfig
from antrian.contract import (
    MAX_PAYLOAD_DEPTH,
    PLAY_EXPIRY_S,
    ContractError,
    Topics,
    decode_payload,
    json_depth,
)
from antrian.i18n import t
from antrian.speaker.sinks import Sink, chunks, volume_gain
from antrian.voice import audio
from antrian.voice.cache import ClipCache, valid_clip_id

log = logging.getLogger(__name__)

#: A play message is larger than the 1 KiB device limit when a call is repeated 3 times.
MAX_PLAY_BYTES: Final = 8192


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


@dataclass(frozen=True)
class Call:
    """One announcement waiting in the node's queue."""

    call_id: str
    clips: tuple[str, ...]
    text: str
    expires_at: datetime | None
    received: float


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
    expires = parse_time(body.get("expires_at"))
    if expires is None:
        issued = parse_time(body.get("issued_at"))
        expires = issued + timedelta(seconds=PLAY_EXPIRY_S) if issued else None
    return Call(
        call_id=str(body.get("id") or body.get("ticket") or "call")[:40],
        clips=tuple(clips),
        text=str(body.get("text", ""))[:300],
        expires_at=expires,
        received=received,
    )


@dataclass
class SpeakerStats:
    """What the node did, for logs, tests and the benchmark."""

    played: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
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
        self.queue: asyncio.Queue[Call] = asyncio.Queue()
        self._fetching: dict[str, asyncio.Task[bool]] = {}
        self._http: aiohttp.ClientSession | None = None

    # -- playing -------------------------------------------------------------------------
    def expired(self, call: Call) -> bool:
        return call.expires_at is not None and self.now() >= call.expires_at

    async def player(self) -> None:
        """Plays queued calls one at a time: the only place that touches the sink."""
        while True:
            call = await self.queue.get()
            try:
                await self.play(call)
            except Exception:
                log.exception("playing %s failed", call.call_id)
            finally:
                self.queue.task_done()

    async def play(self, call: Call) -> None:
        if self.expired(call):
            self._drop(call)
            return
        await self.ensure_clips(call.clips)
        if self.expired(call):  # fetching took too long
            self._drop(call)
            return
        parts: list[tuple[str, audio.Pcm]] = []
        for clip_id in call.clips:
            try:
                parts.append((clip_id, self.cache.load(clip_id)))
            except (OSError, audio.AudioError) as exc:
                log.warning("call %s: clip %s unavailable (%s)", call.call_id, clip_id, exc)
        gain = volume_gain(self.volume)
        stream = (c for _, c in audio.stream(parts, self.config.gap_ms))
        frames = (audio.scale(c, gain) for c in chunks(stream))
        log.info("playing %s: %s", call.call_id, call.text)
        await self.sink.play(call.call_id, frames)
        self.stats.played.append(call.call_id)

    def _drop(self, call: Call) -> None:
        log.warning("%s", t("voice.speaker_expired", self.config.lang, call=call.call_id))
        self.stats.dropped.append(call.call_id)

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
            if self.expired(call):
                self._drop(call)
                return
            self.queue.put_nowait(call)
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
        try:
            await client.subscribe(self.topics.device_play(c.speaker_id), 1)
            await client.subscribe(self.topics.device_set(c.speaker_id), 1)
            await client.publish(availability, b"online", qos=1, retain=True)
            self.connected.set()
            self._log_started()
            async for message in client.messages:
                payload = message.payload
                if message.retain:
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
