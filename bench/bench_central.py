"""Benchmark: a regency's offices streaming their logs through Mosquitto bridges into the centre.

    .venv/bin/python bench/bench_central.py [--offices 300] [--minutes 2] [--quick]

Everything at the centre is real: the central Mosquitto runs on the files `antrian central
offices add` writes (one account and ACL per office, persistent sessions), `antrian central
run` is a real process and PostgreSQL (127.0.0.1:5432) holds a database of the run's own
(dropped at the end). Between each office and the centre is a real Mosquitto bridge: the
`connection` section `antrian devices bridge` writes, one per office, with that office's
account, fixed client id and persistent session. The offices are multiplexed over a handful
of office Mosquittos (`OFFICES_PER_BROKER` bridges each; a real office runs one broker with
one bridge), and their hubs are stood in for by one publisher per office broker that keeps
each office's own log position (`seq` 1, 2, 3 ... per office) and publishes each commit on
that office's `central/events` (QoS 1) and its `central/head` (retained), as the hub does.
The events have the hub's shapes and sizes after the outward projection (`ticket_issued`,
`ticket_called` with the previous ticket's `ticket_done` in the same commit, as `call_next`
commits them, and `ticket_recalled`).

The rate: a busy kecamatan office at its morning peak issues ~60 tickets an hour (a PATEN
counter serves ~40 an hour; a busy office has a second counter part of the morning), each
ticket ~4 events (issued, called, recalled or skipped, done): 240 events an hour, 0.067
events/s per office; 300 offices make 20 events/s, in ~15 messages/s (a commit carries 1 or
2 events). Targets (issue 18): at that rate the lag from the office's publish to the row
committed at the centre under 2 s at p99; the ingest's throughput at least 10x the peak
(200 events/s); a 1-hour outage of 24 offices (a kabupaten's kecamatan) caught up in under
a minute.

Measured, in order:
1. the busy morning rate for `--minutes` (every office), lag p50/p99;
2. a morning rush: 10x that rate for a while, lag p50/p99;
3. flat out through the bridges: commits published as fast as the office brokers take them;
   events/s from the first publish to the last row committed (polled);
4. the same flat out straight onto the central broker (each office's own account, no bridge):
   the comparison line, what the bridges cost;
5. the outage: the 24 offices' bridges reach the centre through a TCP relay that is cut (their
   internet link); an hour of their busy rate is published at the offices and waits in their
   bridges' queues; then the relay is healed and the time until the centre holds every row is
   measured (the bridges' own reconnect wait, `restart_timeout 1 30`, is part of it).

The lag is the row's `received_at` (PostgreSQL's `now()`: the start of the ingest's insert
transaction, a few ms before its commit) minus the event's `at`, which the publisher sets to
the moment it publishes (this machine's clock on both sides). The events/s of the paced phases
are what was published in them (all of it stored): a little under the nominal rate, as each
office's first ticket of the run has no `ticket_done`. The outage is an hour's events, not an
hour of time: what a longer outage adds (the persistent sessions' expiry) is not measured.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import heapq
import json
import random
import shutil
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from antrian.central.offices import CentralFolder  # noqa: E402
from antrian.contract import Topics  # noqa: E402
from antrian.net import free_port  # noqa: E402
from antrian.provision.files import bridge_text, read_central_secret  # noqa: E402
from antrian.regency.outward import outward_data  # noqa: E402
from tests.central.centre import Database, centre_on  # noqa: E402
from tests.kit import Mosquitto  # noqa: E402
from tests.kit.probe import mqtt_client  # noqa: E402
from tests.regency.link import central_broker, public_tmpdir  # noqa: E402

WIB = timezone(timedelta(hours=7))
#: A busy office's morning peak: tickets an hour, events a ticket (see the module's doc).
PEAK_TICKETS_PER_HOUR = 60
EVENTS_PER_TICKET = 4
RATE = PEAK_TICKETS_PER_HOUR * EVENTS_PER_TICKET / 3600  # events/s per office
#: Events in the commits of one ticket: [issued], [done (previous), called], [recalled].
COMMITS_PER_TICKET = 3
#: Bridges (offices) on one office Mosquitto.
OFFICES_PER_BROKER = 60
OUTAGE_OFFICES = 24
LAG_TARGET_S = 2.0
CATCH_UP_TARGET_S = 60.0


class SimOffice:
    """One office's hub as the link sees it: its log position and its commits' events."""

    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.topics = Topics(slug)
        self.seq = 0
        self.ticket = 0
        self.step = 0
        self.head_sent = 0.0

    def _event(self, type_: str, at: datetime, actor: str, data: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        return {
            "seq": self.seq,
            "day": at.date().isoformat(),
            "at": at.isoformat(),
            "type": type_,
            "actor": actor,
            "reason": None,
            "data": outward_data(type_, data),
        }

    def commit(self, at: datetime) -> bytes:
        """The next commit's `central/events` payload (events stamped `at`)."""
        code = f"A-{self.ticket:03d}"
        if self.step == 0:
            self.ticket += 1
            code = f"A-{self.ticket:03d}"
            data = {"ticket": code, "service": "A", "number": self.ticket, "priority": False}
            events = [self._event("ticket_issued", at, "device:kiosk-1", {**data, "token": "x", "order": 1})]
        elif self.step == 1:
            events = []
            if self.ticket > 1:
                prev = f"A-{self.ticket - 1:03d}"
                events.append(self._event("ticket_done", at, "officer:budi", {"ticket": prev, "counter": 1}))
            events.append(
                self._event(
                    "ticket_called",
                    at,
                    "officer:budi",
                    {"ticket": code, "counter": 1, "mode": "next", "as_priority": False},
                )
            )
        else:
            events = [self._event("ticket_recalled", at, "officer:budi", {"ticket": code, "counter": 1})]
        self.step = (self.step + 1) % COMMITS_PER_TICKET
        body = {"office": self.slug, "events": events, "head": self.seq, "resent": False}
        return json.dumps(body, separators=(",", ":")).encode()

    def head(self, at: datetime) -> bytes:
        self.head_sent = time.monotonic()
        return json.dumps({"office": self.slug, "seq": self.seq, "at": at.isoformat()}).encode()


