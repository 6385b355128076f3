"""The centre's copy survives its own crash and the central broker's restart: no loss, no twice."""

from __future__ import annotations

import threading
import time

from centre import central_rows, same_log, wait_until


def _stream(office, day: str, messages: int, pause: float, stop: threading.Event) -> None:
    """Commits of a busy office, each sent as it commits (three events a ticket)."""
    for n in range(messages):
        if stop.is_set():
            return
        events = office.ticket_day(day, 1, first=n + 2)
        seqs = office.commit(events)
        office.send(office.rows(seqs[0], seqs[-1]))
        office.publish_head()
        time.sleep(pause)


def test_a_crash_of_the_centre_mid_stream_loses_nothing_and_stores_nothing_twice(centre, offices):
    office = offices("winongan")
    stop = threading.Event()
    sender = threading.Thread(target=_stream, args=(office, "2026-11-30", 120, 0.01, stop))
    sender.start()
    wait_until(lambda: len(central_rows(centre.db, "winongan")) > 60, 20, "the centre is storing")
    centre.kill()  # kill -9: no flush, no goodbye; what it held unacknowledged the broker keeps
    time.sleep(0.3)
    centre.start_ready()
    sender.join(30)
    assert not sender.is_alive()
    wait_until(lambda: same_log(office, centre.db), 20, "the centre converged to the office's log")
    seqs = [r["seq"] for r in central_rows(centre.db, "winongan")]
    assert seqs == list(range(1, 361))  # 120 tickets, three events each


def test_a_restart_of_the_central_broker_is_bridged_by_reconnect_and_resend(centre, offices, broker):
    office = offices("grati")
    office.commit(office.ticket_day("2026-11-30", 5))
    office.send(office.rows())
    wait_until(lambda: same_log(office, centre.db), 10, "the first events")
    broker.stop()  # persistence off: retained heads and the centre's session are gone
    office.commit(office.ticket_day("2026-12-01", 5))  # committed while the link is down
    broker.start()
    wait_until(lambda: office.client.is_connected(), 10, "the office is back on the broker")
    office.publish_head()  # as the hub does at every (re)connect
    wait_until(lambda: same_log(office, centre.db), 20, "the missed events were asked for and stored")
    assert office.resend_asks, "the events committed during the outage came through an ask"
