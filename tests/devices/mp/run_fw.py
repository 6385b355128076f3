"""Start one device's firmware on the MicroPython unix port with the fake board.

Usage: micropython run_fw.py config.json   (MICROPYPATH: firmware dirs, this dir, .frozen)
"""

import asyncio
import gc
import json
import sys

from fakes import FakeBoard, emit


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    board = FakeBoard(cfg)
    gc.collect()
    board.baseline = gc.mem_alloc()  # interpreter + this harness, before any firmware
    if cfg["role"] == "led_board":
        import display_app as app
    else:
        import button_app as app
    dev = app.make(cfg, board)

    async def go():
        asyncio.create_task(board.control())  # noqa: RUF006 - the MicroPython loop keeps tasks
        asyncio.create_task(board.heap_monitor())  # noqa: RUF006 - the MicroPython loop keeps tasks
        asyncio.create_task(board.run_tickers())  # noqa: RUF006 - the MicroPython loop keeps tasks
        emit("started", boot=dev.boot)
        await dev.run()

    asyncio.run(go())


main()
