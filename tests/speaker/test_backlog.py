"""No call is lost unseen: a backlog is shortened, recalls fold into their call, and a call that
still cannot be said in time is reported on the speaker's `device/{id}/event` and reaches the
hub's `speakers` extension. Real hub, real speaker node, real broker; WAV files measured."""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from antrian.announce import build, joined, split
from antrian.contract import Topics
from antrian.extensions.speakers import Speakers
from antrian.voice import audio
from antrian.voice.cache import ClipCache
from tests.kit import InProcessHub, Mosquitto, Probe
from tests.kit.office import ALL_DAY, office, speaker

from .conftest import SPEAKER, NodeThread, ScaledClock, contains, rendered, samples_of, until

T = Topics("kantor")


def counters_office(n: int) -> dict[str, Any]:
    counters = [{"number": c, "services": ["A", "B", "C"]} for c in range(1, n + 1)]
    return office(speaker(), office=ALL_DAY, counters=counters)


def events(probe: Probe) -> dict[str, dict[str, Any]]:
    """Call id -> what the speaker said about it on its `event` topic (the last word)."""
    out: dict[str, dict[str, Any]] = {}
    for topic, raw, _ in list(probe.messages):
        if topic == T.device_event(SPEAKER):
            body = json.loads(raw)
            out[body["id"]] = body
            for other in body.get("replaces", []):
                out[other] = body
    return out


def plays(probe: Probe) -> dict[str, dict[str, Any]]:
    return {
        body["id"]: body
        for topic, raw, _ in list(probe.messages)
        if topic == T.device_play(SPEAKER) and (body := json.loads(raw))
    }


def press(probe: Probe, command: str, **body: Any) -> dict[str, Any]:
    answer = probe.request(T.hub_request(command), T.hub_response(command), body)
    assert answer["status"] == "ok", answer
    return answer


def once(cache: Path, letter: str, number: int, counter: int) -> array[int]:
    """The samples of one repetition of a call: what a shortened announcement says of it."""
    return rendered(cache, split(build(letter, number, counter).clips)[1][0])


@contextmanager
def office_with(
    counters: int, broker: Mosquitto, workdir: Path, clock: ScaledClock
) -> Iterator[tuple[InProcessHub, Probe]]:
    """The hub of an office with `counters` counters and a speaker, and a probe that presses
    the buttons and hears what goes to and comes from the speaker."""
    hub = InProcessHub(broker, workdir / "hub", counters_office(counters), clock=clock).start()
    probe = Probe(broker, follow=[T.hub_response("+"), T.device_play(SPEAKER), T.device_event(SPEAKER)])
    try:
        yield hub, probe
    finally:
        probe.close()
        hub.stop()


