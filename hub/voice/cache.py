"""The clip cache (`tts_cache/`): build it once, read it at every call.

Layout of a cache folder:

    manifest.json        clip id -> text, engine, engine identity, key, sha256, duration
    clips/<id>.wav       one processed clip each (mono, 16-bit, SAMPLE_RATE, trimmed, normalised)
    voice_pack/<id>.wav  the office's own recordings (optional; they win over any engine)

A clip's *key* hashes its words, the exact engine/voice and the processing settings. A
rebuild renders a clip again only when that key changed or its file no longer matches the
hash in the manifest, so re-running the build after adding one counter name takes a second.

Never half-written: every file is written to a temporary name in the same folder and renamed
over the old one (atomic on POSIX), and the manifest is rewritten the same way after every
clip. A build killed half-way leaves whole clips and a manifest that describes them; the
next build simply carries on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from antrian.announce import CHIME, Wording, clip_texts
from antrian.i18n import t
from antrian.voice import audio
from antrian.voice.engines import (
    ChimeEngine,
    Engine,
    EngineError,
    EngineUnavailable,
    EspeakEngine,
    GttsEngine,
    VoicePackEngine,
)

log = logging.getLogger(__name__)

CLIPS_DIR: Final = "clips"
MANIFEST: Final = "manifest.json"
VOICE_PACK_DIR: Final = "voice_pack"
#: Bump when trimming/normalising changes, so every clip is processed again.
PROCESSING: Final = (
    f"v1:{audio.SAMPLE_RATE}:{audio.TARGET_RMS_DBFS}:{audio.PEAK_LIMIT_DBFS}:{audio.SILENCE_DBFS}"
)
_CLIP_ID: Final = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)?$")


def valid_clip_id(clip_id: str) -> bool:
    """A clip id that is safe as a file name (`number.dua`, `name.loket_dokumen`)."""
    return bool(_CLIP_ID.match(clip_id)) and len(clip_id) <= 80


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256(data: bytes) -> str:
    """Hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ManifestEntry:
    """What the manifest remembers about one clip."""

    text: str
    engine: str
    identity: str
    key: str
    sha256: str
    duration_s: float
    rms_dbfs: float


class ClipCache:
    """Read side of a cache folder: clip files, decoded once and kept in memory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._pcm: dict[str, tuple[int, audio.Pcm]] = {}

    @property
    def clips_dir(self) -> Path:
        return self.root / CLIPS_DIR

    @property
    def voice_pack_dir(self) -> Path:
        return self.root / VOICE_PACK_DIR

    def path(self, clip_id: str) -> Path:
        if not valid_clip_id(clip_id):
            raise ValueError(f"invalid clip id: {clip_id[:40]!r}")
        return self.clips_dir / f"{clip_id}.wav"

    def has(self, clip_id: str) -> bool:
        return audio.pause_ms(clip_id) is not None or (
            valid_clip_id(clip_id) and self.path(clip_id).is_file()
        )

    def load(self, clip_id: str) -> audio.Pcm:
        """The clip's PCM (pauses are generated). Raises FileNotFoundError if absent."""
        ms = audio.pause_ms(clip_id)
        if ms is not None:
            return audio.silence(ms)
        path = self.path(clip_id)
        mtime = path.stat().st_mtime_ns  # a rebuild replaces files: never serve a stale copy
        known = self._pcm.get(clip_id)
        if known is None or known[0] != mtime:
            known = (mtime, audio.resample(audio.read_wav(path)))
            self._pcm[clip_id] = known
        return known[1]

    def store(self, clip_id: str, wav: bytes) -> None:
        """Put a ready clip (e.g. fetched from the hub) into the cache, atomically."""
        audio.read_wav(wav)  # refuse anything that is not a WAV
        atomic_write(self.path(clip_id), wav)

    def forget(self, clip_id: str) -> None:
        """Drop the in-memory copy (after the file changed on disk)."""
        self._pcm.pop(clip_id, None)

    def manifest(self) -> dict[str, ManifestEntry]:
        """The manifest, or an empty one where there is none or it is unreadable."""
        try:
            raw = json.loads((self.root / MANIFEST).read_text(encoding="utf-8"))
            return {k: ManifestEntry(**v) for k, v in raw.get("clips", {}).items()}
        except (OSError, ValueError, TypeError):
            return {}

    def write_manifest(self, entries: Mapping[str, ManifestEntry]) -> None:
        body: dict[str, Any] = {
            "format": 1,
            "sample_rate": audio.SAMPLE_RATE,
            "processing": PROCESSING,
            "clips": {k: asdict(entries[k]) for k in sorted(entries)},
        }
        text = json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        atomic_write(self.root / MANIFEST, text.encode("utf-8"))

    def render(
        self, clips: Sequence[str], gap_ms: int = audio.DEFAULT_GAP_MS
    ) -> tuple[audio.Pcm, list[audio.Segment]]:
        """An announcement's clip ids -> one joined stream and its timeline."""
        return audio.join(((c, self.load(c)) for c in clips), gap_ms)


