"""Start one device's firmware on the MicroPython unix port with the fake board.

Usage: micropython run_fw.py config.json [--flash]   (MICROPYPATH: firmware dirs, this dir,
.frozen). With `--flash` the firmware runs from a board's flash (the working directory) the
way `main.py` starts it: `otaboot.boot()` first (an update installed or rolled back), and a
firmware that cannot be imported resets the board.
"""

import asyncio
import gc
import json
import sys

if "--flash" in sys.argv:
    import otaboot

    otaboot.boot()
    del otaboot
    sys.modules.pop("otaboot", None)  # as main.py
    try:
        from fakes import FakeBoard, emit
    except Exception as exc:  # as main.py: a firmware that cannot load resets
        import otaboot

        otaboot.failed(exc)
else:
    from fakes import FakeBoard, emit


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    board = FakeBoard(cfg)
    gc.collect()
    board.baseline = gc.mem_alloc()  # interpreter + this harness, before any firmware
    try:
        if cfg["role"] == "led_board":
            import display_app as app
        elif cfg["role"] == "call_pad":
            import pad_app as app  # as main.py
        else:
            import button_app as app
    except Exception as exc:  # as main.py: a firmware that cannot load resets
        import otaboot

        otaboot.failed(exc)
    dev = app.make(cfg, board)

    async def go():
        asyncio.create_task(board.control())  # noqa: RUF006 - the MicroPython loop keeps tasks
        asyncio.create_task(board.heap_monitor())  # noqa: RUF006 - the MicroPython loop keeps tasks
        asyncio.create_task(board.run_tickers())  # noqa: RUF006 - the MicroPython loop keeps tasks
        emit("started", boot=dev.boot)
        await dev.run()

    asyncio.run(go())


main()
