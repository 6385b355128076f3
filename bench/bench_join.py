"""Benchmark of tickets taken from phones (`[join]`, /ambil), against the kiosk's own tickets.

    .venv/bin/python bench/bench_join.py [--quick]

The hub runs as production runs it (`antrian run`, web pages on, loopback Mosquitto), with
`[join] enabled = true, verify = "device"` and its limits raised for the run. Measures, in one
run on one broker of its own:

  1. HTTP: a ticket from the phone page (`POST /api/ambil`, each phone from its own loopback
     address 127.0.x.y after `GET /ambil` for its cookie and CSRF token, not timed) against a
     ticket from the kiosk page (`POST /api/ticket` with the tablet's key), one request at a
     time, phones and kiosk in turn: p50/p99 of N each and the ratio;
  2. MQTT: `take_ticket` on hub/request by the actor `phone:<n>` (what the phone part sends,
     admitted by the one-per-phone and share rules in the same commit), against the same
     request without an actor and from a kiosk device, at a steady 100/s, the three in turn:
     p50/p99 and ratio, with a counter calling between turns (the queue stays short); then,
     nobody called, phones against no actor while the queue grows (its first and last batch:
     what the length of the queue costs each);
  3. the pass-over: `call_next` when the next tickets of the counter are K phone tickets not
     checked in (K = 0, 10, 100, 500), each call passing over all K at once (one decide, which
     copies the lanes) before it calls the kiosk ticket behind them. Each K on a fresh hub;
     each round takes its K tickets, then calls, and then calls once more with no phone
     ticket ahead (the same day without a pass-over, so the day's size is not counted as the
     pass-over's cost). p50/p99 per K against K = 0;
  4. the bare aiomqtt responder (bench_hub's), the floor of any aiomqtt service, in the same
     run, and the raw broker round trip.

The office's time zone is chosen so that it is about noon there during the run: the run never
meets closing time or the day's change. Nothing here is asserted: the figures go into
docs/ambil-dari-hp.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_web  # noqa: E402
from bench_hub import (  # noqa: E402
    Client,
    echo_round_trip,
    pct,
    raw_round_trip,
    requests,
    rss_mb,
    start_and_wait_online,
    step,
)
from bench_web import KioskPage, kiosk_key  # noqa: E402

from antrian.contract import Topics  # noqa: E402
from antrian.testing import HubProcess, Mosquitto, free_port  # noqa: E402

T = Topics("kantor")
#: Pass-over depths: phone tickets not checked in ahead of the next kiosk ticket.
DEPTHS = (0, 10, 100, 500)
#: Services that counter 2 (pad-2) calls by default: the pass-over's tickets are spread over
#: them, so thousands of tickets stay within a service's numbers.
CALLED = "ABCE"
#: The join part at its most permissive: the share never refuses (share 1.0, the first 1,000
#: phone tickets of a service always; the key's maximum), 120 a minute per service (its maximum).
JOIN = '\n[join]\nenabled = true\nverify = "device"\nfree = 1000\nshare = 1.0\nper_service_per_minute = 120\n'
#: MQTT requests of one kind before the next kind takes its turn.
MQTT_BATCH = 50
#: The kiosk page at its maxima, so that its limits never answer in place of the hub.
WEB_LIMITS = "[web]\ntickets_per_minute_per_client = 600\ntickets_per_minute = 6000\n"


def noon_zone() -> str:
    """An `Etc/GMT` zone where it is about noon now (the run stays inside opening hours)."""
    offset = 12 - datetime.now(UTC).hour  # -11 .. 12 hours east of UTC
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def config(port: int) -> str:
    """bench_web's office (pages on, open all day, kiosk-1 and pads 1 and 2) with phones on."""
    text = bench_web.CONFIG.format(port=port).replace("[office]\n", f'[office]\ntimezone = "{noon_zone()}"\n')
    return text.replace("[web]\n", WEB_LIMITS) + JOIN


