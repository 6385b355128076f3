"""A chain of MAX7219 8x8 LED modules (the common FC-16 "4 in 1" boards) behind framebuf.

Rows go out one SPI transaction each: for row r, one (register r+1, byte) pair per module,
the leftmost module first, so it ends up farthest along the chain (data enters the
rightmost module). Only `show()` and `refresh()` write to the modules; drawing happens in RAM.

Why `refresh()`: the chip keeps its control registers (shutdown, scan limit, decode, test,
intensity) until it is told otherwise, and a spike on the 5 V line or on a long CLK/DIN wire
can flip one; a module then stays dark, shows one row, decodes digits or lights every LED
until it is written again. The firmware calls `refresh()` every few seconds: all registers
and the picture again, from one preallocated buffer, so no garbage is made.
"""

import gc

import framebuf

DECODE, INTENSITY, SCAN_LIMIT, SHUTDOWN, TEST = 0x09, 0x0A, 0x0B, 0x0C, 0x0F


class Max7219(framebuf.FrameBuffer):
    def __init__(self, spi, cs, modules=4):
        self.spi = spi
        self.cs = cs
        self.n = modules
        self.width = 8 * modules
        self.height = 8
        self.level = 4
        self.buf = bytearray(modules * 8)
        self.out = bytearray(2 * modules)
        super().__init__(self.buf, self.width, 8, framebuf.MONO_HLSB)
        self._all(SHUTDOWN, 0)
        self.refresh()

    def _all(self, reg, val):
        out = self.out
        for m in range(self.n):
            out[2 * m] = reg
            out[2 * m + 1] = val
        self.cs.value(0)
        self.spi.write(out)
        self.cs.value(1)

    def brightness(self, level):
        self.level = level & 0x0F
        self._all(INTENSITY, self.level)

    def refresh(self):
        """Every control register and the picture again (repairs a module hit by noise)."""
        self._all(TEST, 0)
        self._all(DECODE, 0)
        self._all(SCAN_LIMIT, 7)
        self._all(INTENSITY, self.level)
        self.show()
        self._all(SHUTDOWN, 1)

    def show(self):
        n = self.n
        out = self.out
        buf = self.buf
        for row in range(8):
            for m in range(n):
                out[2 * m] = row + 1
                out[2 * m + 1] = buf[row * n + m]
            self.cs.value(0)
            self.spi.write(out)
            self.cs.value(1)

    def collect(self):
        """The chip holds its picture: a collection is invisible."""
        gc.collect()
