"""P10 (HUB12, 32x16, single colour) panels behind framebuf, 1/4 scan.

`show()` turns the frame buffer into the four scan rows once (data inverted: HUB12 lights
an LED on 0); the periodic timer then only shifts a ready row out, which keeps the
callback short. Row s carries panel rows s, s+4, s+8, s+12; for each 8-dot column the
bytes go bottom quarter first (the DMD order).

Why nothing here allocates: on the ESP32 the timer runs the scan as a soft callback, in the
Python VM, so while the garbage collector runs no row is shifted and the row left latched
stays lit several times longer than the others (a bright line). `show()` writes into a
second, preallocated set of scan rows and swaps it in (the scan never sees half a frame);
`collect()` latches a dark row before collecting, so a collection the firmware starts itself
is a few milliseconds of darkness instead of a bright line.
"""

import gc

import framebuf


class P10(framebuf.FrameBuffer):
    def __init__(self, port, panels=1, ticker=None):
        self.port = port
        self.width = 32 * panels
        self.height = 16
        self.stride = self.width // 8
        self.buf = bytearray(self.stride * 16)
        super().__init__(self.buf, self.width, 16, framebuf.MONO_HLSB)
        self.rows = [bytearray(self.stride * 4) for _ in range(4)]
        self.back = [bytearray(self.stride * 4) for _ in range(4)]
        self.dark = bytearray(b"\xff" * (self.stride * 4))
        self.next = 0
        self.show()
        if ticker:
            ticker(1, self.scan)

    def brightness(self, level):
        self.port.set_brightness(level)

    def show(self):
        st = self.stride
        buf = self.buf
        for s in range(4):
            row = self.back[s]
            a = (s + 12) * st
            b = (s + 8) * st
            c = (s + 4) * st
            d = s * st
            k = 0
            for col in range(st):
                row[k] = ~buf[a + col] & 0xFF
                row[k + 1] = ~buf[b + col] & 0xFF
                row[k + 2] = ~buf[c + col] & 0xFF
                row[k + 3] = ~buf[d + col] & 0xFF
                k += 4
        self.rows, self.back = self.back, self.rows

    def scan(self):
        """One scan row; the timer calls this every millisecond (250 Hz refresh)."""
        s = self.next
        self.port.write_row(s, self.rows[s])
        self.next = (s + 1) & 3

    def refresh(self):
        """Nothing to re-send: the scan rewrites every row 250 times a second."""

    def collect(self):
        """Collect garbage with the panel dark rather than one row stuck on."""
        self.port.write_row(self.next, self.dark)
        gc.collect()
