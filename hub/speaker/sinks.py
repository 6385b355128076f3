"""Where a speaker node's sound goes: a *sink* takes an announcement as a stream of samples.

`AplaySink` pipes raw PCM into ALSA's `aplay` (on every Raspberry Pi OS); `WavFileSink` writes
what would have been played to WAV files (tests, benchmarks, the demo, a machine without a
sound card). The loudspeaker is the only part that is not real in tests.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
import wave
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from antrian.voice import audio

log = logging.getLogger(__name__)

#: Samples handed to the sink at a time (~46 ms at 22,050 Hz): small enough that the first
#: frame leaves at once and volume changes apply within a word.
CHUNK: Final = 1024


def volume_gain(volume: int) -> float:
    """0-100 -> a linear gain on a perceptual (squared) curve: 50 is about -12 dB."""
    v = max(0, min(100, volume)) / 100
    return v * v


def chunks(parts: Iterable[array[int]], size: int = CHUNK) -> Iterator[array[int]]:
    """Re-cut a stream of arrays into arrays of `size` samples (the last may be shorter)."""
    pending = array("h")
    for part in parts:
        pending.extend(part)
        while len(pending) >= size:
            yield pending[:size]
            del pending[:size]
    if pending:
        yield pending


@dataclass
class Playback:
    """One announcement as a sink played it; times are `time.perf_counter()` seconds."""

    label: str
    started: float
    first_frame: float = 0.0
    ended: float = 0.0
    frames: int = 0
    path: Path | None = None


class Sink(Protocol):
    """Where samples go. `play` returns when the last frame has been played."""

    rate: int

    async def play(self, label: str, frames: Iterator[array[int]]) -> Playback: ...


class WavFileSink:
    """Writes each announcement to `<folder>/<n>-<label>.wav` instead of a loudspeaker.

    `speed` > 0 paces the writing like a sound card at `speed` times real time, so an
    announcement *takes time* and overlapping would be visible in `history`; 0 writes as fast
    as possible. `on_first_frame` is called the moment the first frame is written.
    """

    def __init__(
        self,
        folder: Path,
        *,
        speed: float = 0.0,
        rate: int = audio.SAMPLE_RATE,
        on_first_frame: Callable[[Playback], None] | None = None,
    ) -> None:
        self.folder = folder
        self.speed = speed
        self.rate = rate
        self.on_first_frame = on_first_frame
        self.history: list[Playback] = []
        folder.mkdir(parents=True, exist_ok=True)

    async def play(self, label: str, frames: Iterator[array[int]]) -> Playback:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)[:60]
        path = self.folder / f"{len(self.history) + 1:04d}-{safe}.wav"
        record = Playback(label, time.perf_counter(), path=path)
        self.history.append(record)
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.rate)
            for chunk in frames:
                w.writeframes(chunk.tobytes())
                if not record.frames:
                    record.first_frame = time.perf_counter()
                    if self.on_first_frame:
                        self.on_first_frame(record)
                record.frames += len(chunk)
                if self.speed > 0:
                    # against the start, not chunk by chunk: each sleep overshoots a little,
                    # and at 40x those overshoots would add up to a slower "sound card"
                    due = record.first_frame + record.frames / self.rate / self.speed
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                else:
                    await asyncio.sleep(0)
        record.ended = time.perf_counter()
        return record


class AplaySink:
    """ALSA through `aplay` reading raw PCM on stdin: present on every Raspberry Pi OS."""

    def __init__(self, device: str | None = None, rate: int = audio.SAMPLE_RATE) -> None:
        binary = shutil.which("aplay")
        if binary is None:
            raise RuntimeError("aplay not found (apt-get install alsa-utils)")
        self.binary = binary
        self.device = device
        self.rate = rate

    async def play(self, label: str, frames: Iterator[array[int]]) -> Playback:
        cmd = [self.binary, "-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", str(self.rate)]
        if self.device:
            cmd += ["-D", self.device]
        record = Playback(label, time.perf_counter())
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        assert proc.stdin is not None
        try:
            for chunk in frames:
                proc.stdin.write(chunk.tobytes())
                await proc.stdin.drain()  # aplay's pipe fills: we move at playback speed
                if not record.frames:
                    record.first_frame = time.perf_counter()
                record.frames += len(chunk)
            proc.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            log.error("aplay stopped early")
        _, err = await proc.communicate()
        if proc.returncode:
            log.error("aplay exited %s: %s", proc.returncode, err.decode(errors="replace")[:300])
        record.ended = time.perf_counter()
        return record
