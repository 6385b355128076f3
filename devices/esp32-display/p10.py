"""P10 (HUB12, 32x16, single colour) panels behind framebuf, 1/4 scan.

`show()` turns the frame buffer into the four scan rows once (data inverted: HUB12 lights
an LED on 0); the periodic timer then only shifts a ready row out, which keeps the
interrupt short. Row s carries panel rows s, s+4, s+8, s+12; for each 8-dot column the
bytes go bottom quarter first (the DMD order).
"""

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
        self.next = 0
        self.show()
        if ticker:
            ticker(1, self.scan)

    def brightness(self, level):
        self.port.set_brightness(level)

    def show(self):
        st = self.stride
        for s in range(4):
            row = self.rows[s]
            k = 0
            for col in range(st):
                for r in (s + 12, s + 8, s + 4, s):
                    row[k] = ~self.buf[r * st + col] & 0xFF
                    k += 1

    def scan(self):
        """One scan row; the timer calls this every millisecond (250 Hz refresh)."""
        s = self.next
        self.port.write_row(s, self.rows[s])
        self.next = (s + 1) & 3
