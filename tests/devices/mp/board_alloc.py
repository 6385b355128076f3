"""Heap allocated by the LED board's drawing loop, per tick, on the MicroPython unix port.

Usage: micropython board_alloc.py PANEL PICTURE TICKS
(PANEL: the config's `panel`, PICTURE: a display payload, both JSON)
Prints one JSON line: bytes allocated per tick and per P10 scan row (collector off while
counting), how many frames reached the panel and how many scan rows were shifted out. The
panel port records nothing (the fakes' JSON lines would be counted as the firmware's
garbage); it only counts writes, which allocates nothing.
"""

import gc
import json
import sys

import display_app
from fakes import FakeBoard


class Port:
    """SPI bus, chip select and HUB12 port in one: counts what it is given."""

    def __init__(self):
        self.writes = 0
        self.rows = 0
        self.last = None

    def write(self, data):
        self.writes += 1

    def value(self, v=None):
        return 0

    def write_row(self, row, data):
        self.rows += 1
        self.last = data

    def set_brightness(self, level):
        pass


PORT = Port()


class Board(FakeBoard):
    def log(self, *args):
        pass

    def spi(self, cfg):
        return PORT

    def output(self, pin, value=0):
        return PORT

    def hub12(self, cfg):
        return PORT


def main():
    panel = json.loads(sys.argv[1])
    picture = sys.argv[2].encode()
    ticks = int(sys.argv[3])
    topics = {
        "device_availability": "a",
        "device_info": "i",
        "device_request": "r/{command}",
        "device_response": "s/{command}",
        "device_set": "x",
        "hub_state": "h",
        "device_display": "d",
    }
    cfg = {"id": "board-1", "role": "led_board", "topics": topics, "panel": panel}
    dev = display_app.make(cfg, Board(cfg))
    dev.wifi = True  # online takes the WLAN, the MQTT link and the hub
    dev.mqtt.connected = True
    dev.hub_online = True
    dev.handle("d", picture, True)
    fb = dev.fb
    shown = [0]
    show = fb.show

    def counted():
        shown[0] += 1
        show()

    fb.show = counted
    for i in range(5):  # the texts are laid out once, on the first tick
        dev.tick(i * display_app.TICK_MS)
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    for i in range(ticks):
        dev.tick((5 + i) * display_app.TICK_MS)
    spent = gc.mem_alloc() - before
    scan = getattr(fb, "scan", None)
    before = gc.mem_alloc()
    for _ in range(ticks if scan else 0):
        scan()
    scanned = gc.mem_alloc() - before
    gc.enable()
    out = {"per_tick": spent / ticks, "shown": shown[0], "scans": PORT.rows, "per_scan": scanned / ticks}
    # Garbage from elsewhere (MQTT) until the heap runs low: the next tick collects, once,
    # through the panel (a P10 latches a dark row first), and not again on the tick after.
    collects = []
    collect = fb.collect

    def counted_collect():
        collect()
        collects.append(PORT.last is not None and all(b == 0xFF for b in PORT.last))

    fb.collect = counted_collect
    gc.disable()
    junk = None
    while gc.mem_free() > display_app.GC_MARGIN - 2048:
        junk = bytearray(100)
    del junk
    dev.tick((5 + ticks) * display_app.TICK_MS)
    dev.tick((6 + ticks) * display_app.TICK_MS)
    gc.enable()
    out["collects"] = len(collects)
    out["dark_while_collecting"] = collects[0] if collects else None
    out["free_after"] = gc.mem_free()
    print(json.dumps(out))


main()
