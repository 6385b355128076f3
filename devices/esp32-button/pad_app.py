"""Call pad firmware: next, recall, skip, done, transfer (and an optional break button) for the
counter the hub binds to this pad, with an SSD1306 showing the ticket being served and how many
wait. Started by `main.py` for `role` = `call_pad` (`make`); a module of its own so that a kiosk
never loads it and a pad never loads the kiosk's code or the ticket layout.
"""

import asyncio

from buttons import Buttons
from runtime import Device, json_object


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
        try:
            o.show()
        except Exception as exc:  # noqa: BLE001 - a loose OLED wire must not stop the pad
            self.board.log("pad: display failed", repr(exc))

    async def main(self):
        await self.buttons.run()


def make(cfg, board):
    return CallPad(cfg, board)
