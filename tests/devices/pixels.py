"""Turn what the fake hardware recorded back into pixels, and pixels back into text.

MAX7219 rows come from the SPI stream (register 1-8 per module), P10 rows from the HUB12
scan rows, the OLED from the SSD1306 page data. Text is read back with the firmware's own
5x7 font table (LED panels) or with framebuf's 8x8 font as rendered by MicroPython itself.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
from typing import Any

from harness import DEVICES, MICROPYTHON

Frame = list[list[int]]

_spec = importlib.util.spec_from_file_location("font5x7", DEVICES / "esp32-display" / "font5x7.py")
assert _spec is not None
assert _spec.loader is not None
font5x7: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(font5x7)


def max7219_frames(events: list[dict[str, Any]], modules: int) -> list[Frame]:
    """Every complete frame (8 row writes) shown on a MAX7219 chain, in order."""
    frames: list[Frame] = []
    cur: Frame = [[0] * (8 * modules) for _ in range(8)]
    for ev in events:
        data = bytes.fromhex(ev["data"])
        if len(data) != 2 * modules or not 1 <= data[0] <= 8:
            continue
        row = data[0] - 1
        for m in range(modules):
            byte = data[2 * m + 1]
            for bit in range(8):
                cur[row][8 * m + bit] = byte >> (7 - bit) & 1
        if row == 7:
            frames.append([r[:] for r in cur])
    return frames


def max7219_register(events: list[dict[str, Any]], reg: int) -> list[int]:
    """Values written to one control register (same value to every module)."""
    out = []
    for ev in events:
        data = bytes.fromhex(ev["data"])
        if data and data[0] == reg:
            out.append(data[1])
    return out


def hub12_frame(events: list[dict[str, Any]], panels: int) -> Frame:
    """The P10 picture after the given scan-row events (latest data of each row)."""
    stride = 4 * panels
    rows: dict[int, bytes] = {}
    for ev in events:
        if ev["ev"] == "hub12":
            rows[ev["row"]] = bytes.fromhex(ev["data"])
    frame = [[0] * (32 * panels) for _ in range(16)]
    for s, data in rows.items():
        k = 0
        for col in range(stride):
            for r in (s + 12, s + 8, s + 4, s):
                byte = ~data[k] & 0xFF
                k += 1
                for bit in range(8):
                    frame[r][8 * col + bit] = byte >> (7 - bit) & 1
    return frame


def ssd1306_frame(event: dict[str, Any], width: int = 128, height: int = 32) -> Frame:
    data = bytes.fromhex(event["data"])
    frame = [[0] * width for _ in range(height)]
    for page in range(height // 8):
        for x in range(width):
            byte = data[page * width + x]
            for bit in range(8):
                frame[page * 8 + bit][x] = byte >> bit & 1
    return frame


def render5x7(text: str, width: int, x: int) -> Frame:
    """An 8-row band with `text` drawn at column x (the firmware's layout, in Python)."""
    band = [[0] * width for _ in range(8)]
    for ch in text:
        cols = font5x7.glyph(ch)
        for cx in range(5):
            for cy in range(7):
                if cols[cx] >> cy & 1 and 0 <= x + cx < width:
                    band[cy][x + cx] = 1
        x += font5x7.ADVANCE
    return band


def band(frame: Frame, row: int) -> Frame:
    return [r[:] for r in frame[row * 8 : row * 8 + 8]]


def shows(frame: Frame, row: int, text: str) -> bool:
    """True when 8-dot row `row` shows `text` centred, or scrolled to any position."""
    width = len(frame[0])
    got = band(frame, row)
    if text.strip() and not any(map(any, got)):
        return False
    w = font5x7.width(text)
    if w <= width:
        return got == render5x7(text, width, (width - w) // 2)
    return any(got == render5x7(text, width, x) for x in range(-w, width + 1))


def lit(frame: Frame, row: int | None = None) -> int:
    rows = frame if row is None else band(frame, row)
    return sum(map(sum, rows))


@functools.cache
def glyphs8() -> dict[tuple[int, ...], str]:
    """framebuf's own 8x8 font, rendered by MicroPython: column bytes -> character."""
    chars = "".join(chr(c) for c in range(32, 127))
    code = (
        "import framebuf\n"
        f"s={chars!r}\n"
        "b=bytearray(8*len(s))\n"
        "f=framebuf.FrameBuffer(b,8*len(s),8,framebuf.MONO_VLSB)\n"
        "f.text(s,0,0,1)\n"
        "print(b.hex())\n"
    )
    out = subprocess.run(
        [str(MICROPYTHON), "-c", code],
        capture_output=True,
        check=True,
        env=dict(os.environ, MICROPYPATH=".frozen"),
    ).stdout
    data = bytes.fromhex(out.decode().strip())
    table = {}
    for i, ch in enumerate(chars):
        table.setdefault(tuple(data[8 * i : 8 * i + 8]), ch)
    return table


def read8(frame: Frame, x: int, y: int, n: int, scale: int = 1) -> str:
    """Read n characters of framebuf's 8x8 font at (x, y), drawn at `scale`."""
    table = glyphs8()
    text = ""
    for i in range(n):
        cols = []
        for cx in range(8):
            byte = 0
            for cy in range(8):
                if frame[y + cy * scale][x + (8 * i + cx) * scale]:
                    byte |= 1 << cy
            cols.append(byte)
        text += table.get(tuple(cols), "\ufffd")
    return text.rstrip()
