"""The joined announcement: "A-012 -> loket 3" as a real WAV, measured sample by sample."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
from pathlib import Path

import aiohttp

from antrian.announce import Wording, build, joined, split
from antrian.voice import audio
from antrian.voice.cache import ClipCache

from .conftest import COUNTER_NAME, BuiltCache, hub_server, read_samples, silent_runs

A012 = build("A", 12, 3)


def _check_announcement(path: Path, cache: ClipCache, clips: tuple[str, ...]) -> None:
    """Clip order, gaps, pauses, duration and loudness of a WAV file against the cache."""
    samples, rate = read_samples(path)
    assert rate == audio.SAMPLE_RATE
    # the expected timeline, then every spoken clip found at its place, sample for sample
    _, timeline = cache.render(clips)
    assert [s.clip_id for s in timeline] == list(clips)
    assert len(samples) == timeline[-1].end
    for seg in timeline:
        if seg.clip_id.startswith("pause."):
            assert set(samples[seg.start : seg.end]) == {0}
        else:
            assert samples[seg.start : seg.end] == cache.load(seg.clip_id).samples, seg.clip_id
    # gaps between spoken clips: 80-150 ms of silence
    for a, b in itertools.pairwise(timeline):
        if not a.clip_id.startswith("pause.") and not b.clip_id.startswith("pause."):
            gap_ms = (b.start - a.end) * 1000 / rate
            assert 80 <= gap_ms <= 150
            assert set(samples[a.end : b.start]) == {0}
    # measured from the audio alone: one 300 ms pause after the chime, one 800 ms between calls
    runs = silent_runs(samples, rate, min_ms=250)
    assert sum(1 for r in runs if 290 <= r <= 360) == 1
    assert sum(1 for r in runs if 790 <= r <= 860) == 1
    pcm = audio.Pcm(samples, rate)
    assert -26 < audio.rms_dbfs(pcm) < -14
    assert audio.peak_dbfs(pcm) <= audio.PEAK_LIMIT_DBFS + 0.1


def test_a012_to_loket_3_via_cli(built_cache: BuiltCache, tmp_path: Path) -> None:
    out = tmp_path / "a012.wav"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "antrian.voice.cli",
            "tts",
            "say",
            "A-012",
            "3",
            "--cache",
            str(built_cache.root),
            "-o",
            str(out),
            "--lang",
            "en",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Nomor antrean A dua belas, silakan menuju loket tiga" in proc.stdout
    cache = ClipCache(built_cache.root)
    _check_announcement(out, cache, A012.clips)
    assert A012.clips[:4] == ("chime", "pause.300", "phrase.nomor_antrean", "letter.a")
    # plausible length: chime + two calls of ~3 s each, not one and not three
    speech = sum(cache.load(c).duration for c in A012.clips if not c.startswith("pause."))
    duration = len(read_samples(out)[0]) / audio.SAMPLE_RATE
    assert 6.0 < duration < 16.0
    assert duration > speech + 1.1  # the 300 + 800 ms pauses and the gaps are there


def test_digit_mode_and_counter_name(built_cache: BuiltCache, tmp_path: Path) -> None:
    ann = build("A", 12, 4, counter_name=COUNTER_NAME, wording=Wording(digit_mode=True, repeat=3))
    assert ann.clips.count("number.nol") == 3  # "A nol satu dua", said three times
    cache = ClipCache(built_cache.root)
    pcm, timeline = cache.render(ann.clips)
    out = tmp_path / "digits.wav"
    out.write_bytes(audio.wav_bytes(pcm))
    samples, rate = read_samples(out)
    assert sum(1 for r in silent_runs(samples, rate, 250) if 790 <= r <= 860) == 2
    names = [s for s in timeline if s.clip_id == "name.loket_pengambilan_dokumen"]
    assert len(names) == 3


def test_hub_serves_the_same_audio_to_browsers(built_cache: BuiltCache, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with (
            hub_server(built_cache.root, counter_names={4: COUNTER_NAME}) as hub,
            aiohttp.ClientSession() as http,
        ):
            async with http.get(f"{hub.url}/audio/call.wav?ticket=A-012&counter=3") as r:
                assert r.status == 200
                assert r.content_type == "audio/wav"
                (tmp_path / "call.wav").write_bytes(await r.read())
            clips = ",".join(A012.clips)
            async with http.get(f"{hub.url}/audio/call.wav?clips={clips}") as r:
                assert r.status == 200
                assert await r.read() == (tmp_path / "call.wav").read_bytes()
            async with http.get(f"{hub.url}/audio/call.wav?ticket=B-005&counter=4") as r:
                (tmp_path / "named.wav").write_bytes(await r.read())
            async with http.get(f"{hub.url}/audio/clip/letter.a.wav") as r:
                assert r.status == 200
                data = await r.read()
                assert data == (built_cache.root / "clips" / "letter.a.wav").read_bytes()
            for bad, status in [
                ("/audio/clip/nope.none.wav", 404),
                ("/audio/clip/..%2Fmanifest.wav", 400),
                ("/audio/call.wav?ticket=12&counter=3", 400),
                ("/audio/call.wav?clips=chime,number.sejuta", 404),
            ]:
                async with http.get(hub.url + bad) as r:
                    assert r.status == status, bad

    asyncio.run(scenario())
    cache = ClipCache(built_cache.root)
    _check_announcement(tmp_path / "call.wav", cache, A012.clips)
    named = build("B", 5, 4, counter_name=COUNTER_NAME)
    _check_announcement(tmp_path / "named.wav", cache, named.clips)


def test_an_announcement_splits_into_its_chime_and_repetitions_and_joins_back() -> None:
    """What a speaker may shorten: the chime and the repetitions, never a call's words."""
    chime, reps = split(A012.clips)
    assert chime
    assert len(reps) == 2
    assert reps[0] == reps[1]
    assert reps[0][0] == "phrase.nomor_antrean"
    assert joined(reps, chime=True) == A012.clips
    b003 = split(build("B", 3, 2).clips)[1][0]
    # a backlog: one chime, each call once, apart by the pause between repetitions
    assert joined([reps[0], b003], chime=True) == (
        "chime",
        "pause.300",
        *reps[0],
        "pause.800",
        *b003,
    )
    # clips that are not the calling grammar come back whole, as one part
    assert split(("chime",)) == (True, [])
    assert split(("phrase.loket", "pause.800", "number.satu")) == (
        False,
        [("phrase.loket", "pause.800", "number.satu")],
    )
