"""SSD1306 OLED over I2C (128x32 or 128x64), drawn through `framebuf`.

The call pad's small display. The frame buffer lives right behind the I2C data prefix byte
(0x40) in one buffer, so `show()` sends the whole screen in a single write without copying.
"""

import framebuf

INIT = (
    0xAE, 0x20, 0x00, 0x40, 0xA1, 0xC8, 0xD5, 0x80, 0xD9, 0xF1, 0xDB, 0x30,
    0x81, 0x7F, 0xA4, 0xA6, 0x8D, 0x14, 0xAF,
)


class SSD1306(framebuf.FrameBuffer):
    def __init__(self, i2c, width=128, height=32, addr=0x3C):
        self.i2c = i2c
        self.addr = addr
        self.width = width
        self.height = height
        self.pages = height // 8
        self.out = bytearray(1 + width * self.pages)
        self.out[0] = 0x40
        super().__init__(memoryview(self.out)[1:], width, height, framebuf.MONO_VLSB)
        for c in INIT + (0xA8, height - 1, 0xDA, 0x02 if height == 32 else 0x12):
            self.cmd(c)

    def cmd(self, c):
        self.i2c.writeto(self.addr, bytes((0x00, c)))

    def contrast(self, level):
        self.cmd(0x81)
        self.cmd(level)

    def show(self):
        for c in (0x21, 0, self.width - 1, 0x22, 0, self.pages - 1):
            self.cmd(c)
        self.i2c.writeto(self.addr, self.out)

    def big_text(self, text, x, y, scale=2):
        """`text()` at `scale` times the 8x8 font, for the ticket an officer reads from afar."""
        w = 8 * len(text)
        tmp = framebuf.FrameBuffer(bytearray(w), w, 8, framebuf.MONO_VLSB)
        tmp.text(text, 0, 0, 1)
        for ty in range(8):
            for tx in range(w):
                if tmp.pixel(tx, ty):
                    self.fill_rect(x + tx * scale, y + ty * scale, scale, scale, 1)
