"""Run a board's own `main.py` (in the working directory: the board's flash) on the fake board.

Usage: micropython run_main.py   (MICROPYPATH: the flash folder, this dir). The real loader and
`hw.main` run; only `hw.Esp32Board` is the fake one (`SETUP_PORT`: the setup page's port).
"""

import fakes
import hw

hw.Esp32Board = fakes.FakeBoard
with open("main.py") as f:
    exec(f.read())
