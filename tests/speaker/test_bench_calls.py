"""The calls benchmark still runs and prints both policies side by side (figures not judged)."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def test_the_calls_benchmark_prints_the_policy_before_and_now_for_each_scenario() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_calls.py"), "--quick", "--counters", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line.split() for line in proc.stdout.splitlines() if line.startswith("   3 counters")]
    assert [(r[2], r[3]) for r in rows] == [
        ("realistic", "before"),
        ("realistic", "now"),
        ("burst", "before"),
        ("burst", "now"),
    ]
    assert all("heard" in r and "silently" in r and "worst" in r for r in rows)