class Publisher:
    """One MQTT client publishing for a group of offices (on their office broker, or on the
    central broker with one office's account)."""

    def __init__(self, port: int, offices: list[SimOffice], account: tuple[str, str] | None = None) -> None:
        self.offices = offices
        user, password = account if account else (None, None)
        self.client = mqtt_client(
            f"bench-{offices[0].slug}-{random.randrange(10**6)}", username=user, password=password
        )
        self.client.max_queued_messages_set(0)
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        self.last: Any = None

    def publish(self, office: SimOffice, at: datetime, *, head_every: float = 0.0) -> None:
        self.last = self.client.publish(office.topics.central_events, office.commit(at), qos=1)
        if time.monotonic() - office.head_sent >= head_every:
            self.client.publish(office.topics.central_head, office.head(at), qos=1, retain=True)

    def heads(self) -> None:
        now = datetime.now(WIB)
        for o in self.offices:
            self.last = self.client.publish(o.topics.central_head, o.head(now), qos=1, retain=True)

    def drain(self, timeout: float = 120.0) -> None:
        """Wait until the broker has taken (PUBACK) everything published so far."""
        if self.last is not None:
            self.last.wait_for_publish(timeout)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Relay:
    """A TCP relay standing in for the internet link of some offices: `cut` drops every
    connection through it and refuses new ones until `heal`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.open = True
        self.writers: set[asyncio.StreamWriter] = set()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(5)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", self.port))
        ready.set()
        self.loop.run_forever()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self.writers -= {writer, up_writer}

    def cut(self) -> None:
        def go() -> None:
            self.open = False
            for w in list(self.writers):
                w.transport.abort()

        self.loop.call_soon_threadsafe(go)

    def heal(self) -> None:
        self.loop.call_soon_threadsafe(setattr, self, "open", True)


def percentiles(db: Database, since: datetime, until: datetime) -> tuple[float, float, int]:
    """Lag (received_at - at) p50, p99 in seconds and the count, for events stamped in the window."""
    row = db.query(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_cont(0.99) WITHIN GROUP "
        "(ORDER BY x), count(*) FROM (SELECT extract(epoch FROM received_at - at)::float8 AS x "
        "FROM events WHERE at >= %s AND at < %s) s",
        since,
        until,
    )[0]
    return float(row[0] or 0), float(row[1] or 0), int(row[2])


def stored(db: Database, slugs: list[str] | None = None) -> int:
    if slugs is None:
        return int(db.query("SELECT count(*) FROM events")[0][0])
    return int(db.query("SELECT count(*) FROM events WHERE office = ANY(%s)", slugs)[0][0])


def wait_stored(db: Database, expected: int, timeout: float, slugs: list[str] | None = None) -> float:
    """Poll until the centre holds `expected` rows (of `slugs`); the monotonic time it did."""
    deadline = time.monotonic() + timeout
    while (n := stored(db, slugs)) < expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"the centre holds {n} of {expected} rows after {timeout:.0f} s")
        time.sleep(0.02)
    return time.monotonic()


def paced(publishers: dict[str, Publisher], offices: list[SimOffice], rate: float, seconds: float) -> int:
    """Every office commits at `rate` events/s (Poisson arrivals) for `seconds`; commits sent."""
    per_commit = EVENTS_PER_TICKET / COMMITS_PER_TICKET
    commit_rate = rate / per_commit
    rng = random.Random(7)
    start = time.monotonic()
    due = [(start + rng.expovariate(commit_rate), i) for i in range(len(offices))]
    heapq.heapify(due)
    sent = 0
    while due:
        t, i = heapq.heappop(due)
        if t - start > seconds:
            break
        time.sleep(max(0.0, t - time.monotonic()))
        office = offices[i]
        publishers[office.slug].publish(office, datetime.now(WIB), head_every=1.0)
        sent += 1
        heapq.heappush(due, (t + rng.expovariate(commit_rate), i))
    return sent


def paced_phase(
    db: Database,
    publishers: dict[str, Publisher],
    offices: list[SimOffice],
    rate: float,
    seconds: float,
    name: str,
) -> tuple[float, float, float]:
    """`paced`, then every row stored; prints and returns lag p50, p99 (s) and events/s."""
    since = datetime.now(WIB)
    commits = paced(publishers, offices, rate, seconds)
    until = datetime.now(WIB)
    wait_stored(db, sum(o.seq for o in offices), 120)
    p50, p99, count = percentiles(db, since, until)
    print(
        f"{name} ({seconds:.0f} s, {commits} commits, {count} events, "
        f"{count / seconds:.1f} events/s): lag p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
    )
    return p50, p99, count / seconds


def flat_out(publishers: dict[str, Publisher], offices: list[SimOffice], events: int) -> int:
    """Commits round-robin over the offices as fast as the brokers take them; events sent."""
    sent = i = 0
    while sent < events:
        office = offices[i % len(offices)]
        before = office.seq
        publishers[office.slug].publish(office, datetime.now(WIB), head_every=1.0)
        sent += office.seq - before
        i += 1
        if i % 500 == 0:  # keep the publishers' queues short: the brokers set the pace
            for p in set(publishers.values()):
                p.drain()
    for p in set(publishers.values()):
        p.drain()
    return sent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--offices", type=int, default=300)
    ap.add_argument("--minutes", type=float, default=2.0, help="length of the busy-morning phase")
    ap.add_argument("--quick", action="store_true", help="a few offices for seconds (a smoke run)")
    args = ap.parse_args()
    n = 6 if args.quick else args.offices
    if not 2 <= n <= 480:
        raise SystemExit("--offices: 2 to 480 (the centre's [offices] holds 500, with the direct ones)")
    if not 0 < args.minutes <= 60:
        raise SystemExit("--minutes: more than 0, at most 60")
    steady_s = 5.0 if args.quick else args.minutes * 60
    rush_s = 3.0 if args.quick else 20.0
    flat_events = 600 if args.quick else 30_000
    outage_n = min(OUTAGE_OFFICES, max(1, n // 3)) if args.quick else min(OUTAGE_OFFICES, n)
    outage_hour = 3600.0

    root = public_tmpdir()
    stack: list[Any] = []
    db: Database | None = None
    try:
        t0 = time.monotonic()
        slugs = [f"kec-{i:03d}" for i in range(1, n + 1)]
        brokers = -(-(n - outage_n) // OFFICES_PER_BROKER) + 1
        direct_slugs = [f"direct-{i}" for i in range(1, brokers + 1)]
        cport = free_port()
        folder = CentralFolder.open(root / "central")
        folder.configure(host="127.0.0.1", port=cport, bind="127.0.0.1")
        for s in slugs + direct_slugs:
            folder.add(s)
        folder.write()
        accounts = {}
        for s in slugs + direct_slugs:
            secret = read_central_secret(root / "central" / "secrets" / f"office-{s}.toml")
            accounts[s] = (secret.username, secret.password)
        central = central_broker(folder, root / "central-run")
        stack.append(central.close)

        # the outage offices reach the centre through the relay (their internet link)
        outage_slugs = slugs[-outage_n:]
        relay = Relay(cport)
        groups = [
            slugs[: n - outage_n][i : i + OFFICES_PER_BROKER]
            for i in range(0, n - outage_n, OFFICES_PER_BROKER)
        ]
        groups.append(outage_slugs)
        offices = {s: SimOffice(s) for s in slugs}
        publishers: dict[str, Publisher] = {}
        office_brokers = []
        for g, group in enumerate(groups):
            sections = []
            for s in group:
                account = read_central_secret(root / "central" / "secrets" / f"office-{s}.toml")
                if s in outage_slugs:
                    account = dataclasses.replace(account, port=relay.port)
                sections.append(bridge_text(s, account, None))
            (root / f"office-{g}").mkdir()
            broker = Mosquitto(workdir=root / f"office-{g}", extra_conf="\n".join(sections))
            broker.start()
            stack.append(broker.close)
            office_brokers.append(broker)
            pub = Publisher(broker.port, [offices[s] for s in group])
            stack.append(pub.close)
            publishers.update({s: pub for s in group})

        db = Database()
        names = {s: f"Kantor Kecamatan {s}" for s in slugs + direct_slugs}
        centre = centre_on(root / "central", cport, db, root, names)
        centre.start_ready(timeout=60)
        stack.append(centre.stop)
        for pub in set(publishers.values()):
            pub.heads()
        deadline = time.monotonic() + 120
        while int(db.query("SELECT count(*) FROM offices WHERE last_seen IS NOT NULL")[0][0]) < n:
            if time.monotonic() > deadline:
                raise SystemExit("not every office's bridge reached the centre within 120 s")
            time.sleep(0.1)
        every = [offices[s] for s in slugs]
        direct_offices = [SimOffice(s) for s in direct_slugs]
        print(
            f"{n} offices on {len(office_brokers)} office Mosquittos "
            f"(up to {max(map(len, groups))} bridges each, "
            f"{outage_n} through the cut-able link), central Mosquitto, antrian central run, PostgreSQL: "
            f"up in {time.monotonic() - t0:.1f} s"
        )
        print(
            f"busy-morning rate: {PEAK_TICKETS_PER_HOUR} tickets/h x {EVENTS_PER_TICKET} events = "
            f"{RATE:.3f} events/s an office, {RATE * n:.1f} events/s for {n} offices"
        )

        # 1. the busy morning; 2. a morning rush: 10x
        steady = paced_phase(db, publishers, every, RATE, steady_s, "busy morning")
        rush = paced_phase(db, publishers, every, RATE * 10, rush_s, "morning rush 10x")

        # 3. flat out through the bridges
        start = time.monotonic()
        sent = flat_out(publishers, every, flat_events)
        done = wait_stored(db, sum(o.seq for o in every), 600)
        bridged_rate = sent / (done - start)
        print(
            f"flat out through the bridges: {sent} events in {done - start:.1f} s = "
            f"{bridged_rate:,.0f} events/s ingested"
        )

        # 4. the same straight onto the central broker: offices with no bridge, each publishing
        # with its own account (its client id at the centre), as many publishers as above
        direct = {o.slug: Publisher(cport, [o], accounts[o.slug]) for o in direct_offices}
        stack.extend(p.close for p in direct.values())
        start = time.monotonic()
        sent = flat_out(direct, direct_offices, flat_events)
        done = wait_stored(db, sum(o.seq for o in every + direct_offices), 600)
        direct_rate = sent / (done - start)
        print(
            f"flat out straight onto the central broker ({len(direct)} offices, no bridge): "
            f"{sent} events in {done - start:.1f} s = {direct_rate:,.0f} events/s; through the bridges "
            f"{bridged_rate / direct_rate:.2f}x that"
        )

        # 5. 24 offices' 1-hour outage
        relay.cut()
        time.sleep(1.0)
        outage = [offices[s] for s in outage_slugs]
        pub = publishers[outage_slugs[0]]
        hour_start = datetime.now(WIB) - timedelta(hours=2)
        per_office = round(RATE * outage_hour)
        commits_needed = round(per_office * COMMITS_PER_TICKET / EVENTS_PER_TICKET)
        for k in range(commits_needed):
            at = hour_start + timedelta(seconds=k * outage_hour / commits_needed)
            for o in outage:
                pub.publish(o, at, head_every=1.0)
        pub.drain()
        queued = sum(o.seq for o in outage) - stored(db, outage_slugs)
        time.sleep(1.0)
        healed = time.monotonic()
        relay.heal()
        done = wait_stored(db, sum(o.seq for o in outage), 300, outage_slugs)
        catch_up = done - healed
        print(
            f"outage: {outage_n} offices x 1 hour ({queued} events queued in their bridges) "
            f"caught up {catch_up:.1f} s after the link came back"
        )

        # the table
        peak = RATE * n
        rows = [
            (
                "lag p99, busy morning",
                f"< {LAG_TARGET_S:.0f} s",
                f"{steady[1] * 1000:.0f} ms (p50 {steady[0] * 1000:.0f} ms)",
            ),
            ("lag p99, 10x rush", "-", f"{rush[1] * 1000:.0f} ms (p50 {rush[0] * 1000:.0f} ms)"),
            (
                "ingested, sustained (busy morning)",
                f"{peak:.1f} events/s offered",
                f"{steady[2]:.1f} events/s",
            ),
            ("ingested, burst (10x rush)", f"{peak * 10:.0f} events/s offered", f"{rush[2]:.1f} events/s"),
            (
                "ingest throughput, flat out",
                f">= {peak * 10:.0f} events/s (10x peak)",
                f"{bridged_rate:,.0f} events/s",
            ),
            (
                f"catch-up, {outage_n} offices' 1-hour outage",
                f"< {CATCH_UP_TARGET_S:.0f} s",
                f"{catch_up:.1f} s",
            ),
        ]
        print()
        print(f"{'figure (' + str(n) + ' offices)':44} {'target':34} measured")
        for name, target, measured in rows:
            print(f"{name:44} {target:34} {measured}")
    finally:
        for stop in reversed(stack):
            with contextlib.suppress(Exception):
                stop()
        if db is not None:
            db.drop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
