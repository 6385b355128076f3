"""An office's events reach the regency's central broker by position, and nothing personal does.

All on real parts (`link.py`): the central Mosquitto and the office Mosquitto run the files the
provisioning commands generate, the office's bridge carries the hub's topics to the centre, and
the hub runs with `[regency] enabled` and notifications on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from antrian.notify.extension import Notifications, Refusal
from antrian.regency.extension import RegencyLink
from tests.kit import Probe

from .link import OFFICE, OTHER, Link, T, Topics, running_link, until

NUMBER = "0812-3456-7890"
DIGITS = "81234567890"
OFFICE_CONFIG = {
    "office": {"slug": OFFICE},
    "web": {"enabled": False},
    # notifications on (a channel that is down: the number is kept and retried, never sent)
    "notify": {"apprise_url": "json://127.0.0.1:9/{to}"},
    "regency": {"enabled": True, "resend_per_minute": 8},
}


@pytest.fixture(scope="module")
def link() -> Iterator[Link]:
    with running_link(OFFICE_CONFIG) as running:
        yield running


@pytest.fixture(scope="module")
def office(link: Link) -> Iterator[Probe]:
    probe = link.office_client()
    yield probe
    probe.close()


def _part(link: Link) -> RegencyLink:
    part = link.hub.service.extension("regency")
    assert isinstance(part, RegencyLink)
    return part


def _seqs(messages: list[dict]) -> list[int]:
    return [e["seq"] for m in messages for e in m["events"]]


def test_tickets_taken_at_the_office_arrive_at_the_centre_as_events_with_consecutive_seqs(link, office):
    link.take(office, 3)
    log = link.log()
    link.ingest.wait(lambda: len(_seqs([m for m in link.ingest.events() if not m["resent"]])) >= len(log))
    live = [m for m in link.ingest.events() if not m["resent"]]
    assert _seqs(live) == [seq for seq, _type in log] == list(range(1, len(log) + 1))
    assert [e["type"] for m in live for e in m["events"]] == [t for _s, t in log]
    assert all(m["office"] == OFFICE and m["head"] >= m["events"][-1]["seq"] for m in live)
    issued = [e for m in live for e in m["events"] if e["type"] == "ticket_issued"]
    assert [e["data"]["ticket"] for e in issued] == ["A-001", "A-002", "A-003"]
    assert all(e["day"] and e["at"].endswith("+07:00") and e["actor"] for e in issued)


def test_the_head_is_retained_at_the_centre_with_the_last_committed_seq(link, office):
    link.take(office, 1)
    last = link.log()[-1][0]
    link.ingest.wait(
        lambda: any(t == T.central_head and json.loads(p)["seq"] == last for t, p, _r in link.ingest.messages)
    )
    # asked again, the central broker hands over its retained copy: the newest head
    start = len(link.ingest.messages)
    link.ingest.client.subscribe(T.central_head, qos=1)
    link.ingest.wait(lambda: any(t == T.central_head and r for t, _p, r in link.ingest.messages[start:]))
    retained = [json.loads(p) for t, p, r in link.ingest.messages[start:] if t == T.central_head and r]
    assert retained[-1]["seq"] == last
    assert retained[-1]["office"] == OFFICE


def test_a_resend_ask_is_answered_with_exactly_that_range_as_resent(link, office):
    link.take(office, 2)
    head = link.log()[-1][0]
    link.ingest.publish(T.central_resend, {"from": 2, "to": 4})
    link.ingest.wait(lambda: any(m["resent"] for m in link.ingest.events()))
    resent = [m for m in link.ingest.events() if m["resent"]]
    assert _seqs(resent) == [2, 3, 4]
    live = {e["seq"]: e for m in link.ingest.events() if not m["resent"] for e in m["events"]}
    assert [live[s] for s in (2, 3, 4)] == [e for m in resent for e in m["events"]]
    # a range beyond the head is clipped at the head
    link.ingest.publish(T.central_resend, {"from": head - 1, "to": head + 100})
    link.ingest.wait(lambda: len([m for m in link.ingest.events() if m["resent"]]) >= 2)
    assert _seqs([m for m in link.ingest.events() if m["resent"]][1:]) == [head - 1, head]


def test_bad_asks_are_ignored_and_asks_over_the_rate_are_dropped(link, office):
    part = _part(link)
    before = len([m for m in link.ingest.events() if m["resent"]])
    refused = part.refused
    for bad in (
        b"not json",
        {"from": 5},
        {"from": 9, "to": 5},
        {"from": 1, "to": 5001},
        {"from": True, "to": 2},
        {"from": 0, "to": 2},
        {"from": 1, "to": 2, "x": 1},
    ):
        link.ingest.publish(T.central_resend, bad)
    until(lambda: part.refused == refused + 7)
    assert len([m for m in link.ingest.events() if m["resent"]]) == before
    # the hub still serves
    assert link.take(office, 1)[0]["ticket"]
    # the rate: at most 8 asks a minute are served, the rest dropped
    served = link.hub.call(lambda: len(part._asks))
    dropped = part.dropped
    for _ in range(10):
        link.ingest.publish(T.central_resend, {"from": 1, "to": 1})
    until(lambda: part.dropped == dropped + 10 - (8 - served))
    time.sleep(0.3)
    assert len([m for m in link.ingest.events() if m["resent"]]) == before + (8 - served)


def test_an_office_cannot_write_under_another_office_nor_read_its_resend_asks(link, office):
    other = link.secrets[OTHER]
    intruder = Probe(link.central, username=other["username"], password=other["password"])
    try:
        intruder.subscribe(T.central_resend)
        intruder.subscribe(Topics(OTHER).central_resend)
        forged = {"office": OFFICE, "events": [], "head": 999, "resent": False, "forged": True}
        intruder.publish(T.central_events, forged)
        intruder.publish(T.central_head, {"office": OFFICE, "seq": 999, "at": "forged"})
        intruder.publish(Topics(OTHER).central_head, {"office": OTHER, "seq": 1, "at": "x"})
        # its own prefix arrives (the control), the other office's never does
        link.ingest.wait(lambda: any(t == Topics(OTHER).central_head for t, _p, _r in link.ingest.messages))
        link.ingest.publish(T.central_resend, {"from": 1, "to": 1})
        link.ingest.publish(Topics(OTHER).central_resend, {"from": 1, "to": 1})
        intruder.wait_for(Topics(OTHER).central_resend)
        time.sleep(0.3)
        assert not any(
            b"forged" in p for t, p, _r in link.ingest.messages if t.startswith(f"antrian/{OFFICE}/")
        )
        assert T.central_resend not in intruder.topics()
    finally:
        intruder.close()


def test_the_bridge_keeps_what_the_office_says_while_the_centre_is_down(link, office):
    known = len(_seqs([m for m in link.ingest.events() if not m["resent"]]))
    link.central.stop()
    tickets = link.take(office, 3)
    link.central.start()
    log = link.log()
    link.ingest.wait(lambda: len(_seqs([m for m in link.ingest.events() if not m["resent"]])) >= len(log), 30)
    live = _seqs([m for m in link.ingest.events() if not m["resent"]])
    assert live == list(range(1, len(log) + 1))
    assert len(live) > known
    arrived = {e["data"].get("ticket") for m in link.ingest.events() for e in m["events"]}
    assert {t["ticket"] for t in tickets} <= arrived


def test_what_was_committed_while_the_hub_was_off_its_broker_goes_out_when_it_is_back(link, office):
    from antrian.contract import dumps
    from antrian.core import Origin

    link.office_broker.stop()
    until(lambda: link.hub.call(lambda: link.hub.service.client is None))
    # the hub's own tick closes nothing here; a command it is given directly commits alone
    request = dumps({"service": "C", "actor": "admin:test"})
    answer = link.hub.call(lambda: link.hub.core.handle(Origin(), "take_ticket", request))
    assert json.loads(answer[0].payload)["status"] == "ok"
    ticket = json.loads(answer[0].payload)["data"]["ticket"]
    link.office_broker.start()
    head = link.log()[-1][0]
    link.ingest.wait(lambda: head in _seqs([m for m in link.ingest.events() if not m["resent"]]), 30)
    live = [e for m in link.ingest.events() if not m["resent"] for e in m["events"]]
    assert [e["data"]["ticket"] for e in live if e["seq"] == head] == [ticket]
    assert _seqs([m for m in link.ingest.events() if not m["resent"]]) == list(range(1, head + 1))
    until(lambda: not office.disconnected.is_set(), 15)  # the office's client is back too


def test_no_phone_number_and_no_ticket_token_leaves_the_office(link, office):
    mine = link.take(office, 1)[0]
    notify = link.hub.service.extension("notify")
    assert isinstance(notify, Notifications)
    answer = link.hub.call(lambda: notify.subscribe(mine["token"], NUMBER, None, "id", True))
    assert not isinstance(answer, Refusal), answer
    for _ in range(3):
        call = office.request(T.hub_request("call_next"), T.hub_response("call_next"), {"counter": 1})
        assert call["status"] == "ok", call
    link.ingest.wait(lambda: any(mine["ticket"] in json.dumps(m) for m in link.ingest.events()))
    link.ingest.publish(T.central_resend, {"from": 1, "to": link.log()[-1][0]})
    time.sleep(0.5)
    everything = b"\n".join(t.encode() + b" " + p for t, p, _r in link.ingest.messages)
    assert everything
    assert mine["ticket"].encode() in everything
    tokens = [
        e["token"]
        for _s, e in [
            (s, ev.data)
            for s, ev in link.hub.call(lambda: link.hub.core.store.events_by_seq(1, 4999))
            if ev.type == "ticket_issued"
        ]
    ]
    assert tokens
    assert mine["token"] in tokens
    for secret in (DIGITS.encode(), NUMBER.encode(), b"+62" + DIGITS.encode(), *(t.encode() for t in tokens)):
        assert secret not in everything, secret
    issued = [e for m in link.ingest.events() for e in m["events"] if e["type"] == "ticket_issued"]
    assert issued
    assert all("token" not in e["data"] for e in issued)


def test_a_batch_or_a_resend_of_many_events_is_split_into_messages_of_at_most_500(link):
    from antrian.contract import dumps
    from antrian.core import Origin

    def burst() -> None:
        request = dumps({"service": "B", "actor": "admin:test"})
        for _ in range(9):  # 9 commits of 64 tickets each
            responses, effects = link.hub.core.handle_batch([(Origin(), "take_ticket", request)] * 64)
            link.hub.service.publish(responses + effects())

    link.hub.call(burst)
    head = link.log()[-1][0]
    link.ingest.wait(lambda: head in _seqs(link.ingest.events()))
    start = len(link.ingest.events())
    link.hub.call(_part(link)._asks.clear)  # a new minute: the rate test spent this one's asks
    link.ingest.publish(T.central_resend, {"from": 1, "to": head})
    link.ingest.wait(lambda: _seqs(link.ingest.events()[start:])[-1:] == [head])
    resent = [m for m in link.ingest.events()[start:] if m["resent"]]
    assert _seqs(resent) == list(range(1, head + 1))
    assert len(resent) >= 2
    assert all(len(m["events"]) <= 500 for m in resent)
    sizes = [len(raw) for topic, raw, _r in link.ingest.messages if topic == T.central_events]
    assert max(sizes) <= 48 * 1024
    assert _seqs([m for m in link.ingest.events() if not m["resent"]]) == list(range(1, head + 1))
