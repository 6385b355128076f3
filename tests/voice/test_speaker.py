"""The speaker node over a real Mosquitto, with a real hub HTTP server; only the loudspeaker
is replaced (by WAV files written at 20x real time, so playback still takes time)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt

from antrian.announce import build, joined, split
from antrian.contract import Topics, dumps
from antrian.speaker import SpeakerConfig, SpeakerNode, WavFileSink
from antrian.speaker.sinks import volume_gain
from antrian.voice import audio
from antrian.voice.cache import ClipCache
from tests.kit import Mosquitto

from .conftest import BuiltCache, hub_server, read_samples, wait_for

TOPICS = Topics("kantor")
SPEAKER = "speaker-1"


def play_message(call_id: str, letter: str, number: int, counter: int, ttl: float = 30) -> bytes:
    ann = build(letter, number, counter)
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "id": call_id,
        "ticket": f"{letter}-{number:03d}",
        "counter": counter,
        "text": ann.text,
        "clips": list(ann.clips),
        "issued_at": now.isoformat(),
        "expires_at": (now + timedelta(seconds=ttl)).isoformat(),
    }
    return dumps(body)


def _expected(cache_root: Path, letter: str, number: int, counter: int) -> audio.Pcm:
    return ClipCache(cache_root).render(build(letter, number, counter).clips)[0]


async def _start(node: SpeakerNode) -> asyncio.Task[None]:
    task = asyncio.create_task(node.run())
    await asyncio.wait_for(node.connected.wait(), 10)
    return task


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def test_calls_made_while_another_plays_wait_for_it_and_are_said_shorter(
    broker: Mosquitto, built_cache: BuiltCache, tmp_path: Path, out_dir: Path
) -> None:
    """Also: a clip missing locally is fetched from the hub once; volume comes from `set`."""
    local = tmp_path / "local_cache"  # empty: the node must fetch everything from the hub

    async def scenario() -> tuple[SpeakerNode, WavFileSink, Any]:
        async with hub_server(built_cache.root) as hub:
            sink = WavFileSink(out_dir, speed=10)  # slow enough for the next press to land mid-call
            config = SpeakerConfig(SPEAKER, local, port=broker.port, hub_url=hub.url, volume=100)
            node = SpeakerNode(config, sink)
            task = await _start(node)
            async with aiomqtt.Client("127.0.0.1", broker.port) as pub:
                await pub.publish(TOPICS.device_play(SPEAKER), play_message("c1", "A", 12, 3), 1)
                await wait_for(lambda: "c1" in node.stats.started)
                # counter 1 calls while counter 3's call is being said
                await pub.publish(TOPICS.device_play(SPEAKER), play_message("c2", "B", 5, 1), 1)
                await wait_for(lambda: len(node.stats.played) == 2)
                await pub.publish(TOPICS.device_set(SPEAKER), dumps({"volume": 50}), 1)
                await wait_for(lambda: node.volume == 50)
                await pub.publish(TOPICS.device_play(SPEAKER), play_message("c3", "B", 5, 1), 1)
                await wait_for(lambda: len(node.stats.played) == 3)
                await wait_for(lambda: len(sink.history) == 3 and sink.history[-1].ended > 0)
            await _stop(task)
            return node, sink, dict(hub.hits)

    node, sink, hits = asyncio.run(scenario())
    assert node.stats.played == ["c1", "c2", "c3"]
    first, second, third = sink.history
    # strictly one after the other: the second starts only after the first ended
    assert first.ended <= second.started
    assert second.ended <= third.started
    cache = ClipCache(built_cache.root)
    _, a012 = split(build("A", 12, 3).clips)
    _, b005 = split(build("B", 5, 1).clips)
    # the first call as the hub sent it, but said once: another call was waiting by the time
    # the first repetition ended, so the second was left out
    assert read_samples(first.path)[0] == cache.render(joined(a012[:1], chime=True))[0].samples
    # the second, said right after the first: no chime, and once (the third came in meanwhile)
    assert read_samples(second.path)[0] == cache.render(joined(b005[:1], chime=False))[0].samples
    # the third, alone, also right after: no chime, but said twice, as nothing waited (and at
    # volume 50, see below)
    twice = cache.render(joined(b005, chime=False))[0].samples
    assert read_samples(third.path)[0] == audio.scale(twice, volume_gain(50))
    assert node.stats.shortened == ["c1", "c2", "c3"]
    # each clip fetched from the hub exactly once, though both calls need "loket" ...
    spoken = {c for c in build("A", 12, 3).clips + build("B", 5, 1).clips if "pause" not in c}
    assert hits == {f"/audio/clip/{c}.wav": 1 for c in spoken}
    assert node.stats.fetched == dict.fromkeys(spoken, 1)
    assert sorted(p.stem for p in (local / "clips").iterdir()) == sorted(spoken)
    # volume 50 is a quarter of the amplitude: -12 dB, measured on the same words played
    said_once = read_samples(second.path)[0]
    louder = audio.rms_dbfs(audio.Pcm(said_once))  # type: ignore[arg-type]
    softer = audio.rms_dbfs(audio.Pcm(read_samples(third.path)[0][: len(said_once)]))  # type: ignore[arg-type]
    assert abs((softer - louder) - (-12.04)) < 0.3


def test_announcements_that_cannot_start_in_time_are_given_up_and_said_so(
    broker: Mosquitto, built_cache: BuiltCache, out_dir: Path
) -> None:
    reported: list[dict[str, Any]] = []

    async def scenario() -> SpeakerNode:
        sink = WavFileSink(out_dir, speed=20)
        node = SpeakerNode(SpeakerConfig(SPEAKER, built_cache.root, port=broker.port), sink)
        task = await _start(node)
        async with aiomqtt.Client("127.0.0.1", broker.port) as pub:
            await pub.subscribe(TOPICS.device_event(SPEAKER), 1)

            async def hear() -> None:
                async for m in pub.messages:
                    reported.append(json.loads(bytes(m.payload)))  # type: ignore[arg-type]

            listener = asyncio.create_task(hear())
            topic = TOPICS.device_play(SPEAKER)
            await pub.publish(topic, play_message("late", "A", 1, 1, ttl=-5), 1)
            # expires while the first call is still playing: dropped when its turn comes
            await pub.publish(topic, play_message("long", "C", 111, 2), 1)
            await pub.publish(topic, play_message("short-lived", "D", 7, 2, ttl=0.2), 1)
            await pub.publish(topic, play_message("fresh", "A", 2, 1), 1)
            await pub.publish(topic, b"not json", 1)
            await wait_for(lambda: len(node.stats.played) + len(node.stats.missed) == 4)
            await wait_for(lambda: len(reported) == 4)  # each one told on the speaker's event topic
            listener.cancel()
        await _stop(task)
        return node

    node = asyncio.run(scenario())
    assert node.stats.played == ["long", "fresh"]
    assert node.stats.missed == [("late", "expired"), ("short-lived", "late")]
    told = {e["id"]: (e["event_type"], e.get("reason"), e["ticket"], e["counter"]) for e in reported}
    assert told == {
        "late": ("call_missed", "expired", "A-001", 1),
        "long": ("call_played", None, "C-111", 2),
        "short-lived": ("call_missed", "late", "D-007", 2),
        "fresh": ("call_played", None, "A-002", 1),
    }
    assert node.stats.rejected == 1
    assert len(list(out_dir.glob("*.wav"))) == 2


def test_availability_birth_and_last_will(broker: Mosquitto, built_cache: BuiltCache, out_dir: Path) -> None:
    """The real `antrian speaker` command in its own process, killed without a goodbye."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "antrian.cli",
            "speaker",
            "--id",
            SPEAKER,
            "--port",
            str(broker.port),
            "--cache",
            str(built_cache.root),
            "--wav-dir",
            str(out_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    topic = TOPICS.device_availability(SPEAKER)

    async def retained() -> tuple[str, bool]:
        """What a device or dashboard connecting now is told."""
        async with aiomqtt.Client("127.0.0.1", broker.port) as late:
            await late.subscribe(topic, 1)
            msg = await asyncio.wait_for(anext(late.messages), 5)
            return bytes(msg.payload).decode(), msg.retain  # type: ignore[arg-type]

    async def scenario() -> list[tuple[str, bool]]:
        seen: list[str] = []
        found: list[tuple[str, bool]] = []
        async with aiomqtt.Client("127.0.0.1", broker.port) as sub:
            await sub.subscribe(topic, 1)

            async def next_state() -> str:
                msg = await asyncio.wait_for(anext(sub.messages), 15)
                return bytes(msg.payload).decode()  # type: ignore[arg-type]

            while not seen or seen[-1] != "online":
                seen.append(await next_state())
            found.append(await retained())
            await sub.publish(TOPICS.device_play(SPEAKER), play_message("c1", "A", 3, 2), 1)
            await wait_for(lambda: any(out_dir.glob("*-c1.wav")), 15)
            os.kill(proc.pid, signal.SIGKILL)  # no goodbye: only the last will can tell
            seen.append(await next_state())
            assert seen[-1] == "offline"
            found.append(await retained())
        return found

    try:
        states = asyncio.run(scenario())
    finally:
        proc.kill()
        proc.wait(10)
    assert states == [("online", True), ("offline", True)]
