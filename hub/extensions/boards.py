"""LED boards above the counters: what each shows, retained on `device/{id}/display`.

A board only renders what it is sent (see devices/esp32-display); the words and lines come
from `antrian.views.display`, so the TV and the boards never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable

from antrian import views
from antrian.bus import Committed, Connected, Ticked
from antrian.contract import Outgoing
from antrian.extension import Extension, RetainedCache


class DisplayBoards(Extension):
    name = "boards"

    async def start(self) -> None:
        self.cache = RetainedCache()
        self.bus.on(Committed, self, lambda e: self.displays())
        self.bus.on(Ticked, self, lambda e: self.displays())
        self.bus.on(Connected, self, lambda e: self.displays(force=True))

    def displays(self, *, force: bool = False) -> Iterable[Outgoing]:
        """The display of every configured board whose picture changed (all with `force`)."""
        out: list[Outgoing] = []
        state = self.core.state
        for dev in self.cfg.devices:
            if dev.role == "led_board" and dev.counter is not None and dev.counter in state.counters:
                out += self.cache.changed(
                    self.topics.device_display(dev.id), views.display(state, dev.counter), force=force
                )
        return out
