"""Calls benchmark: how many calls the waiting room hears, and how late, when counters call.

    .venv/bin/python bench/bench_calls.py [--quick] [--speed 40] [--counters 3,6,10]

Through the real hub (`HubService` in this process, on its own thread and event loop) and the
real speaker node (`SpeakerNode`, its own thread and loop) on a Mosquitto of its own, the
counters press `call_next` and `recall` like officers do:

* realistic: each counter calls every 3-6 minutes, and a third of the calls are recalled
  20-60 s later (nobody came);
* burst: every counter calls within the same 20 s (the doors open, a break ends), and a third
  of them recall 5-15 s later.

The speaker writes WAV files (there is no loudspeaker here) paced like a sound card, and both
the hub and the node run on one clock that goes `--speed` times faster than real time, so 30
minutes of an office take 45 s. The clips are the office's own (`tts_cache/`), so an
announcement lasts what it lasts in the waiting room (A-012 to loket 3, said twice: ~12 s).

For each call it prints the share heard (the call itself, or the recall that took its place in
the queue, reached the sink), the share given up and reported (`call_missed` on the
speaker's `device/{id}/event`), the share lost silently, and the delay from the hub's commit
(`issued_at`) to the first audio frame of the call's words: median and worst. Each scenario is
run twice in the same run, with the queue policy before (every call whole, first come first
served, a call older than its `expires_at` dropped unreported) and with the current one, and
printed side by side. MQTT and scheduling delays are stretched by the speed-up as well (a 2 ms
hop counts as 80 ms at 40x), so the delays are slightly pessimistic. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from antrian.config import MqttConfig, parse_config
from antrian.contract import Topics, dumps
from antrian.core import HubCore
from antrian.service import HubService
from antrian.speaker import SpeakerConfig, SpeakerNode, WavFileSink
from antrian.speaker.node import Call, Turn
from antrian.store import EventStore
from tests.kit import Mosquitto
from tests.kit.clock import MORNING

ROOT = Path(__file__).resolve().parents[1]
T = Topics("kantor")
SPEAKER = "speaker-1"
SERVICES = ("A", "B", "C", "D", "E")


def step(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


class SimClock:
    """Time that runs `speed` times faster than real time, from an office morning on."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.origin = MORNING
        self.p0 = time.perf_counter()

    def __call__(self) -> datetime:
        return self.origin + timedelta(seconds=self.elapsed())

    def elapsed(self) -> float:
        """Simulated seconds since the start."""
        return (time.perf_counter() - self.p0) * self.speed

    async def until(self, sim_s: float) -> None:
        left = sim_s - self.elapsed()
        if left > 0:
            await asyncio.sleep(left / self.speed)


