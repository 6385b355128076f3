"""Hardware fakes for the MicroPython unix port: the board the firmware runs on in tests.

Everything the firmware would drive (printer UART, LED outputs, SPI panels, I2C OLED, the
P10 port) is recorded as one JSON line on stdout, prefixed `@@`, which the pytest side
decodes. The test drives the fakes through stdin: `press <pin>`, `paper ok|out|out_after_job`,
`status answers|silent|silent_after_job`, `uart basic`, `heap`. Nothing here touches MQTT:
the firmware's own client talks to a real broker.

The WLAN, the watchdog and the reset are the real `hw.Esp32Board` code over the fake
`network` and `machine` modules of this folder, so the firmware joins the WiFi and feeds the
watchdog as on the board; stdin `wifi up|down` switches the access point (`wifi giveup`: the
driver stops retrying), `hang <ms>` blocks
the whole loop (a stuck driver), `i2c_fail on|off` makes the OLED stop answering,
`spi_fail on|off` the LED panels' bus.
"""

import asyncio
import binascii
import gc
import json
import sys
import time

import hw
import machine
import network


def emit(ev, **kw):
    kw["ev"] = ev
    sys.stdout.write("@@" + json.dumps(kw) + "\n")


def _hex(data):
    return binascii.hexlify(bytes(data)).decode()


class FakeButton:
    def __init__(self):
        self.v = 0

    def value(self):
        return self.v

    async def press(self, hold_ms=80):
        # Contact bounce first: the firmware must not see these as presses.
        for v in (1, 0, 1, 0, 1, 0):
            self.v = v
            await asyncio.sleep_ms(3)
        self.v = 1
        await asyncio.sleep_ms(hold_ms)
        for v in (0, 1, 0):
            self.v = v
            await asyncio.sleep_ms(3)


class FakePin:
    def __init__(self, pin, value=0):
        self.pin = pin
        self.v = value

    def value(self, v=None):
        if v is None:
            return self.v
        if v != self.v:
            self.v = v
            emit("pin", pin=self.pin, v=v)
        return None


#: What the firmware's UART uses when the config gives no `baud` (as `hw.py`).
DEFAULT_BAUD = 19200


class FakeScanner:
    """A QR scanner module (GM65 and the like) on a UART: what it read, as text and CR."""

    def __init__(self):
        self.rx = bytearray()

    def any(self):
        return len(self.rx)

    def read(self, n=None):
        data = bytes(self.rx if n is None else self.rx[:n])
        self.rx = self.rx[len(data) :]
        return data

    def write(self, data):
        return len(data)


class FakePrinter:
    """An ESC/POS printer on a UART, with the wire's timing: records jobs, answers DLE EOT 4
    from its paper state.

    Bytes leave at baud/10 per second, one after another: a status question is answered only
    once the job written before it has left, and the answer byte takes its own wire time to
    come back. As on the ESP32 (256-byte ring buffer + 128-byte FIFO), `write` returns at once
    while the data fits in the TX buffer and blocks the whole interpreter until it does.
    `txdone()` and `flush()` are the UART's of MicroPython 1.20+; `uart basic` takes them away.
    """

    TX_ROOM = 384

    def __init__(self, baud):
        self.baud = baud
        self.us_per_byte = 10_000_000 // baud
        self.free_at = time.ticks_us()  # when the last byte written has left
        self.paper = "ok"
        self.status = "answers"
        self.answers = []  # (when it has arrived, byte)
        self.rx = bytearray()

    def _left_us(self):
        return max(0, time.ticks_diff(self.free_at, time.ticks_us()))

    def write(self, data):
        data = bytes(data)
        now = time.ticks_us()
        start = self.free_at if time.ticks_diff(self.free_at, now) > 0 else now
        self.free_at = time.ticks_add(start, len(data) * self.us_per_byte)
        full = self._left_us() - self.TX_ROOM * self.us_per_byte
        if full > 0:
            time.sleep_us(full)
        if data == b"\x10\x04\x04":
            answered = self.status != "silent"
            if answered:
                byte = 0x12 | (0x60 if self.paper == "out" else 0)
                self.answers.append((time.ticks_add(self.free_at, self.us_per_byte), byte))
            emit("status_query", answered=answered)
            return len(data)
        if self.paper == "out":
            emit("uart_lost", n=len(data))  # a printer with no paper prints nothing
            return len(data)
        emit("uart", data=_hex(data))
        if b"\x1dVB" in data:
            if self.paper == "out_after_job":
                self.paper = "out"
            if self.status == "silent_after_job":
                self.status = "silent"
        return len(data)

    def txdone(self):
        return not self._left_us()

    def flush(self):
        time.sleep_us(self._left_us())

    def _arrived(self):
        now = time.ticks_us()
        while self.answers and time.ticks_diff(now, self.answers[0][0]) >= 0:
            self.rx.append(self.answers.pop(0)[1])

    def any(self):
        self._arrived()
        return len(self.rx)

    def read(self, n=-1):
        self._arrived()
        if not self.rx:
            return None
        n = len(self.rx) if n < 0 else n
        out = bytes(self.rx[:n])
        self.rx = self.rx[n:]
        return out


class FakeSPI:
    def __init__(self, name):
        self.name = name

    fail = False

    def write(self, data):
        if FakeSPI.fail:
            raise OSError(5)  # EIO: a driver error while drawing
        emit("spi", bus=self.name, data=_hex(data))


