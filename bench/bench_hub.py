"""Benchmark of the hub on loopback Mosquitto, compared with the raw broker round trip.

    .venv/bin/python bench/bench_hub.py [--quick] [--against REV]

Measures, in one run on one broker of its own:
  1. raw broker QoS 1 round trip (publish -> own subscription), paho, TCP_NODELAY;
  2. take_ticket and call_next request -> response through the hub (a separate process,
     durable commits with synchronous=FULL), at a steady 100 requests/s and flat out;
  3. hub start-up time with a year of synthetic history in the event log;
  4. hub resident memory after the load.
Prints each figure and the ratio to the raw round trip. With `--against REV` the hub of that
git revision (e.g. the commit before a refactoring) is measured too, on the same broker in the
same run, and both columns are printed side by side. Nothing here is asserted: the figures go
into the docs and the closing notes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from antrian.config import parse_config
from antrian.contract import Topics
from antrian.queue import QueueState
from antrian.store import EventStore
from tests.kit import HubProcess, Mosquitto

T = Topics("kantor")
CONFIG = """
[web]
enabled = false

[[devices]]
id = "kiosk-1"
role = "kiosk"

[[devices]]
id = "pad-1"
role = "call_pad"
counter = 1

[[devices]]
id = "pad-2"
role = "call_pad"
counter = 2
"""


def step(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


class Client:
    """A paho client that records when each response (by transaction) arrives."""

    def __init__(self, broker: Mosquitto) -> None:
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{random.random()}")
        self.c.max_inflight_messages_set(1000)
        self.c.on_socket_open = lambda c, u, s: s.setsockopt(6, 1, 1)  # TCP_NODELAY
        self.arrived: dict[str, float] = {}
        self.bodies: dict[str, dict[str, object]] = {}
        self.cond = threading.Condition()
        self.c.on_message = self._on_message
        self.c.connect(broker.host, broker.port)
        self.c.loop_start()

    def _on_message(self, c: object, u: object, msg: mqtt.MQTTMessage) -> None:
        now = time.perf_counter()
        try:
            body = json.loads(msg.payload)
        except ValueError:
            return
        key = body.get("transaction") if isinstance(body, dict) else None
        if key is None:
            key = msg.topic + ":" + msg.payload.decode(errors="replace")[:40]
        with self.cond:
            self.arrived[str(key)] = now
            self.bodies[str(key)] = body
            self.cond.notify_all()

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.c.on_subscribe = lambda *a: done.set()
        self.c.subscribe(topic, qos=1)
        done.wait(5)

    def wait(self, keys: list[str], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not all(k in self.arrived for k in keys):
                left = deadline - time.monotonic()
                if left <= 0:
                    missing = [k for k in keys if k not in self.arrived]
                    raise TimeoutError(f"{len(missing)} responses missing")
                self.cond.wait(left)

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


def raw_round_trip(broker: Mosquitto, n: int) -> list[float]:
    cl = Client(broker)
    cl.subscribe("bench/raw")
    out = []
    for i in range(n):
        key = f"raw-{i}"
        t0 = time.perf_counter()
        cl.c.publish("bench/raw", json.dumps({"transaction": key}), qos=1)
        cl.wait([key], 5)
        out.append(cl.arrived[key] - t0)
    cl.close()
    return out


def requests(
    cl: Client, topic: str, payloads: list[dict[str, object]], rate: float | None, window: int = 64
) -> tuple[list[float], float]:
    """Send payloads at `rate`/s (or flat out with `window` outstanding); latencies, seconds."""
    sent: dict[str, float] = {}
    keys = [str(p["transaction"]) for p in payloads]
    base = len(cl.arrived)  # only responses to this batch arrive meanwhile
    start = time.perf_counter()
    for i, p in enumerate(payloads):
        if rate is not None:
            time.sleep(max(0.0, start + i / rate - time.perf_counter()))
        else:
            with cl.cond:
                while i - (len(cl.arrived) - base) >= window:
                    cl.cond.wait(0.01)
        sent[keys[i]] = time.perf_counter()
        cl.c.publish(topic, json.dumps(p), qos=1)
    cl.wait(keys, 120)
    elapsed = max(cl.arrived[k] for k in keys) - start
    return [cl.arrived[k] - sent[k] for k in keys], elapsed


ECHO = """
import asyncio, socket, sys
import aiomqtt
async def main():
    async with aiomqtt.Client("127.0.0.1", int(sys.argv[1]),
                              socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]) as c:
        await c.subscribe("bench/echo/request", qos=1)
        print("ready", flush=True)
        async for m in c.messages:
            asyncio.ensure_future(c.publish("bench/echo/response", m.payload, qos=1))
