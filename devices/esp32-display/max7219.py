"""A chain of MAX7219 8x8 LED modules (the common FC-16 "4 in 1" boards) behind framebuf.

Rows go out one SPI transaction each: for row r, one (register r+1, byte) pair per module,
the leftmost module first, so it ends up farthest along the chain (data enters the
rightmost module). Only `show()` writes to the modules; drawing happens in RAM.
"""

import framebuf

DECODE, INTENSITY, SCAN_LIMIT, SHUTDOWN, TEST = 0x09, 0x0A, 0x0B, 0x0C, 0x0F


class Max7219(framebuf.FrameBuffer):
    def __init__(self, spi, cs, modules=4):
        self.spi = spi
        self.cs = cs
        self.n = modules
        self.width = 8 * modules
        self.height = 8
        self.buf = bytearray(modules * 8)
        super().__init__(self.buf, self.width, 8, framebuf.MONO_HLSB)
        for reg, val in ((SHUTDOWN, 0), (TEST, 0), (DECODE, 0), (SCAN_LIMIT, 7), (INTENSITY, 4)):
            self._all(reg, val)
        self.show()
        self._all(SHUTDOWN, 1)

    def _all(self, reg, val):
        self.cs.value(0)
        self.spi.write(bytes((reg, val)) * self.n)
        self.cs.value(1)

    def brightness(self, level):
        self._all(INTENSITY, level & 0x0F)

    def show(self):
        n = self.n
        out = bytearray(2 * n)
        for row in range(8):
            for m in range(n):
                out[2 * m] = row + 1
                out[2 * m + 1] = self.buf[row * n + m]
            self.cs.value(0)
            self.spi.write(out)
            self.cs.value(1)