class Hub:
    """One hub process (phones on) on the shared broker, with a client on its responses."""

    def __init__(self, broker: Mosquitto, workdir: Path) -> None:
        self.port = free_port()
        self.proc = HubProcess(broker, config(self.port), workdir)
        self.kiosk_key = kiosk_key(self.proc.config_path)
        start_and_wait_online(broker, self.proc)
        self.cl = Client(broker)
        self.cl.subscribe(T.hub_response("take_ticket"))
        for dev in ("kiosk-1", "pad-1", "pad-2"):
            self.cl.subscribe(T.device(dev) + "/response/+")

    def close(self) -> float:
        """Stop the hub; its resident memory (MB) just before."""
        assert self.proc.proc is not None
        rss = rss_mb(self.proc.proc.pid)
        self.cl.close()
        self.proc.stop()
        return rss


class Tablet(KioskPage):
    """The kiosk page's tablet (its key, cookie and CSRF token) that takes tickets when asked."""

    def _run(self) -> None:  # no tickets of its own accord
        return

    def take(self, service: str) -> tuple[float, bool]:
        """One ticket: (seconds, taken?)."""
        t0 = time.perf_counter()
        self.conn.request("POST", "/api/ticket", json.dumps({"service": service}), self.headers)
        answer = json.loads(self.conn.getresponse().read())
        return time.perf_counter() - t0, answer.get("status") == "ok"


class Phone:
    """A citizen's phone at its own loopback address: the page once (its own token as a cookie,
    and the CSRF token), then the ticket."""

    def __init__(self, port: int, n: int) -> None:
        address = f"127.0.{1 + n // 250}.{1 + n % 250}"
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15, source_address=(address, 0))
        self.conn.request("GET", "/ambil")
        resp = self.conn.getresponse()
        page = resp.read().decode()
        csrf = page.split('<meta name="csrf" content="')[1].split('"')[0]
        cookies = [c.split(";")[0] for c in resp.headers.get_all("Set-Cookie") or []]
        self.headers = {
            "Cookie": "; ".join(cookies),
            "X-CSRF-Token": csrf,
            "Content-Type": "application/json",
        }

    def take(self, service: str) -> tuple[float, bool]:
        """The ticket (`POST /api/ambil`): (seconds, taken?)."""
        t0 = time.perf_counter()
        self.conn.request("POST", "/api/ambil", json.dumps({"service": service}), self.headers)
        answer = json.loads(self.conn.getresponse().read())
        elapsed = time.perf_counter() - t0
        self.conn.close()
        return elapsed, answer.get("status") == "ok"


def figures(lat: list[float]) -> tuple[float, float]:
    """p50 and p99 in ms."""
    return pct(lat, 50) * 1e3, pct(lat, 99) * 1e3


def http_rows(hub: Hub, n: int) -> list[tuple[str, str, str]]:
    """Phone page against kiosk page, in turn on the same hub (the day grows alike for both)."""
    step(f"HTTP: {n} tickets from phones and {n} from the kiosk page, in turn")
    tablet = Tablet(hub.port, hub.kiosk_key)
    phone_lat, kiosk_lat = [], []
    phone_ok = kiosk_ok = 0
    for i in range(n):
        service = "ABCDE"[i % 5]
        secs, ok = Phone(hub.port, i).take(service)
        phone_lat.append(secs)
        phone_ok += ok
        secs, ok = tablet.take(service)
        kiosk_lat.append(secs)
        kiosk_ok += ok
    tablet.conn.close()
    k50, k99 = figures(kiosk_lat)
    p50, p99 = figures(phone_lat)
    return [
        ("HTTP kiosk page POST /api/ticket", f"p50 {k50:.2f} ms", f"p99 {k99:.2f} ms; {kiosk_ok}/{n} issued"),
        (
            "HTTP phone page POST /api/ambil",
            f"p50 {p50:.2f} ms ({p50 / k50:.2f}x kiosk)",
            f"p99 {p99:.2f} ms ({p99 / k99:.2f}x kiosk); {phone_ok}/{n} issued",
        ),
    ]


#: take_ticket over MQTT: from a kiosk device, on hub/request without an actor, by phones.
KINDS = (
    ("kiosk device", T.device_request("kiosk-1", "take_ticket"), False),
    ("hub/request no actor", T.hub_request("take_ticket"), False),
    ("hub/request phone:<n>", T.hub_request("take_ticket"), True),
)


