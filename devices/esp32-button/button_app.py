"""Button pad firmware: a ticket kiosk or an officer's call pad, chosen by `role` in config.

Kiosk: one button per service and a priority button; each press asks the hub for a ticket
and prints it on an ESC/POS printer. Call pad (`pad_app.py`, loaded only by a pad): next,
recall, skip, done, transfer (and an optional break button) for the counter the hub binds to
this pad, with an SSD1306 showing the ticket being served and how many wait.

No phantom tickets, no double tickets (see devices/README.md, "Kiosk rules"):
* a press is refused visibly (error LED blinks) when the broker link or the hub is down, when
  the printer reports paper end or does not answer its status query, or while a previous
  ticket is printing or waiting for a reprint: no ticket is made that cannot be printed;
* a press that was accepted is followed to the end: its request is resent with the same
  transaction until the hub answers (the hub returns the same ticket), then printed;
* if the printer reports paper end right after the job, the ticket is kept and printed again
  (marked "cetak ulang") as soon as paper is back; until then every press is refused;
* the status is asked only once the job has left the UART (at 9600 baud a ticket takes ~0.4 s
  on the wire, and the question waits behind it), and silence after a job is not a failed
  print: nothing is printed again, the ready LED stays off until the printer answers.

The hub is told: `info` carries `printer` (`ok`, `silent`, `paper_end`; null before the first
answer or without status queries) and is published again, retained, on every change.
"""

import asyncio

import escpos
from buttons import Buttons
from runtime import Device, json_object

from time import ticks_add, ticks_diff, ticks_ms

#: The least time given to the printer to answer its status question (DLE EOT 4).
STATUS_MS = 1000
#: Refusals the kiosk prints a slip for (`data.code` of the hub's error answer). The hub's
#: `error` says it all in the office's language: for `office_closed` why, and when it opens
#: ("Kantor tutup (Hari Raya Natal). Buka lagi Senin, 28 Desember 2026 pukul 07.30.").
SLIPS = (
    "not_served_today",
    "quota_reached",
    "office_closed",
    "booking_unknown",
    "booking_used",
    # a phone ticket's code scanned again, or after its turn passed (docs/ambil-dari-hp.md)
    "already_checked_in",
    "check_in_missed",
)
#: The longest line a QR scanner may send: a code (a booking's, a phone ticket's) is 6 characters; anything longer is
#: not one and is dropped whole.
SCAN_MAX = 32


