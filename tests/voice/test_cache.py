"""Building `tts_cache/`: every clip, one format, a manifest, rebuilds, fallbacks, atomicity."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from antrian.announce import Wording
from antrian.voice import audio
from antrian.voice.cache import (
    MANIFEST,
    ClipCache,
    build_cache,
    default_engines,
    office_clip_texts,
    sha256,
)
from antrian.voice.engines import EspeakEngine

from .conftest import COUNTER_NAME, BuiltCache, read_samples


def test_build_makes_every_clip_in_one_format(built_cache: BuiltCache) -> None:
    texts = office_clip_texts(counter_names=[COUNTER_NAME])
    cache = ClipCache(built_cache.root)
    manifest = cache.manifest()
    assert set(manifest) == set(texts)
    assert not built_cache.report.failed
    assert built_cache.report.engines["espeak-ng"] == len(texts) - 1  # all but the chime
    assert manifest["chime"].engine == "chime"
    for clip_id, entry in manifest.items():
        path = cache.path(clip_id)
        samples, rate = read_samples(path)
        assert rate == audio.SAMPLE_RATE
        assert entry.sha256 == sha256(path.read_bytes())
        assert entry.text == texts[clip_id]
        assert 0.15 < len(samples) / rate < 3.0, clip_id
        # trimmed: sound within the first and the last 20 ms, not the engine's padding
        edge = rate // 50
        assert audio.dbfs(audio.rms(samples[:edge])) > audio.SILENCE_DBFS - 6, clip_id
        assert audio.dbfs(audio.rms(samples[-edge:])) > audio.SILENCE_DBFS - 6, clip_id
        # normalised: every spoken clip at the target RMS unless the peak limit held it back
        pcm = audio.Pcm(samples, rate)
        assert audio.peak_dbfs(pcm) <= audio.PEAK_LIMIT_DBFS + 0.1
        assert audio.TARGET_RMS_DBFS - 8 <= audio.rms_dbfs(pcm) <= audio.TARGET_RMS_DBFS + 0.2


def test_loudness_is_even_across_clips(built_cache: BuiltCache) -> None:
    levels = [e.rms_dbfs for e in ClipCache(built_cache.root).manifest().values()]
    assert max(levels) - min(levels) < 8.0
    assert sorted(levels)[len(levels) // 2] == pytest.approx(audio.TARGET_RMS_DBFS, abs=3)


def test_rebuild_redoes_only_what_changed(cache_copy: Path) -> None:
    texts = office_clip_texts(counter_names=[COUNTER_NAME])
    same = build_cache(cache_copy, texts, default_engines(cache_copy, ["espeak-ng"]))
    assert same.built == []
    assert len(same.reused) == len(texts)

    changed = office_clip_texts(
        Wording(prefix="Nomor antrian"), counter_names=[COUNTER_NAME, "loket prioritas"]
    )
    report = build_cache(cache_copy, changed, default_engines(cache_copy, ["espeak-ng"]))
    assert sorted(report.built) == ["name.loket_prioritas", "phrase.nomor_antrian"]
    assert report.removed == ["phrase.nomor_antrean"]
    assert not (cache_copy / "clips" / "phrase.nomor_antrean.wav").exists()

    # a clip damaged on disk no longer matches its hash: it is made again
    (cache_copy / "clips" / "letter.b.wav").write_bytes(b"broken")
    again = build_cache(cache_copy, changed, default_engines(cache_copy, ["espeak-ng"]))
    assert again.built == ["letter.b"]


def test_voice_pack_wins(cache_copy: Path) -> None:
    pack = cache_copy / "voice_pack"
    pack.mkdir()
    # an office recording: a different voice saying "dua", with silence around it and quiet
    raw = EspeakEngine(voice="id", speed=120).render("number.dua", "dua")
    pcm = audio.read_wav(raw)
    quiet = audio.Pcm(audio.scale(pcm.samples, 0.05), pcm.rate)
    padded = audio.Pcm(audio.silence(400, pcm.rate).samples + quiet.samples, pcm.rate)
    (pack / "number.dua.wav").write_bytes(audio.wav_bytes(padded))

    texts = office_clip_texts(counter_names=[COUNTER_NAME])
    report = build_cache(cache_copy, texts, default_engines(cache_copy))
    assert report.built == ["number.dua"]
    entry = ClipCache(cache_copy).manifest()["number.dua"]
    assert entry.engine == "voice_pack"
    built = audio.read_wav(cache_copy / "clips" / "number.dua.wav")
    assert built.rate == audio.SAMPLE_RATE
    assert built.duration < padded.duration - 0.3  # the 400 ms lead-in was trimmed
    assert audio.rms_dbfs(built) > audio.rms_dbfs(quiet) + 15  # brought up to the target


def test_gtts_unreachable_falls_back_with_one_message(tmp_path: Path) -> None:
    texts = dict(list(office_clip_texts().items())[:6])
    engines = default_engines(tmp_path, ["gtts", "espeak-ng"], gtts_tld="invalid")
    report = build_cache(tmp_path, texts, engines, lang="en")
    assert not report.failed
    assert len(report.messages) == 1  # one message for the whole build, not one per clip
    assert "gtts is unavailable" in report.messages[0]
    assert "espeak-ng" in report.messages[0]
    engines_used = {e.engine for e in ClipCache(tmp_path).manifest().values()}
    assert engines_used == {"chime", "espeak-ng"}


def test_cli_build_says_so_once_in_indonesian(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "antrian.voice.cli",
            "tts",
            "build",
            "--cache",
            str(tmp_path),
            "--gtts-tld",
            "invalid",
            "--counter-name",
            COUNTER_NAME,
            "--lang",
            "id",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("Mesin suara gtts tidak dapat dipakai") == 1
    assert "49/49" in proc.stderr  # the progress bar reached the end
    assert "49 klip" in proc.stdout
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["clips"]["name.loket_pengambilan_dokumen"]["engine"] == "espeak-ng"


class _Interrupted(Exception):
    pass


class _DiesAfter(EspeakEngine):
    """Real espeak-ng that is 'killed' (raises) on its n-th clip, like a power cut."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.left = n

    def render(self, clip_id: str, text: str) -> bytes:
        self.left -= 1
        if self.left < 0:
            raise _Interrupted
        return super().render(clip_id, text)


