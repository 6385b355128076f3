"""The code keeps its style: ruff (lint) and mypy --strict on the hub package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip


def test_ruff_finds_nothing():
    proc = run("ruff", "check", "hub", "tests", "bench")
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_mypy_strict_finds_nothing():
    proc = run("mypy")
    assert proc.returncode == 0, proc.stdout[-3000:]
