"""Faults the hub must survive: each promise is a counter that must stay zero.

The process scenarios kill the real hub (SIGKILL) and restart a real Mosquitto; the time
scenarios move an injected clock. `python bench/faults.py` runs the same with large counts.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from antrian.core import Origin


def test_a_scenario_that_breaks_leaves_no_hub_or_broker_running(faults):
    runs = []

    def broken():
        with faults.hub_scenario("breaks", "breaks") as run:
            runs.append(run)
            assert run.hub.alive()
            raise RuntimeError("the scenario broke")

    with pytest.raises(RuntimeError, match="broke"):
        broken()
    (run,) = runs
    assert run.res.notes == []  # the hub had answered a sync before the body ran
    assert not run.hub.alive()
    assert not run.broker.alive()


def test_kill_9_at_random_moments_loses_and_reissues_nothing(faults):
    r = faults.kill_runs(4, seed=11)
    assert r.runs == 4
    assert r.accepted > 20  # the load really ran and was answered
    assert r.accepted == r.requests  # every request was finally answered (after resends)
    assert not r.failures, r


def test_broker_restart_under_load_resumes_with_right_retained_state(faults):
    r = faults.broker_restarts(2, seed=12)
    assert r.runs == 2
    assert r.accepted == r.requests > 0
    assert not r.failures, r


def test_duplicated_deliveries_and_resends_have_one_effect(faults):
    r = faults.duplicates(16, copies=3)
    assert r.accepted == 16
    assert not r.failures, r


def test_unwritable_database_refuses_clearly_and_keeps_what_was_accepted(faults, tmp_path):
    r = faults.unwritable(10)
    assert r.runs == 2
    assert r.accepted >= 12
    assert not r.failures, r
    # the refusal is a readable error, in the office language
    core = faults.core_for(tmp_path / "a.db", faults.Clock(datetime(2025, 3, 3, 2, tzinfo=UTC)))
    ok = faults.ask(core, "take_ticket", {"service": "A", "transaction": "t1"})
    path = core.store.path
    core.store.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    refused = faults.ask(core, "take_ticket", {"service": "A", "transaction": "t2"})
    assert refused["status"] == "error"
    assert refused["data"]["code"] == "storage_failed"
    assert "Penyimpanan gagal" in refused["error"]
    assert set(core.state.tickets) == {ok["data"]["ticket"]}


def test_day_rollover_and_clock_jumps_keep_numbering_and_expiry_right(faults):
    r = faults.rollover_and_clock_jumps()
    assert r.runs >= 10
    assert not r.failures, r


def test_random_bad_payloads_on_every_topic(faults):
    r = faults.fuzz(3000, seed=13)
    assert r.requests == 3000
    assert not r.failures, r


def test_deep_json_beside_tickets_leaves_a_log_that_replays(faults):
    r = faults.deep_json(1, per_round=20)
    assert r.accepted == 20  # every ticket answered and in the log
    assert not r.failures, r


def test_mixed_batches_commit_exactly_what_was_answered_ok(faults):
    r = faults.mixed_batches(150, seed=14)
    assert r.runs == 150
    assert 0 < r.accepted < r.requests
    assert not r.failures, r


def test_oversized_payloads_are_refused_and_tickets_still_answered(faults):
    r = faults.oversized(4, size=2 * 1024 * 1024)
    assert r.accepted == 4
    assert not r.failures, r


def test_open_pages_that_never_read_do_not_stop_tickets(faults):
    r = faults.sse_flood(150, seconds=2.0, rate=50)
    assert r.requests >= 50
    assert r.accepted == r.requests
    assert not r.failures, r


# -- hypothesis: generated payloads through `handle`, the state and the log never move -------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
FIELDS = st.sampled_from(
    [
        "service",
        "counter",
        "ticket",
        "status",
        "priority",
        "token",
        "until",
        "transaction",
        "actor",
        "reason",
        "sender",
        "servis",
    ]
)
NEAR_VALID = st.dictionaries(FIELDS, JSON, max_size=5)
PAYLOADS = (
    st.binary(max_size=80)
    | JSON.map(lambda v: json.dumps(v).encode())
    | NEAR_VALID.map(lambda v: json.dumps(v).encode())
)


def test_hypothesis_fuzz_of_every_request_topic_changes_nothing_when_refused(faults, tmp_path):
    clock = faults.Clock(datetime(2025, 3, 3, 2, tzinfo=UTC))
    core = faults.core_for(tmp_path / "fuzz.db", clock, sync="OFF")
    for i in range(4):
        faults.ask(core, "take_ticket", {"service": "A", "transaction": f"s{i}"})
    faults.ask(core, "call_next", {"counter": 1, "transaction": "c"}, "pad-1")
    topics = faults.fuzz_topics(core)
    seen = {"refused": 0}

    @settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(topics), PAYLOADS)
    def check(topic, raw):
        command, origin = topic
        before, count = copy.deepcopy(core.state.snapshot()), core.store.count()
        out = core.handle(origin or Origin(), command, raw)  # must not raise
        body = json.loads(out[0].payload)
        assert body["status"] in ("ok", "error")
        if body["status"] == "error":
            seen["refused"] += 1
            assert core.state.snapshot() == before
            assert core.store.count() == count

    check()
    assert seen["refused"] > 300


def test_kill_9_between_queueing_and_sending_an_sms_loses_and_doubles_nothing(faults):
    r = faults.notify_kills(3, seed=7)
    assert r.runs == 3
    assert r.accepted == 3  # every call's message: handed over once, or dropped with its reason
    assert not r.failures, r.notes