def office_clip_texts(
    wording: Wording = Wording(),  # noqa: B008 - frozen dataclass
    counter_names: Sequence[str] = (),
) -> dict[str, str]:
    """Every clip an office can need (the grammar's list plus the chime), id -> words."""
    return {CHIME: "(chime)", **clip_texts(wording, list(counter_names))}


def default_engines(
    root: Path,
    names: Sequence[str] = ("voice_pack", "gtts", "espeak-ng"),
    *,
    gtts_tld: str = "co.id",
    espeak_voice: str | None = None,
) -> list[Engine]:
    """The engines to try, in order. The built-in chime always comes last as a fallback."""
    engines: list[Engine] = []
    for name in names:
        if name == "voice_pack":
            engines.append(VoicePackEngine(root / VOICE_PACK_DIR))
        elif name == "gtts":
            engines.append(GttsEngine(tld=gtts_tld))
        elif name in ("espeak", "espeak-ng"):
            engines.append(EspeakEngine(espeak_voice))
        else:
            raise ValueError(f"unknown voice engine: {name!r} (voice_pack, gtts, espeak-ng)")
    engines.append(ChimeEngine())
    return engines


@dataclass
class BuildReport:
    """What a build did. `messages` are for people, already in their language; the builder
    only logs them at debug level so the caller shows each exactly once."""

    root: Path
    built: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    engines: Counter[str] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return len(self.built) + len(self.reused)


#: Called after each clip: (index from 1, total, clip id, engine name or "").
ProgressFn = Callable[[int, int, str, str], None]


def _key(text: str, identity: str) -> str:
    return sha256(f"{text}\0{identity}\0{PROCESSING}".encode())[:24]


def build_cache(
    root: Path,
    texts: Mapping[str, str],
    engines: Sequence[Engine],
    *,
    lang: str = "id",
    progress: ProgressFn | None = None,
) -> BuildReport:
    """Fill `root` with every clip of `texts`, each from the first engine that can make it.

    An engine that raises `EngineUnavailable` is reported once and skipped for the rest of
    the build; the clip goes to the next engine. Clips no longer needed are removed.
    """
    started = time.perf_counter()
    cache = ClipCache(root)
    cache.clips_dir.mkdir(parents=True, exist_ok=True)
    for stale in cache.clips_dir.glob(".*.tmp"):  # left by a build that was killed
        stale.unlink(missing_ok=True)
    old = cache.manifest()
    entries: dict[str, ManifestEntry] = {k: v for k, v in old.items() if k in texts}
    report = BuildReport(root)
    dead: set[str] = set()

    for index, (clip_id, text) in enumerate(texts.items(), start=1):
        used = _build_one(cache, clip_id, text, engines, entries, old.get(clip_id), dead, report, lang)
        if used:
            report.engines[used] += 1
        if progress:
            progress(index, len(texts), clip_id, used)

    for clip_id in sorted(set(old) - set(texts)):
        path = cache.clips_dir / f"{clip_id}.wav"
        if valid_clip_id(clip_id):
            path.unlink(missing_ok=True)
        report.removed.append(clip_id)
    cache.write_manifest(entries)
    report.seconds = time.perf_counter() - started
    return report


def _build_one(
    cache: ClipCache,
    clip_id: str,
    text: str,
    engines: Sequence[Engine],
    entries: dict[str, ManifestEntry],
    previous: ManifestEntry | None,
    dead: set[str],
    report: BuildReport,
    lang: str,
) -> str:
    """Make or keep one clip; returns the engine name used, "" if none could."""
    live = [e for e in engines if e.name not in dead]
    for pos, engine in enumerate(live):
        if not engine.has(clip_id):
            continue
        identity = engine.identity(clip_id)
        key = _key(text, identity)
        path = cache.path(clip_id)
        if (
            previous
            and previous.key == key
            and path.is_file()
            and sha256(path.read_bytes()) == previous.sha256
        ):
            report.reused.append(clip_id)
            return engine.name
        try:
            pcm = audio.prepare_clip(engine.render(clip_id, text))
        except EngineUnavailable as exc:
            dead.add(engine.name)
            rest = [e.name for e in live[pos + 1 :] if e.name != "chime"]
            fallback = ", ".join(rest) or t("voice.none", lang)
            msg = t("voice.engine_unavailable", lang, engine=engine.name, reason=exc, fallback=fallback)
            log.debug("%s", msg)
            report.messages.append(msg)
            continue
        except (EngineError, audio.AudioError) as exc:
            msg = t("voice.clip_failed", lang, clip=clip_id, engine=engine.name, reason=exc)
            log.debug("%s", msg)
            report.messages.append(msg)
            continue
        data = audio.wav_bytes(pcm)
        atomic_write(path, data)
        cache.forget(clip_id)
        entries[clip_id] = ManifestEntry(
            text=text,
            engine=engine.name,
            identity=identity,
            key=key,
            sha256=sha256(data),
            duration_s=round(pcm.duration, 3),
            rms_dbfs=round(audio.rms_dbfs(pcm), 2),
        )
        cache.write_manifest(entries)
        report.built.append(clip_id)
        return engine.name
    msg = t("voice.clip_missing", lang, clip=clip_id)
    log.debug("%s", msg)
    report.messages.append(msg)
    report.failed.append(clip_id)
    return ""