def test_interrupted_build_leaves_only_whole_clips(tmp_path: Path) -> None:
    texts = office_clip_texts()
    with pytest.raises(_Interrupted):
        build_cache(tmp_path, texts, [_DiesAfter(10), *default_engines(tmp_path, [])])
    cache = ClipCache(tmp_path)
    manifest = cache.manifest()
    files = sorted(p.name for p in (tmp_path / "clips").iterdir())
    assert files == sorted(f"{c}.wav" for c in manifest)  # no temp files, nothing unlisted
    assert len(manifest) == 11  # the chime and the 10 clips spoken before the cut
    for clip_id, entry in manifest.items():
        assert sha256(cache.path(clip_id).read_bytes()) == entry.sha256
    report = build_cache(tmp_path, texts, default_engines(tmp_path, ["espeak-ng"]))
    assert len(report.reused) == 11
    assert len(report.built) == len(texts) - 11


def test_stale_temp_files_are_cleaned(cache_copy: Path) -> None:
    stale = cache_copy / "clips" / ".letter.a.wav.abc.tmp"
    stale.write_bytes(b"half")
    build_cache(
        cache_copy,
        office_clip_texts(counter_names=[COUNTER_NAME]),
        default_engines(cache_copy, ["espeak-ng"]),
    )
    assert not stale.exists()


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox missing")
def test_sox_agrees_with_our_loudness(built_cache: BuiltCache) -> None:
    path = built_cache.root / "clips" / "phrase.silakan_menuju.wav"
    stats = subprocess.run(
        ["sox", str(path), "-n", "stats"], capture_output=True, text=True, check=True
    ).stderr
    line = next(x for x in stats.splitlines() if x.startswith("RMS lev dB"))
    sox_rms = float(line.split()[-1])
    ours = audio.rms_dbfs(audio.read_wav(path))
    assert math.isclose(sox_rms, ours, abs_tol=0.3)
