"""Button pad firmware: a ticket kiosk or an officer's call pad, chosen by `role` in config.

Kiosk: one button per service and a priority button; each press asks the hub for a ticket
and prints it on an ESC/POS printer. Call pad: next, recall, skip, done, transfer (and an
optional break button) for the counter the hub binds to this pad, with an SSD1306 showing
the ticket being served and how many wait.

No phantom tickets, no double tickets (see devices/README.md, "Kiosk rules"):
* a press is refused visibly (error LED blinks) when the broker link or the hub is down, when
  the printer reports paper end or does not answer its status query, or while a previous
  ticket is printing or waiting for a reprint: no ticket is made that cannot be printed;
* a press that was accepted is followed to the end: its request is resent with the same
  transaction until the hub answers (the hub returns the same ticket), then printed;
* if the printer reports paper end right after the job, the ticket is kept and printed again
  (marked "cetak ulang") as soon as paper is back; until then every press is refused.
"""

import asyncio

import escpos
from runtime import Device, json_object

from time import ticks_add, ticks_diff, ticks_ms


class Buttons:
    """Polled buttons with debounce and a lock after each press.

    A press counts once the pin has read "pressed" for `stable` polls in a row (contact
    bounce never lasts that long); the button then ignores everything for `lock_ms`, so a
    double press or a long hold makes one request.
    """

    def __init__(self, board, pins, on_press, poll_ms=10, stable=3, lock_ms=2000):
        self.items = [(name, board.button(pin)) for name, pin in pins]
        self.on_press = on_press
        self.poll_ms = poll_ms
        self.stable = stable
        self.lock_ms = lock_ms
        self.count = [0] * len(self.items)
        self.locked = [ticks_ms()] * len(self.items)
        self.armed = [True] * len(self.items)

    async def run(self):
        while True:
            now = ticks_ms()
            for i, (name, pin) in enumerate(self.items):
                if pin.value():
                    self.count[i] += 1
                    if (
                        self.count[i] == self.stable
                        and self.armed[i]
                        and ticks_diff(now, self.locked[i]) >= 0
                    ):
                        self.armed[i] = False
                        self.locked[i] = ticks_add(now, self.lock_ms)
                        self.on_press(name)
                else:
                    self.count[i] = 0
                    if ticks_diff(now, self.locked[i]) >= 0:
                        self.armed[i] = True
            await asyncio.sleep_ms(self.poll_ms)


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
        self.uart = board.uart(p)
        # The ticket's words in the office's language, as `antrian devices add` wrote them; a
        # config without them prints escpos's own Indonesian copy.
        self.words = cfg.get("words")
        self.priority_ms = k.get("priority_window_ms", 10000)
        self.priority_until = None
        self.busy = False
        self.reprint = None  # ticket data waiting for paper
        self.printed = 0

    def link_changed(self):
        self.led_ready.value(1 if self.online and not self.reprint else 0)

    def press(self, name):
        if name == "priority":
            # Priority arms the next service press (UU 25/2009: lansia, disabilitas, ...).
            self.priority_until = ticks_add(ticks_ms(), self.priority_ms)
            self.led_priority.value(1)
            return
        prio = self.priority_until is not None and ticks_diff(self.priority_until, ticks_ms()) > 0
        self.priority_until = None
        self.led_priority.value(0)
        asyncio.create_task(self.take(name, prio))

    async def take(self, letter, priority):
        if self.busy or self.reprint:
            return self.refuse("busy")
        if not self.online:
            return self.refuse("offline")
        self.busy = True
        try:
            if not await self.printer_ok():
                return self.refuse("printer")
            self.board.log("kiosk: take_ticket", letter, priority)
            resp = await self.request("take_ticket", {"service": letter, "priority": priority})
            if resp.get("status") != "ok":
                if (resp.get("data") or {}).get("code") == "not_served_today":
                    # The office refuses tickets the counters will not reach today: say so on
                    # paper, the citizen cannot read a blinking LED.
                    self.uart.write(escpos.refusal(str(resp.get("error")), self.paper, self.words))
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

    async def status(self):
        """The paper sensor byte (DLE EOT 4), or None when the printer does not answer."""
        while self.uart.any():
            self.uart.read()
        self.uart.write(escpos.STATUS_PAPER)
        for _ in range(30):
            await asyncio.sleep_ms(10)
            if self.uart.any():
                return self.uart.read(1)[0]
        return None

    async def printer_ok(self):
        if not self.status_query:
            return True
        s = await self.status()
        if s is None:
            self.board.log("kiosk: printer silent")
            return False
        if s & escpos.PAPER_NEAR_END:
            self.board.log("kiosk: paper near end")
        return not s & escpos.PAPER_END

    async def print_ticket(self, data, reprint=False):
        job = escpos.ticket(data, self.paper, reprint, self.words)
        for i in range(0, len(job), 128):  # small writes: the UART TX buffer is small
            self.uart.write(job[i : i + 128])
            await asyncio.sleep_ms(0)
        self.printed += 1
        if self.status_query and not await self.printer_ok():
            # The paper ran out during this job: keep the ticket, print it again later.
            self.board.log("kiosk: reprint pending", data["ticket"])
            self.reprint = data
            self.link_changed()
        elif reprint:
            self.reprint = None
            self.link_changed()

    async def main(self):
        asyncio.create_task(self.buttons.run())
        while True:
            await asyncio.sleep_ms(1000)
            if self.reprint and not self.busy and await self.printer_ok():
                self.busy = True
                try:
                    await self.print_ticket(self.reprint, reprint=True)
                finally:
                    self.busy = False


