"""Plain PCM audio with the standard library: read, write, trim, normalise, join.

Every clip in the cache is mono, signed 16-bit, `SAMPLE_RATE` Hz, trimmed of silence and
brought to one loudness. That is what lets a call be *joined* from short clips at call time:
no resampling, no level jumps between a letter recorded by a person and a number spoken by
espeak-ng, and gaps that are exactly the length the grammar asks for. Pure Python (no numpy,
no audioop, which Python 3.13 removed) so the speaker runs on a bare Raspberry Pi OS.
"""

from __future__ import annotations

import io
import math
import wave
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

#: One rate for every clip: espeak-ng's native rate, plenty for speech, cheap on a Pi.
SAMPLE_RATE: Final = 22050
#: Loudness every clip is brought to (RMS, dBFS), limited by `PEAK_LIMIT_DBFS`.
TARGET_RMS_DBFS: Final = -18.0
PEAK_LIMIT_DBFS: Final = -1.0
#: A 10 ms window quieter than this (RMS, dBFS) counts as silence when trimming.
SILENCE_DBFS: Final = -45.0
#: Silence kept at each end of a trimmed clip, so consonants are not clipped.
TRIM_PAD_MS: Final = 10
#: Default gap between two spoken clips of a call (the grammar allows 80-150 ms).
DEFAULT_GAP_MS: Final = 100
FULL_SCALE: Final = 32767


class AudioError(ValueError):
    """Bytes that are not a WAV this module can read."""


@dataclass
class Pcm:
    """Mono signed 16-bit samples at `rate` Hz."""

    samples: array[int]
    rate: int = SAMPLE_RATE

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.rate


