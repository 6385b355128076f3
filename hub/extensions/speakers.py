"""Speaker nodes: every call and recall becomes a `play` message with the clips to join.

The clips are chosen by `antrian.announce` (the Indonesian calling grammar); the audio itself
lives on the speaker (tts_cache/), so a call plays at once and with no internet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from antrian import views
from antrian.bus import Committed
from antrian.contract import CALL_EVENTS, Outgoing, dumps
from antrian.extension import Extension

log = logging.getLogger("antrian.speakers")


class Speakers(Extension):
    name = "speakers"

    async def start(self) -> None:
        # call ids go on from today's log, so a speaker never mistakes a new call for a repeat
        self.call_seq = sum(c.call_seq for c in self.core.state.counters.values())
        self.bus.on(Committed, self, self.on_committed)

    def on_committed(self, committed: Committed) -> Iterable[Outgoing]:
        speakers = [d.id for d in self.cfg.devices if d.role == "speaker"]
        out: list[Outgoing] = []
        for e in committed.events:
            if e.type not in CALL_EVENTS:
                continue
            self.call_seq += 1
            try:
                payload = views.play(
                    self.cfg, f"call-{self.call_seq}", e.data["ticket"], e.data["counter"], committed.now
                )
            except ValueError:  # a call that cannot be spoken is still shown everywhere
                log.exception("no announcement for %s", e.data["ticket"])
                continue
            out += [Outgoing(self.topics.device_play(d), dumps(payload)) for d in speakers]
        return out
