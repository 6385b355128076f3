"""`antrian demo` end to end: with a broker that answers, and with none (embedded amqtt)."""

from __future__ import annotations

import subprocess
import sys
import wave

import pytest

from antrian.net import free_port


def run_demo(tmp_path, broker: str | None, *extra: str) -> str:
    audio = tmp_path / "audio"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "antrian.cli",
            "demo",
            *(["--broker", broker] if broker else []),
            "--seconds",
            "5",
            "--audio-dir",
            str(audio),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


def check_announcements(tmp_path) -> None:
    wavs = sorted((tmp_path / "audio").glob("*.wav"))
    assert wavs, "the speaker node wrote no announcement"
    with wave.open(str(wavs[0])) as w:
        seconds = w.getnframes() / w.getframerate()
    assert 4 < seconds < 20  # chime + two calls of ~2-4 s each


def test_demo_uses_a_broker_that_answers(tmp_path, broker):
    out = run_demo(tmp_path, f"127.0.0.1:{broker.port}")
    assert f"Memakai broker MQTT di 127.0.0.1:{broker.port}" in out
    assert "warga mengambil A-001" in out
    assert "memanggil" in out
    assert "Papan 1" in out
    assert "Pengeras : memutar call-1" in out
    assert "Selesai." in out
    check_announcements(tmp_path)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_demo_starts_an_embedded_broker_when_none_answers(tmp_path, lang):
    port = free_port()
    out = run_demo(tmp_path, f"127.0.0.1:{port}", "--lang", lang)
    if lang == "id":
        assert "menjalankan broker bawaan (amqtt)" in out
        assert "tiket diambil" in out
    else:
        assert "starting the embedded broker (amqtt)" in out
        assert "a citizen takes A-001" in out
        assert "tickets taken" in out
    check_announcements(tmp_path)


def test_demo_without_broker_option_runs_its_own_broker_and_says_so_on_the_web_port_asked(tmp_path, broker):
    """A broker answering on this PC (maybe an office's own) is not joined without `--broker`."""
    web_port = free_port()
    out = run_demo(tmp_path, None, "--web-port", str(web_port), "--lang", "en")
    assert "The demo runs its own embedded broker (amqtt) at 127.0.0.1:" in out
    assert f"127.0.0.1:{broker.port}" not in out
    assert f"Web: http://127.0.0.1:{web_port}/tv" in out
    assert "a citizen takes A-001" in out


@pytest.mark.parametrize(
    "local",
    [
        "2026-12-06T03:00",  # a Sunday, in the night
        "2026-12-25T21:30",  # Christmas (a national holiday), after a real office's closing
        "2026-11-30T12:15",  # a Monday, inside the lunch break
    ],
)
def test_demo_office_takes_tickets_at_any_hour_on_any_day(local):
    """Someone trying the demo at night, on a Sunday or a holiday sees an office at work."""
    from datetime import datetime

    from antrian.demo import demo_config
    from antrian.schedule import OfficeSchedule

    cfg = demo_config("id", ":memory:", "127.0.0.1", 1883)
    now = datetime.fromisoformat(local).replace(tzinfo=cfg.office.tz)
    status = OfficeSchedule(cfg).status(now)
    assert status.open, status
    assert status.reason == "open"