def drain(hub: Hub, calls: int, tag: str) -> None:
    """Counter 2 (services A, B, C, E) calls `calls` times: each call passes over the phone
    tickets ahead of it at once, so the queue is empty again (an empty queue answers an error)."""
    requests(
        hub.cl,
        T.device_request("pad-2", "call_next"),
        [{"transaction": f"{tag}-{i}"} for i in range(calls)],
        None,
    )


def take_in_turn(hub: Hub, n: int, kinds: tuple[int, ...], tag: str, served: bool) -> list[list[float]]:
    """n take_ticket of each kind at 100/s, in turn in batches of 50 (the day grows alike
    under each); `served`: the counter empties the queue after each turn. Seconds, per kind."""
    lat: list[list[float]] = [[] for _ in kinds]
    for start in range(0, n, MQTT_BATCH):
        for slot, k in enumerate(kinds):
            _, topic, phone = KINDS[k]
            load: list[dict[str, object]] = [
                {"service": CALLED[i % 4], "transaction": f"{tag}-{k}-{i}"}
                for i in range(start, min(n, start + MQTT_BATCH))
            ]
            if phone:
                for p in load:
                    p["actor"] = f"phone:{p['transaction']}"
            lat[slot] += requests(hub.cl, topic, load, 100.0)[0]
            bad = [p for p in load if hub.cl.bodies[str(p["transaction"])].get("status") != "ok"]
            if bad:
                raise RuntimeError(f"take_ticket refused: {hub.cl.bodies[str(bad[0]['transaction'])]}")
        if served:
            drain(
                hub,
                sum(1 for _, _, phone in (KINDS[k] for k in kinds) if not phone) * MQTT_BATCH + 1,
                f"{tag}-d{start}",
            )
    return lat


def mqtt_rows(hub: Hub, n: int, echo50: float, waiting: int) -> list[tuple[str, str, str]]:
    """take_ticket at 100/s, the three kinds in turn: first with the counter serving (the queue
    stays short: the `waiting` D tickets of the HTTP part and at most a turn's 150), then with
    nobody served, the queue growing by 2n, phones against no actor: what its length costs."""
    step(f"MQTT take_ticket: {n} each from a kiosk device, hub/request, phones, at 100/s, served")
    drain(hub, 4 * waiting, "http")  # the HTTP part's A, B, C and E tickets
    lat = take_in_turn(hub, n, (0, 1, 2), "short", served=True)
    out: list[tuple[str, str, str]] = []
    ref50 = figures(lat[1])[0]
    for (label, _, phone), kind in zip(KINDS, lat, strict=True):
        p50, p99 = figures(kind)
        versus = f" ({p50 / ref50:.2f}x no actor)" if phone else f" ({p50 / echo50:.1f}x bare responder)"
        out.append(
            (
                f"MQTT take_ticket, {label}",
                f"p50 {p50:.2f} ms{versus}",
                f"p99 {p99:.2f} ms; queue <= {waiting + 3 * MQTT_BATCH}",
            )
        )
    step(f"MQTT take_ticket: {n} each on hub/request, phones and no actor, nobody served")
    lat = take_in_turn(hub, n, (1, 2), "long", served=False)
    for (label, _, _), kind in zip(KINDS[1:], lat, strict=True):
        first50, last50 = figures(kind[:MQTT_BATCH])[0], figures(kind[-MQTT_BATCH:])[0]
        out.append(
            (
                f"  {label}, queue growing: first {MQTT_BATCH} / last {MQTT_BATCH}",
                f"p50 {first50:.2f} ms / {last50:.2f} ms",
                f"queue of {waiting:,} -> {waiting + 2 * n:,} waiting; p99 {figures(kind)[1]:.2f} ms",
            )
        )
    return out