asyncio.run(main())
"""


def echo_round_trip(broker: Mosquitto, n: int) -> list[float]:
    """Request -> response through a bare aiomqtt responder in its own process: the floor
    that any aiomqtt service has, before it does any work."""
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", ECHO, str(broker.port)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.readline()
    cl = Client(broker)
    cl.subscribe("bench/echo/response")
    lat, _ = requests(cl, "bench/echo/request", [{"transaction": f"echo-{i}"} for i in range(n)], 100.0)
    cl.close()
    proc.terminate()
    proc.wait(5)
    return lat


def year_of_history(db: Path) -> int:
    """~250 working days x ~300 tickets, each issued, called and done: a busy office's year."""
    cfg = parse_config({})
    store = EventStore(db, synchronous="OFF")
    rng = random.Random(1)
    day0 = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)
    n = 0
    for d in range(365):
        start = day0 + timedelta(days=d)
        if start.weekday() >= 5:
            continue
        state = QueueState(cfg)
        at = start
        batch = []
        for i in range(300):
            at += timedelta(seconds=rng.randint(10, 90))
            for cmd, args in (
                ("take_ticket", {"service": rng.choice("ABCDE")}),
                ("call_next", {"counter": rng.randint(1, 3)}),
            ):
                for e in state.decide(cmd, args, "device:sim", at, token=f"tok{d}-{i}"):
                    state.apply(e)
                    batch.append(e)
        store.append(batch)
        n += len(batch)
    store.close()
    return n


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_and_wait_online(broker: Mosquitto, hub: HubProcess, timeout: float = 30) -> float:
    """Start the hub process; seconds until its `online` birth message arrives."""
    cl = Client(broker)
    done = threading.Event()
    cl.subscribe(T.hub_state)
    time.sleep(0.2)  # the retained state of an earlier run arrives first
    cl.c.on_message = lambda c, u, m: done.set() if b"online" in m.payload else None
    t0 = time.perf_counter()
    hub.start()
    if not done.wait(timeout):
        raise TimeoutError(f"the hub did not come online: {hub.log()[-2000:]}")
    elapsed = time.perf_counter() - t0
    cl.close()
    return elapsed


ROOT = Path(__file__).resolve().parents[1]


def source_tree(rev: str, into: Path) -> Path:
    """The hub's code at git revision `rev`, unpacked into `into` (for a before/after run)."""
    into.mkdir(parents=True)
    # devices/ too: older revisions linked the ticket layout from the kiosk firmware
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "hub", "devices"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    (into / "antrian").symlink_to("hub")  # the import name of the folder (`antrian`)
    return into


