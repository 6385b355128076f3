"""The thin hardware layer: the only module that touches `machine` and `network`.

Firmware asks the board for buttons, outputs, a UART, an SPI bus, an I2C bus, a HUB12 port
and a periodic timer, and never imports `machine` itself. On the MicroPython unix port (the
tests) another object with the same methods stands in and records what would be printed or
shown, so the same firmware runs unchanged on both.
"""

import asyncio

import machine
import network


class Esp32Board:
    """The real ESP32: pins by GPIO number, buses by the numbers in the config file."""

    def __init__(self, cfg):
        self.cfg = cfg

    def log(self, *args):
        print(*args)

    async def wifi(self, cfg):
        """Join the office WiFi; keep trying (the access point may boot after us)."""
        sta = network.WLAN(network.STA_IF)
        sta.active(True)
        if cfg.get("hostname"):
            network.hostname(cfg["hostname"])
        while not sta.isconnected():
            sta.connect(cfg.get("ssid", ""), cfg.get("password", ""))
            for _ in range(100):
                if sta.isconnected():
                    break
                await asyncio.sleep_ms(100)
        asyncio.create_task(self._wifi_watch(sta, cfg))

    async def _wifi_watch(self, sta, cfg):
        """Rejoin after the access point drops us; MQTT notices and reconnects by itself."""
        while True:
            await asyncio.sleep(5)
            if not sta.isconnected():
                sta.connect(cfg.get("ssid", ""), cfg.get("password", ""))

    def reboot(self):
        machine.reset()

    def button(self, pin):
        """An input with pull-up; `value()` is 1 while pressed (button to GND)."""
        return _Inverted(machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_UP))

    def output(self, pin, value=0):
        return machine.Pin(pin, machine.Pin.OUT, value=value)

    def uart(self, cfg):
        return machine.UART(
            cfg.get("id", 2),
            baudrate=cfg.get("baud", 9600),
            tx=cfg.get("tx", 17),
            rx=cfg.get("rx", 16),
            timeout=0,
        )

    def spi(self, cfg):
        return machine.SPI(
            cfg.get("id", 1),
            baudrate=cfg.get("baud", 4000000),
            sck=machine.Pin(cfg.get("sck", 18)),
            mosi=machine.Pin(cfg.get("mosi", 23)),
        )

    def i2c(self, cfg):
        return machine.I2C(
            cfg.get("id", 0),
            scl=machine.Pin(cfg.get("scl", 22)),
            sda=machine.Pin(cfg.get("sda", 21)),
            freq=cfg.get("freq", 400000),
        )

    def hub12(self, cfg):
        return Hub12Port(self, cfg)

    def ticker(self, period_ms, callback):
        """Call `callback()` every period_ms from a hardware timer (the P10 scan)."""
        t = machine.Timer(0)
        t.init(period=period_ms, mode=machine.Timer.PERIODIC, callback=lambda _t: callback())
        return t


class _Inverted:
    def __init__(self, pin):
        self.pin = pin

    def value(self):
        return 1 - self.pin.value()


class Hub12Port:
    """A P10 (HUB12) input: SPI data + clock, latch (STB), row select A/B, OE as PWM."""

    def __init__(self, board, cfg):
        self.spi = board.spi(cfg)
        self.a = board.output(cfg.get("a", 19))
        self.b = board.output(cfg.get("b", 21))
        self.latch = board.output(cfg.get("latch", 5))
        self.oe = machine.PWM(machine.Pin(cfg.get("oe", 22)), freq=10000, duty_u16=0)
        self.duty = 65535

    def write_row(self, row, data):
        """Shift one scan row (1/4 scan) out and show it; called from the timer."""
        self.oe.duty_u16(0)
        self.spi.write(data)
        self.a.value(row & 1)
        self.b.value(row >> 1 & 1)
        self.latch.value(1)
        self.latch.value(0)
        self.oe.duty_u16(self.duty)

    def set_brightness(self, level):
        self.duty = (level + 1) * 4096 - 1