def valid_counter(st):
    """True when the counter state's fields have the types the screen draws: a wrong one would
    break every later redraw, and the pad would stop showing anything new."""
    serving, waiting, status = st.get("serving"), st.get("waiting"), st.get("status")
    return (
        (serving is None or isinstance(serving, str))
        and (waiting is None or (isinstance(waiting, int) and not isinstance(waiting, bool)))
        and (status is None or isinstance(status, str))
    )


#: What the pad shows for a counter that is not open when the hub's counter state carries no
#: `status_text` (an older hub): the same words as the LED board above the counter.
STATUS_TEXT = {"break": "ISTIRAHAT", "closed": "TUTUP"}


class CallPad(Device):
    role = "call_pad"

    def __init__(self, cfg, board):
        super().__init__(cfg, board)
        c = cfg.get("pad", {})
        # the counter in `pad` (written by hand) or the one provisioning wrote; without either
        # the pad learns it from the hub's first answer
        self.counter = c.get("counter") or cfg.get("counter")
        self.name = c.get("name") or ("LOKET %d" % self.counter if self.counter else self.id)
        self.transfer_to = c.get("transfer_services", [])
        pins = [(k, v) for k, v in c.get("buttons", {}).items()]
        self.buttons = Buttons(board, pins, self.press, lock_ms=c.get("lock_ms", 700))
        from ssd1306 import SSD1306

        d = cfg.get("display", {})
        self.oled = SSD1306(board.i2c(d), d.get("width", 128), d.get("height", 32))
        self.serving = None
        self.waiting = None
        self.status = None
        self.status_text = None
        self.until = None
        self.msg = ""
        self.busy = False
        self.picking = None  # index into transfer_to while choosing a transfer target
        self.render()

    def subscriptions(self):
        template = self.topics.get("counter_state")
        if not (self.counter and template):
            return ()
        return (template.replace("{counter}", str(self.counter)),)

    def handle(self, topic, payload, retained):
        st = json_object(payload)
        if st is None or not valid_counter(st):
            self.board.log("pad: counter state ignored")
            return
        self._update(st)

    def _update(self, st):
        if "serving" in st:
            self.serving = st["serving"]
        if "waiting" in st:
            self.waiting = st["waiting"]
        if "status" in st:
            self.status = st["status"]
            text, until = st.get("status_text"), st.get("until")
            self.status_text = text[:16] if isinstance(text, str) else None
            self.until = until[:5] if isinstance(until, str) else None
        self.render()

    def link_changed(self):
        self.msg = "" if self.online else "TERPUTUS"
        self.render()

    def brightness(self, level):
        self.oled.contrast(level * 17)

    def press(self, name):
        if self.picking is not None:
            return self._pick(name)
        if name == "transfer" and self.transfer_to:
            self.picking = 0
            self.msg = "ALIH KE: " + self.transfer_to[0]
            return self.render()
        if not self.online:
            self.msg = "TERPUTUS"
            return self.render()
        if self.busy:
            return
        if name == "pause":
            nxt = "open" if self.status == "break" else "break"
            asyncio.create_task(self.act("counter_status", {"status": nxt}))
        elif name in ("next", "recall", "skip", "done"):
            cmd = "call_next" if name == "next" else name
            asyncio.create_task(self.act(cmd, {}))

    def _pick(self, name):
        """Transfer: `transfer` cycles the target service, `next` confirms, others cancel."""
        if name == "transfer":
            i = (self.picking or 0) + 1
            self.picking = i % len(self.transfer_to)
            self.msg = "ALIH KE: " + self.transfer_to[self.picking]
        elif name == "next" and self.online and not self.busy:
            svc = self.transfer_to[self.picking]
            self.picking = None
            asyncio.create_task(self.act("transfer", {"service": svc}))
        else:
            self.picking = None
            self.msg = ""
        self.render()

    async def act(self, command, fields):
        self.busy = True
        self.msg = "MENGIRIM..."
        self.render()
        try:
            resp = await self.request(command, fields)
        finally:
            self.busy = False
        if resp.get("status") == "ok":
            self.msg = ""
            data = resp.get("data") or {}
            if data.get("counter") and not self.counter:
                self.counter = data["counter"]
                for topic in self.subscriptions():
                    await self.mqtt.subscribe(topic, 1)
            self._update(data)
        else:
            self.msg = "DITOLAK"
            self.board.log("pad: refused", resp.get("error"))
            self.render()

    def render(self):
        o = self.oled
        o.fill(0)
        head = self.name[:11]
        o.text(head, 0, 0, 1)
        if self.status == "open":
            o.text("BUKA", 128 - 8 * 4, 0, 1)
        o.big_text(self.serving or "-", 0, 8)
        # not open: the board's words, whole, on the line of their own ("ISTIRAHAT s.d. 12.30")
        st = "" if self.status == "open" else (self.status_text or STATUS_TEXT.get(self.status or "", ""))
        if st and self.until and len(st) + 1 + len(self.until) <= 16:
            st += " " + self.until
        low = self.msg or st or ("Menunggu: %d" % self.waiting if self.waiting is not None else "")
        o.text(low[:16], 0, 24, 1)
        o.show()

    async def main(self):
        await self.buttons.run()


def make(cfg, board):
    return CallPad(cfg, board) if cfg.get("role") == "call_pad" else Kiosk(cfg, board)


def start(cfg, board):
    asyncio.run(make(cfg, board).run())
