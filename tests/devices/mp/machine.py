"""A fake `machine` for the unix port: the watchdog and the reset, recorded.

`WDT(timeout=ms)` records each feed (`wdt_feed`); a feed that comes later than the timeout
means a real watchdog would have reset the board meanwhile: it is recorded as a reset by the
watchdog and the process ends like one. `reset()` records a reset and ends the process.
`reset_cause()` is what the test put in the config's `fake.reset_cause` (default power-on).
"""

import sys
from time import ticks_diff, ticks_ms

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

CAUSE = PWRON_RESET


def _emit(ev, **kw):
    from fakes import emit

    emit(ev, **kw)


class WDT:
    def __init__(self, id=0, timeout=5000):  # machine.WDT's own signature
        self.timeout = timeout
        self.last = ticks_ms()
        _emit("wdt_start", timeout=timeout)

    def feed(self):
        late = ticks_diff(ticks_ms(), self.last)
        if late > self.timeout:
            _emit("reset", cause="watchdog", late_ms=late)
            sys.stdout.flush()
            sys.exit(76)
        self.last = ticks_ms()
        _emit("wdt_feed")


def reset_cause():
    return CAUSE


def reset():
    _emit("reset", cause="machine.reset")
    sys.stdout.flush()
    sys.exit(77)


def unique_id():
    return b"\x24\x0a\xc4\x12\xab\xcd"