class BeforeNode(SpeakerNode):
    """The queue policy before calls were shortened: every call whole, first come first
    served, and one whose `expires_at` passed while it waited dropped without a word."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dropped: list[str] = []

    def admit(self, call: Call) -> None:
        if self.expired(call):
            self.dropped.append(call.call_id)
            return
        self.pending.append(call)
        self._wake.set()

    def next_turn(self) -> Turn | None:
        while self.pending:
            call = self.pending.pop(0)
            if self.expired(call):
                self.dropped.append(call.call_id)
                continue
            return dataclasses.replace(self.shape([call], chime=True), cut=None)  # said whole
        return None

    def report(self, event: Any) -> None:
        pass


class Thread:
    """One asyncio program on a thread of its own, as it would be a process of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.tasks: list[Any] = []

    def run(self, coro: Any) -> None:
        self.tasks.append(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        time.sleep(0.3)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@dataclass
class Outcome:
    """What became of the calls of one run."""

    calls: int = 0
    heard: int = 0
    reported: dict[str, int] = field(default_factory=dict)
    silent: int = 0
    delays: list[float] = field(default_factory=list)
    audio_s: float = 0.0

    def row(self) -> str:
        share = self.heard / self.calls if self.calls else 0.0
        missed = sum(self.reported.values())
        why = ", ".join(f"{k} {v}" for k, v in sorted(self.reported.items()))
        worst = max(self.delays, default=0.0)
        p50 = statistics.median(self.delays) if self.delays else 0.0
        return (
            f"{self.calls:4d} calls  heard {self.heard:4d} ({share:6.1%})  "
            f"reported {missed:3d}{f' ({why})' if why else ''}  silently lost {self.silent:3d}  "
            f"delay p50 {p50:5.1f} s  worst {worst:5.1f} s  audio {self.audio_s:6.0f} s"
        )


def office(counters: int) -> dict[str, Any]:
    return {
        "office": {"opening": "00:00", "closing": "23:59", "lunch": "", "lunch_friday": ""},
        "web": {"enabled": False},
        "counters": [{"number": n, "services": list(SERVICES)} for n in range(1, counters + 1)],
        "devices": [{"id": SPEAKER, "role": "speaker"}],
    }


def schedule(counters: int, kind: str, minutes: float, rng: random.Random) -> list[tuple[float, str, int]]:
    """(simulated second, command, counter), in time order."""
    out: list[tuple[float, str, int]] = []
    for c in range(1, counters + 1):
        if kind == "burst":
            at = rng.uniform(0, 20)
            out.append((at, "call_next", c))
            if rng.random() < 1 / 3:
                out.append((at + rng.uniform(5, 15), "recall", c))
            continue
        at = rng.uniform(0, 180)
        while at < minutes * 60:
            out.append((at, "call_next", c))
            if rng.random() < 1 / 3:
                out.append((at + rng.uniform(20, 60), "recall", c))
            at += rng.uniform(180, 360)
    return sorted(out)


async def drive(
    broker: Mosquitto,
    clock: SimClock,
    plan: list[tuple[float, str, int]],
    node: SpeakerNode,
    sink: WavFileSink,
) -> dict[str, dict[str, Any]]:
    """Issue the tickets, then press the buttons on time; the `play` payloads the hub sent,
    each with `pressed_at`: the simulated time of the press that made it."""
    plays: dict[str, dict[str, Any]] = {}
    pressed_at: list[datetime] = []
    answers: dict[str, dict[str, Any]] = {}
    async with aiomqtt.Client("127.0.0.1", broker.port) as c:
        await c.subscribe(T.hub_response("+"), 1)
        await c.subscribe(T.device_play(SPEAKER), 1)

        async def read() -> None:
            async for m in c.messages:
                body = json.loads(bytes(m.payload))  # type: ignore[arg-type]
                if m.topic.matches(T.device_play(SPEAKER)):
                    plays[body["id"]] = body
                else:
                    answers[str(body.get("transaction"))] = body

        reader = asyncio.create_task(read())
        tickets = sum(1 for _, cmd, _ in plan if cmd == "call_next")
        for i in range(tickets):
            body = {"service": SERVICES[i % len(SERVICES)], "transaction": f"t{i}"}
            await c.publish(T.hub_request("take_ticket"), dumps(body), qos=1)
        while sum(k.startswith("t") for k in answers) < tickets:
            await asyncio.sleep(0.01)
        start = clock.elapsed() + 1
        for i, (at, command, counter) in enumerate(plan):
            await clock.until(start + at)
            body = {"counter": counter, "transaction": f"p{i}"}
            pressed_at.append(clock())
            await c.publish(T.hub_request(command), dumps(body), qos=1)
        # until every press is answered, every call it made is played or given up, and the
        # speaker is silent
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            pressed = [a for k, a in answers.items() if k.startswith("p") and a.get("status") == "ok"]
            settled = {*node.stats.started, *node.stats.replaced, *(m for m, _ in node.stats.missed)}
            settled |= set(getattr(node, "dropped", ()))
            done = len(pressed) == len(plan) and len(plays) >= len(pressed) and set(plays) <= settled
            if done and not node.pending and all(p.ended for p in sink.history):
                break
        reader.cancel()
    refused = [a for k, a in answers.items() if k.startswith("p") and a.get("status") != "ok"]
    if refused:
        step(f"{len(refused)} presses refused, e.g. {refused[0].get('error')}")
    # presses are committed in the order sent and every one makes a call: the k-th call
    # (`call-k`, the hub's numbering) is the k-th press
    for play in plays.values():
        play["pressed_at"] = pressed_at[int(play["id"].rsplit("-", 1)[1]) - 1]
    return plays


def outcome(plays: dict[str, dict[str, Any]], node: SpeakerNode, sink: WavFileSink) -> Outcome:
    stats = node.stats
    out = Outcome(calls=len(plays), audio_s=sum(p.frames for p in sink.history) / sink.rate)
    missed = dict(stats.missed)
    for call_id, play in plays.items():
        final = call_id
        while final in stats.replaced:
            final = stats.replaced[final]
        if final in stats.started:
            out.heard += 1
            out.delays.append((stats.started[final] - play["pressed_at"]).total_seconds())
        elif final in missed:
            out.reported[missed[final]] = out.reported.get(missed[final], 0) + 1
        else:
            out.silent += 1
    return out


def run_one(
    broker: Mosquitto, work: Path, counters: int, kind: str, minutes: float, speed: float, *, before: bool
) -> Outcome:
    clock = SimClock(speed)
    base = parse_config(office(counters))
    cfg = dataclasses.replace(
        base,
        mqtt=MqttConfig(host="127.0.0.1", port=broker.port, client_id=f"hub-{work.name}"),
        database=str(work / "antrian.db"),
    )
    store = EventStore(cfg.database)
    service = HubService(HubCore(cfg, store, clock=clock), reconnect_max_s=0.5)
    hub, speaker = Thread(), Thread()
    stop = asyncio.Event()
    hub.run(service.run(stop))
    sink = WavFileSink(work / "played", speed=speed)
    kind_of_node = BeforeNode if before else SpeakerNode
    node = kind_of_node(SpeakerConfig(SPEAKER, work / "cache", port=broker.port, volume=100), sink, now=clock)
    shutil.copytree(ROOT / "tts_cache", work / "cache")
    speaker.run(node.run())
    deadline = time.monotonic() + 10
    while not (service.connected.is_set() and node.connected.is_set()) and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        plan = schedule(counters, kind, minutes, random.Random(f"{counters}-{kind}"))
        plays = asyncio.run(drive(broker, clock, plan, node, sink))
        return outcome(plays, node, sink)
    finally:
        hub.loop.call_soon_threadsafe(stop.set)
        time.sleep(0.3)
        hub.stop()
        speaker.stop()
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="10 minutes of realistic calling, not 30")
    ap.add_argument("--speed", type=float, default=40.0, help="how much faster than real time")
    ap.add_argument("--counters", default="3,6,10", help="comma-separated numbers of counters")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the node's "not heard" warnings: counted below
    minutes = 10.0 if args.quick else 30.0
    sizes = [int(n) for n in args.counters.split(",")]
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto()
        broker.start()
        try:
            for counters in sizes:
                for kind in ("realistic", "burst"):
                    for before in (True, False):
                        policy = "before" if before else "now"
                        step(f"{counters} counters, {kind}, policy {policy}")
                        work = Path(tmp) / f"{counters}-{kind}-{policy}"
                        work.mkdir()
                        got = run_one(broker, work, counters, kind, minutes, args.speed, before=before)
                        rows.append((f"{counters:2d} counters, {kind:<9}", policy, got.row()))
        finally:
            broker.close()
    print(
        f"\nantrian calls benchmark - real hub + speaker node, loopback Mosquitto, clock x{args.speed:g},"
        f" {minutes:g} min realistic; {datetime.now():%Y-%m-%d %H:%M}"
    )
    for name, policy, row in rows:
        print(f"  {name} {policy:<6} {row}")
    print(
        "\nbefore: every call whole, first come first served, late calls dropped unreported;"
        " now: backlog shortened and joined, recalls take their call's place, late calls reported."
    )


if __name__ == "__main__":
    main()
