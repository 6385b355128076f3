"""Modules shared with the device firmware: one file, run by the hub and by the ESP32 boards.

Why: a ticket must look the same whichever machine printed it (the ESP32 kiosk, or the hub's
own printer for the tablet kiosk page), so its ESC/POS layout is written once. The hub imports
it from here (`antrian.printer`); the firmware gets the same file copied onto the board at flash
time (`devices/README.md`) and finds it as a top-level module (`import escpos`).

So every module here runs on MicroPython as well as CPython: only what the unix and ESP32
ports both have, no `typing` at run time and no annotations (they cost flash on a board). The
device tests run it on the real MicroPython interpreter and type-check it against the ESP32
stubs together with the firmware; the hub's ruff and mypy check it with the rules that allow
that style (pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

#: The folder the firmware's module path includes (tests) and its files are flashed from.
FOLDER: Final = Path(__file__).resolve().parent
#: The shared modules, by the name the firmware imports them under.
FIRMWARE_MODULES: Final = ("escpos",)
