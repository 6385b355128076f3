"""Benchmark: how fast a notification leaves, by SMS (gammu-smsd) and through apprise.

    .venv/bin/python bench/bench_notify.py [--quick]

SMS: a real gammu-smsd on Gammu's dummy phone (the smsdrc `antrian.notify.gammu` writes for it:
``loopsleep = 1``, ``commtimeout = 1``). Measured: what `SmsChannel.send` costs the hub (the
outbox file written and synced), the latency from `send` to the file in gammu-smsd's sent
folder (one message at a time, so each waits for gammu-smsd's next look at the outbox), and
the throughput of a burst. A real modem adds its own few seconds a message on the air;
the dummy phone sends at once, so what is measured here is gammu-smsd's own pace.

apprise: `AppriseChannel` posting to a local HTTP server (json://), one at a time and ten at
once. The internet and the provider add their own time. Nothing here is asserted.

The hub's side (`bench_worker`): the real core and notifications part in this process, N
citizens who gave a number, then one event that concerns them all (their service is paused):
the time from that event's commit to each message's file in gammu-smsd's outbox, and the
worker's pace, against the bare channel writing the same N files in a loop (what the outbox,
its states and the checks cost on top).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from antrian.notify import gammu  # noqa: E402
from antrian.notify.channels import AppriseChannel, SmsChannel  # noqa: E402

NUMBER = "+6281234567890"
TEXT = "Nomor antrean A-012 dipanggil ke Loket 2. Silakan menuju loket sekarang."


def row(label: str, values_ms: list[float]) -> None:
    values = sorted(values_ms)
    p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
    print(
        f"{label:<44} p50 {statistics.median(values):8.1f} ms   p90 {p90:8.1f} ms   "
        f"max {values[-1]:8.1f} ms   (n={len(values)})"
    )


async def wait_sent(cfg: gammu.SmsdConfig, names: set[str], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while any(not (cfg.sent / n).exists() for n in names):
        if time.monotonic() > deadline:
            raise SystemExit("gammu-smsd did not send in time")
        await asyncio.sleep(0.002)


def name_of(cfg: gammu.SmsdConfig, ref: str) -> str:
    for folder in (cfg.outbox, cfg.sent):
        for p in folder.iterdir():
            parsed = gammu.parse_out_name(p.name)
            if parsed is not None and parsed.ref == ref:
                return p.name
    raise LookupError(ref)


async def bench_sms(n: int, burst: int) -> None:
    if shutil.which("gammu-smsd") is None:
        print("gammu-smsd not installed: SMS skipped")
        return
    root = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    cfg = gammu.write_dummy_smsdrc(root / "smsdrc", root / "spool", logfile=root / "smsd.log")
    proc = subprocess.Popen(
        ["gammu-smsd", "-c", str(cfg.smsdrc)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        channel = SmsChannel(cfg.smsdrc)
        while not (await channel.status()).up:
            await asyncio.sleep(0.05)
        calls, latencies = [], []
        for i in range(n):
            t0 = time.perf_counter()
            sent = await channel.send(NUMBER, TEXT, f"lat{i}")
            calls.append((time.perf_counter() - t0) * 1000)
            await wait_sent(cfg, {name_of(cfg, sent.ref)})
            latencies.append((time.perf_counter() - t0) * 1000)
        row("sms: SmsChannel.send (file written, synced)", calls)
        row("sms: send -> gammu-smsd's sent folder", latencies)

        t0 = time.perf_counter()
        refs = [(await channel.send(NUMBER, TEXT, f"burst{i}")).ref for i in range(burst)]
        await wait_sent(cfg, {name_of(cfg, r) for r in refs})
        took = time.perf_counter() - t0
        print(f"{'sms: burst of ' + str(burst) + ' through gammu-smsd':<44} {burst / took:8.2f} messages/s")
    finally:
        proc.terminate()
        proc.wait(15)
        shutil.rmtree(root, ignore_errors=True)


class Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


async def bench_apprise(n: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        channel = AppriseChannel(f"json://127.0.0.1:{server.server_address[1]}/notify?:to={{to}}")
        latencies = []
        for i in range(n):
            t0 = time.perf_counter()
            await channel.send(NUMBER, TEXT, f"a{i}")
            latencies.append((time.perf_counter() - t0) * 1000)
        row("apprise: send to a local json:// endpoint", latencies)
        t0 = time.perf_counter()
        for start in range(0, n, 10):
            await asyncio.gather(
                *(channel.send(NUMBER, TEXT, f"b{i}") for i in range(start, min(n, start + 10)))
            )
        print(f"{'apprise: ten at a time':<44} {n / (time.perf_counter() - t0):8.1f} messages/s")
    finally:
        server.shutdown()
        server.server_close()


async def bench_worker(n: int) -> None:
    """From the commit of an event to its messages' files in gammu-smsd's outbox (no smsd)."""
    from dataclasses import replace

    from antrian.config import parse_config
    from antrian.contract import dumps
    from antrian.core import HubCore, Origin
    from antrian.notify.extension import Notifications, Refusal
    from antrian.service import HubService
    from antrian.store import EventStore

    root = Path(tempfile.mkdtemp(prefix="antrian-bench-notify-"))
    try:
        cfg_smsd = gammu.write_dummy_smsdrc(root / "smsdrc", root / "spool")
        raw = {
            "web": {"enabled": False},
            "notify": {"sms_smsdrc": str(root / "smsdrc"), "tickets_per_number": 50},
            "office": {"opening": "00:00", "closing": "23:59"},
            "services": [{"letter": "A", "name": "Adminduk", "minutes": 10, "quota": 9999}],
            "counters": [{"number": 1, "services": ["A"]}],
        }
        cfg = replace(parse_config(raw), database=str(root / "antrian.db"))
        store = EventStore(cfg.database)
        core = HubCore(cfg, store)
        service = HubService(core, extensions=[Notifications])
        await service.start_extensions()
        part = service.extension("notify")
        assert isinstance(part, Notifications)
        for i in range(n):
            issued = core.handle(Origin(), "take_ticket", dumps({"service": "A", "actor": "admin:bench"}))
            token = __import__("json").loads(issued[0].payload)["data"]["token"]
            answer = part.subscribe(token, f"0812{i:08d}", None, "id", True)
            assert not isinstance(answer, Refusal), answer
        await asyncio.sleep(1.0)  # the "almost" of the first few leave first
        outbox = cfg_smsd.outbox
        before = {p.name for p in outbox.iterdir()}
        t0 = time.perf_counter()
        core.handle(
            Origin(), "service_status", dumps({"service": "A", "status": "paused", "actor": "admin:b"})
        )
        committed = time.perf_counter() - t0
        seen: dict[str, float] = {}
        deadline = time.monotonic() + 120
        while len(seen) < n and time.monotonic() < deadline:
            for p in outbox.iterdir():
                if p.name.startswith("OUT") and p.name not in before and p.name not in seen:
                    seen[p.name] = (time.perf_counter() - t0) * 1000
            await asyncio.sleep(0.001)
        await service.stop_extensions()
        store.close()
        print(f"hub: one event for {n} numbers, committed with its {n} messages in {committed * 1000:.1f} ms")
        row("hub: event commit -> file in gammu's outbox", list(seen.values()))
        worker = n / (max(seen.values()) / 1000)
        bare_dir = root / "bare"
        bare = SmsChannel(gammu.write_dummy_smsdrc(bare_dir / "smsdrc", bare_dir / "spool").smsdrc)
        t1 = time.perf_counter()
        for i in range(n):
            await bare.send(f"+62812{i:08d}", TEXT, f"bare{i}")
        plain = n / (time.perf_counter() - t1)
        print(f"hub worker: {worker:7.0f} messages/s   bare SmsChannel.send loop: {plain:7.0f} messages/s")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="few messages (a smoke run)")
    args = ap.parse_args()
    n, burst = (5, 10) if args.quick else (30, 60)
    asyncio.run(bench_worker(20 if args.quick else 200))
    asyncio.run(bench_sms(n, burst))
    asyncio.run(bench_apprise(n * 4))


if __name__ == "__main__":
    main()
