"""What every MQTT part promises, written once and run against each part.

In the manner of Home Assistant's `tests/components/mqtt/test_common.py` (`help_test_*`): a
scenario takes a `Part` (see `parts.py`), starts it on its own broker and checks one promise
of the contract (`mqtt_topics.md`, "Conventions" and "Guarantees"):

* a command found retained on the broker is ignored (commands are never retained; obeying a
  retained one would replay it on every reconnect);
* a bad payload on any topic the part reads is refused or ignored, never a crash;
* after a broker restart that lost every retained message, the part publishes its retained
  state again, and serves;
* killed without a goodbye, the part's last will says `offline`, retained.

A part's test file runs `ALL` against its part (`tests/test_part_hub.py` is the model).
Nothing here waits for a fixed time: each check waits for an effect, and "did not happen" is
decided after a later message on the same topic was seen to take effect (MQTT keeps the order
of one topic's messages to one subscriber).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from .parts import Part
from .probe import Probe
from .waiting import wait_until


def _obeys(part: Part, n: int, probe: Probe, what: str, timeout: float = 20.0) -> None:
    """Send `command(n)` live and wait until the part acted on it."""
    topic, payload = part.command(n)
    probe.publish(topic, payload)
    wait_until(lambda: part.acted(n) or not part.alive(), timeout, f"{part.name} acting {what}")
    assert part.alive(), f"{part.name} died"
    assert part.acted(n), f"{part.name} did not act on a live command {what}"


def _births(part: Part, probe: Probe, start: int) -> int:
    return sum(1 for t, p, _ in probe.messages[start:] if t == part.availability and part.is_online(p))


def retained_command_is_ignored(part: Part) -> None:
    """A command retained before the part (re)subscribes is not acted on; a live one is."""
    probe = Probe(part.broker)
    topic, payload = part.command(1)
    probe.publish(topic, payload, retain=True)
    try:
        part.start()
        _obeys(part, 2, probe, "sent after a retained one")
        assert not part.acted(1), f"{part.name} obeyed a retained command on {topic}"
    finally:
        probe.publish(topic, b"", retain=True)  # clear it
        probe.close()


def bad_payloads_are_survived(part: Part) -> None:
    """Every bad payload on every topic the part reads: refused (an error answer where the part
    answers) or ignored, with no exception escaping, no reconnect, and the part still serving."""
    probe = Probe(part.broker, follow=(part.availability,))
    try:
        start = probe.mark()
        part.start()
        bad_payloads = part.bad_payloads()
        for answers in sorted({bad.answer for bad in bad_payloads if bad.answer}):
            probe.subscribe(answers)
        for bad in bad_payloads:
            mark = probe.mark()
            probe.publish(bad.topic, bad.payload)
            if bad.answer is not None:
                answer = json.loads(probe.wait_for(bad.answer, timeout=10, start=mark))
                assert answer["status"] == "error", (bad, answer)
        _obeys(part, 3, probe, "after the bad payloads")
        assert part.alive(), f"{part.name} died"
        assert part.crashes() == [], f"{part.name}: an exception escaped: {part.crashes()[:5]}"
        assert _births(part, probe, start) == 1, f"{part.name} lost its connection over a payload"
    finally:
        probe.close()


def state_is_republished_after_broker_restart(part: Part) -> None:
    """A broker restarted without persistence has lost every retained message: the part
    reconnects by itself, publishes its retained state again, and acts on commands."""
    part.start()
    part.broker.restart()
    fresh = Probe(part.broker)
    try:
        for topic, valid in part.retained_state().items():
            fresh.subscribe(topic)
            fresh.wait_for(topic, valid, timeout=30)
        _obeys(part, 4, fresh, "after the broker restart")
    finally:
        fresh.close()


def _retained(part: Part) -> bytes:
    """What a client subscribing now is told on the part's availability topic."""
    late = Probe(part.broker)
    try:
        late.subscribe(part.availability)
        late.wait_for(part.availability, timeout=5)
        [(_topic, payload, retained)] = late.messages
        assert retained, f"{part.name}: availability is not retained"
        return payload
    finally:
        late.close()


def last_will_fires_on_kill(part: Part) -> None:
    """Its birth is retained `online`; killed with no DISCONNECT, the broker publishes its
    last will: `offline`, retained for whoever looks later."""
    probe = Probe(part.broker, follow=(part.availability,))
    try:
        part.start()
        assert part.is_online(_retained(part))
        start = probe.mark()
        part.kill()
        probe.wait_for(part.availability, part.is_offline, timeout=30, start=start)
        assert part.is_offline(_retained(part))
    finally:
        probe.close()


Scenario = Callable[[Part], None]
#: Every shared scenario; a part's test runs each of them (parametrised by name).
ALL: tuple[Scenario, ...] = (
    retained_command_is_ignored,
    bad_payloads_are_survived,
    state_is_republished_after_broker_restart,
    last_will_fires_on_kill,
)


def every_scenario(known_bugs: Mapping[Scenario, str] | None = None) -> list[Any]:
    """`ALL` as pytest parameters named after each scenario. A scenario in `known_bugs` (with
    the bug's description) is expected to fail, strictly: once the bug is fixed the test says
    so, and the entry must go."""
    bugs = known_bugs or {}
    return [
        pytest.param(
            s, id=s.__name__, marks=[pytest.mark.xfail(reason=bugs[s], strict=True)] if s in bugs else []
        )
        for s in ALL
    ]
