"""An LED board keeps flashing the ticket a speaker could not announce, on MicroPython.

The real hub gets a `call_missed` on the speaker's `device/{id}/event` (published here in the
speaker's place: the speaker node's own side is tested in tests/speaker), sets `flash` on the
counter's retained display, and the board firmware blinks the ticket for as long as it is set.
A board booting into a retained picture never blinks for a call (`call_seq` is only blinked
when seen live), so a blink after boot can only be the flash.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pixels
import pytest
from harness import board_config, online

from tests.kit import Probe
from tests.kit.office import DEVICE_OFFICE, speaker

P10 = {"type": "p10", "panels": 1}
BASE = "antrian/kantor"
DISPLAY = f"{BASE}/device/board-1/display"
EVENT = f"{BASE}/device/speaker-1/event"


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {**DEVICE_OFFICE, "devices": [*DEVICE_OFFICE["devices"], speaker()]}


def _called(watcher: Probe) -> str:
    """Take a ticket and call it to counter 1 (the counter of board-1); its code."""
    watcher.publish(f"{BASE}/device/kiosk-1/request/take_ticket", {"service": "A", "transaction": "t1"})
    answer = json.loads(watcher.latest(f"{BASE}/device/kiosk-1/response/take_ticket"))
    watcher.publish(f"{BASE}/device/pad-1/request/call_next", {"transaction": "c1"})
    watcher.latest(f"{BASE}/device/pad-1/response/call_next")
    return str(answer["data"]["ticket"])


def test_a_board_keeps_flashing_a_ticket_the_speaker_could_not_announce(broker, hub, watcher, firmware):
    ticket = _called(watcher)
    missed = {"event_type": "call_missed", "id": "call-1", "ticket": ticket, "counter": 1, "reason": "late"}
    watcher.publish(EVENT, missed)
    flashing = json.loads(watcher.latest(DISPLAY, lambda p: json.loads(p).get("flash") is True))
    assert flashing["serving"] == ticket
    assert flashing["notice"] == "SILAKAN KE LOKET"

    fw = firmware(board_config(broker, P10))
    online(fw)

    def frame() -> pixels.Frame:
        return pixels.hub12_frame(fw.of("hub12"), 1)

    shown = hidden = False
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (shown and hidden):
        f = frame()
        shown = shown or pixels.shows(f, 0, ticket)
        # the ticket's row dark while the name and the notice still scroll below it
        hidden = hidden or (shown and pixels.lit(f, 0) == 0 and pixels.lit(f, 1) > 0)
        time.sleep(0.03)
    assert shown, "the ticket never showed"
    assert hidden, "the ticket never blinked"

    # heard after all (a recall played): the flag goes, the picture stays
    n = watcher.mark()
    watcher.publish(EVENT, {**missed, "event_type": "call_played", "id": "call-2"})
    calm = json.loads(watcher.wait_for(DISPLAY, lambda p: json.loads(p).get("flash") is False, start=n))
    assert calm["serving"] == ticket
    assert calm["notice"] is None


def test_a_missed_call_of_a_ticket_no_longer_served_does_not_flash(broker, hub, watcher):
    ticket = _called(watcher)
    watcher.publish(f"{BASE}/device/pad-1/request/done", {"transaction": "d1"})
    watcher.latest(f"{BASE}/device/pad-1/response/done")
    n = watcher.mark()
    watcher.publish(EVENT, {"event_type": "call_missed", "id": "call-1", "ticket": ticket, "counter": 1})
    # a later change of the same board, after the event was handled: still not flashing
    watcher.publish(f"{BASE}/device/kiosk-1/request/take_ticket", {"service": "A", "transaction": "t2"})
    watcher.publish(f"{BASE}/device/pad-1/request/call_next", {"transaction": "c2"})
    pictures = [
        json.loads(
            watcher.wait_for(DISPLAY, lambda p: json.loads(p)["serving"] not in (None, ticket), start=n)
        )
    ]
    pictures += [json.loads(p) for t, p, _ in watcher.messages[n:] if t == DISPLAY]
    assert [p["flash"] for p in pictures] == [False] * len(pictures)
