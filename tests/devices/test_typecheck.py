"""The firmware type-checks against micropython-esp32-stubs (see devices/mypy.ini)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from harness import DEVICES, ROOT, SHARED

SITE = Path(next(p for p in sys.path if p.endswith("site-packages")))


def stub_dir(tmp: Path) -> Path:
    """The stub packages' top-level modules, linked into one folder mypy accepts on MYPYPATH.

    They are installed as loose .pyi files in site-packages, which mypy does not read from
    there (no py.typed), and it refuses site-packages itself on MYPYPATH.
    """
    out = tmp / "stubs"
    out.mkdir()
    for dist in ("micropython_esp32_stubs", "micropython_stdlib_stubs"):
        record = next(SITE.glob(f"{dist}-*.dist-info/RECORD"))
        for line in record.read_text().splitlines():
            top = line.split(",")[0].split("/")[0]
            if ".dist-info" in top or top == "stdlib" or (out / top).exists():
                continue
            (out / top).symlink_to(SITE / top)
    return out


@pytest.mark.parametrize("board", ["esp32-button", "esp32-display"])
def test_firmware_typechecks(board, tmp_path):
    stubs = stub_dir(tmp_path)
    files = sorted(str(p) for p in [*(DEVICES / board).glob("*.py"), *(DEVICES / "lib").glob("*.py")])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(DEVICES / "mypy.ini"),
            "--custom-typeshed-dir",
            str(SITE),
            "--cache-dir",
            str(tmp_path / "cache"),
            *files,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        # the modules shared with the hub are checked where the firmware imports them
        env={"MYPYPATH": f"{DEVICES / 'lib'}:{DEVICES / board}:{SHARED}:{stubs}", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
