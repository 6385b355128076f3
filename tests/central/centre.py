"""The centre under test and what it talks to: its own PostgreSQL database, the real
`antrian central run` process, and an office that sends its log the way the contract says.

`LogOffice` stands in for an office's hub on the central broker (the office's own side has its
own tests): it keeps a real SQLite log made by the hub's `EventStore`, publishes each commit on
`central/events` with the log's `seq`, keeps `central/head` retained, and answers
`central/resend` from its log. It can lose a message on purpose (a link that dropped it) and
reorder them, which a real hub never does on its own, but a bridge and a broker restart can.
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
import tomllib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import psycopg

from antrian.net import free_port
from antrian.queue import Event
from antrian.regency.outward import outward_data
from antrian.store import EventStore
from tests.kit.process import ChildProcess

PG: str = "postgresql://postgres@127.0.0.1:5432/"
WIB = timezone(timedelta(hours=7))


class Database:
    """A database of its own (`antrian_test_<random>`), dropped at the end."""

    def __init__(self) -> None:
        self.name = f"antrian_test_{secrets.token_hex(6)}"
        with psycopg.connect(PG + "postgres", autocommit=True) as c:
            c.execute(f"CREATE DATABASE {self.name}")
        self.dsn = PG + self.name

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn, autocommit=True) as c:
            return c.execute(sql.encode(), params).fetchall()

    def drop(self) -> None:
        with psycopg.connect(PG + "postgres", autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def write_config(
    path: Path,
    broker_port: int,
    dsn: str,
    web_port: int,
    offices: dict[str, str],
    account: tuple[str, str] | None = None,
) -> Path:
    lines = [
        "[broker]",
        'host = "127.0.0.1"',
        f"port = {broker_port}",
        f'client_id = "antrian-central-{secrets.token_hex(3)}"',
        *([f'username = "{account[0]}"', f'password = "{account[1]}"'] if account else []),
        "[database]",
        f'dsn = "{dsn}"',
        "[web]",
        'host = "127.0.0.1"',
        f"port = {web_port}",
        "[ingest]",
        "gap_grace_seconds = 0.5",
        "[offices]",
        *(f'{slug} = "{name}"' for slug, name in offices.items()),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


class Centre(ChildProcess):
    """`antrian central run -c central.toml`, as a real process (kill -9 is a real crash)."""

    def __init__(self, config: Path, db: Database, workdir: Path) -> None:
        super().__init__(
            [sys.executable, "-m", "antrian.cli", "central", "run", "-c", str(config)],
            workdir / "central.log",
        )
        self.db = db

    def start_ready(self, timeout: float = 20.0) -> None:
        """Start and return once it is connected to its broker (it says so in its log)."""
        mark = len(self.log())
        self.start()
        deadline = time.monotonic() + timeout
        while "central ingest connected" not in self.log()[mark:]:
            if not self.alive() or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the centre did not come up: {self.log()[-3000:]}")
            time.sleep(0.05)


def centre_on(
    central_folder: Path, broker_port: int, db: Database, workdir: Path, offices: dict[str, str]
) -> Centre:
    """The real centre on a central broker made by `antrian central offices add` in
    `central_folder`, with the ingest's account from its secrets (not started yet)."""
    secret = tomllib.loads((central_folder / "secrets" / "central-mqtt.toml").read_text())
    cfg = write_config(
        workdir / "central.toml",
        broker_port,
        db.dsn,
        free_port(),
        offices,
        account=(secret["username"], secret["password"]),
    )
    return Centre(cfg, db, workdir)


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