class Kiosk(Device):
    role = "kiosk"

    def __init__(self, cfg, board):
        super().__init__(cfg, board)
        k = cfg.get("kiosk", {})
        self.services = k.get("services", {"A": 32})  # letter -> button pin
        pins = [(letter, pin) for letter, pin in self.services.items()]
        if k.get("priority_pin") is not None:
            pins.append(("priority", k["priority_pin"]))
        self.buttons = Buttons(board, pins, self.press, lock_ms=k.get("lock_ms", 2000))
        leds = k.get("leds", {})
        self.led_ready = board.output(leds.get("ready", 2))
        self.led_error = board.output(leds.get("error", 4))
        self.led_priority = board.output(leds.get("priority", 13))
        p = cfg.get("printer", {})
        self.paper = p.get("paper", 58)
        self.status_query = p.get("status_query", True)
        self.baud = p.get("baud", 19200)
        self.uart = board.uart(p)
        # An optional QR scanner module (GM65 and the like) on a second UART: it sends what it
        # reads as text ended by CR. A booking code read there is checked in (`check_in`).
        sc = k.get("scanner")
        self.scanner = board.uart(sc) if sc else None
        self.scanned = b""
        self.unsent = 0  # bytes written since the UART was last known to be empty
        # The ticket's words in the office's language, as `antrian devices add` wrote them; a
        # config without them prints escpos's own Indonesian copy.
        self.words = cfg.get("words")
        self.priority_ms = k.get("priority_window_ms", 10000)
        self.priority_until = None
        self.busy = False
        self.reprint = None  # ticket data waiting for paper
        # What the printer said last: "ok", "silent" (no answer: its state is unknown),
        # "paper_end"; None until it is first asked (never, without status queries).
        self.printer = None
        self.printed = 0

    def link_changed(self):
        ready = self.online and not self.reprint and self.printer in (None, "ok")
        self.led_ready.value(1 if ready else 0)

    def info(self):
        i = super().info()
        i["printer"] = self.printer
        return i

    async def tell(self):
        """Publish `info` again (retained): the hub shows and logs the printer's state."""
        if self.mqtt.connected:
            await self.publish_info()

    def press(self, name):
        if name == "priority":
            # Priority arms the next service press (UU 25/2009: lansia, disabilitas, ...).
            self.priority_until = until = ticks_add(ticks_ms(), self.priority_ms)
            self.led_priority.value(1)
            asyncio.create_task(self._priority_off(until))
            return
        prio = self.priority_until is not None and ticks_diff(self.priority_until, ticks_ms()) > 0
        self.priority_until = None
        self.led_priority.value(0)
        asyncio.create_task(self.take(name, prio))

    async def _priority_off(self, until):
        """The priority window ends unused: the yellow LED goes out, the next press is normal."""
        await asyncio.sleep_ms(self.priority_ms)
        if self.priority_until == until:  # not used, not renewed by another priority press
            self.priority_until = None
            self.led_priority.value(0)

    async def take(self, letter, priority, booking=None):
        if self.busy or self.reprint:
            return self.refuse("busy")
        if not self.online:
            return self.refuse("offline")
        self.busy = True
        try:
            ok = await self.printer_ok()
            if ok is None:
                return self.refuse("printer silent")
            if not ok:
                return self.refuse("printer")
            if booking:
                self.board.log("kiosk: check_in")
                resp = await self.request("check_in", {"booking": booking})
            else:
                self.board.log("kiosk: take_ticket", letter, priority)
                resp = await self.request("take_ticket", {"service": letter, "priority": priority})
            if resp.get("status") != "ok":
                if (resp.get("data") or {}).get("code") in SLIPS:
                    # The office refuses tickets for a reason the citizen must read (the
                    # counters will not reach it today, the quota is used up, the office is
                    # closed): say so on paper, nobody can read a blinking LED. An answer is
                    # final: the press is not sent again.
                    await self.send(escpos.refusal(str(resp.get("error")), self.paper, self.words))
                return self.refuse("hub: " + str(resp.get("error")))
            await self.print_ticket(resp["data"])
        finally:
            self.busy = False

    def refuse(self, reason):
        """Say no where the citizen looks: the error LED blinks three times."""
        self.board.log("kiosk: refused", reason)
        asyncio.create_task(self._blink_error())

    async def _blink_error(self):
        for _ in range(3):
            self.led_error.value(1)
            await asyncio.sleep_ms(200)
            self.led_error.value(0)
            await asyncio.sleep_ms(200)

    async def send(self, data):
        """Hand `data` to the UART in small writes (its TX buffer is small)."""
        for i in range(0, len(data), 128):
            self.uart.write(data[i : i + 128])
            self.unsent += len(data[i : i + 128])
            await asyncio.sleep_ms(0)

    def wire_ms(self, n):
        """How long `n` bytes take on the wire: 10 bits each (start, 8 data, stop)."""
        return n * 10000 // self.baud + 1

    async def drained(self):
        """Until everything written has left the UART: a status question written now is
        answered only after the job ahead of it has gone out (at 9600 baud a ticket takes
        ~0.4 s). `txdone()` (MicroPython 1.20+) is polled without holding up the loop,
        `flush()` blocks until sent; without either, wait the job's wire time."""
        n, self.unsent = self.unsent, 0
        if not n:
            return
        txdone = getattr(self.uart, "txdone", None)
        flush = getattr(self.uart, "flush", None)
        if txdone:
            limit = ticks_add(ticks_ms(), self.wire_ms(n) + STATUS_MS)
            while not txdone() and ticks_diff(limit, ticks_ms()) > 0:
                await asyncio.sleep_ms(10)
        elif flush:
            flush()
        else:
            await asyncio.sleep_ms(self.wire_ms(n))

    async def status(self):
        """The paper sensor byte (DLE EOT 4), or None when the printer does not answer."""
        await self.drained()
        while self.uart.any():
            self.uart.read()
        self.uart.write(escpos.STATUS_PAPER)
        # the question and the answer on the wire, and at least STATUS_MS for the printer
        limit = ticks_add(ticks_ms(), self.wire_ms(len(escpos.STATUS_PAPER) + 1) + STATUS_MS)
        while ticks_diff(limit, ticks_ms()) > 0:
            await asyncio.sleep_ms(10)
            if self.uart.any():
                return self.uart.read(1)[0]
        return None

    def paper_ok(self, s):
        if s & escpos.PAPER_NEAR_END:
            self.board.log("kiosk: paper near end")
        return not s & escpos.PAPER_END

    async def printer_ok(self):
        """True when the printer answers with paper; None when it does not answer."""
        if not self.status_query:
            return True
        s = await self.status()
        state = "silent" if s is None else "ok" if self.paper_ok(s) else "paper_end"
        if state != self.printer:
            if "silent" in (state, self.printer):
                self.board.log("kiosk: printer", "silent" if s is None else "answers again")
            self.printer = state
            self.link_changed()
            asyncio.create_task(self.tell())
        return None if s is None else state == "ok"

    async def print_ticket(self, data, reprint=False):
        await self.send(escpos.ticket(data, self.paper, reprint, self.words))
        self.printed += 1
        ok = await self.printer_ok()
        if ok is None:
            # Silence is not paper end: the ticket may well be in the citizen's hand. Print
            # nothing more (a reprint on silence alone makes a second ticket every second);
            # the ready LED is off until the printer answers again.
            self.board.log("kiosk: printer silent after", data["ticket"], "- not reprinted")
            self.reprint = None
            self.link_changed()
        elif not ok:
            # The paper ran out during this job: keep the ticket, print it again later.
            self.board.log("kiosk: reprint pending", data["ticket"])
            self.reprint = data
            self.link_changed()
        elif reprint:
            self.reprint = None
            self.link_changed()

    def scan(self, data):
        """Bytes from the scanner: each line ended by CR (or LF) is a code. A line longer than
        SCAN_MAX bytes, or not text, is not a booking code and is dropped whole."""
        for b in data:
            if b in (10, 13):
                line, self.scanned = self.scanned, b""
                if 0 < len(line) <= SCAN_MAX:
                    try:
                        code = line.decode()
                    except UnicodeError:
                        continue
                    asyncio.create_task(self.take(None, False, code))
            elif len(self.scanned) <= SCAN_MAX:
                self.scanned += bytes((b,))

    async def read_scanner(self, scanner):
        while True:
            await asyncio.sleep_ms(50)
            if scanner.any():
                self.scan(scanner.read() or b"")

    async def main(self):
        if self.printer is None:
            await self.printer_ok()  # before any press: the hub learns the state from `info`
        asyncio.create_task(self.buttons.run())
        if self.scanner is not None:
            asyncio.create_task(self.read_scanner(self.scanner))
        while True:
            await asyncio.sleep_ms(1000)
            if self.busy or not self.status_query or (self.printer == "ok" and not self.reprint):
                continue
            # Ask again: a ticket waiting for paper is printed once paper is back; after
            # silence or paper end, the ready LED comes back when the printer answers.
            self.busy = True
            try:
                if await self.printer_ok() and self.reprint:
                    await self.print_ticket(self.reprint, reprint=True)
            finally:
                self.busy = False


def make(cfg, board):
    if cfg.get("role") == "call_pad":
        # `main.py` starts a pad from `pad_app` itself (without the kiosk's code and the ticket
        # layout); this is for a pad started as the kiosk's module
        from pad_app import CallPad

        return CallPad(cfg, board)
    return Kiosk(cfg, board)


def start(cfg, board):
    asyncio.run(make(cfg, board).run())
