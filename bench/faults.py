"""Fault injection: crash the hub, restart the broker, resend, break the disk, move the clock, fuzz.

    python bench/faults.py                   # the full run (>= 50 kills, >= 100,000 payloads)
    python bench/faults.py --quick           # a short run, same table

Every scenario uses real parts: a real Mosquitto on a free loopback port, the hub as a child
process (`antrian run`) killed with SIGKILL, and the hub core in-process with an injected
clock where time has to move. Each scenario returns a `Result` whose counters must be zero
where the promise says zero; the script prints them as a table (`RELIABILITY.md` keeps the
last one). `tests/faults` runs the same scenarios with small counts.

The script stops by itself: every wait has a timeout, and the hub and broker it started are
stopped in `finally` blocks.

Adding a scenario:

1. Write a function that takes its counts (and a `seed` if it draws at random) and returns a
   `Result`. Against the hub as a process, let `hub_scenario` set up and tear down::

       def my_fault(rounds: int) -> Result:
           # the docstring: what is broken, and the promise that must hold
           with hub_scenario("my fault", "my-client") as run:
               for i in range(rounds):
                   run.client.take(f"m{i}")      # or run.client.send(topic, payload)
                   run.hub.kill()                # the fault: or run.broker.restart() ...
                   run.hub.start()
                   run.res.runs += 1
                   if not run.client.ready() or run.client.resend_pending():
                       run.res.notes.append("FAIL unanswered after restart")
               run.res.requests = rounds
               run.finish()                      # stop the hub, count lost and double tickets
           return run.res

   `run.hub` is `antrian run` (started and answering, unless `start=False`), on a broker of
   its own; `config=` gives another office (`hub_office()` with a section added, say);
   `run.hub.workdir` is the hub's folder and `run.hub.database` its log, to read afterwards.
   The in-process scenarios (`unwritable`, `fuzz` ...) build a `HubCore` with `core_for`.
   Count what breaks a promise in `lost`, `reissued`, `double`, `state_mismatch` or
   `crashes`, or as a note starting with `FAIL`: any of these fails the run.
2. Add a line to the list in `main`, with full and `--quick` counts.
3. Add a test to `tests/faults/test_faults.py` with small counts: `assert not r.failures`.
4. Run `python bench/faults.py` and copy the table into `RELIABILITY.md`.
"""

from __future__ import annotations

import argparse
import atexit
import copy
import http.client
import json
import logging
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402

from antrian import views  # noqa: E402
from antrian.config import load_config, parse_config  # noqa: E402
from antrian.contract import COMMAND_SCHEMAS, HA_STATUS_TOPIC, Topics  # noqa: E402
from antrian.core import HubCore, Origin  # noqa: E402
from antrian.net import free_port  # noqa: E402
from antrian.queue import Event, ReplayError, replay  # noqa: E402
from antrian.store import EventStore  # noqa: E402
from tests.kit import Clock, HubProcess, Mosquitto  # noqa: E402
from tests.kit.hubs import hub_on_own_broker  # noqa: E402
from tests.kit.office import ALL_DAY, call_pad, every_day, kiosk, led_board, office, speaker  # noqa: E402
from tests.kit.probe import mqtt_client  # noqa: E402

T = Topics("kantor")


#: The office of every process scenario: open all day (so no expiry fires mid-run), the web
#: pages on (as in production; on loopback, a free port per hub), the devices the fuzz addresses.
def hub_office(web_port: int = 8080) -> dict[str, Any]:
    """The office, with its web pages on `web_port`."""
    devices = (kiosk(), call_pad(), led_board(), speaker())
    return office(*devices, web=web_port, office={"slug": "kantor", **ALL_DAY})


#: Fields of the retained service state that the event log alone decides (not the estimate).
STATE_FIELDS = ("status", "waiting", "waiting_priority", "issued", "last_issued", "last_called")


@dataclass
class Result:
    """What one scenario did and what went wrong. `failures` must be empty."""

    name: str
    runs: int = 0
    requests: int = 0
    accepted: int = 0
    lost: int = 0
    reissued: int = 0
    double: int = 0
    state_mismatch: int = 0
    crashes: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        keys = ("lost", "reissued", "double", "state_mismatch", "crashes")
        bad = [f"{k}={getattr(self, k)}" for k in keys if getattr(self, k)]
        return bad + [n for n in self.notes if n.startswith("FAIL")]


# ---------------------------------------------------------------------------------------------
# a device-like client: sends requests, keeps every response, resends what went unanswered
# ---------------------------------------------------------------------------------------------


