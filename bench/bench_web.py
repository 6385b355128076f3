"""Benchmark: does the web side delay the hub's MQTT requests?

    .venv/bin/python bench/bench_web.py [--quick] [--before GIT-REF]

The hub runs as production runs it (`antrian run`, web pages on, loopback Mosquitto). A kiosk
device takes tickets over MQTT at a steady 100 requests/s while, in turn:

  1. no page is open (the reference figure of this run);
  2. 1,000 citizens' status pages are open and reading (`/events/ticket/<token>`, each page
     following its own ticket, from 200 addresses of 127.0.0.0/8, five pages each);
  3. 1,000 live streams of the waiting-room picture (`/events/public`) are open and never read
     (a flood, from the same 200 addresses);
  4. the kiosk page takes 5 tickets a second (each answer carries the ticket's QR code).

Each phase runs on a fresh hub (its own database) on which 1,000 tickets have been taken (one
per status page; `--tickets N`: N tickets, each followed by several pages) and all but
`--waiting` (50) served, so every phase starts from the same day: the core's own cost per
request grows with the tickets of the day. The pages are raw sockets in a separate process,
so their own work does not run in the hub's process.

Each phase prints the take_ticket latency (p50, p99) and its p99 compared with the no-page
figure of the same run (target: within 2x), and what the pages saw (streams open, refused by
the hub's caps, closed by the hub as slow readers).

`--before REF` runs the same phases first on the hub of an older commit (`git archive REF`
into a temporary folder, run from there), so one run prints before and after side by side.
The rest of the hub may have changed between the two as well: compare each one's pages with
its own no-page figure. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_hub  # noqa: E402
from bench_hub import Client, pct, requests, rss_mb, start_and_wait_online, step  # noqa: E402

from antrian.contract import Topics  # noqa: E402
from antrian.testing import HubProcess, Mosquitto, free_port  # noqa: E402

T = Topics("kantor")
PAGES = 1000
#: Pages per source address: within the hub's default per-address cap.
PER_ADDRESS = 5

#: The hub of bench_hub.py, with office hours all day and its web pages on.
CONFIG = '[office]\nslug = "kantor"\nopening = "00:00"\nclosing = "23:59"\n' + bench_hub.CONFIG.replace(
    "enabled = false", 'host = "127.0.0.1"\nport = {port}'
)

#: The pages: one process, one connection per page, each from its own loopback address.
PAGES_SCRIPT = r"""
import asyncio, json, sys