@contextlib.contextmanager
def code_from(tree: Path | None):
    """Hub processes started inside run the code in `tree` (None: this checkout's)."""
    if tree is None:
        yield
        return
    old, cwd = os.environ.get("PYTHONPATH"), Path.cwd()
    os.environ["PYTHONPATH"] = str(tree)
    os.chdir(tree)  # `python -m` puts the current folder first: not this checkout's hub/
    try:
        yield
    finally:
        os.chdir(cwd)
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def hub_figures(
    broker: Mosquitto, workdir: Path, raw_p50: float, steady_n: int, flat_n: int, tree: Path | None = None
) -> list[tuple[str, str, str]]:
    """take_ticket and call_next through one hub process (the code of `tree`), and its RSS."""
    rows: list[tuple[str, str, str]] = []
    hub = HubProcess(broker, CONFIG, workdir)
    if tree is not None and "from antrian" not in (tree / "hub" / "cli.py").read_text():
        # a revision from before the import package was named `antrian`
        hub.argv = [a.replace("antrian.cli", "hub.cli") for a in hub.argv]
    with code_from(tree):
        start_and_wait_online(broker, hub)
    cl = Client(broker)
    for dev in ("kiosk-1", "pad-1", "pad-2"):
        cl.subscribe(T.device(dev) + "/response/+")
    tag = workdir.name

    def tickets(n: int, label: str) -> list[dict[str, object]]:
        return [{"service": "AB"[i % 2], "transaction": f"{tag}-{label}-{i}"} for i in range(n)]

    for label, rate, n in (("steady 100/s", 100.0, steady_n), ("flat out", None, flat_n)):
        step(f"take_ticket {label}, {n} requests ({tag})")
        lat, secs = requests(cl, T.device_request("kiosk-1", "take_ticket"), tickets(n, label), rate)
        p50, p99 = pct(lat, 50) * 1e3, pct(lat, 99) * 1e3
        rows.append(
            (
                f"take_ticket {label}",
                f"p50 {p50:.3f} ms ({p50 / raw_p50:.1f}x raw)",
                f"p99 {p99:.3f} ms; {n / secs:,.0f} req/s",
            )
        )
    for label, rate, n in (("steady 100/s", 100.0, steady_n // 2), ("flat out", None, flat_n // 2)):
        step(f"call_next {label}, {n} requests ({tag})")
        calls = [{"transaction": f"{tag}-call-{label}-{i}"} for i in range(n)]
        lat, secs = requests(cl, T.device_request("pad-1", "call_next"), calls, rate)
        p50, p99 = pct(lat, 50) * 1e3, pct(lat, 99) * 1e3
        rows.append(
            (
                f"call_next {label}",
                f"p50 {p50:.3f} ms ({p50 / raw_p50:.1f}x raw)",
                f"p99 {p99:.3f} ms; {n / secs:,.0f} req/s",
            )
        )
    assert hub.proc is not None
    rows.append(("hub resident memory after load", f"{rss_mb(hub.proc.pid):.1f} MB", ""))
    cl.close()
    hub.stop()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    ap.add_argument(
        "--against", metavar="REV", help="also measure the hub of this git revision, same broker, same run"
    )
    args = ap.parse_args()
    steady_n = 100 if args.quick else 1500
    flat_n = 300 if args.quick else 5000
    rows: list[tuple[str, str, str]] = []

    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto()
        broker.start()
        try:
            step("raw broker round trip")
            raw = raw_round_trip(broker, 200 if args.quick else 2000)
            raw_p50, raw_p99 = pct(raw, 50) * 1e3, pct(raw, 99) * 1e3
            rows.append(("raw broker QoS 1 round trip", f"p50 {raw_p50:.3f} ms", f"p99 {raw_p99:.3f} ms"))

            step("bare aiomqtt responder (reference)")
            echo = echo_round_trip(broker, 100 if args.quick else 500)
            e50 = pct(echo, 50) * 1e3
            rows.append(
                (
                    "bare aiomqtt responder, 100/s (the floor)",
                    f"p50 {e50:.3f} ms ({e50 / raw_p50:.1f}x raw)",
                    f"p99 {pct(echo, 99) * 1e3:.3f} ms",
                )
            )
            before: list[tuple[str, str, str]] = []
            if args.against:
                step(f"the hub of {args.against}")
                tree = source_tree(args.against, Path(tmp) / "before-tree")
                before = hub_figures(broker, Path(tmp) / "before", raw_p50, steady_n, flat_n, tree)
            step("the hub of this checkout")
            now = hub_figures(broker, Path(tmp) / "now", raw_p50, steady_n, flat_n)
            if before:
                rows += [(f"{name} [{args.against}]", a, b) for name, a, b in before]
                rows += [(f"{name} [this checkout]", a, b) for name, a, b in now]
            else:
                rows += now

            # start-up with a year of history
            hist = HubProcess(broker, CONFIG, Path(tmp) / "year")
            step("writing a year of synthetic history")
            t0 = time.perf_counter()
            n_events = year_of_history(hist.database)
            gen = time.perf_counter() - t0
            from antrian.core import HubCore

            cfg = parse_config({})
            store = EventStore(hist.database)
            t0 = time.perf_counter()
            core = HubCore(cfg, store)
            rebuild = time.perf_counter() - t0
            store.close()
            today = len(core.state.tickets)
            rows.append(
                (
                    f"rebuild with a year of history ({n_events:,} events)",
                    f"{rebuild * 1e3:.1f} ms",
                    f"today's tickets {today}",
                )
            )
            starts = []
            for _ in range(3):
                starts.append(start_and_wait_online(broker, hist))
                assert hist.proc is not None
                rss = rss_mb(hist.proc.pid)
                hist.stop()
            online = statistics.median(starts)
            rows.append(
                (
                    "hub process start to `online` (same log, median of 3)",
                    f"{online * 1e3:.0f} ms",
                    f"RSS {rss:.1f} MB; history generated in {gen:.0f} s",
                )
            )
        finally:
            broker.close()

    width = max(len(r[0]) for r in rows)
    print(f"\nantrian hub benchmark - loopback Mosquitto, {datetime.now():%Y-%m-%d %H:%M}")
    for name, a, b in rows:
        print(f"  {name:<{width}}  {a:<28} {b}")
    print(
        "\nTargets: take_ticket p50 <= 3x raw, p99 <= 5 ms at 100/s; >= 1,000 tickets/s;"
        " start-up < 1 s with a year of history; RSS < 80 MB."
    )


if __name__ == "__main__":
    main()