class Client:
    """A paho client that reconnects by itself and remembers every response by transaction."""

    def __init__(self, broker: Mosquitto, name: str) -> None:
        self.cond = threading.Condition()
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self.sent: dict[str, tuple[str, bytes]] = {}
        self.latest: dict[str, dict[str, Any]] = {}
        self.connected = threading.Event()
        c = mqtt_client(name)
        c.on_connect = self._on_connect
        c.on_disconnect = lambda *a: self.connected.clear()
        c.on_message = self._on_message
        self.c = c
        c.connect(broker.host, broker.port, keepalive=5)
        c.loop_start()
        if not self.connected.wait(5):
            raise TimeoutError("client did not connect")

    def _on_connect(self, client: mqtt.Client, *_: Any) -> None:
        client.subscribe(
            [
                (f"{T.base}/hub/response/+", 1),
                (f"{T.base}/device/+/response/+", 1),
                (T.service_state("A"), 1),
                (T.hub_state, 1),
            ]
        )
        self.connected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            body = json.loads(msg.payload)
        except ValueError:
            return
        with self.cond:
            if "/response/" in msg.topic:
                txn = body.get("transaction")
                if isinstance(txn, str):
                    self.responses.setdefault(txn, []).append(body)
            else:
                self.latest[msg.topic] = body
            self.cond.notify_all()

    def send(self, topic: str, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload).encode()
        with self.cond:
            self.sent[payload["transaction"]] = (topic, raw)
        self.c.publish(topic, raw, qos=1)

    def take(self, txn: str, service: str = "A", *, device: str | None = None) -> None:
        """A take_ticket for `service`: through the hub's own topic, or as `device` does."""
        topic = T.device_request(device, "take_ticket") if device else T.hub_request("take_ticket")
        self.send(topic, {"service": service, "transaction": txn})

    def take_for(self, seconds: float, interval_s: float, prefix: str, n: int) -> int:
        """A steady load: a take_ticket every `interval_s` for `seconds`, the transactions
        numbered on from `n` after `prefix`; returns the last number used."""
        stop_at = time.monotonic() + seconds
        while time.monotonic() < stop_at:
            n += 1
            self.take(f"{prefix}{n}")
            time.sleep(interval_s)
        return n

    def pending(self) -> list[str]:
        with self.cond:
            return [t for t in self.sent if t not in self.responses]

    def resend_pending(self, timeout: float = 10.0) -> int:
        """Send every unanswered request again (what a device does after a reconnect)."""
        todo = self.pending()
        deadline = time.monotonic() + timeout
        while todo and time.monotonic() < deadline:
            for txn in todo:
                topic, raw = self.sent[txn]
                self.c.publish(topic, raw, qos=1)
            with self.cond:
                self.cond.wait_for(lambda: not self.pending(), timeout=1.0)
            todo = self.pending()
        return len(todo)

    def wait_answered(self, txns: list[str], timeout: float = 10.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: all(t in self.responses for t in txns), timeout)

    def ready(self, timeout: float = 15.0) -> bool:
        """True once the hub answers a `sync`: it is connected, subscribed and serving."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            txn = f"sync-{random.getrandbits(48):x}"
            self.send(T.hub_request("sync"), {"transaction": txn})
            if self.wait_answered([txn], 0.5):
                return True
        return False

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


# ---------------------------------------------------------------------------------------------
# checks against the event log
# ---------------------------------------------------------------------------------------------


def log_tickets(db: Path) -> tuple[dict[tuple[str, str], int], dict[str, str], int]:
    """(day, code) -> times issued; token -> code; take_ticket transactions stored."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        issued: dict[tuple[str, str], int] = {}
        tokens: dict[str, str] = {}
        for day, data in con.execute("SELECT day, data FROM events WHERE type='ticket_issued'"):
            d = json.loads(data)
            issued[(day, d["ticket"])] = issued.get((day, d["ticket"]), 0) + 1
            tokens[d["token"]] = d["ticket"]
        txns = con.execute("SELECT count(*) FROM transactions WHERE command='take_ticket'")
        return issued, tokens, int(txns.fetchone()[0])
    finally:
        con.close()


def check_log(result: Result, client: Client, db: Path) -> None:
    """Lost, reissued and double tickets, from the responses seen and the log on disk."""
    issued, tokens, stored_txns = log_tickets(db)
    with client.cond:
        answers = {t: r for t, r in client.responses.items() if not t.startswith("sync-")}
    for bodies in answers.values():
        oks = [b for b in bodies if b.get("status") == "ok" and "token" in b.get("data", {})]
        if not oks:
            continue
        result.accepted += 1
        codes = {(b["data"]["ticket"], b["data"]["token"]) for b in oks}
        if len(codes) > 1:
            result.double += 1  # one press, two different tickets
        code, token = next(iter(codes))
        if tokens.get(token) != code:
            result.lost += 1  # answered ok, but not in the log
    result.reissued += sum(n - 1 for n in issued.values() if n > 1)
    result.double += max(0, sum(issued.values()) - stored_txns)


def log_state(config: Path) -> dict[str, Any]:
    """Service A as the event log says it is (a fresh core replaying the log)."""
    cfg = load_config(config)
    store = EventStore(cfg.database)
    try:
        core = HubCore(cfg, store)
        full = views.service_state(core.state, "A", datetime.now(UTC))
    finally:
        store.close()
    return {k: full[k] for k in STATE_FIELDS}


def published_matches_log(client: Client, hub: HubProcess, timeout: float = 5.0) -> bool:
    """The hub's retained service state equals the log's, within `timeout`."""
    want = log_state(hub.config_path)
    topic = T.service_state("A")

    def same() -> bool:
        got = client.latest.get(topic)
        return got is not None and {k: got.get(k) for k in STATE_FIELDS} == want

    with client.cond:
        return client.cond.wait_for(same, timeout)


def hub_alive(res: Result, hub: HubProcess) -> None:
    """A hub process that died, or logged a traceback, is a crash."""
    text = hub.log()
    if hub.proc is None or hub.proc.poll() is not None or "Traceback" in text:
        res.crashes += 1
        tail = text[text.rfind("Traceback") :].strip().splitlines()[-3:] if text else []
        res.notes.append(f"crash: {' | '.join(tail)[:300]}")


