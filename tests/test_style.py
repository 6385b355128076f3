"""The code keeps its style: ruff (lint) and mypy --strict on the hub package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


def test_ruff_finds_nothing():
    proc = run("ruff", "check", "hub", "tests", "bench")
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_code_is_formatted_by_ruff_format():
    """One layout for everybody: no hand-aligned walls kept out of the formatter."""
    proc = run("ruff", "format", "--check", "hub", "tests", "bench")
    assert proc.returncode == 0, proc.stdout[-3000:]
    walls = [
        f"{path.relative_to(ROOT)}:{n}"
        for top in ("hub", "tests", "bench")
        for path in (ROOT / top).rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "fmt: " + "skip" in line or "fmt: " + "off" in line
    ]
    assert walls == []


def test_mypy_strict_finds_nothing():
    proc = run("mypy")
    assert proc.returncode == 0, proc.stdout[-3000:]
