"""The benchmark still runs and prints every figure (its numbers are not judged here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_hub_benchmark_runs_and_prints_every_figure():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_hub.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for row in (
        "raw broker QoS 1 round trip",
        "bare aiomqtt responder",
        "take_ticket steady 100/s",
        "take_ticket flat out",
        "call_next flat out",
        "hub resident memory",
        "rebuild with a year of history",
        "hub process start to `online`",
    ):
        assert row in proc.stdout, f"{row!r} missing from:\n{proc.stdout}"
    assert "x raw" in proc.stdout  # every latency is compared with the raw round trip


def test_wait_estimate_benchmark_runs_and_prints_every_figure():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_eta.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for row in (
        "issue    classic",
        "issue    before",
        "issue    new",
        "re-read  new",
        "never called",
        "targets:",
        "full recompute",
    ):
        assert row in proc.stdout, f"{row!r} missing from:\n{proc.stdout}"
