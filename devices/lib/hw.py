"""The thin hardware layer: the only module that touches `machine` and `network`.

Firmware asks the board for buttons, outputs, a UART, an SPI bus, an I2C bus, a HUB12 port
and a periodic timer, and never imports `machine` itself. On the MicroPython unix port (the
tests) another object with the same methods stands in and records what would be printed or
shown, so the same firmware runs unchanged on both.

It also keeps the board alive by itself: the WLAN is joined once and then left to the
driver, which reconnects on its own (calling `connect()` again while it does raises
`OSError: Wifi Internal Error`); a hardware watchdog resets a board whose main loop stops;
`main()` turns anything that escapes the firmware into a reset, never the REPL.
"""

import asyncio
import sys
import time

import machine
import network

from time import ticks_diff, ticks_ms

#: After this long without an address while the driver has stopped trying (status idle),
#: `connect()` is called again; after ten times as long without an address, whatever the
#: status says (a driver stuck on "no access point"). A refused call is only logged.
REJOIN_MS = 30000
#: Reasons for the last reset, by `machine.reset_cause()`.
RESET_CAUSES = {
    getattr(machine, "PWRON_RESET", 1): "power_on",
    getattr(machine, "HARD_RESET", 2): "hard",
    getattr(machine, "WDT_RESET", 3): "watchdog",
    getattr(machine, "DEEPSLEEP_RESET", 4): "deep_sleep",
    getattr(machine, "SOFT_RESET", 5): "soft",
}


class Wifi:
    """The station interface: one `connect()`, then the state is only read.

    `check()` runs every second: it calls `connect()` again only when the driver has stopped
    trying on its own (idle, no address) for `REJOIN_MS`, or has had no address for ten
    times as long. Every call is guarded: a WLAN error is logged and tried again later,
    never raised.
    """

    def __init__(self, cfg, log):
        self.cfg = cfg
        self.log = log
        self.sta = None
        self.tried = ticks_ms()

    def start(self):
        try:
            self.sta = network.WLAN(network.STA_IF)
            self.sta.active(True)
            if self.cfg.get("hostname"):
                network.hostname(self.cfg["hostname"])
        except Exception as exc:  # noqa: BLE001 - tried again by check()
            self.log("wifi: start failed", repr(exc))
        self._connect()

    def _connect(self):
        self.tried = ticks_ms()
        if self.sta is None:
            return self.start()
        try:
            self.sta.connect(self.cfg.get("ssid", ""), self.cfg.get("password", ""))
        except Exception as exc:  # noqa: BLE001 - the driver may already be reconnecting
            self.log("wifi: connect failed", repr(exc))
        return None

    def up(self):
        try:
            return self.sta is not None and self.sta.isconnected()
        except Exception:  # noqa: BLE001
            return False

    def check(self):
        """Once a second: join again only if the driver has given up."""
        if self.up():
            self.tried = ticks_ms()
            return True
        try:
            idle = self.sta is None or self.sta.status() == getattr(network, "STAT_IDLE", 1000)
        except Exception:  # noqa: BLE001
            idle = True
        if ticks_diff(ticks_ms(), self.tried) >= (REJOIN_MS if idle else 10 * REJOIN_MS):
            self.log("wifi: joining again")
            self._connect()
        return False

    def rssi(self):
        sta = self.sta
        try:
            return sta.status("rssi") if sta is not None and self.up() else None
        except Exception:  # noqa: BLE001
            return None


