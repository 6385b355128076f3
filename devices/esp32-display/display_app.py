"""LED board firmware: the ticket being served above one counter, from the hub's retained
`device/{id}/display` topic.

Why the board keeps no state of its own: the display topic is retained, so after a reboot
or a reconnect the broker hands the current picture straight back. What it shows:
* connected and the hub online: `lines` from the hub, one per 8-dot row (a row that is too
  wide scrolls); a notice scrolls on the last row; `call_seq` changing blinks the ticket;
  `flash` true (a speaker could not announce the ticket) keeps it blinking until it is false;
* the broker link or the hub down: the offline sign "TERPUTUS", never a stale ticket that
  people would wait for in vain.
"""

import asyncio
import gc

import framebuf

import font5x7
from runtime import Device, json_object

OFFLINE = "TERPUTUS"
BLINK_MS = 3000
BLINK_HALF_MS = 250
TICK_MS = 50
#: MAX7219 control registers and picture are sent again this often (noise repair).
REFRESH_MS = 5000
#: Collect garbage at a moment the panel chooses once free heap falls below this (a P10
#: goes dark for it instead of showing a bright row when the allocator collects by itself),
#: at most once per GC_EVERY_MS (a heap full of live objects must not darken every tick).
GC_MARGIN = 16 * 1024
GC_EVERY_MS = 1000

from time import ticks_add, ticks_diff, ticks_ms


def band(text):
    """`text` drawn once into an 8-dot band of its own: (FrameBuffer, width in dots).

    The drawing loop then only blits bands, so a scrolling row costs no allocation per tick.
    """
    w = font5x7.width(text)
    buf = bytearray(((w + 7) // 8 or 1) * 8)
    fb = framebuf.FrameBuffer(buf, max(w, 1), 8, framebuf.MONO_HLSB)
    font5x7.draw(fb, text, 0, 0)
    return fb, w


class LedBoard(Device):
    role = "led_board"

    def __init__(self, cfg, board):
        super().__init__(cfg, board)
        self.fb = panel(board, cfg.get("panel", {}))
        self.rows = max(1, self.fb.height // 8)
        self.content = None  # last display payload
        self.call_seq = None
        self.blink_until = None
        self.scroll = 0
        self.hidden = False
        self.dirty = True
        # per 8-dot row: its text, the band drawn from it, the band's width
        self.texts_shown = [None] * self.rows
        self.bands = [None] * self.rows
        self.widths = [0] * self.rows
        self.scrolling = False
        self.refreshed = ticks_ms()
        self.collected = None  # when the board last collected by itself

    def subscriptions(self):
        return (self.topics["device_display"],)

    def handle(self, topic, payload, retained):
        if not payload:  # the hub cleared the retained picture (end of day)
            self.content = None
            self.dirty = True
            return
        msg = json_object(payload)
        if msg is None or not valid_display(msg):
            self.board.log("board: display ignored")
            return
        seq = msg.get("call_seq")
        # A call we see live blinks; the retained copy after boot/reconnect does not.
        if self.call_seq is not None and seq != self.call_seq and not retained:
            self.blink_until = ticks_add(ticks_ms(), BLINK_MS)
        self.call_seq = seq
        self.content = msg
        self.dirty = True

    def link_changed(self):
        self.dirty = True

    def brightness(self, level):
        self.fb.brightness(level)
        self.board.log("board: brightness", level)

    def texts(self):
        """What each row should say right now."""
        if not self.online:
            name = (self.content or {}).get("name") or ""
            texts = [OFFLINE, name.upper()]
        elif self.content is None:
            texts = ["---", ""]
        else:
            c = self.content
            texts = list(c.get("lines") or [c.get("serving") or "---", c.get("name") or ""])
            if c.get("notice"):
                texts.append(c["notice"].upper())
        if self.rows == 1:
            return [" ".join(t for t in texts if t)]
        out = texts[: self.rows]
        if len(texts) > self.rows:  # the notice takes the last row, after the counter name
            out[-1] = "   ".join(t for t in texts[self.rows - 1 :] if t)
        while len(out) < self.rows:
            out.append("")
        return out

    def flashing(self):
        """The hub asks for a blink that lasts: nobody heard this ticket called."""
        return self.online and self.content is not None and self.content.get("flash") is True

    def _layout(self):
        """New texts (after a message or a link change): draw the bands that changed."""
        self.scrolling = False
        for r, text in enumerate(self.texts()):
            if text != self.texts_shown[r]:
                self.texts_shown[r] = text
                self.bands[r], self.widths[r] = band(text)
            if self.widths[r] > self.fb.width:
                self.scrolling = True

    def tick(self, now):
        """One step of the drawing loop. Allocates only when the texts change: a scrolling
        or blinking picture makes no garbage (see `tests/devices/test_board_alloc.py`)."""
        changed = self.dirty
        if changed:
            self.dirty = False
            self._layout()
        hidden = False
        if self.blink_until is not None:
            left = ticks_diff(self.blink_until, now)
            if left <= 0:
                self.blink_until = None
            else:
                hidden = ((BLINK_MS - left) // BLINK_HALF_MS) % 2 == 1
        elif self.flashing():
            hidden = (now // BLINK_HALF_MS) % 2 == 1
        fb = self.fb
        if changed or self.scrolling or hidden != self.hidden:
            self.hidden = hidden
            width = fb.width
            fb.fill(0)
            for r in range(self.rows):
                if r == 0 and hidden:
                    continue
                w = self.widths[r]
                if w <= width:
                    x = (width - w) // 2
                else:
                    x = width - self.scroll % (w + width)
                fb.blit(self.bands[r], x, r * 8)
            fb.show()
            self.scroll = self.scroll + 1 if self.scrolling else 0
        if ticks_diff(now, self.refreshed) >= REFRESH_MS:
            self.refreshed = now
            fb.refresh()
        if gc.mem_free() < GC_MARGIN and (
            self.collected is None or ticks_diff(now, self.collected) >= GC_EVERY_MS
        ):
            self.collected = now
            fb.collect()

    async def main(self):
        while True:
            self.tick(ticks_ms())
            await asyncio.sleep_ms(TICK_MS)


def valid_display(msg):
    """True when every field the board draws has the type it draws: a wrong one would stop the
    drawing loop, and the board would freeze on its last picture."""
    lines = msg.get("lines")
    if lines is not None and not (isinstance(lines, list) and all(isinstance(x, str) for x in lines)):
        return False
    return all(msg.get(k) is None or isinstance(msg[k], str) for k in ("serving", "name", "notice"))


def panel(board, p):
    """The frame buffer of the configured panels: MAX7219 chain or P10 (HUB12)."""
    if p.get("type", "max7219") == "p10":
        from p10 import P10

        return P10(board.hub12(p), p.get("panels", 1), board.ticker)
    from max7219 import Max7219

    return Max7219(board.spi(p), board.output(p.get("cs", 5), 1), p.get("modules", 4))


def make(cfg, board):
    return LedBoard(cfg, board)


def start(cfg, board):
    asyncio.run(make(cfg, board).run())