def silence(ms: int, rate: int = SAMPLE_RATE) -> Pcm:
    """`ms` milliseconds of digital silence."""
    return Pcm(array("h", bytes(2 * (rate * ms // 1000))), rate)


def read_wav(source: bytes | Path) -> Pcm:
    """A WAV file (8/16-bit, mono or stereo, any rate) as mono 16-bit PCM at its own rate."""
    data = source.read_bytes() if isinstance(source, Path) else source
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioError(f"not a PCM WAV file: {exc}") from None
    if width == 2:
        samples = array("h")
        samples.frombytes(frames[: len(frames) // 2 * 2])
    elif width == 1:  # unsigned 8-bit
        samples = array("h", ((b - 128) << 8 for b in frames))
    else:
        raise AudioError(f"unsupported sample width: {8 * width} bit (use 16-bit PCM)")
    if channels > 1:
        samples = array(
            "h",
            (sum(samples[i : i + channels]) // channels for i in range(0, len(samples), channels)),
        )
    return Pcm(samples, rate)


def wav_bytes(pcm: Pcm) -> bytes:
    """The PCM as a complete WAV file in memory."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(pcm.rate)
        w.writeframes(pcm.samples.tobytes())
    return out.getvalue()


def resample(pcm: Pcm, rate: int = SAMPLE_RATE) -> Pcm:
    """Linear-interpolation resampling: good enough for speech between 16 and 48 kHz."""
    if pcm.rate == rate or not pcm.samples:
        return Pcm(pcm.samples, rate)
    src = pcm.samples
    n_out = max(1, round(len(src) * rate / pcm.rate))
    step = pcm.rate / rate
    last = len(src) - 1
    out = array("h", bytes(2 * n_out))
    for i in range(n_out):
        pos = i * step
        j = int(pos)
        if j >= last:
            out[i] = src[last]
            continue
        frac = pos - j
        out[i] = int(src[j] + (src[j + 1] - src[j]) * frac)
    return Pcm(out, rate)


def dbfs(value: float) -> float:
    """A linear sample magnitude as dBFS; -inf for silence."""
    return 20 * math.log10(value / FULL_SCALE) if value > 0 else -math.inf


def rms(samples: Iterable[int]) -> float:
    """Root mean square of samples (linear, 0..32767)."""
    total = 0
    count = 0
    for s in samples:
        total += s * s
        count += 1
    return math.sqrt(total / count) if count else 0.0


def rms_dbfs(pcm: Pcm) -> float:
    """Loudness of the whole clip as RMS dBFS."""
    return dbfs(rms(pcm.samples))


def peak_dbfs(pcm: Pcm) -> float:
    """Highest absolute sample as dBFS."""
    return dbfs(max((abs(s) for s in pcm.samples), default=0))


def trim_silence(pcm: Pcm, threshold_dbfs: float = SILENCE_DBFS) -> Pcm:
    """Cut leading and trailing silence (10 ms windows below `threshold_dbfs`).

    Engines pad their output with up to half a second of silence; left in, the gaps of a
    joined call would be whatever the engine chose instead of the 80-150 ms the grammar asks.
    """
    win = max(1, pcm.rate // 100)
    limit = FULL_SCALE * 10 ** (threshold_dbfs / 20)
    loud = [i for i in range(0, len(pcm.samples), win) if rms(pcm.samples[i : i + win]) >= limit]
    if not loud:
        return Pcm(array("h"), pcm.rate)
    pad = pcm.rate * TRIM_PAD_MS // 1000
    start = max(0, loud[0] - pad)
    end = min(len(pcm.samples), loud[-1] + win + pad)
    return Pcm(pcm.samples[start:end], pcm.rate)


def scale(samples: array[int], gain: float) -> array[int]:
    """Samples multiplied by `gain`, clipped to 16 bits."""
    if gain == 1.0:
        return samples
    return array("h", (max(-32768, min(FULL_SCALE, int(s * gain))) for s in samples))


def normalise(
    pcm: Pcm, target_rms_dbfs: float = TARGET_RMS_DBFS, peak_limit_dbfs: float = PEAK_LIMIT_DBFS
) -> Pcm:
    """Bring the clip to `target_rms_dbfs`, never letting a peak pass `peak_limit_dbfs`.

    RMS, not peak, is what the ear compares: a letter and a number must sound equally loud.
    """
    level = rms(pcm.samples)
    peak = max((abs(s) for s in pcm.samples), default=0)
    if level == 0 or peak == 0:
        return pcm
    gain = FULL_SCALE * 10 ** (target_rms_dbfs / 20) / level
    gain = min(gain, FULL_SCALE * 10 ** (peak_limit_dbfs / 20) / peak)
    return Pcm(scale(pcm.samples, gain), pcm.rate)


def prepare_clip(raw_wav: bytes) -> Pcm:
    """What every clip goes through before entering the cache: one rate, trimmed, normalised."""
    pcm = resample(read_wav(raw_wav), SAMPLE_RATE)
    trimmed = trim_silence(pcm)
    if not trimmed.samples:
        raise AudioError("the clip is silent")
    return normalise(trimmed)


def chime(rate: int = SAMPLE_RATE) -> Pcm:
    """A two-note "ding-dong" (E5 then C5), the attention sound before every call.

    Synthesised so that an office without a recorded chime still has one that is offline,
    free of licences and identical on every machine.
    """
    out = array("h")
    for freq, ms in ((659.25, 450), (523.25, 700)):
        n = rate * ms // 1000
        for i in range(n):
            t = i / rate
            env = math.exp(-3.5 * t) * min(1.0, i / (0.005 * rate))
            tone = math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t)
            out.append(int(0.5 * FULL_SCALE * env * tone / 1.3))
    return normalise(Pcm(out, rate))


@dataclass(frozen=True)
class Segment:
    """Where one clip sits in a joined announcement (sample offsets, end exclusive)."""

    clip_id: str
    start: int
    end: int


def pause_ms(clip_id: str) -> int | None:
    """Length of a `pause.<ms>` clip id, or None for a spoken clip."""
    if clip_id.startswith("pause."):
        try:
            return max(0, int(clip_id.split(".", 1)[1]))
        except ValueError:
            return None
    return None


def join(parts: Iterable[tuple[str, Pcm]], gap_ms: int = DEFAULT_GAP_MS) -> tuple[Pcm, list[Segment]]:
    """Clips -> one stream: `gap_ms` of silence between spoken clips, pauses as given.

    Returns the audio and a timeline of where each clip (pauses included) landed, which the
    tests use to check the order sample by sample.
    """
    out = array("h")
    timeline: list[Segment] = []
    for _clip_id, chunk in stream(parts, gap_ms, timeline):
        out.extend(chunk)
    return Pcm(out), timeline


def stream(
    parts: Iterable[tuple[str, Pcm]],
    gap_ms: int = DEFAULT_GAP_MS,
    timeline: list[Segment] | None = None,
) -> Iterator[tuple[str, array[int]]]:
    """Like `join`, but yields chunks as it goes, so playback starts before the end is built."""
    gap = silence(gap_ms).samples
    pos = 0
    prev_spoken = False
    for clip_id, pcm in parts:
        if pause_ms(clip_id) is not None:
            pcm = silence(pause_ms(clip_id) or 0)
            prev_spoken = False
        else:
            if prev_spoken and gap:
                yield "gap", gap
                pos += len(gap)
            prev_spoken = True
        if timeline is not None:
            timeline.append(Segment(clip_id, pos, pos + len(pcm.samples)))
        yield clip_id, pcm.samples
        pos += len(pcm.samples)
