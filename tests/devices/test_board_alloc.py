"""The LED board draws a scrolling, blinking picture without making garbage, on MicroPython.

Why it matters: a P10 panel is scanned by a soft timer callback in the Python VM, so a garbage
collection stops the scan for a few milliseconds and the row left on glows brighter than the
rest (a bright line flashing across the text). With nothing allocated per tick the collector
runs only after MQTT traffic, and then at a moment the firmware picks, with the panel dark.
The firmware's drawing loop runs here on the real interpreter with the collector off, and the
heap's growth over the ticks is counted (`tests/devices/mp/board_alloc.py`).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from harness import DEVICES, HEAP, MICROPYTHON, MP_DIR

SCROLLING = {"lines": ["A-012", "LOKET 1"], "notice": "Layanan KTP ditutup hari ini", "flash": True}
TICKS = 200


def measure(panel: dict[str, object], picture: dict[str, object]) -> dict[str, float]:
    path = [DEVICES / "lib", DEVICES / "esp32-display", MP_DIR]
    env = dict(os.environ, MICROPYPATH=":".join(str(p) for p in path) + ":.frozen")
    out = subprocess.run(
        [
            str(MICROPYTHON),
            "-X",
            f"heapsize={HEAP}",
            str(MP_DIR / "board_alloc.py"),
            json.dumps(panel),
            json.dumps(picture),
            str(TICKS),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    print(f"{panel}: {result}")
    return result


@pytest.mark.parametrize(
    "panel",
    [{"type": "max7219", "modules": 8}, {"type": "p10", "panels": 1}, {"type": "p10", "panels": 2}],
    ids=["max7219x8", "p10x1", "p10x2"],
)
def test_a_scrolling_flashing_picture_allocates_nothing_per_tick(panel: dict[str, object]) -> None:
    result = measure(panel, SCROLLING)
    assert result["shown"] >= TICKS, "the picture did not move on every tick"
    assert result["per_tick"] == 0
    assert result["per_scan"] == 0
    # garbage made elsewhere: collected by the board itself once the heap runs low, once
    assert result["collects"] == 1
    assert result["free_after"] > 16 * 1024
    if panel["type"] == "p10":
        assert result["dark_while_collecting"] is True, "a bright row would stay on while collecting"
