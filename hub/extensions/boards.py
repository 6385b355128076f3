"""LED boards above the counters: what each shows, retained on `device/{id}/display`.

A board only renders what it is sent (see devices/esp32-display); the words and lines come
from `antrian.views.display`, so the TV and the boards never disagree. While a speaker reports
that it could not announce the ticket a counter is serving (`antrian.extensions.speakers`),
that counter's board gets `flash: true` and a notice, and keeps flashing the ticket until it is
called again or heard: people who missed the call still see it.
"""

from __future__ import annotations

from collections.abc import Iterable

from antrian import views
from antrian.bus import Committed, Connected, Ticked
from antrian.contract import Outgoing
from antrian.extension import Extension, RetainedCache
from antrian.extensions.speakers import Speakers
from antrian.i18n import t


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
        speakers = self.hub.extension("speakers")
        for dev in self.cfg.devices:
            if dev.role == "led_board" and dev.counter is not None and dev.counter in state.counters:
                picture = views.display(state, dev.counter)
                unheard = isinstance(speakers, Speakers) and speakers.unheard_ticket(dev.counter) is not None
                if unheard:
                    picture["notice"] = t("board.unheard", self.cfg.office.language)
                picture["flash"] = unheard
                out += self.cache.changed(self.topics.device_display(dev.id), picture, force=force)
        return out