def test_a_burst_from_ten_counters_is_each_heard_or_reported_missed(
    broker: Mosquitto, tmp_path: Path, office_cache: Path, played: Path
) -> None:
    clock = ScaledClock()
    with (
        office_with(10, broker, tmp_path, clock) as (hub, probe),
        NodeThread(broker, office_cache, played, clock) as speaker_node,
    ):
        tickets = [str(press(probe, "take_ticket", service="A")["data"]["ticket"]) for _ in range(10)]
        for counter in range(1, 11):  # the doors open: every counter calls at once
            press(probe, "call_next", counter=counter)
        until(lambda: len(plays(probe)) == 10 and set(plays(probe)) <= set(events(probe)))
        until(speaker_node.idle)
        speakers = hub.call(lambda: hub.service.extension("speakers"))
        assert isinstance(speakers, Speakers)
        kept = hub.call(lambda: list(speakers.missed))
        flashing = hub.call(lambda: dict(speakers.unheard))

    sent, said = plays(probe), events(probe)
    heard = {i for i, e in said.items() if e["event_type"] == "call_played"}
    missed = {i for i, e in said.items() if e["event_type"] == "call_missed"}
    # every call is accounted for, once: heard, or reported as not heard
    assert heard | missed == set(sent)
    assert not heard & missed
    # a minute of calls cannot be said within the 30 s a call may wait, even shortened: some
    # are given up - and said so - because they could not start in time
    assert missed
    assert {said[i]["reason"] for i in missed} == {"late"}
    # the rest were said: each heard call's words are in what the sink played
    out = [samples_of(p) for p in sorted(played.glob("*.wav"))]
    for call_id in heard:
        letter, number = sent[call_id]["ticket"].split("-")
        words = once(office_cache, letter, int(number), sent[call_id]["counter"])
        assert any(contains(wav, words) for wav in out), call_id
    for call_id in missed:  # and a missed call's words are nowhere
        letter, number = sent[call_id]["ticket"].split("-")
        words = once(office_cache, letter, int(number), sent[call_id]["counter"])
        assert not any(contains(wav, words) for wav in out), call_id
    # the backlog was joined: fewer announcements than calls heard, and shortened
    assert len(out) < len(heard)
    assert any(said[i]["joined"] > 1 and said[i]["shortened"] for i in heard)
    # the hub heard about every missed call and keeps it for the pages; each of those
    # counters still serves its ticket, so its board flashes
    assert sorted(m["id"] for m in kept) == sorted(missed)
    assert {m["ticket"] for m in kept} <= set(tickets)
    assert sorted(flashing) == sorted(sent[i]["counter"] for i in missed)


def test_a_recall_takes_the_place_of_its_unheard_call_and_another_ticket_supersedes_it(
    broker: Mosquitto, tmp_path: Path, office_cache: Path, played: Path
) -> None:
    clock = ScaledClock(speed=5)  # slow enough that four presses fit in the first call
    with (
        office_with(3, broker, tmp_path, clock) as (_hub, probe),
        NodeThread(broker, office_cache, played, clock) as speaker_node,
    ):
        for service in "ABCC":
            press(probe, "take_ticket", service=service)
        node = speaker_node.node
        press(probe, "call_next", counter=1)  # A-001, said while the rest come in
        until(lambda: "call-1" in node.stats.started)
        press(probe, "call_next", counter=2)  # B-001
        press(probe, "recall", counter=2)  # B-001 again, before it was heard
        press(probe, "call_next", counter=3)  # C-001
        press(probe, "call_next", counter=3)  # C-002: counter 3 has moved on
        assert "call-2" not in node.stats.started, "the first call ended too soon for this test"
        until(lambda: set(plays(probe)) <= set(events(probe)) and len(plays(probe)) == 5)
        until(speaker_node.idle)

    said = events(probe)
    # the recall is said once, in the place of the call it repeats, and stands for both
    assert said["call-3"]["event_type"] == "call_played"
    assert said["call-3"]["replaces"] == ["call-2"]
    assert node.stats.replaced == {"call-2": "call-3"}
    # C-001 was never said: counter 3 called C-002 first, and the speaker says so
    assert (said["call-4"]["event_type"], said["call-4"]["reason"]) == ("call_missed", "superseded")
    assert said["call-5"]["event_type"] == "call_played"
    assert node.stats.played == ["call-1", "call-3", "call-5"]

    first, backlog = sorted(played.glob("*.wav"))
    # alone on a silent speaker: as the hub sent it, chime first, but said once only, because
    # other calls were waiting by the end of its first repetition
    a001 = split(build("A", 1, 1).clips)[1]
    assert samples_of(first) == rendered(office_cache, joined(a001[:1], chime=True))
    # the two waiting calls, joined: each said once, no chime (the room was listening)
    b001, c002 = (split(build(*call).clips)[1][0] for call in (("B", 1, 2), ("C", 2, 3)))
    assert samples_of(backlog) == rendered(office_cache, joined([b001, c002], chime=False))
    # measured: two calls in less time than one call as the hub sent it
    as_sent = ClipCache(office_cache).render(build("B", 1, 2).clips)[0]
    assert audio.read_wav(backlog).duration < as_sent.duration
