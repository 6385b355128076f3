"""The centre's copy of each office's log: every event once, whatever the link does."""

from __future__ import annotations

import json

from centre import central_rows, same_log, wait_until


def test_the_same_message_twice_is_stored_once(centre, offices):
    office = offices("winongan")
    office.commit(office.ticket_day("2026-11-30", 3))
    rows = office.rows()
    office.send(rows)
    office.send(rows)
    office.publish_head()
    wait_until(lambda: same_log(office, centre.db), 10, "the centre holds the office's log")
    seqs = [r["seq"] for r in central_rows(centre.db, "winongan")]
    assert seqs == list(range(1, 11))
    assert centre.db.query("SELECT head_seq FROM offices WHERE slug = 'winongan'") == [(10,)]


def test_batches_out_of_order_fill_in_without_an_ask(centre, offices):
    office = offices("winongan")
    office.commit(office.ticket_day("2026-11-30", 10))
    rows = office.rows()
    for part in (rows[20:], rows[10:20], rows[:10]):
        office.send(part)
    wait_until(lambda: same_log(office, centre.db), 10, "the centre holds the office's log")
    assert office.resend_asks == []


def test_a_lost_message_is_asked_again_and_the_copy_converges(centre, offices):
    office = offices("winongan")
    office.commit(office.ticket_day("2026-11-30", 20))
    rows = office.rows()
    office.send(rows[:10])
    office.send(rows[25:])  # 11-25 lost on the way
    wait_until(lambda: same_log(office, centre.db), 15, "the gap was repaired")
    assert (11, 25) in office.resend_asks


def test_a_lost_tail_is_seen_from_the_retained_head(centre, offices):
    office = offices("winongan")
    office.commit(office.ticket_day("2026-11-30", 5))
    office.send(office.rows()[:7])
    office.publish_head()  # the head says 16, the last 9 never left
    wait_until(lambda: same_log(office, centre.db), 15, "the tail arrived after an ask")
    assert office.resend_asks[0] == (8, 16)


def test_a_bad_message_is_dropped_and_the_next_is_stored(centre, offices):
    office = offices("winongan")
    office.commit(office.ticket_day("2026-11-30", 2))
    topic = f"{office.base}/central/events"
    for bad in (
        b"not json",
        b"[]",
        json.dumps({"office": "grati", "events": [], "head": 1}).encode(),
        json.dumps({"office": "winongan", "events": [{"seq": "x"}], "head": 1}).encode(),
    ):
        office.client.publish(topic, bad, qos=1).wait_for_publish(5)
    stray = {"office": "kraton", "events": office.rows(), "head": 7}
    for _ in range(3):
        office.client.publish("antrian/kraton/central/events", json.dumps(stray), qos=1).wait_for_publish(5)
    office.send(office.rows())
    wait_until(lambda: same_log(office, centre.db), 10, "the good message after the bad ones")
    assert "dropped" in centre.log()
    assert centre.db.query("SELECT count(*) FROM events WHERE office = 'kraton'") == [(0,)]
    assert centre.log().count("'kraton', which is not in [offices]") == 1


def test_live_state_of_each_office_is_kept(centre, offices):
    office = offices("grati")
    office.publish_retained("service/A/state", json.dumps({"waiting": 4, "status": "open"}))
    office.publish_retained("device/kiosk-1/availability", "offline")
    office.publish_retained("hub/state", json.dumps({"state": "online", "instance": "x"}))
    wait_until(
        lambda: len(centre.db.query("SELECT 1 FROM live_state WHERE office = 'grati'")) == 3, 10, "live state"
    )
    assert centre.db.query("SELECT payload FROM live_state WHERE topic = 'service/A/state'") == [
        ({"waiting": 4, "status": "open"},)
    ]
    office.publish_retained("service/A/state", json.dumps({"waiting": 5, "status": "open"}))
    wait_until(
        lambda: (
            centre.db.query("SELECT payload->>'waiting' FROM live_state WHERE topic = 'service/A/state'")
            == [("5",)]
        ),
        10,
        "the newer state replaces the older",
    )