def _workdir() -> Path:
    """A scratch folder, removed when the process exits."""
    path = Path(tempfile.mkdtemp(prefix="antrian-faults-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


# ---------------------------------------------------------------------------------------------
# the frame of every process scenario: broker, hub process, client, timing, clean-up
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    """What a process scenario works with, from `hub_scenario`."""

    res: Result
    broker: Mosquitto
    hub: HubProcess
    client: Client

    def finish(self, *, check_alive: bool = True) -> None:
        """The end of a scenario: stop the hub, then count lost, reissued and double tickets
        from the responses seen and the log left on disk. With `check_alive`, a hub that died
        or logged a traceback before this is counted as a crash."""
        if check_alive:
            hub_alive(self.res, self.hub)
        self.hub.stop()
        check_log(self.res, self.client, self.hub.database)


@contextmanager
def hub_scenario(
    name: str, client_id: str, *, start: bool = True, config: dict[str, Any] | None = None
) -> Iterator[Run]:
    """A scenario against `antrian run` on a broker of its own, in a scratch folder.

    With `start` the hub is started and has answered a `sync` before the body runs (a FAIL note
    if it never does); without it the body starts the hub itself (kill loops). `config` is the
    office (`hub_office` by default, its web pages on a free port). `res.seconds` covers all of
    it, set up and clean-up included; the client, the hub and the broker are closed even when
    the body fails, so a broken run leaves no process behind.
    """
    res = Result(name)
    began = time.monotonic()
    with hub_on_own_broker(config or hub_office(free_port()), _workdir()) as (broker, hub):
        if start:
            hub.start()
        client = Client(broker, client_id)
        try:
            if start and not client.ready():
                res.notes.append("FAIL hub never served")
            yield Run(res, broker, hub, client)
        finally:
            client.close()
    res.seconds = time.monotonic() - began


# ---------------------------------------------------------------------------------------------
# scenarios
# ---------------------------------------------------------------------------------------------


def kill_runs(kills: int, *, seed: int = 1, interval_s: float = 0.004, max_alive_s: float = 0.6) -> Result:
    """SIGKILL the hub at random moments under a steady stream of take_ticket requests.

    After each restart the client resends what went unanswered (as devices do), and the
    hub's retained state must equal what a fresh replay of the log says.
    """
    rng = random.Random(seed)
    with hub_scenario("kill -9 hub under load", "load-kill", start=False) as run:
        res, hub, client = run.res, run.hub, run.client
        n = 0
        for _ in range(kills + 1):
            hub.start()
            if not client.ready():
                res.notes.append("FAIL hub did not come back")
                break
            if client.resend_pending() or not published_matches_log(client, hub):
                res.state_mismatch += 1
            if res.runs == kills:
                break
            n = client.take_for(rng.uniform(0.02, max_alive_s), interval_s, "k", n)
            hub.kill()
            res.runs += 1
        res.requests = n
        client.resend_pending()
        run.finish(check_alive=False)
    return run.res


def broker_restarts(restarts: int, *, seed: int = 2, interval_s: float = 0.004) -> Result:
    """Stop and restart the broker (losing every retained message) under load.

    The hub and the client must reconnect by themselves; a fresh subscriber must then get
    the right retained state from the hub; resends must not make double tickets.
    """
    rng = random.Random(seed)
    with hub_scenario("broker stop/restart under load", "load-broker") as run:
        res, broker, hub, client = run.res, run.broker, run.hub, run.client
        n = 0
        for _ in range(restarts):
            n = client.take_for(rng.uniform(0.05, 0.4), interval_s, "b", n)
            broker.restart()
            res.runs += 1
            if not client.connected.wait(10) or not client.ready():
                res.notes.append("FAIL no resume after broker restart")
                break
            if client.resend_pending():
                res.state_mismatch += 1
            if not fresh_subscriber_sees_log_state(broker, hub):
                res.state_mismatch += 1
        res.requests = n
        run.finish(check_alive=False)
    return run.res


def fresh_subscriber_sees_log_state(broker: Mosquitto, hub: HubProcess) -> bool:
    """A client that connects now gets the retained service state the log says."""
    probe = Client(broker, f"fresh-{random.getrandbits(32):x}")
    try:
        return published_matches_log(probe, hub)
    finally:
        probe.close()


def duplicates(requests: int, *, copies: int = 3) -> Result:
    """Every request delivered `copies` times at once, then all resent after a hub restart."""
    with hub_scenario("duplicate deliveries / resends", "dup") as run:
        res, hub, client = run.res, run.hub, run.client
        txns = []
        for i in range(requests):
            txn = f"d{i}"
            txns.append(txn)
            # half through the hub's own topic, half as the kiosk device
            for _ in range(copies):
                client.take(txn, "B", device=None if i % 2 else "kiosk-1")
        ok = client.wait_answered(txns, 20)
        hub.stop()
        hub.start()
        client.ready()
        for txn in txns:  # the device resends everything after the hub came back
            topic, raw = client.sent[txn]
            client.c.publish(topic, raw, qos=1)
        with client.cond:
            client.cond.wait_for(
                lambda: all(len(client.responses.get(t, ())) >= copies + 1 for t in txns), 20
            )
        res.requests = requests * (copies + 1)
        res.runs = 1
        if not ok:
            res.notes.append("FAIL not every request was answered")
        for txn in txns:
            bodies = client.responses.get(txn, [])
            if len({json.dumps(b, sort_keys=True) for b in bodies}) > 1:
                res.double += 1  # a resend got a different answer
        run.finish(check_alive=False)
        issued, _, _ = log_tickets(hub.database)
        if sum(issued.values()) != requests:
            res.double += abs(sum(issued.values()) - requests)
    return run.res


# -- in-process scenarios ---------------------------------------------------------------------

WIB = timedelta(hours=7)


def core_for(db: Path, clock: Callable[[], datetime], *, sync: str = "FULL") -> HubCore:

    cfg = parse_config({**hub_office(), "database": str(db)})
    counter = iter(range(10**9))
    return HubCore(
        cfg, EventStore(db, synchronous=sync), clock=clock, token_factory=lambda: f"tok{next(counter)}"
    )


def snap(core: HubCore) -> dict[str, Any]:
    """A deep copy of the state's snapshot: `snapshot()` shares its lists with the live state,
    so a shallow one taken before a change would change with it and hide the change."""
    return copy.deepcopy(core.state.snapshot())


def ask(core: HubCore, command: str, payload: dict[str, Any], device: str | None = None) -> dict[str, Any]:
    """One request through `handle`; the response body."""
    out = core.handle(Origin(device), command, json.dumps(payload).encode())
    body: dict[str, Any] = json.loads(out[0].payload)
    return body


def unwritable(tickets: int = 20) -> Result:
    """The log becomes unwritable (disk full, then read-only): refuse clearly, lose nothing."""
    res = Result("database unwritable")
    start = time.monotonic()
    db = _workdir() / "antrian.db"
    clock = Clock(datetime(2025, 3, 3, 2, 0, tzinfo=UTC))
    core = core_for(db, clock)
    accepted = [
        ask(core, "take_ticket", {"service": "A", "transaction": f"u{i}"})["data"]["ticket"]
        for i in range(tickets)
    ]
    res.accepted = len(accepted)
    for mode in ("full", "readonly"):
        before, count = snap(core), core.store.count()
        original = core.store.db
        if mode == "full":
            pages = original.execute("PRAGMA page_count").fetchone()[0]
            original.execute(f"PRAGMA max_page_count={pages}")
            body = ask(core, "take_ticket", {"service": "A", "transaction": "u-full0"})
            for i in range(500):  # fill the last free pages until the cap bites
                if body["status"] == "error":
                    break
                res.accepted += 1
                accepted.append(body["data"]["ticket"])
                before, count = snap(core), core.store.count()
                body = ask(core, "take_ticket", {"service": "A", "transaction": f"uf{i}"})
        else:
            core.store.db = sqlite3.connect(
                f"file:{db}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )
            body = ask(core, "take_ticket", {"service": "A", "transaction": "u-ro"})
        res.requests += 1
        code = body.get("data", {}).get("code")
        want = "storage_full" if mode == "full" else "storage_failed"
        if body["status"] != "error" or code != want:
            res.notes.append(f"FAIL {mode}: not refused with {want} ({body})")
        if snap(core) != before or core.store.count() != count:
            res.state_mismatch += 1
        # writable again: the refused request is simply answered now, numbering goes on
        if mode == "full":
            original.execute("PRAGMA max_page_count=1073741823")
        else:
            core.store.db.close()
            core.store.db = original
        again = ask(core, "take_ticket", {"service": "A", "transaction": f"u-{mode}"})
        if again["status"] != "ok":
            res.notes.append(f"FAIL {mode}: not accepted after recovery ({again})")
        else:
            accepted.append(again["data"]["ticket"])
            res.accepted += 1
        res.runs += 1
    core.store.close()
    fresh = core_for(db, clock)
    in_log = set(fresh.state.tickets)
    res.lost = sum(1 for c in accepted if c not in in_log)
    res.reissued = len(accepted) - len(set(accepted))
    if snap(fresh) != snap(core):
        res.state_mismatch += 1
    fresh.store.close()
    res.seconds = time.monotonic() - start
    return res


def rollover_and_clock_jumps() -> Result:
    """Expiry at closing, midnight, a clock jumping back and jumping forward two days."""
    res = Result("day rollover / clock jump")
    start = time.monotonic()
    db = _workdir() / "antrian.db"
    # office hours 07:30-16:00 WIB for this one: expiry at closing must fire

    raw = hub_office()
    raw["office"].update(opening="07:30", closing="16:00", hours=every_day("07:30-16:00"))
    cfg = parse_config({**raw, "database": str(db)})

    def local(day: int, hh: int, mm: int, ss: int = 0) -> datetime:
        return datetime(2025, 3, day, hh, mm, ss, tzinfo=UTC) - WIB

    clock = Clock(local(3, 15, 50))
    core = HubCore(cfg, EventStore(db), clock=clock)

    def expect(cond: bool, what: str) -> None:
        res.runs += 1
        if not cond:
            res.notes.append(f"FAIL {what}")

    def take(txn: str) -> str:
        res.requests += 1
        body = ask(core, "take_ticket", {"service": "A", "transaction": txn})
        return str(body["data"].get("ticket"))

    def replay_equal() -> None:
        fresh = HubCore(cfg, EventStore(db), clock=clock)
        if snap(fresh) != snap(core):
            res.state_mismatch += 1
        fresh.store.close()

    expect([take(f"r{i}") for i in range(3)] == ["A-001", "A-002", "A-003"], "day 1 numbering")
    core.tick()
    expect(all(t.state == "waiting" for t in core.state.tickets.values()), "no expiry before 16:00")
    clock.now = local(3, 16, 0, 1)
    core.tick()
    expect(all(t.state == "expired" for t in core.state.tickets.values()), "expiry at closing")
    replay_equal()
    clock.now = local(3, 23, 59, 59)
    expect(take("r3") == "A-004", "23:59:59 is still day 1")
    clock.now = local(4, 0, 0, 0)
    expect(take("r4") == "A-001", "00:00:00 local starts day 2 at A-001")
    expect(core.state.tickets["A-001"].issued_at == clock.now, "new day's ticket")
    replay_equal()
    clock.now = local(3, 22, 0)  # NTP or a dead RTC pulls the clock back an hour and more
    expect(take("r5") == "A-002", "clock back: the day does not go backwards")
    expect(core.state.day == "2025-03-04", "day stays 2025-03-04")
    replay_equal()
    clock.now = local(6, 9, 0)  # the clock leaps two days ahead
    expect(take("r6") == "A-001", "clock forward: numbering restarts on the new day")
    day_started = [e for e in core.store.events_of_day("2025-03-06") if e.type == "day_started"]
    expect(
        bool(day_started) and sorted(day_started[0].data["expired"]) == ["A-001", "A-002"],
        "yesterday's unserved tickets expire with the jump",
    )
    replay_equal()
    issued, _, _ = log_tickets(db)
    res.reissued = sum(n - 1 for n in issued.values() if n > 1)
    core.store.close()
    res.seconds = time.monotonic() - start
    return res


def fuzz_topics(core: HubCore) -> list[tuple[str, Origin | None]]:
    """Every inbound topic: (command, origin) for requests; None origin = non-request topic."""
    devices = [d.id for d in core.cfg.devices] + ["ghost"]
    commands = [*COMMAND_SCHEMAS, "nope", "", "take_ticket/x"]
    out: list[tuple[str, Origin | None]] = [(c, Origin()) for c in commands]
    out += [(c, Origin(d)) for d in devices for c in commands]
    return out


def bad_payload(rng: random.Random) -> bytes:
    """A payload that breaks the contract somehow: bytes, wrong JSON, wrong types, extra keys."""
    kind = rng.randrange(8)
    junk: list[Any] = [None, True, 0, -1, 10**30, 1.5, "", "A" * 70, [], {}, "A-001", "🙂", "\x00"]
    if kind == 0:
        return rng.randbytes(rng.randrange(0, 64))
    if kind == 1:
        return json.dumps(rng.choice(junk)).encode()
    if kind == 2:
        return b"{" + rng.randbytes(rng.randrange(0, 20)) + b"}"
    if kind == 3:
        return b"x" * rng.choice((1025, 4096))
    if kind == 4:  # a known field with a wrong type or out of range
        name = rng.choice(["service", "counter", "ticket", "status", "priority", "token"])
        return json.dumps({name: rng.choice(junk), "transaction": rng.choice(junk)}).encode()
    if kind == 5:  # an unknown field beside a correct one
        return json.dumps({"service": "A", rng.choice(["servis", "x", "Service"]): 1}).encode()
    if kind == 6:
        body = {"service": "A", "counter": 1, "transaction": rng.choice(junk[:8])}
        return json.dumps(body).encode()
    return bytes(rng.choice(b'{}[]":,0123456789aeflnrstu\\ ') for _ in range(rng.randrange(40)))


def fuzz(payloads: int, *, seed: int = 3) -> Result:
    """Bad payloads on every inbound topic: no exception, no state change, no log write.

    Requests go through `HubCore.handle` (which must never raise); the other inbound topics
    (availability, info, Home Assistant status, unknown topics) through `HubService.dispatch`,
    whose catch-all logs instead of raising, so a logged exception counts as a crash too.
    """
    from antrian.service import HubService

    rng = random.Random(seed)
    res = Result("fuzz every inbound topic")
    start = time.monotonic()
    clock = Clock(datetime(2025, 3, 3, 2, 0, tzinfo=UTC))
    core = core_for(_workdir() / "antrian.db", clock, sync="OFF")
    for i in range(6):  # something to act on: waiting tickets, one being served
        ask(core, "take_ticket", {"service": "A", "transaction": f"f{i}"})
    ask(core, "call_next", {"counter": 1, "transaction": "fc"}, "pad-1")
    service = HubService(core)
    crashes: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info:
                crashes.append(record.getMessage())

    handler = Catch()
    logging.getLogger("antrian").addHandler(handler)
    topics = fuzz_topics(core)
    other = [
        T.device_availability("pad-1"),
        T.device_info("kiosk-1"),
        HA_STATUS_TOPIC,
        T.device_availability("ghost"),
        f"{T.base}/device/pad-1",
        f"{T.base}/hub/request",
        f"{T.base}/device//request/take_ticket",
        f"{T.base}/device/pad-1/request/",
    ]
    try:
        before, count = snap(core), core.store.count()
        for i in range(payloads):
            raw = bad_payload(rng)
            res.requests += 1
            if i % 10 == 9:
                service.dispatch(rng.choice(other), raw, bool(rng.getrandbits(1)))
                changed = core.store.count() != count
            else:
                command, origin = rng.choice(topics)
                try:
                    out = core.handle(origin or Origin(), command, raw)
                except Exception as exc:
                    crashes.append(f"{command} {raw[:40]!r}: {exc!r}")
                    continue
                status = json.loads(out[0].payload).get("status") if out else None
                if status == "ok":
                    res.accepted += 1  # a valid request after all (e.g. a sync): fine
                    if core.store.count() != count:
                        before, count = snap(core), core.store.count()
                    continue
                changed = core.store.count() != count
            if changed or snap(core) != before:
                res.state_mismatch += 1
                before, count = snap(core), core.store.count()
    finally:
        logging.getLogger("antrian").removeHandler(handler)
        core.store.close()
    res.crashes = len(crashes)
    res.notes += [f"crash: {c}" for c in crashes[:3]]
    res.runs = 1
    res.seconds = time.monotonic() - start
    return res


# -- hostile input: deep JSON, huge payloads, open pages, mixed batches ------------------------


def log_replays(db: Path, config: Path) -> int:
    """How many stored events a strict replay of every day refuses (must be 0)."""
    cfg = load_config(config)
    store = EventStore(db)
    bad = 0
    try:
        for day in store.days():
            try:
                replay(cfg, store.events_between(day, day), strict=True)
            except ReplayError:
                bad += 1
    finally:
        store.close()
    return bad


def deep_json(rounds: int, *, per_round: int = 50) -> Result:
    """An LED board sends 1,000 `[` beside every ticket a kiosk takes; kill -9 after each round.

    Every ticket must be answered and in the log, every deep payload refused alone, and the
    log must replay strictly (no call of a ticket that was never issued).
    """
    with hub_scenario("deep JSON beside tickets", "deep") as run:
        res, hub, client = run.res, run.hub, run.client
        n = 0
        for _ in range(rounds):
            for _ in range(per_round):
                n += 1
                client.take(f"k{n}", device="kiosk-1")
                client.c.publish(T.device_request("board-1", "sync"), b"[" * 1000, qos=1)
                client.send(T.device_request("pad-1", "call_next"), {"transaction": f"p{n}"})
            client.wait_answered(client.pending(), 10)
            hub_alive(res, hub)
            hub.kill()
            hub.start()
            res.runs += 1
            if not client.ready() or client.resend_pending():
                res.notes.append("FAIL requests unanswered after restart")
            if not published_matches_log(client, hub):
                res.state_mismatch += 1
        res.requests = 3 * n
        run.finish()
        res.state_mismatch += log_replays(hub.database, hub.config_path)
    return run.res


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def oversized(payloads: int, *, size: int = 4 * 1024 * 1024) -> Result:
    """Payloads of `size` bytes on a device's request and info topics, beside real tickets.

    The broker here has no `max_packet_size` (production's generated config has one): this is
    the hub's own guard. Requests get `invalid_payload`; `info` is dropped unread; tickets are
    still answered; the hub's memory does not keep what it was sent.
    """
    with hub_scenario("oversized payloads", "big") as run:
        res, hub, client = run.res, run.hub, run.client
        assert hub.proc is not None
        before = _rss_mb(hub.proc.pid)
        blob = b'{"x": "' + b"y" * size + b'"}'
        for i in range(payloads):
            topic = T.device_request("kiosk-1", "take_ticket") if i % 2 else T.device_info("kiosk-1")
            client.c.publish(topic, blob, qos=1).wait_for_publish(10)
            client.take(f"o{i}", "B")
            res.requests += 2
        if not client.wait_answered([f"o{i}" for i in range(payloads)], 30):
            res.notes.append("FAIL tickets unanswered beside big payloads")
        after = _rss_mb(hub.proc.pid)
        res.runs = 1
        res.notes.append(
            f"hub memory {before:.0f} MB -> {after:.0f} MB after {payloads} x {size / 2**20:.0f} MiB"
        )
        run.finish()
    return run.res


def _open_unread_streams(port: int, count: int) -> tuple[list[Any], int]:
    """`count` sockets asking for /events/public and never reading; (sockets, refused)."""
    import socket

    socks, refused = [], 0
    for _ in range(count):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            sock.sendall(b"GET /events/public HTTP/1.1\r\nHost: hub\r\n\r\n")
            socks.append(sock)
        except OSError:
            refused += 1
    return socks, refused


def sse_flood(streams: int, *, seconds: float = 5.0, rate: float = 100.0) -> Result:
    """`streams` status pages that never read, while take_ticket runs at `rate` per second.

    Every ticket must be answered (`lost` counts those unanswered after 10 s); the note gives
    how many answers took longer than one second.
    """
    with hub_scenario("open pages that never read", "sse") as run:
        res, hub, client = run.res, run.hub, run.client
        socks: list[Any] = []
        try:
            port = load_config(hub.config_path).web.port
            socks, refused = _open_unread_streams(port, streams)
            sent_at: dict[str, float] = {}
            answered_at: dict[str, float] = {}
            n = 0
            t_end = time.monotonic() + seconds
            while time.monotonic() < t_end:
                n += 1
                txn = f"s{n}"
                sent_at[txn] = time.monotonic()
                client.take(txn)
                time.sleep(1 / rate)
                with client.cond:
                    for t in list(sent_at):
                        if t not in answered_at and t in client.responses:
                            answered_at[t] = time.monotonic()
            client.wait_answered(list(sent_at), 10)
            with client.cond:
                for t in sent_at:
                    answered_at.setdefault(t, time.monotonic() if t in client.responses else -1)
            late = sum(1 for t, at in answered_at.items() if at - sent_at[t] > 1.0)
            res.lost += sum(1 for at in answered_at.values() if at < 0)
            res.requests, res.runs = n, 1
            res.notes.append(
                f"{streams} streams opened ({refused} refused at connect); "
                f"{late} of {n} tickets answered after more than 1 s"
            )
            run.finish()
        finally:
            for sock in socks:
                sock.close()
    return run.res


class _FaultyCore(HubCore):
    """A hub with a bug that strikes after a request's events were applied in memory."""

    def _result(self, command: str, events: list[Event], now: datetime) -> dict[str, Any]:
        if any(e.reason == "boom" for e in events):
            raise RuntimeError("a bug after apply")
        return super()._result(command, events, now)


def mixed_batches(batches: int, *, seed: int = 4) -> Result:
    """Batches mixing good, malformed, deep, huge and failing requests, through one commit each.

    After every batch the live state must equal a strict replay of the log, and every request
    must have had its own answer.
    """
    rng = random.Random(seed)
    res = Result("mixed batches (good, bad, failing)")
    start = time.monotonic()
    clock = Clock(datetime(2025, 3, 3, 2, 0, tzinfo=UTC))
    db = _workdir() / "antrian.db"

    cfg = parse_config({**hub_office(), "database": str(db)})
    core = _FaultyCore(cfg, EventStore(db, synchronous="OFF"), clock=clock, strict=True)
    good = [
        ("kiosk-1", "take_ticket", {"service": "A"}),
        (None, "take_ticket", {"service": "B"}),
        ("pad-1", "call_next", {}),
        ("pad-1", "recall", {}),
        ("pad-1", "skip", {}),
        (None, "call_next", {"counter": 2}),
        (None, "done", {"counter": 2}),
        (None, "reinsert", {"ticket": "A-001"}),
        ("board-1", "sync", {}),
    ]
    bad: list[tuple[str | None, str, Any]] = [
        ("board-1", "sync", b"[" * 1000),
        ("kiosk-1", "take_ticket", b"{" * 50),
        ("kiosk-1", "take_ticket", b"x" * 5000),
        ("ghost", "take_ticket", {"service": "A"}),
        (None, "take_ticket", {"service": "A", "reason": "boom"}),
        ("pad-1", "call_next", {"reason": "boom"}),
    ]
    try:
        for _ in range(batches):
            batch = []
            for _ in range(rng.randrange(1, 40)):
                dev, command, body = rng.choice(good if rng.random() < 0.6 else bad)
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                batch.append((Origin(dev), command, raw))
            res.requests += len(batch)
            try:
                responses, effects = core.handle_batch(batch)
                effects()
            except Exception as exc:
                res.crashes += 1
                res.notes.append(f"crash: {exc!r}")
                continue
            replies = [json.loads(m.payload) for m in responses if "/response/" in m.topic]
            if len(replies) != len(batch):
                res.lost += len(batch) - len(replies)
            res.accepted += sum(1 for r in replies if r["status"] == "ok")
            day = core.store.last_day()
            events = core.store.events_between(day, day) if day else iter(())
            try:
                rebuilt = replay(cfg, events, strict=True)[0]
            except ReplayError:
                res.state_mismatch += 1
                continue
            if rebuilt.snapshot() != core.state.snapshot():
                res.state_mismatch += 1
            res.runs += 1
    finally:
        core.store.close()
    res.seconds = time.monotonic() - start
    return res


# ---------------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------------


def table(results: list[Result]) -> str:
    head = (
        "scenario",
        "runs",
        "requests",
        "accepted",
        "lost",
        "reissued",
        "double",
        "state!=log",
        "crashes",
        "seconds",
    )
    rows = [head] + [
        (
            r.name,
            str(r.runs),
            str(r.requests),
            str(r.accepted),
            str(r.lost),
            str(r.reissued),
            str(r.double),
            str(r.state_mismatch),
            str(r.crashes),
            f"{r.seconds:.1f}",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _give_number(port: int, token: str, phone: str) -> int:
    """What a citizen does on the status page: open it (CSRF token, cookie), give the number."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", f"/t/{token}")
    page = conn.getresponse()
    body = page.read().decode()
    cookies = "; ".join(c.split(";", 1)[0] for c in page.headers.get_all("Set-Cookie") or [])
    found = re.search(r'<meta name="csrf" content="([0-9a-f]+)">', body)
    if found is None:
        return page.status
    payload = json.dumps({"token": token, "phone": phone, "consent": True}).encode()
    headers = {"Content-Type": "application/json", "X-CSRF-Token": found.group(1), "Cookie": cookies}
    conn.request("POST", "/api/notify", body=payload, headers=headers)
    answer = conn.getresponse()
    answer.read()
    conn.close()
    return answer.status


def notify_kills(rounds: int, *, seed: int = 5) -> Result:
    """SIGKILL the hub right after a call whose SMS is still to be sent.

    Each round: a ticket, a number given on its status page (HTTP, as a phone does), the call;
    then kill -9 within 0-60 ms (before or after the worker handed the message to gammu-smsd's
    outbox) and a restart. gammu-smsd is not running (the modem is away), so every file the hub
    wrote stays in its outbox to be counted. The promise: each call's "dipanggil" message is
    there exactly once (none lost, none twice), and no "almost" message of a ticket already
    called is left to go out late.
    """
    from antrian.notify import gammu

    rng = random.Random(seed)
    port = free_port()
    smsd = gammu.write_dummy_smsdrc(_workdir() / "smsdrc", _workdir())
    config = hub_office(port)
    config["notify"] = {"sms_smsdrc": str(smsd.smsdrc), "tickets_per_number": 50}
    with hub_scenario("kill -9 between queueing and sending an SMS", "notify-kill", config=config) as run:
        res, hub, client = run.res, run.hub, run.client
        called: list[str] = []
        for i in range(rounds):
            client.take(f"t{i}")
            client.send(T.hub_request("sync"), {"transaction": f"s{i}"})
            if not client.wait_answered([f"t{i}"]):
                res.notes.append("FAIL ticket unanswered")
                break
            ticket = client.responses[f"t{i}"][0]["data"]
            if _give_number(port, ticket["token"], f"0812{i:08d}") != 200:
                res.notes.append(f"FAIL number not taken for {ticket['ticket']}")
                continue
            client.send(
                T.hub_request("call_next"), {"counter": 1, "actor": "petugas", "transaction": f"c{i}"}
            )
            if not client.wait_answered([f"c{i}"]):
                res.notes.append("FAIL call unanswered")
                break
            called.append(ticket["ticket"])
            time.sleep(rng.uniform(0, 0.06))
            hub.kill()
            res.runs += 1
            hub.start()
            if not client.ready():
                res.notes.append("FAIL hub did not come back")
                break
        res.requests = rounds
        db = sqlite3.connect(f"file:{hub.database}?mode=ro", uri=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the worker finishes what a kill interrupted
            open_rows = db.execute("SELECT count(*) FROM notify_outbox WHERE state IN ('pending', 'sending')")
            if open_rows.fetchone()[0] == 0:
                break
            time.sleep(0.2)
        time.sleep(2)  # time for a second copy, were there one
        texts = [gammu.decode_text(p.read_bytes()) for p in smsd.outbox.iterdir() if p.name.startswith("OUT")]
        sql = "SELECT ticket, state || ':' || coalesce(last_error, '') FROM notify_outbox WHERE kind='called'"
        rows = dict(db.execute(sql))
        db.close()
        for code in called:
            copies = sum(f"antrean {code} dipanggil" in t for t in texts)
            state, _, reason = rows.get(code, "missing:").partition(":")
            if state in ("sent", "delivered") and copies == 1:
                res.accepted += 1  # handed to gammu-smsd once
            elif state == "dropped" and reason and copies == 0:
                res.accepted += 1  # too late to matter (the next call ended it), with its reason
            elif copies > 1:
                res.double += copies - 1
            else:
                res.lost += 1
                res.notes.append(f"FAIL {code}: {state} with {copies} file(s)")
        stale = sum(1 for t in texts if "orang lagi" in t and any(f"antrean {c}:" in t for c in called))
        if stale:
            res.notes.append(f"FAIL {stale} stale 'almost' message(s) left to go out late")
        accepted = res.accepted
        run.finish()
        res.accepted = accepted  # the messages, not the tickets `finish` counts
    return run.res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small counts (about 30 s)")
    p.add_argument("--kills", type=int, default=50)
    p.add_argument("--restarts", type=int, default=10)
    p.add_argument("--fuzz", type=int, default=100_000)
    p.add_argument("--duplicates", type=int, default=200)
    p.add_argument("--streams", type=int, default=1000, help="unread pages in the flood")
    p.add_argument("--notify", type=int, default=30, help="kills between queueing and sending an SMS")
    args = p.parse_args(argv)
    args.deep, args.batches, args.big = 10, 500, 20
    if args.quick:
        args.kills, args.restarts, args.fuzz, args.duplicates = 5, 3, 5_000, 40
        args.deep, args.batches, args.big, args.streams = 2, 200, 4, 200
        args.notify = 5
    logging.basicConfig(level=logging.CRITICAL)
    started = time.monotonic()
    results = []
    scenarios: list[Callable[[], Result]] = [
        lambda: kill_runs(args.kills),
        lambda: broker_restarts(args.restarts),
        lambda: duplicates(args.duplicates),
        unwritable,
        rollover_and_clock_jumps,
        lambda: fuzz(args.fuzz),
        lambda: deep_json(args.deep),
        lambda: mixed_batches(args.batches),
        lambda: oversized(args.big),
        lambda: sse_flood(args.streams),
        lambda: notify_kills(args.notify),
    ]
    for run in scenarios:
        r = run()
        results.append(r)
        print(
            f"  {r.name}: {r.seconds:.1f} s {'OK' if not r.failures else r.failures}",
            file=sys.stderr,
            flush=True,
        )
    print(table(results))
    verdict = "FAILURES" if any(r.failures for r in results) else "all promises held"
    print(f"\ntotal {time.monotonic() - started:.0f} s; {verdict}")
    for r in results:
        for note in r.notes:
            print(f"  {r.name}: {note}")
    return 1 if any(r.failures for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