async def main():
    port, mode, paths = int(sys.argv[1]), sys.argv[2], json.load(open(sys.argv[3]))
    per_address = int(sys.argv[4])
    st = {"open": 0, "refused": 0, "failed": 0, "closed_by_hub": 0, "bytes": 0}
    gate = asyncio.Semaphore(50)
    opened = []
    readers = []
    writers = []

    async def one(i, path):
        n = i // per_address
        ip = f"127.0.{1 + n // 250}.{1 + n % 250}"
        async with gate:
            try:
                r, w = await asyncio.open_connection("127.0.0.1", port, local_addr=(ip, 0))
                w.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Accept: text/event-stream\r\n\r\n".encode())
                head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 30)
                if int(head.split()[1]) != 200:
                    st["refused"] += 1
                    w.close()
                    return
                await asyncio.wait_for(r.readuntil(b"event: state"), 30)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
                st["failed"] += 1
                return
        st["open"] += 1
        readers.append(r)
        writers.append(w)  # a writer that is collected closes its connection
        if mode == "read":
            opened.append(asyncio.ensure_future(read(r)))

    async def read(r):
        try:
            while True:
                data = await r.read(65536)
                if not data:
                    st["closed_by_hub"] += 1
                    return
                st["bytes"] += len(data)
        except OSError:
            st["closed_by_hub"] += 1

    await asyncio.gather(*(one(i, p) for i, p in enumerate(paths)))
    print("ready " + json.dumps(st), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if mode == "idle":  # a page that never read: did the hub close it meanwhile?
        async def closed(r):
            try:
                while await asyncio.wait_for(r.read(1 << 20), 2):
                    pass
                return True
            except asyncio.TimeoutError:
                return False
            except OSError:
                return True
        st["closed_by_hub"] = sum(await asyncio.gather(*(closed(r) for r in readers)))
    print("end " + json.dumps(st), flush=True)

asyncio.run(main())
"""


class Pages:
    """The page process: open `paths` (reading them or not), report, close on request."""

    def __init__(self, port: int, mode: str, paths: list[str], workdir: Path) -> None:
        listing = workdir / f"pages-{mode}.json"
        listing.write_text(json.dumps(paths))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PAGES_SCRIPT, str(port), mode, str(listing), str(PER_ADDRESS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("ready "):
            raise RuntimeError(f"the pages did not open: {line!r}")
        self.ready: dict[str, int] = json.loads(line[6:])

    def close(self) -> dict[str, int]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        self.proc.wait(30)
        return json.loads(line[4:]) if line.startswith("end ") else {}


class KioskPage:
    """A tablet on the kiosk page (opened a moment before), taking a ticket every 0.2 s; each
    answer carries the ticket's QR code."""

    def __init__(self, port: int, key: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        cookies = []
        if key:  # the tablet's key (a hub from before the kiosk keys has none and needs none)
            self.conn.request("GET", f"/kiosk?key={key}")
            resp = self.conn.getresponse()
            resp.read()
            cookies = [c.split(";")[0] for c in resp.headers.get_all("Set-Cookie") or []]
        self.conn.request("GET", "/kiosk", headers={"Cookie": "; ".join(cookies)})
        resp = self.conn.getresponse()
        page = resp.read().decode()
        csrf = page.split('<meta name="csrf" content="')[1].split('"')[0]
        cookies += [c.split(";")[0] for c in resp.headers.get_all("Set-Cookie") or []]
        self.headers = {
            "Cookie": "; ".join(cookies),
            "X-CSRF-Token": csrf,
            "Content-Type": "application/json",
        }
        time.sleep(1)
        self.issued = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.wait(0.2):
            self.conn.request("POST", "/api/ticket", json.dumps({"service": "E"}), self.headers)
            answer = json.loads(self.conn.getresponse().read())
            self.issued += answer.get("status") == "ok" and "qr" in answer["data"]

    def stop(self) -> int:
        self.done.set()
        self.thread.join(10)
        return self.issued


@contextlib.contextmanager
def code_of(ref: str) -> Iterator[None]:
    """Hub processes started meanwhile run the hub of commit `ref` (`git archive`)."""
    with tempfile.TemporaryDirectory(prefix="antrian-before-") as tmp:
        tar = subprocess.run(
            ["git", "-C", str(ROOT), "archive", ref, "hub"], check=True, capture_output=True
        ).stdout
        with tarfile.open(fileobj=BytesIO(tar)) as t:
            t.extractall(tmp, filter="data")
        source, shim = Path(tmp) / "hub", Path(tmp) / "antrian"
        if "from antrian" in (source / "cli.py").read_text():  # imported as antrian
            source.rename(shim)
        else:  # from before the import package was called antrian: run its `hub.cli`
            shim.mkdir()
            (shim / "__init__.py").write_text("")
            (shim / "cli.py").write_text(
                "from hub.cli import main\n\nif __name__ == '__main__':\n    raise SystemExit(main())\n"
            )
        # `python -m antrian.cli` puts its working directory first on sys.path, then PYTHONPATH
        old_path, cwd = os.environ.get("PYTHONPATH"), os.getcwd()
        os.environ["PYTHONPATH"] = tmp
        os.chdir(tmp)
        try:
            yield
        finally:
            os.chdir(cwd)
            if old_path is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = old_path


def kiosk_key(config: Path) -> str:
    """A kiosk tablet's key (`antrian users kiosk`), or "" from a hub that has no such keys."""
    done = subprocess.run(
        [sys.executable, "-m", "antrian.cli", "users", "kiosk", "bench", "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.rpartition("?key=")[2].strip() if done.returncode == 0 else ""


class Office:
    """A fresh broker and hub (pages on) with the day's tickets taken and most of them served."""

    def __init__(self, workdir: Path, tickets: int, waiting: int, limits: bool) -> None:
        self.broker = Mosquitto()
        self.broker.start()
        self.port = free_port()
        config = CONFIG.format(port=self.port)
        if limits:  # room for the kiosk phase (a hub from before the limits knows no such key)
            config = config.replace(
                "[web]\n", "[web]\ntickets_per_minute_per_client = 600\ntickets_per_minute = 600\n"
            )
        self.hub = HubProcess(self.broker, config, workdir)
        self.kiosk_key = kiosk_key(self.hub.config_path)
        start_and_wait_online(self.broker, self.hub)
        self.cl = Client(self.broker)
        for dev in ("kiosk-1", "pad-1", "pad-2"):
            self.cl.subscribe(T.device(dev) + "/response/+")
        taken = [{"service": "ABCE"[i % 4], "transaction": f"page-{i}"} for i in range(tickets)]
        requests(self.cl, self.take, taken, None)
        tokens = [str(self.cl.bodies[f"page-{i}"]["data"]["token"]) for i in range(tickets)]  # type: ignore[index]
        self.tokens = [tokens[i % tickets] for i in range(PAGES)]
        self.serve(tickets - waiting, "serve")

    take = T.device_request("kiosk-1", "take_ticket")

    def serve(self, count: int, tag: str) -> None:
        """Counters 1 and 2 call `count` tickets (services A, B, C and E)."""
        for pad in (1, 2):
            calls = [{"transaction": f"{tag}-{pad}-{i}"} for i in range(count // 2)]
            requests(self.cl, T.device_request(f"pad-{pad}", "call_next"), calls, None)

    def measure(self, n: int) -> tuple[float, float]:
        """take_ticket at 100/s: p50 and p99 in ms."""
        load = [{"service": "ABCE"[i % 4], "transaction": f"load-{i}"} for i in range(n)]
        lat, _ = requests(self.cl, self.take, load, 100.0)
        return pct(lat, 50) * 1e3, pct(lat, 99) * 1e3

    def close(self) -> float:
        """Stop everything; the hub's resident memory (MB) just before."""
        assert self.hub.proc is not None
        rss = rss_mb(self.hub.proc.pid)
        self.cl.close()
        self.hub.stop()
        self.broker.close()
        return rss


def run(
    label: str, n: int, tickets: int, waiting: int, tmp: Path, limits: bool = True
) -> list[tuple[str, str, str]]:
    """The four phases, each on a fresh hub with the same queue, `n` requests each."""
    rows: list[tuple[str, str, str]] = []
    ref99 = rss = 0.0
    for mode, what in (
        ("none", "no page"),
        ("read", f"{PAGES} status pages reading"),
        ("idle", f"{PAGES} public streams not reading"),
        ("kiosk", "kiosk page 5 tickets/s"),
    ):
        step(f"[{label}] {what}: a fresh hub, {tickets} tickets taken, {waiting} left waiting")
        office = Office(tmp / f"{label}-{mode}".replace(" ", "_"), tickets, waiting, limits)
        try:
            pages = kiosk = None
            if mode in ("read", "idle"):
                paths = (
                    [f"/events/ticket/{t}" for t in office.tokens]
                    if mode == "read"
                    else ["/events/public"] * PAGES
                )
                pages = Pages(office.port, mode, paths, tmp)
            if mode == "kiosk":
                kiosk = KioskPage(office.port, office.kiosk_key)
            step(f"[{label}] take_ticket 100/s, {what}")
            p50, p99 = office.measure(n)
            if mode == "none":
                ref99 = p99
                rows.append(
                    (f"{label}: take_ticket 100/s, no page", f"p50 {p50:.2f} ms", f"p99 {p99:.2f} ms")
                )
                continue
            extra = f"; {kiosk.stop()} issued" if kiosk else ""
            rows.append(
                (
                    f"{label}: take_ticket 100/s, {what}",
                    f"p50 {p50:.2f} ms",
                    f"p99 {p99:.2f} ms = {p99 / ref99:.1f}x no-page p99{extra}",
                )
            )
            if pages is not None:
                end, seen = pages.close(), pages.ready
                rows.append(
                    (
                        f"{label}:   pages ({what})",
                        f"open {seen['open']}, refused {seen['refused']}",
                        f"failed {seen['failed']}, closed by hub {end.get('closed_by_hub', '?')}, "
                        f"{end.get('bytes', 0) / 1e6:.1f} MB read",
                    )
                )
        finally:
            rss = max(rss, office.close())
    rows.append((f"{label}: hub resident memory (largest)", f"{rss:.1f} MB", ""))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer requests per phase (a smoke run)")
    ap.add_argument("--before", metavar="REF", help="also run the hub of this commit, first")
    ap.add_argument(
        "--tickets", type=int, default=PAGES, help="tickets the status pages follow (default: one per page)"
    )
    ap.add_argument("--waiting", type=int, default=50, help="tickets waiting when a phase starts")
    args = ap.parse_args()
    n = 300 if args.quick else 1000
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.before:
            with code_of(args.before):  # the hub imports lazily: its code stays till the end
                rows += run(f"before ({args.before})", n, args.tickets, args.waiting, Path(tmp), limits=False)
        rows += run("now", n, args.tickets, args.waiting, Path(tmp))
    width = max(len(r[0]) for r in rows)
    print(
        f"\nantrian web benchmark - hub with its pages, loopback Mosquitto, "
        f"{datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs"
    )
    for name, a, b in rows:
        print(f"  {name:<{width}}  {a:<32} {b}")
    print("\nTarget: with 1,000 status pages reading, take_ticket p99 within 2x of the no-page p99.")


if __name__ == "__main__":
    threading.excepthook = lambda a: None  # paho's thread at exit
    main()