class Esp32Board:
    """The real ESP32: pins by GPIO number, buses by the numbers in the config file."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.net = None

    def log(self, *args):
        print(*args)

    async def wifi(self, cfg):
        """Start joining the office WiFi and return at once (the access point may boot after
        us); `wifi_up()` tells when it is there, `wifi_check()` keeps it joined."""
        self.net = Wifi(cfg, self.log)
        self.net.start()

    def wifi_up(self):
        return self.net is not None and self.net.up()

    def wifi_check(self):
        return self.net is not None and self.net.check()

    def rssi(self):
        return self.net.rssi() if self.net is not None else None

    def watchdog(self, timeout_ms):
        """The hardware watchdog: reset unless `feed()` comes within `timeout_ms`."""
        return machine.WDT(timeout=timeout_ms)

    def reset_cause(self):
        try:
            return RESET_CAUSES.get(machine.reset_cause(), "unknown")
        except Exception:  # noqa: BLE001
            return "unknown"

    def reboot(self):
        machine.reset()

    def unique_id(self):
        """The last 6 hex digits of the chip's id (names the setup network of a new board)."""
        import binascii

        return binascii.hexlify(machine.unique_id()).decode()[-6:]

    def setup_port(self):
        return 80

    def setup_ap(self, name):
        """Open the setup network (no password: see `fieldsetup`), at 192.168.4.1."""
        ap = network.WLAN(network.AP_IF)
        ap.active(True)
        ap.config(essid=name, authmode=getattr(network, "AUTH_OPEN", 0))

    def wifi_scan(self):
        """[(name, rssi)] of the WiFi networks around, strongest first, at most 15."""
        try:
            sta = network.WLAN(network.STA_IF)
            sta.active(True)
            found = {}  # type: dict[str, int]
            for net in sta.scan():
                name = net[0].decode("utf-8", "replace") if isinstance(net[0], bytes) else str(net[0])
                if name and (name not in found or net[3] > found[name]):
                    found[name] = net[3]
            return sorted(found.items(), key=lambda x: -x[1])[:15]
        except Exception as exc:  # noqa: BLE001 - the page still takes a typed name
            self.log("setup: scan failed", repr(exc))
            return []

    def setup_held(self, pin, window_ms, hold_ms=3000):
        """True when the setup button is pressed within `window_ms` of the start and held
        for `hold_ms`; the window passes either way (a Ctrl-C's chance on a workshop board)."""
        try:
            b = self.button(pin)
        except Exception:  # noqa: BLE001 - no such pin on this board
            time.sleep_ms(window_ms)
            return False
        t0 = ticks_ms()
        while ticks_diff(ticks_ms(), t0) < window_ms:
            if b.value():
                t1 = ticks_ms()
                while b.value():
                    if ticks_diff(ticks_ms(), t1) >= hold_ms:
                        return True
                    time.sleep_ms(50)
            time.sleep_ms(50)
        return False

    def close_repl(self):
        """Production: Ctrl-C no longer interrupts the firmware, so no REPL can be reached."""
        import micropython

        micropython.kbd_intr(-1)

    def button(self, pin):
        """An input with pull-up; `value()` is 1 while pressed (button to GND)."""
        return _Inverted(machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_UP))

    def output(self, pin, value=0):
        return machine.Pin(pin, machine.Pin.OUT, value=value)

    def uart(self, cfg):
        return machine.UART(
            cfg.get("id", 2),
            baudrate=cfg.get("baud", 19200),
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


#: What a config needs before the firmware can run; without it the board opens its setup.
NEEDED = ("id", "role", "topics", "mqtt", "wifi")


def _read_config(path):
    """`config.json`, through the firmware's `runtime` (which brings `mqtt` with it)."""
    from runtime import load_config

    return load_config(path)


def _free_firmware():
    """Drop the firmware modules read so far, so that the setup page can be compiled.

    Compiling `fieldsetup` and `ota` from source needs a few KB in one piece; with `runtime`
    and `mqtt` loaded, a board's heap (128 KB in the tests, less on an ESP32) was left in
    pieces of 2-3 KB, and the import failed with MemoryError some of the time: a reset loop
    with no setup network. The setup page needs neither module."""
    import gc

    for name in ("runtime", "mqtt", "button_app", "pad_app", "display_app"):
        sys.modules.pop(name, None)
    gc.collect()


def main(app, board_class=None, path="config.json", grace_ms=2000):
    """What `main.py` runs: the role's firmware, and a reset if anything escapes it.

    The first `grace_ms` are left to a Ctrl-C (mpremote): interrupted there the board stays
    in the REPL without a watchdog, for maintenance. Any later failure, even one nobody
    foresaw, resets the board instead of leaving it at the REPL until someone comes.

    A board whose config says `"production": true` has no such window: Ctrl-C is switched
    off before the firmware starts (`close_repl`), so a USB cable plugged into the kiosk in
    the lobby finds no REPL to read `config.json` (the office WiFi password) from. Such a
    board is changed over the air, or erased and flashed again (`devices/README.md`).

    The same window watches the setup button (`setup_pin`, default GPIO0 = BOOT): held for
    3 s, or without a complete config, the board opens its setup network (`fieldsetup`).

    `app` is the firmware module's name, imported only when no setup is wanted: with the
    kiosk's firmware already in memory, compiling the setup page ran out of heap on a
    fragmented board (MemoryError, then a reset loop with no setup network). A loader from
    before passes the module itself, which still works.
    """
    cfg = None
    try:
        cfg = _read_config(path)
    except Exception as exc:  # noqa: BLE001 - no config: the setup network
        sys.print_exception(exc)
    try:
        board = (board_class or Esp32Board)(cfg or {})
        if cfg is not None and cfg.get("production") is True:
            board.close_repl()
        held = board.setup_held((cfg or {}).get("setup_pin", 0), grace_ms)
        if held or not isinstance(cfg, dict) or any(not cfg.get(k) for k in NEEDED):
            _free_firmware()
            import fieldsetup

            asyncio.run(fieldsetup.run(board, cfg if isinstance(cfg, dict) else {}, path, board.setup_port()))
        else:
            if isinstance(app, str):  # the firmware's module, loaded only now: see below
                app = __import__(app)
            asyncio.run(app.make(cfg, board).run())
    except Exception as exc:  # noqa: BLE001 - anything at all: reset
        sys.print_exception(exc)
    print("main: reset")
    time.sleep_ms(1000)
    machine.reset()
