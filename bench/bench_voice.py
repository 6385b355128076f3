"""Voice benchmark: how fast a call is heard, and how long building the clip cache takes.

1. Build the whole cache of a default office with espeak-ng (each available voice), cold.
2. Raw broker QoS 1 delivery (publish -> subscriber receives) on the same broker, as the floor.
3. Call request -> first audio frame written by the speaker node, cache warm: the real hub
   (`antrian run` as a child process) gets `call_next` and sends `play`; the node writes to a
   WAV sink (`speed=0`: no sound card, so "written" is the moment a card would get the frame).
   If the hub cannot be started, the bench publishes the `play` message itself and says so.

Run: `.venv/bin/python bench/bench_voice.py` (or `./run bench`).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiomqtt

from antrian.announce import build
from antrian.contract import Topics, dumps
from antrian.speaker import Playback, SpeakerConfig, SpeakerNode, WavFileSink
from antrian.voice import audio
from antrian.voice.cache import ClipCache, build_cache, default_engines, office_clip_texts
from antrian.voice.engines import MBROLA_DIR
from tests.kit import Mosquitto

N_CALLS = 60
N_RAW = 300
NODELAY = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)
TOPICS = Topics("kantor")
SPEAKER = "speaker-1"


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def show(name: str, ms: list[float]) -> None:
    print(f"  {name:<44} p50 {pct(ms, 50):7.2f} ms   p99 {pct(ms, 99):7.2f} ms   (n={len(ms)})")


def bench_build(work: Path) -> Path:
    print("Cache build (whole office: chime, phrases, 26 letters, 16 number words), cold:")
    voices = ["id"] + (["mb-id1"] if (MBROLA_DIR / "id1").exists() else [])
    root = work
    for voice in voices:
        root = work / f"cache-{voice}"
        t0 = time.perf_counter()
        report = build_cache(
            root, office_clip_texts(), default_engines(root, ["espeak-ng"], espeak_voice=voice)
        )
        took = time.perf_counter() - t0
        manifest = ClipCache(root).manifest()
        size = sum(p.stat().st_size for p in (root / "clips").iterdir())
        durs = [e.duration_s for k, e in manifest.items() if k != "chime"]
        levels = [e.rms_dbfs for e in manifest.values()]
        t1 = time.perf_counter()
        again = build_cache(
            root, office_clip_texts(), default_engines(root, ["espeak-ng"], espeak_voice=voice)
        )
        rebuild = time.perf_counter() - t1
        print(
            f"  espeak-ng -v {voice:<7} {len(report.built)} clips in {took:5.2f} s, "
            f"no-change rebuild {rebuild:4.2f} s ({len(again.reused)} reused), "
            f"{size / 1024:.0f} KiB; spoken clip {min(durs):.2f}-{max(durs):.2f} s "
            f"(mean {statistics.mean(durs):.2f}); RMS {min(levels):.1f}..{max(levels):.1f} dBFS"
        )
        pcm, _ = ClipCache(root).render(build("A", 12, 3).clips)
        print(f"    'A-012 -> loket 3' (said twice): {pcm.duration:.2f} s")
    return root


async def bench_raw(port: int) -> list[float]:
    got: asyncio.Queue[float] = asyncio.Queue()
    ms: list[float] = []
    async with (
        aiomqtt.Client("127.0.0.1", port, socket_options=NODELAY) as sub,
        aiomqtt.Client("127.0.0.1", port, socket_options=NODELAY) as pub,
    ):
        await sub.subscribe("bench/raw", 1)

        async def reader() -> None:
            async for _ in sub.messages:
                got.put_nowait(time.perf_counter())

        task = asyncio.create_task(reader())
        for _ in range(N_RAW):
            t0 = time.perf_counter()
            await pub.publish("bench/raw", b"x" * 600, qos=1)
            ms.append((await asyncio.wait_for(got.get(), 5) - t0) * 1000)
        task.cancel()
    return ms


class NodeThread:
    """The speaker node in its own thread and event loop, as it would be its own process."""

    def __init__(self, port: int, cache: Path, out: Path) -> None:
        self.first_frames: dict[str, float] = {}
        self.event = threading.Event()
        sink = WavFileSink(out, speed=0, on_first_frame=self._first)
        self.node = SpeakerNode(SpeakerConfig(SPEAKER, cache, port=port, volume=100), sink)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def _first(self, record: Playback) -> None:
        self.first_frames[record.label] = record.first_frame
        self.event.set()

    def start(self) -> None:
        self.thread.start()
        self.task = asyncio.run_coroutine_threadsafe(self.node.run(), self.loop)
        deadline = time.monotonic() + 10
        while not self.node.connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> None:
        self.task.cancel()
        time.sleep(0.2)
        self.loop.call_soon_threadsafe(self.loop.stop)


async def wait_frame(node: NodeThread, before: int) -> float:
    while len(node.first_frames) <= before:
        await asyncio.sleep(0.0005)
    return max(node.first_frames.values())


async def bench_direct(port: int, node: NodeThread) -> list[float]:
    ms: list[float] = []
    async with aiomqtt.Client("127.0.0.1", port, socket_options=NODELAY) as pub:
        for i in range(N_CALLS + 3):
            ann = build("A", i + 1, 3)
            now = time.time()
            body = {
                "id": f"d{i}",
                "ticket": f"A-{i + 1:03d}",
                "counter": 3,
                "text": ann.text,
                "clips": list(ann.clips),
                "issued_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now)),
                "expires_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now + 30)),
            }
            before = len(node.first_frames)
            t0 = time.perf_counter()
            await pub.publish(TOPICS.device_play(SPEAKER), dumps(body), qos=1)
            t1 = await asyncio.wait_for(wait_frame(node, before), 10)
            if i >= 3:  # the first calls warm the in-memory clip cache
                ms.append((t1 - t0) * 1000)
            await asyncio.sleep(0.01)
    return ms


async def bench_hub(port: int, node: NodeThread) -> list[float]:
    """`call_next` to the real hub -> `play` -> first frame. Each round takes a ticket first."""
    ms: list[float] = []
    async with aiomqtt.Client("127.0.0.1", port, socket_options=NODELAY) as c:
        await c.subscribe(TOPICS.hub_response("+"), 1)

        async def ask(command: str, body: dict[str, object]) -> dict[str, object]:
            await c.publish(TOPICS.hub_request(command), dumps(body), qos=1)
            async for m in c.messages:
                data = json.loads(bytes(m.payload))  # type: ignore[arg-type]
                if data.get("transaction") == body["transaction"]:
                    return dict(data)
            raise RuntimeError("no response")

        for i in range(N_CALLS + 3):
            r = await asyncio.wait_for(ask("take_ticket", {"service": "A", "transaction": f"t{i}"}), 5)
            if r.get("status") != "ok":
                raise RuntimeError(f"take_ticket: {r}")
            before = len(node.first_frames)
            t0 = time.perf_counter()
            await c.publish(
                TOPICS.hub_request("call_next"), dumps({"counter": 1, "transaction": f"c{i}"}), qos=1
            )
            t1 = await asyncio.wait_for(wait_frame(node, before), 5)
            if i >= 3:
                ms.append((t1 - t0) * 1000)
            await asyncio.sleep(0.01)
    return ms


HUB_CONFIG = """
[office]
opening = "00:00"
closing = "23:59"
[web]
enabled = false
[[counters]]
number = 1
services = ["A"]
[[devices]]
id = "speaker-1"
role = "speaker"
"""


def main() -> int:
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed: apt-get install espeak-ng")
        return 1
    work = Path(tempfile.mkdtemp(prefix="antrian-bench-voice-"))
    try:
        cache = bench_build(work)
        broker = Mosquitto()
        broker.start()
        try:
            print("Latency (broker: Mosquitto, set_tcp_nodelay true; clients TCP_NODELAY):")
            show("raw broker QoS 1 publish -> delivery", asyncio.run(bench_raw(broker.port)))
            node = NodeThread(broker.port, cache, work / "played")
            node.start()
            try:
                show(
                    "play message -> first audio frame (direct)", asyncio.run(bench_direct(broker.port, node))
                )
                hub_ms = run_hub_bench(broker, node, work)
                if hub_ms:
                    show("call_next request -> hub -> first frame", hub_ms)
            finally:
                node.stop()
        finally:
            broker.close()
        played = sorted((work / "played").glob("*.wav"))
        if played:
            pcm = audio.read_wav(played[-1])
            print(
                f"  last announcement written: {pcm.duration:.2f} s, "
                f"RMS {audio.rms_dbfs(pcm):.1f} dBFS, peak {audio.peak_dbfs(pcm):.1f} dBFS"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def run_hub_bench(broker: Mosquitto, node: NodeThread, work: Path) -> list[float]:
    try:
        from tests.kit import HubProcess
    except ImportError:
        print("  (no hub in this tree: play messages were published directly)")
        return []
    hub = HubProcess(broker, HUB_CONFIG, work / "hub")
    hub.start()
    try:
        time.sleep(1.5)
        return asyncio.run(bench_hub(broker.port, node))
    except (RuntimeError, TimeoutError) as exc:
        print(f"  (the hub path failed: {exc!r}; only the direct figure above counts)")
        print("  hub log tail:", hub.log()[-400:].replace("\n", " | "))
        return []
    finally:
        hub.stop()


if __name__ == "__main__":
    sys.exit(main())
