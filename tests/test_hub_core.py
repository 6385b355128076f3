"""The hub core with a controlled clock: closing time, day rollover, durable refusals."""

from __future__ import annotations

import json
from datetime import timedelta

from antrian.config import parse_config
from antrian.core import HubCore, Origin
from antrian.store import EventStore
from tests.kit import MORNING, Clock

CFG = parse_config(
    {"office": {"opening": "08:00", "closing": "15:00"}, "devices": [{"id": "kiosk-1", "role": "kiosk"}]}
)


def take(core: HubCore, service: str = "A") -> dict:
    out = core.handle(Origin("kiosk-1"), "take_ticket", json.dumps({"service": service}).encode())
    return json.loads(out[0].payload)


def test_closing_time_expires_what_waited_but_not_tickets_taken_after_hours(tmp_path):
    clock = Clock(MORNING)
    core = HubCore(CFG, EventStore(tmp_path / "a.db"), clock=clock)
    take(core)
    take(core)
    clock.now = MORNING + timedelta(hours=7, minutes=5)  # 15.05 WIB: kiosks refuse, staff issue
    out = core.handle(Origin(), "take_ticket", json.dumps({"service": "A", "actor": "officer:budi"}).encode())
    late = json.loads(out[0].payload)["data"]["ticket"]
    core.tick()
    states = {code: t.state for code, t in core.state.tickets.items()}
    assert states == {"A-001": "expired", "A-002": "expired", late: "waiting"}
    # a second tick changes nothing more, and the log says who did it and why
    logged = core.store.count()
    core.tick()
    assert core.store.count() == logged
    expired = [e for e in core.store.events_of_day(core.state.day) if e.type == "tickets_expired"]
    assert len(expired) == 1
    assert (expired[0].actor, expired[0].reason) == ("system", "jam layanan berakhir")


def test_tick_after_midnight_starts_a_new_day_and_resets_displays(tmp_path):
    clock = Clock(MORNING)
    core = HubCore(CFG, EventStore(tmp_path / "a.db"), clock=clock)
    take(core)
    clock.now = MORNING + timedelta(days=1)
    out = core.tick()
    assert core.state.day == "2026-12-01"
    assert core.state.tickets == {}
    service_a = [json.loads(m.payload) for m in out if m.topic.endswith("/service/A/state")]
    assert service_a
    assert service_a[-1]["waiting"] == 0
    assert take(core)["data"]["ticket"] == "A-001"


def test_an_unwritable_log_refuses_the_request_and_keeps_what_was_accepted(tmp_path):
    clock = Clock(MORNING)
    store = EventStore(tmp_path / "a.db")
    core = HubCore(CFG, store, clock=clock)
    assert take(core)["data"]["ticket"] == "A-001"
    store.db.execute("PRAGMA query_only = ON")  # the disk went read-only
    refused = take(core)
    assert refused["status"] == "error"
    assert refused["data"]["code"] == "storage_failed"
    assert core.state.services["A"].last_issued == 1  # nothing half-applied
    store.db.execute("PRAGMA query_only = OFF")
    assert take(core)["data"]["ticket"] == "A-002"
    rebuilt = HubCore(CFG, EventStore(tmp_path / "a.db"), clock=clock)
    assert rebuilt.state.snapshot() == core.state.snapshot()


def test_a_batch_shares_one_commit_and_answers_each_request_in_order(tmp_path):
    core = HubCore(CFG, EventStore(tmp_path / "a.db"), clock=Clock(MORNING))
    reqs = [
        (Origin("kiosk-1"), "take_ticket", json.dumps({"service": "B", "transaction": f"t{i}"}).encode())
        for i in range(5)
    ]
    reqs.append(reqs[2])  # a resend inside the same batch
    reqs.append((Origin("kiosk-1"), "take_ticket", b"{broken"))
    responses, effects = core.handle_batch(reqs)
    bodies = [json.loads(r.payload) for r in responses if "/response/" in r.topic]
    assert [b["data"].get("ticket") for b in bodies[:6]] == [
        "B-001",
        "B-002",
        "B-003",
        "B-004",
        "B-005",
        "B-003",
    ]
    assert bodies[6]["status"] == "error"
    assert core.state.services["B"].issued == 5
    assert any(m.topic.endswith("/service/B/state") for m in effects())
