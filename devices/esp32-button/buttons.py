"""Polled buttons, shared by the kiosk and the call pad (a module of its own so that a pad
loads neither the kiosk's code nor the ticket layout)."""

import asyncio

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
