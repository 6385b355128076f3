"""A MAX7219 chain whose registers were flipped by noise is right again within seconds.

The chips keep what they were last told, so a spike that turns a module off, into test mode,
into digit decoding or onto one scan row would last until the next write. The test keeps a
model of the chain (every module's registers, fed with the SPI transactions the firmware
sends, the first pair of a transaction landing in the module farthest along), corrupts
every register of every module at one moment, and then feeds it only what the board sends
from that moment on: the chain must end up showing the picture at the brightness last set.
"""

from __future__ import annotations

import time

import pixels
from harness import board_config, online

MODULES = 8
MAX = {"type": "max7219", "modules": MODULES, "cs": 5}
DECODE, INTENSITY, SCAN_LIMIT, SHUTDOWN, TEST = 0x09, 0x0A, 0x0B, 0x0C, 0x0F
NOISE = {SHUTDOWN: 0, TEST: 1, DECODE: 0xFF, SCAN_LIMIT: 2, INTENSITY: 15, **{r: 0xA5 for r in range(1, 9)}}


class Chain:
    """Registers of each module of a MAX7219 chain, leftmost module first."""

    def __init__(self, regs: dict[int, int]) -> None:
        self.regs = [dict(regs) for _ in range(MODULES)]

    def feed(self, events: list[dict[str, str]]) -> None:
        for ev in events:
            data = bytes.fromhex(ev["data"])
            if len(data) != 2 * MODULES:
                continue
            for m in range(MODULES):
                self.regs[m][data[2 * m]] = data[2 * m + 1]

    def healthy(self, level: int) -> bool:
        want = {SHUTDOWN: 1, TEST: 0, DECODE: 0, SCAN_LIMIT: 7, INTENSITY: level}
        return all(all(r.get(k) == v for k, v in want.items()) for r in self.regs)

    def frame(self) -> pixels.Frame:
        return [
            [self.regs[m].get(row + 1, 0) >> (7 - bit) & 1 for m in range(MODULES) for bit in range(8)]
            for row in range(8)
        ]


def test_a_chain_corrupted_by_noise_is_repaired_by_the_board_within_seconds(broker, hub, watcher, firmware):
    fw = firmware(board_config(broker, MAX))
    online(fw)
    watcher.publish("antrian/kantor/device/board-1/set", {"brightness": 9})
    fw.wait_log("board: brightness 9")
    deadline = time.monotonic() + 10
    while not any(pixels.shows(f, 0, "--- LOKET 1") for f in pixels.max7219_frames(fw.of("spi"), MODULES)):
        assert time.monotonic() < deadline, "the picture never showed"
        time.sleep(0.05)

    hit = fw.mark()  # the spike: every register of every module wrong from here on
    chain = Chain(NOISE)
    assert not chain.healthy(9)
    deadline = time.monotonic() + 12
    while not (chain.healthy(9) and pixels.shows(chain.frame(), 0, "--- LOKET 1")):
        assert time.monotonic() < deadline, f"still corrupted: {chain.regs[0]}"
        time.sleep(0.1)
        chain = Chain(NOISE)
        chain.feed(fw.of("spi", since=hit))
    print(f"repaired {fw.of('spi', since=hit)[-1]['t'] - fw.events[hit]['t']:.1f} s after the spike")