class FakeI2C:
    fail = False

    def writeto(self, addr, data):
        if FakeI2C.fail:
            raise OSError(116)  # ETIMEDOUT, as machine.I2C raises when the device is gone
        data = bytes(data)
        if data[0] == 0x40:  # only frame data; commands are noise for the tests
            emit("i2c", addr=addr, data=_hex(data[1:]))


class FakeHub12:
    def __init__(self):
        self.rows = [None] * 4
        self.level = None

    def write_row(self, row, data):
        data = bytes(data)
        if self.rows[row] != data:
            self.rows[row] = data
            emit("hub12", row=row, data=_hex(data))

    def set_brightness(self, level):
        self.level = level
        emit("hub12_brightness", level=level)


class FakeBoard(hw.Esp32Board):
    def __init__(self, cfg):
        super().__init__(cfg)
        fake = cfg.get("fake", {})
        network.ap["up"] = fake.get("wifi", "up") == "up"
        machine.CAUSE = fake.get("reset_cause", machine.PWRON_RESET)
        self.buttons = {}
        self.printer = None
        self.tickers = []
        self.peak = 0
        self.peak_raw = 0
        self.baseline = 0

    def log(self, *args):
        emit("log", msg=" ".join(str(a) for a in args))

    async def wifi(self, cfg):
        emit("wifi", ssid=cfg.get("ssid", ""))
        await super().wifi(cfg)

    def reboot(self):
        emit("reboot")
        sys.stdout.flush()
        sys.exit(75)

    def close_repl(self):
        emit("repl_closed")
        super().close_repl()

    def setup_port(self):
        import os

        return int(os.getenv("SETUP_PORT") or 8080)

    def setup_held(self, pin, window_ms, hold_ms=3000):
        # `fake.held`: pins held down from power-on (the technician's finger on BOOT)
        self.held = self.cfg.get("fake", {}).get("held", ())
        return super().setup_held(pin, window_ms, hold_ms)

    def button(self, pin):
        b = self.buttons[pin] = FakeButton()
        if pin in getattr(self, "held", ()):
            b.v = 1
        return b

    def output(self, pin, value=0):
        return FakePin(pin, value)

    def uart(self, cfg):
        if cfg is self.cfg.get("kiosk", {}).get("scanner"):
            self.scanner = FakeScanner()
            return self.scanner
        self.printer = FakePrinter(cfg.get("baud", DEFAULT_BAUD))
        return self.printer

    def spi(self, cfg):
        return FakeSPI(cfg.get("name", "spi"))

    def i2c(self, cfg):
        return FakeI2C()

    def hub12(self, cfg):
        return FakeHub12()

    def ticker(self, period_ms, callback):
        self.tickers.append(callback)

    # -- test side ------------------------------------------------------------------------

    async def control(self):
        """Commands from the test on stdin."""
        reader = asyncio.StreamReader(sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                return
            parts = line.decode().split()
            if not parts:
                continue
            if parts[0] == "press":
                asyncio.create_task(self.buttons[int(parts[1])].press())  # noqa: RUF006 - the MicroPython loop keeps tasks
            elif parts[0] == "scan":  # the QR scanner reads a code: its text, then CR
                self.scanner.rx += line.decode()[5:].rstrip("\n").encode() + b"\r"
            elif parts[0] == "paper":
                self.printer.paper = parts[1]
                emit("paper", state=parts[1])
            elif parts[0] == "status":
                self.printer.status = parts[1]
            elif parts[0] == "uart" and parts[1] == "basic":
                # a UART of MicroPython before 1.20: no txdone(), no flush()
                self.printer.txdone = None
                self.printer.flush = None
            elif parts[0] == "wifi" and parts[1] == "giveup":  # the driver stops retrying
                for sta in network.stations:
                    sta.joining = False
            elif parts[0] == "wifi":
                network.ap["up"] = parts[1] == "up"
                emit("ap", up=network.ap["up"])
            elif parts[0] == "hang":  # a driver that blocks the whole loop
                emit("hang", ms=int(parts[1]))
                time.sleep_ms(int(parts[1]))
            elif parts[0] == "i2c_fail":  # the OLED stops answering (loose wire)
                FakeI2C.fail = parts[1] == "on"
            elif parts[0] == "spi_fail":  # the panel driver fails while drawing
                FakeSPI.fail = parts[1] == "on"
            elif parts[0] == "heap":
                gc.collect()
                emit(
                    "heap",
                    peak=self.peak,
                    peak_raw=self.peak_raw,
                    now=gc.mem_alloc(),
                    baseline=self.baseline,
                )

    async def run_tickers(self):
        """The P10 scan timer, slowed down: the fake records rows only when they change."""
        while True:
            for cb in self.tickers:
                for _ in range(4):
                    cb()
            await asyncio.sleep_ms(10)

    async def heap_monitor(self):
        """Peak heap: live objects after a collection, sampled every 20 ms.

        `peak_raw` (allocated before collecting, garbage included) is reported too: it is
        what the heap must hold between automatic collections.
        """
        while True:
            raw = gc.mem_alloc()
            if raw > self.peak_raw:
                self.peak_raw = raw
            gc.collect()
            now = gc.mem_alloc()
            if now > self.peak:
                self.peak = now
            await asyncio.sleep_ms(20)