class LogOffice:
    """One office's log and its link to the central broker (see the module's doc)."""

    def __init__(self, slug: str, port: int, folder: Path) -> None:
        self.slug = slug
        self.base = f"antrian/{slug}"
        self.store = EventStore(folder / f"{slug}.db", synchronous="NORMAL")
        self.lock = threading.Lock()
        self.resend_asks: list[tuple[int, int]] = []
        self.answer_resends = True
        self.port = port
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=f"office-{slug}-{secrets.token_hex(3)}"
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.connected = threading.Event()
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        if not self.connected.wait(5):
            raise AssertionError("the office did not reach the broker")
        self.tickets = 0

    def _on_connect(self, client: paho.Client, *_: Any) -> None:
        client.subscribe(f"{self.base}/central/resend", qos=1)
        self.connected.set()

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        ask = json.loads(msg.payload)
        lo, hi = int(ask["from"]), int(ask["to"])
        self.resend_asks.append((lo, hi))
        if self.answer_resends:
            self.send(self.rows(lo, min(hi, self.head())), resent=True)

    # -- the log ---------------------------------------------------------------------------
    def head(self) -> int:
        with self.lock:
            return int(self.store.db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])

    def rows(self, lo: int = 1, hi: int | None = None) -> list[dict[str, Any]]:
        """The log's events lo..hi as they go out: the outward projection, private fields dropped."""
        with self.lock:
            cur = self.store.db.execute(
                "SELECT seq, day, at, type, actor, reason, data FROM events "
                "WHERE seq BETWEEN ? AND ? ORDER BY seq",
                (lo, hi if hi is not None else 2**62),
            )
            out = []
            for seq, day, at, type_, actor, reason, data in cur.fetchall():
                d = outward_data(type_, json.loads(data))  # what a hub sends: nothing personal
                out.append(
                    {
                        "seq": seq,
                        "day": day,
                        "at": at,
                        "type": type_,
                        "actor": actor,
                        "reason": reason,
                        "data": d,
                    }
                )
            return out

    def commit(self, events: list[Event]) -> list[int]:
        with self.lock:
            return self.store.append(events)

    def send(self, rows: list[dict[str, Any]], *, resent: bool = False) -> None:
        """Publish `rows` on central/events, 500 a message, as the hub does."""
        for i in range(0, len(rows), 500):
            body = {"office": self.slug, "events": rows[i : i + 500], "head": self.head(), "resent": resent}
            self.client.publish(f"{self.base}/central/events", json.dumps(body), qos=1).wait_for_publish(5)

    def publish_head(self) -> None:
        body = {"office": self.slug, "seq": self.head(), "at": datetime.now(WIB).isoformat()}
        self.client.publish(
            f"{self.base}/central/head", json.dumps(body), qos=1, retain=True
        ).wait_for_publish(5)

    def publish_retained(self, topic: str, payload: str) -> None:
        self.client.publish(f"{self.base}/{topic}", payload, qos=1, retain=True).wait_for_publish(5)

    # -- a working day ----------------------------------------------------------------------
    def ticket_day(self, day: str, count: int, *, start_hour: int = 8, first: int = 1) -> list[Event]:
        """`count` tickets of service A from number `first`, issued, called and done (one a
        minute, each called 10 minutes after its issue and served in 5); `day_started` first
        when `first` is 1."""
        t0 = datetime.fromisoformat(f"{day}T{start_hour:02d}:00:00+07:00")
        out = (
            [Event("day_started", t0, day, "system", {"previous_day": None, "expired": 0})]
            if first == 1
            else []
        )
        for n in range(first, first + count):
            self.tickets += 1
            code = f"A-{n:03d}"
            at = t0 + timedelta(minutes=n)
            out.append(
                Event(
                    "ticket_issued",
                    at,
                    day,
                    "device:kiosk-1",
                    {
                        "ticket": code,
                        "service": "A",
                        "number": n,
                        "priority": False,
                        "token": secrets.token_urlsafe(8),
                        "order": n,
                    },
                )
            )
            out.append(
                Event(
                    "ticket_called",
                    at + timedelta(minutes=10),
                    day,
                    "officer:budi",
                    {"ticket": code, "counter": 1, "mode": "next", "as_priority": False},
                )
            )
            out.append(
                Event(
                    "ticket_done",
                    at + timedelta(minutes=15),
                    day,
                    "officer:budi",
                    {"ticket": code, "counter": 1},
                )
            )
        return out

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
        self.store.close()


def central_rows(db: Database, slug: str) -> list[dict[str, Any]]:
    """The centre's copy of an office's events, in the shape the office sends them."""
    rows = db.query(
        "SELECT seq, day, at, type, actor, reason, data FROM events WHERE office = %s ORDER BY seq", slug
    )
    return [
        {"seq": s, "day": d.isoformat(), "at": a, "type": ty, "actor": ac, "reason": r, "data": da}
        for s, d, a, ty, ac, r, da in rows
    ]


def same_log(office: LogOffice, db: Database) -> bool:
    """The centre holds exactly the office's log (its outward projection), event for event."""
    mine = central_rows(db, office.slug)
    theirs = office.rows()
    if len(mine) != len(theirs):
        return False
    for m, o in zip(mine, theirs, strict=True):
        at = datetime.fromisoformat(o["at"])
        if (m["seq"], m["day"], m["type"], m["actor"], m["reason"], m["data"]) != (
            o["seq"],
            o["day"],
            o["type"],
            o["actor"],
            o["reason"],
            o["data"],
        ) or m["at"] != at:
            return False
    return True
