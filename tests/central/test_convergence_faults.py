"""Two real offices feeding the real centre while every link in between fails in turn.

Each office is its own Mosquitto (the config `antrian devices` writes, with the bridge
`antrian devices bridge` writes) and its own real hub with `[regency] enabled`; the central
Mosquitto runs on the config `antrian central offices add` writes; `antrian central run` is a
real process on a PostgreSQL database of the test's own. Citizens take tickets and officers
call, finish and skip them at both offices the whole time, and in turn:

1. the central broker is killed (kill -9) and started again;
2. the ingest is killed (kill -9) and started again;
3. office 1's bridge is broken: its broker is restarted (the hub and the bridge reconnect);
4. messages are really lost: the central broker is stopped, office 1's bridge queues what its
   hub publishes, and office 1's broker is then restarted; the office broker runs with
   `persistence false`, so that queue is gone and the centre sees only a head beyond its rows,
   which it must fill by asking `central/resend`.

Then the load stops and the centre's copy of each office (the `events` rows by seq, data in
the outward projection) must equal that office's SQLite log: same rows, no gap, no twice.
"""

from __future__ import annotations

import random
import re
import threading
import time
from typing import Any

from centre import Centre, central_rows, centre_on, wait_until

from antrian.contract import Topics
from antrian.regency.outward import outward_event
from tests.kit import InProcessHub, Probe
from tests.regency.link import OFFICE, OTHER, Link, running_link

OFFICE_CONFIG = {"office": {"slug": OFFICE}, "web": {"enabled": False}, "regency": {"enabled": True}}
NAMES = {OFFICE: "Kantor Kecamatan Grati", OTHER: "Kantor Kecamatan Winongan"}


class Counter:
    """A kiosk and an officer at one office, as a background thread: take a ticket, call the
    next one, then finish it or mark it terlewat, a few commands a second. A command that gets
    no answer (its broker is down) is simply tried later, as a real kiosk would."""

    def __init__(self, probe: Probe, slug: str) -> None:
        self.probe = probe
        self.slug = slug
        self.answered = 0
        self.unanswered = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.random = random.Random(slug)

    def _ask(self, command: str, body: dict[str, Any]) -> None:
        t = Topics(self.slug)
        try:
            self.probe.request(t.hub_request(command), t.hub_response(command), body, timeout=2.0)
            self.answered += 1
        except (TimeoutError, RuntimeError, OSError, ValueError):
            self.unanswered += 1
            time.sleep(0.2)

    def _run(self) -> None:
        while not self.stop.is_set():
            self._ask("take_ticket", {"service": "A"})
            self._ask("call_next", {"counter": 1})
            if self.random.random() < 0.25:
                self._ask("skip", {"counter": 1})
            else:
                self._ask("done", {"counter": 1})
            self.stop.wait(0.05)

    def start(self) -> None:
        self.thread.start()

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(15)
        assert not self.thread.is_alive()


def office_log(hub: InProcessHub) -> list[dict[str, Any]]:
    """The office's SQLite log as the centre must hold it: every row, projected outward."""

    def read() -> list[dict[str, Any]]:
        store = hub.core.store
        return [outward_event(s, e, hub.cfg.office.tz) for s, e in store.events_by_seq(1, store.head_seq())]

    return hub.call(read)


def centre_copy(link: Link, centre: Centre, slug: str) -> list[dict[str, Any]]:
    """The centre's rows of `slug` in the same shape (times in the office's zone)."""
    tz = link.offices[slug][2].cfg.office.tz
    return [{**r, "at": r["at"].astimezone(tz).isoformat()} for r in central_rows(centre.db, slug)]


def test_two_offices_converge_exactly_after_broker_ingest_and_bridge_faults_and_lost_messages(
    tmp_path, database
):
    with running_link(OFFICE_CONFIG, also=(OTHER,)) as link:
        link.ingest.close()  # the link kit's own reader holds the centre's account: the centre's now
        centre = centre_on(link.root / "central", link.central.port, database, tmp_path, NAMES)
        centre.start_ready()
        counters = [Counter(link.office_client(slug), slug) for slug in (OFFICE, OTHER)]
        office_broker = link.offices[OFFICE][1]

        def stored(slug: str) -> int:
            return len(central_rows(database, slug))

        def progress(what: str) -> None:
            """Both offices' rows grow at the centre again (load on, link working)."""
            before = {slug: stored(slug) for slug in NAMES}
            wait_until(lambda: all(stored(s) > before[s] for s in NAMES), 30, f"rows flow again after {what}")

        try:
            for c in counters:
                c.start()
            progress("the start")

            link.central.kill()  # 1. kill -9 of the central broker
            time.sleep(1.0)
            link.central.start()
            progress("the central broker's kill -9")

            centre.kill()  # 2. kill -9 of the ingest
            time.sleep(1.0)
            centre.start_ready()
            progress("the ingest's kill -9")

            office_broker.stop()  # 3. office 1's bridge broken with its broker
            time.sleep(1.0)
            office_broker.start()
            progress("office 1's broker restart")

            # 4. a real loss: what office 1's bridge queued while the centre's broker was away
            # dies with office 1's broker (persistence false)
            log_mark = len(centre.log())
            link.central.stop()
            hub = link.offices[OFFICE][2]
            head_at_stop = hub.call(hub.core.store.head_seq)
            time.sleep(1.5)
            office_broker.stop()
            office_broker.start()
            time.sleep(0.5)
            link.central.start()
            progress("the messages lost in office 1's bridge")
        finally:
            for c in counters:
                c.finish()
                c.probe.close()
        try:
            for slug in NAMES:
                hub = link.offices[slug][2]
                wait_until(
                    lambda hub=hub, slug=slug: (
                        database.query("SELECT head_seq FROM offices WHERE slug = %s", slug)
                        == [(hub.call(hub.core.store.head_seq),)]
                        and stored(slug) == hub.call(hub.core.store.head_seq)
                    ),
                    30,
                    f"the centre reached {slug}'s head",
                )
            for slug in NAMES:
                log = office_log(link.offices[slug][2])
                copy = centre_copy(link, centre, slug)
                assert [r["seq"] for r in copy] == list(range(1, len(log) + 1)), f"{slug}: a gap or a twice"
                assert copy == log, f"{slug}: the centre's copy differs from the office's log"
                assert {"ticket_issued", "ticket_called", "ticket_done", "ticket_skipped"} <= {
                    r["type"] for r in log
                }
            assert all(c.answered > 20 for c in counters), [(c.answered, c.unanswered) for c in counters]
            # the loss was real: the centre had to ask office 1 again for events committed after
            # the central broker stopped (what died in office 1's bridge queue)
            asks = re.findall(rf"office {OFFICE}: events (\d+)-(\d+) missing", centre.log()[log_mark:])
            assert any(int(hi) > head_at_stop for _lo, hi in asks), (head_at_stop, asks)
        finally:
            centre.stop()
