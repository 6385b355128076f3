"""The speaker's queue under load: the real hub (in this process) and the real speaker node on
a real Mosquitto, both on one clock that runs faster than real time, so that a burst of calls
that lasts a minute in the waiting room takes three seconds here. Only the loudspeaker is
replaced, by WAV files paced like a sound card at the same speed. The clips are the office's
own (`tts_cache/`): an announcement lasts here what it lasts in the waiting room.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from array import array
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from antrian.speaker import SpeakerConfig, SpeakerNode, WavFileSink
from antrian.voice import audio
from antrian.voice.cache import ClipCache
from tests.kit import MORNING, Mosquitto

ROOT = Path(__file__).resolve().parents[2]
#: How much faster than real time the hub, the node and the "sound card" run.
SPEED = 20.0
SPEAKER = "speaker-1"


class ScaledClock:
    """An office morning that runs `speed` times faster than real time: hub and node share it."""

    def __init__(self, speed: float = SPEED) -> None:
        self.speed = speed
        self.p0 = time.perf_counter()

    def __call__(self) -> datetime:
        return MORNING + timedelta(seconds=(time.perf_counter() - self.p0) * self.speed)


class NodeThread:
    """The speaker node on its own thread and event loop, as if it were its own process."""

    def __init__(self, broker: Mosquitto, cache: Path, out: Path, clock: ScaledClock) -> None:
        self.sink = WavFileSink(out, speed=clock.speed)
        config = SpeakerConfig(SPEAKER, cache, port=broker.port, volume=100)
        self.node = SpeakerNode(config, self.sink, now=clock)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> NodeThread:
        self.thread.start()
        self.task = asyncio.run_coroutine_threadsafe(self.node.run(), self.loop)
        deadline = time.monotonic() + 10
        while not self.node.connected.is_set():
            assert time.monotonic() < deadline, "the speaker node did not connect"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.task.cancel()
        time.sleep(0.2)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def idle(self) -> bool:
        """Nothing queued and nothing playing."""
        return not self.node.pending and all(p.ended for p in self.sink.history)


@pytest.fixture
def office_cache(tmp_path: Path) -> Path:
    """A copy of the office's clip cache (the node may add to it)."""
    dest = tmp_path / "tts_cache"
    shutil.copytree(ROOT / "tts_cache", dest)
    return dest


def samples_of(path: Path) -> array[int]:
    return audio.read_wav(path).samples


def contains(haystack: array[int], needle: array[int]) -> bool:
    """Whether `needle` occurs sample for sample in `haystack`."""
    hay, pin = haystack.tobytes(), needle.tobytes()
    at = hay.find(pin)
    while at != -1 and at % 2:
        at = hay.find(pin, at + 1)
    return at != -1


def rendered(cache: Path, clips: tuple[str, ...]) -> array[int]:
    return ClipCache(cache).render(clips)[0].samples


def until(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """Poll `predicate` until true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


@pytest.fixture
def played(tmp_path: Path) -> Path:
    """Where the speaker's WAV sink writes each announcement."""
    d = tmp_path / "played"
    d.mkdir()
    return d
