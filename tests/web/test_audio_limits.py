"""Audio requests are bounded before anything is made: one anonymous GET of an hour of
silence, or of too many clips, is refused with 400 instead of filling the hub's memory."""

from __future__ import annotations

from pathlib import Path

import pytest
from web_helpers import Browser, hub_fixture

from antrian.voice import audio


def one_clip(workdir: Path) -> None:
    """One spoken clip (the chime) in the hub's voice cache, so that its audio routes are on."""
    clips = workdir / "tts_cache" / "clips"
    clips.mkdir(parents=True)
    (clips / "chime.wav").write_bytes(audio.wav_bytes(audio.chime()))


hub = hub_fixture("audio", prepare=one_clip)


@pytest.mark.parametrize(
    ("clips", "why"),
    [
        ("pause.3600000", "at most 2000 ms"),  # an hour of silence
        (",".join(["pause.10"] * 65), "1..64 clip ids"),  # too many clips
        (",".join(["pause.2000"] * 31), "at most 60 s"),  # 62 s of pauses
        (",".join(["chime"] * 60), "at most 60 s"),  # 60 chimes, ~75 s
    ],
)
def test_audio_that_would_be_too_long_is_refused_before_it_is_made(hub, clips, why):
    status, _, body = Browser(hub, "127.0.0.9").request("GET", f"/audio/call.wav?clips={clips}")
    assert status == 400
    assert why in body.decode()


def test_an_announcement_within_the_bounds_is_served(hub):
    status, resp, body = Browser(hub, "127.0.0.9").request(
        "GET", "/audio/call.wav?clips=chime,pause.300,chime,pause.2000"
    )
    assert status == 200
    assert resp.headers["Content-Type"] == "audio/wav"
    chime = len(audio.chime().samples)
    expected = 2 * chime + audio.SAMPLE_RATE * 2300 // 1000
    assert len(body) == 44 + 2 * expected  # a WAV header, then 16-bit mono samples
