"""Speaker nodes: every call and recall becomes a `play` message with the clips to join, and
what a speaker could not play comes back on its `device/{id}/event`.

The clips are chosen by `antrian.announce` (the Indonesian calling grammar); the audio itself
lives on the speaker (tts_cache/), so a call plays at once and with no internet.

A speaker shortens its queue when calls pile up and gives up only a call it cannot start in
time (`antrian.speaker.node`); it reports that as `call_missed`. Such a call must never be lost
unseen: it is logged loudly, kept in `missed` (newest first) for the officer's and admin's
pages, and the LED board of that counter keeps flashing (`unheard`, read by
`antrian.extensions.boards`) until the ticket is called again, heard, or leaves the counter.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final, TypedDict

from antrian import views
from antrian.bus import Committed, MessageIn
from antrian.contract import CALL_EVENTS, Outgoing, dumps, parse_ticket_code
from antrian.extension import Extension

if TYPE_CHECKING:
    from antrian.service import HubService

log = logging.getLogger("antrian.speakers")

#: Missed calls kept for the pages: a whole morning's worth on a bad day.
MISSED_KEPT: Final = 50


class MissedCall(TypedDict):
    """One call a speaker reported it could not play (`SpeakerEvent` of `call_missed`)."""

    ticket: str
    counter: int
    id: str
    reason: str
    device: str
    at: str


class Speakers(Extension):
    name = "speakers"

    def __init__(self, hub: HubService) -> None:
        super().__init__(hub)
        # here, not in `start`: the pages may read them from a part that was never started
        #: Calls a speaker could not play, newest first (at most MISSED_KEPT).
        self.missed: list[MissedCall] = []
        #: Counter -> its missed call still to act on (called again or heard clears it).
        self.unheard: dict[int, MissedCall] = {}

    async def start(self) -> None:
        # call ids go on from today's log, so a speaker never mistakes a new call for a repeat
        self.call_seq = sum(c.call_seq for c in self.core.state.counters.values())
        self.bus.on(Committed, self, self.on_committed)
        self.bus.on(MessageIn, self, self.on_message)

    def on_committed(self, committed: Committed) -> Iterable[Outgoing]:
        # `[web] tv_voice = true`: the TV says the calls, so the speakers keep quiet (never both)
        speakers = [] if self.cfg.web.tv_voice else [d.id for d in self.cfg.devices if d.role == "speaker"]
        out: list[Outgoing] = []
        for e in committed.events:
            if e.type not in CALL_EVENTS:
                continue
            self.unheard.pop(e.data["counter"], None)  # called again: a new chance to be heard
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

    def on_message(self, msg: MessageIn) -> Iterable[Outgoing]:
        """A speaker's `event`: a missed call is kept and flashed, a played one clears it."""
        parsed = self.topics.parse_device_topic(msg.topic)
        if parsed is None or parsed[1] != "event" or parsed[2] or msg.retained:
            return ()
        device = self.cfg.device(parsed[0])
        if device is None or device.role != "speaker":
            return ()
        try:
            data: Any = json.loads(msg.payload)
        except (ValueError, UnicodeDecodeError):
            return ()
        if not isinstance(data, dict):
            return ()
        ticket, counter = data.get("ticket"), data.get("counter")
        if not isinstance(ticket, str) or parse_ticket_code(ticket) is None:
            return ()
        counters = self.core.state.counters
        if not isinstance(counter, int) or isinstance(counter, bool) or counter not in counters:
            return ()
        if data.get("event_type") == "call_played":
            if counter in self.unheard and self.unheard[counter]["ticket"] == ticket:
                del self.unheard[counter]
                return self._boards()
            return ()
        if data.get("event_type") != "call_missed":
            return ()
        missed: MissedCall = {
            "ticket": ticket,
            "counter": counter,
            "id": str(data.get("id", ""))[:40],
            "reason": str(data.get("reason", ""))[:20],
            "device": device.id,
            "at": self.core.clock().astimezone(self.cfg.office.tz).isoformat(timespec="seconds"),
        }
        log.warning(
            "CALL NOT HEARD: %s to counter %d was not played by %s (%s)",
            ticket,
            counter,
            device.id,
            missed["reason"],
        )
        self.missed = [missed, *self.missed][:MISSED_KEPT]
        if counters[counter].serving == ticket:
            self.unheard[counter] = missed
        return self._boards()

    def unheard_ticket(self, counter: int) -> str | None:
        """The ticket a speaker could not announce that `counter` is still serving, or None."""
        missed = self.unheard.get(counter)
        serving = self.core.state.counters[counter].serving if counter in self.core.state.counters else None
        return missed["ticket"] if missed is not None and missed["ticket"] == serving else None

    def _boards(self) -> Iterable[Outgoing]:
        """The boards' pictures after `unheard` changed (the boards start before the speakers)."""
        from antrian.extensions.boards import DisplayBoards

        boards = self.hub.extension("boards")
        return boards.displays() if isinstance(boards, DisplayBoards) else ()