def pass_over(broker: Mosquitto, workdir: Path, depth: int, rounds: int) -> tuple[list[float], list[float]]:
    """On a fresh hub: `rounds` times, `depth` phone tickets then one kiosk ticket, and
    counter 2's call_next (passing over the phone tickets); then one more kiosk ticket and a
    call with nothing to pass over. Latencies of both kinds of call, seconds."""
    hub = Hub(broker, workdir)
    over: list[float] = []
    plain: list[float] = []
    take, call = T.device_request("kiosk-1", "take_ticket"), T.device_request("pad-2", "call_next")
    try:
        # the first call of a fresh hub reads the earlier days for the estimate: not counted
        requests(hub.cl, take, [{"service": "A", "transaction": "warm-up"}], None)
        requests(hub.cl, call, [{"transaction": "warm-up-call"}], None)
        for r in range(rounds):
            phones: list[dict[str, object]] = [
                {"service": CALLED[i % 4], "actor": f"phone:k{depth}-{r}-{i}", "transaction": f"p{r}-{i}"}
                for i in range(depth)
            ]
            if phones:
                requests(hub.cl, T.hub_request("take_ticket"), phones, None)
            for kind, into in (("over", over), ("plain", plain)):
                requests(hub.cl, take, [{"service": "A", "transaction": f"k{r}-{kind}"}], None)
                lat, _ = requests(hub.cl, call, [{"transaction": f"c{r}-{kind}"}], None)
                answer = hub.cl.bodies[f"c{r}-{kind}"]
                if answer.get("status") != "ok":
                    raise RuntimeError(f"call_next refused: {answer}")
                into.extend(lat)
    finally:
        hub.close()
    return over, plain


def pass_over_rows(broker: Mosquitto, tmp: Path, rounds: int) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    base50 = base99 = 0.0
    for depth in DEPTHS:
        step(f"pass-over: call_next past {depth} phone tickets not checked in, {rounds} rounds")
        over, plain = pass_over(broker, tmp / f"pass-{depth}", depth, rounds)
        p50, p99 = figures(over)
        same50 = figures(plain)[0]
        if depth == 0:
            base50, base99 = p50, p99
            out.append(
                (
                    "call_next, K=0 (nothing to pass over)",
                    f"p50 {p50:.2f} ms",
                    f"p99 {p99:.2f} ms; {rounds} calls",
                )
            )
            continue
        out.append(
            (
                f"call_next passing over K={depth}",
                f"p50 {p50:.2f} ms ({p50 / base50:.1f}x K=0)",
                f"p99 {p99:.2f} ms ({p99 / base99:.1f}x K=0); same day, none ahead: p50 {same50:.2f} ms",
            )
        )
    return out


def floors(broker: Mosquitto, quick: bool) -> tuple[list[tuple[str, str, str]], float]:
    """The raw broker round trip and the bare aiomqtt responder: rows, and the responder's p50."""
    step("raw broker round trip")
    raw50, raw99 = figures(raw_round_trip(broker, 200 if quick else 1000))
    step("bare aiomqtt responder (reference)")
    echo50, echo99 = figures(echo_round_trip(broker, 100 if quick else 500))
    return [
        ("raw broker QoS 1 round trip", f"p50 {raw50:.3f} ms", f"p99 {raw99:.3f} ms"),
        (
            "bare aiomqtt responder, 100/s (the floor)",
            f"p50 {echo50:.3f} ms ({echo50 / raw50:.1f}x raw)",
            f"p99 {echo99:.3f} ms",
        ),
    ], echo50


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    quick = ap.parse_args().quick
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto()
        broker.start()
        try:
            rows, echo50 = floors(broker, quick)
            step("a hub with phones on, pages on")
            hub = Hub(broker, Path(tmp) / "main")
            try:
                n_http = 60 if quick else 300
                rows += http_rows(hub, n_http)
                rows += mqtt_rows(hub, 200 if quick else 1000, echo50, waiting=2 * n_http // 5)
            finally:
                rss = hub.close()
            rows.append(("hub resident memory after HTTP and MQTT", f"{rss:.1f} MB", ""))
            rows += pass_over_rows(broker, Path(tmp), 8 if quick else 20)
        finally:
            broker.close()
    print(
        f"\nantrian phone tickets benchmark - hub with pages and [join], loopback Mosquitto, "
        f"{datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs"
    )
    width = max(len(name) for name, _, _ in rows)
    print("\n".join(f"  {name:<{width}}  {a:<34} {b}" for name, a, b in rows))
    print(
        "\nHTTP: one request at a time, phone and kiosk in turn; MQTT: 100/s, the three in turn."
        " A call_next's cost also grows with the day's tickets: compare each K with the call"
        " of the same day that has none ahead."
    )


if __name__ == "__main__":
    threading.excepthook = lambda a: None  # paho's thread at exit
    main()
