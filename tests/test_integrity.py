"""Nothing a device or an operator sends can corrupt the log or stop a restart (core, real SQLite).

The rule under test: a request is answered alone, a batch commits exactly the requests answered
`ok`, and after every batch the state in memory equals the replay of the log.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from antrian.config import parse_config
from antrian.contract import MAX_TICKET_NUMBER, Outgoing, Topics
from antrian.core import HubCore, Origin
from antrian.queue import Event, ReplayError, replay
from antrian.service import HubService
from antrian.store import EventStore
from tests.kit import MORNING, Clock
from tests.kit.office import call_pad, kiosk, led_board
from tests.kit.process import antrian_cli

OFFICE: dict[str, Any] = {
    "office": {"opening": "07:00", "closing": "16:00"},
    "devices": [kiosk(), call_pad("pad-1", 1), call_pad("pad-3", 3), led_board()],
}
CFG = parse_config(OFFICE)
T = Topics("kantor")
DAY_STARTED = Event("day_started", MORNING, "2026-11-30", "system", {"previous_day": None, "expired": []})


def new_core(path: Path, cfg=CFG, clock=None, **kw) -> HubCore:
    return HubCore(cfg, EventStore(path, synchronous="OFF"), clock=clock or Clock(MORNING), **kw)


def req(device: str | None, command: str, body: dict | bytes) -> tuple[Origin, str, bytes]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Origin(device), command, raw


def answers(responses: list[Outgoing]) -> list[dict]:
    return [json.loads(m.payload) for m in responses if "/response/" in m.topic]


def replayed(core: HubCore) -> dict:
    """The state a restart would build from the log (strictly: any bad event fails the test)."""
    day = core.store.last_day()
    events = core.store.events_between(day, day) if day else iter(())
    return replay(core.cfg, events, strict=True)[0].snapshot()


def test_deep_json_from_a_board_is_rejected_alone_and_leaves_no_phantom_ticket(tmp_path):
    core = new_core(tmp_path / "a.db")
    responses, effects = core.handle_batch(
        [
            req("kiosk-1", "take_ticket", {"service": "A", "transaction": "k-1"}),
            req("board-1", "sync", b"[" * 1000),
            req("kiosk-1", "take_ticket", {"service": "A", "transaction": "k-2"}),
        ]
    )
    codes = [(a["status"], a["data"].get("code")) for a in answers(responses)]
    assert codes == [("ok", None), ("error", "invalid_payload"), ("ok", None)]
    effects()
    assert core.state.snapshot() == replayed(core)
    called = answers(core.handle(Origin("pad-1"), "call_next", b'{"transaction": "p-1"}'))
    assert called[0]["data"]["ticket"] == "A-001"
    # a restart (strict) rebuilds exactly what was answered
    again = new_core(tmp_path / "a.db", strict=True)
    assert again.state.snapshot() == core.state.snapshot()
    assert again.state.tickets["A-001"].state == "called"


class FaultyCore(HubCore):
    """A hub with a bug that strikes after a request's events were applied in memory."""

    def _result(self, command: str, events: list[Event], now: datetime) -> dict[str, Any]:
        if any(e.reason == "boom" for e in events):
            raise RuntimeError("a bug after apply")
        return super()._result(command, events, now)


def test_a_request_that_fails_after_apply_is_answered_internal_error_and_undone(tmp_path):
    core = FaultyCore(
        CFG, EventStore(tmp_path / "a.db", synchronous="OFF"), clock=Clock(MORNING), strict=True
    )
    responses, _ = core.handle_batch(
        [
            req(None, "take_ticket", {"service": "B", "transaction": "c-1"}),
            req(None, "take_ticket", {"service": "B", "reason": "boom", "transaction": "c-2"}),
            req(None, "take_ticket", {"service": "B", "transaction": "c-3"}),
        ]
    )
    got = answers(responses)
    assert [a["status"] for a in got] == ["ok", "error", "ok"]
    assert got[1]["data"]["code"] == "internal_error"
    assert got[1]["transaction"] == "c-2"
    assert [a["data"].get("ticket") for a in (got[0], got[2])] == ["B-001", "B-002"]
    assert sorted(core.state.tickets) == ["B-001", "B-002"]
    assert core.state.snapshot() == replayed(core)
    # the failed transaction is not remembered: a resend without the bug is served
    retry = answers(core.handle(Origin(), "take_ticket", b'{"service": "B", "transaction": "c-2"}'))
    assert retry[0]["data"]["ticket"] == "B-003"


# ---------------------------------------------------------------------------------------------
# property: random batches of good, malformed, deep, huge and failing requests
# ---------------------------------------------------------------------------------------------

_GOOD = st.one_of(
    st.builds(
        lambda s, p: req("kiosk-1", "take_ticket", {"service": s, "priority": p}),
        st.sampled_from("ABCDE"),
        st.booleans(),
    ),
    st.builds(lambda c: req(None, "take_ticket", {"service": c, "actor": "budi"}), st.sampled_from("ABC")),
    st.sampled_from(
        [
            req("pad-1", "call_next", {}),
            req("pad-3", "call_next", {}),
            req("pad-1", "recall", {}),
            req("pad-1", "skip", {}),
            req("pad-3", "done", {}),
            req(None, "call_next", {"counter": 2}),
            req(None, "transfer", {"counter": 2, "service": "C"}),
            req(None, "counter_status", {"counter": 2, "status": "break"}),
            req(None, "counter_status", {"counter": 2, "status": "open"}),
            req(None, "reinsert", {"ticket": "A-001"}),
            req(None, "set_priority", {"ticket": "A-002", "priority": True}),
            req(None, "call_ticket", {"counter": 3, "ticket": "C-001"}),
            req("board-1", "sync", {}),
        ]
    ),
)
_BAD = st.sampled_from(
    [
        req("board-1", "sync", b"[" * 1000),
        req("kiosk-1", "take_ticket", b"{" * 40),
        req("kiosk-1", "take_ticket", b'{"service": "A", "x": "' + b"y" * 2000 + b'"}'),
        req("kiosk-1", "take_ticket", b"\xff\xfe"),
        req("kiosk-1", "take_ticket", b'{"service": "Z"}'),
        req("stranger", "take_ticket", {"service": "A"}),
        req("board-1", "call_next", {}),
        req(None, "take_ticket", {"service": "A", "reason": "boom"}),
        req("pad-1", "call_next", {"reason": "boom"}),
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(st.one_of(_GOOD, _BAD), min_size=1, max_size=12), min_size=1, max_size=8))
def test_after_every_batch_the_live_state_is_the_replay_of_the_log(tmp_path_factory, batches):
    path = tmp_path_factory.mktemp("prop") / "a.db"
    core = FaultyCore(CFG, EventStore(path, synchronous="OFF"), clock=Clock(MORNING), strict=True)
    for batch in batches:
        responses, effects = core.handle_batch(batch)
        got = answers(responses)
        assert len(got) == len(batch)  # every request answered, each alone
        effects()
        assert core.state.snapshot() == replayed(core)
    core.store.close()
    assert new_core(path, strict=True).state.snapshot() == core.state.snapshot()


# ---------------------------------------------------------------------------------------------
# restart on a log that does not replay, and a configuration changed mid-day
# ---------------------------------------------------------------------------------------------


def issued(ticket: str, token: str) -> Event:
    """`ticket_issued` of `ticket` (`A-001`) at kiosk-1 on DAY_STARTED's day, the first in line."""
    service, number = ticket.split("-")
    data = {"ticket": ticket, "service": service, "number": int(number), "priority": False}
    return Event(
        "ticket_issued", MORNING, "2026-11-30", "device:kiosk-1", {**data, "token": token, "order": 1}
    )


def write_log(path: Path, *events: Event) -> None:
    """A log of one day: DAY_STARTED, then `events` as they are, checked by nothing."""
    store = EventStore(path)
    store.append([DAY_STARTED, *events])
    store.close()


def _phantom_call(path: Path) -> None:
    """A log with `ticket_called A-001` and no `ticket_issued` (what the old hub could write)."""
    call = {"ticket": "A-001", "counter": 1, "mode": "next", "as_priority": False}
    write_log(
        path, issued("B-001", "tok-b1"), Event("ticket_called", MORNING, "2026-11-30", "device:pad-1", call)
    )


def test_a_restart_on_an_event_that_cannot_apply_reports_it_and_serves(tmp_path):
    _phantom_call(tmp_path / "a.db")
    with pytest.raises(ReplayError, match="A-001"):
        new_core(tmp_path / "a.db", strict=True)
    core = new_core(tmp_path / "a.db", strict=False)
    assert len(core.inconsistencies) == 1
    assert "#3 ticket_called of A-001, which was never issued on 2026-11-30" in core.inconsistencies
    assert list(core.state.tickets) == ["B-001"]
    notice = [json.loads(m.payload) for m in core.notices()]
    assert notice[0]["type"] == "log_inconsistent"
    assert notice[0]["data"]["count"] == 1
    took = answers(core.handle(Origin("kiosk-1"), "take_ticket", b'{"service": "A"}'))
    assert took[0]["data"]["ticket"] == "A-001"


def test_log_verify_lists_the_event_that_cannot_apply(tmp_path):
    _phantom_call(tmp_path / "antrian.db")
    (tmp_path / "antrian.toml").write_text('database = "antrian.db"\n')
    bad = antrian_cli("log", "verify", "-c", "antrian.toml", cwd=tmp_path)
    assert bad.returncode == 1
    assert "TIDAK KONSISTEN" in bad.stdout
    assert "A-001" in bad.stdout
    shown = antrian_cli("queue", "-c", "antrian.toml", cwd=tmp_path)  # used to exit with KeyError
    assert shown.returncode == 0, shown.stderr


def test_log_verify_passes_a_sound_log(tmp_path):
    core = new_core(tmp_path / "antrian.db")
    core.handle(Origin("kiosk-1"), "take_ticket", b'{"service": "A"}')
    core.handle(Origin("pad-1"), "call_next", b"{}")
    core.store.close()
    (tmp_path / "antrian.toml").write_text('database = "antrian.db"\n')
    ok = antrian_cli("log", "verify", "-c", "antrian.toml", cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK" in ok.stdout


def test_log_refuses_a_day_that_is_not_a_date(tmp_path):
    (tmp_path / "antrian.toml").write_text('database = "antrian.db"\n')
    out = antrian_cli("log", "-c", "antrian.toml", "--day", "2026-13-45", cwd=tmp_path)
    assert out.returncode == 2
    assert "2026-13-45" in out.stderr


def test_removing_a_counter_and_a_service_mid_day_keeps_them_closed_until_the_day_ends(tmp_path):
    core = new_core(tmp_path / "antrian.db")
    for svc in ("D", "D", "E"):
        core.handle(Origin("kiosk-1"), "take_ticket", json.dumps({"service": svc}).encode())
    core.handle(Origin("pad-3"), "call_next", b"{}")
    core.store.close()
    smaller = parse_config(
        {
            "office": OFFICE["office"],
            "services": [{"letter": "A", "name": "KTP"}, {"letter": "E", "name": "Umum"}],
            "counters": [{"number": 1, "services": ["A"]}, {"number": 2, "services": ["A", "E"]}],
        }
    )
    later = new_core(tmp_path / "antrian.db", cfg=smaller, strict=True)
    assert later.state.counters[3].status == "closed"
    assert later.state.counters[3].serving == "D-001"
    assert later.state.services["D"].status == "closed"
    # the retired counter may still finish its ticket, but takes no new call
    done = answers(later.handle(Origin(), "done", b'{"counter": 3}'))
    assert done[0]["status"] == "ok"
    refused = answers(later.handle(Origin(), "call_next", b'{"counter": 3}'))
    assert refused[0]["data"]["code"] == "counter_retired"
    reopen = answers(later.handle(Origin(), "counter_status", b'{"counter": 3, "status": "open"}'))
    assert reopen[0]["data"]["code"] == "counter_retired"
    # the published picture includes the retired entries without failing
    pictures = later.retained_all()
    assert any(m.topic == T.counter_state(3) for m in pictures)
    # `config check` warns about it before the restart
    (tmp_path / "antrian.toml").write_text(
        'database = "antrian.db"\n[[services]]\nletter = "A"\nname = "KTP"\n'
        '[[services]]\nletter = "E"\nname = "Umum"\n'
        '[[counters]]\nnumber = 1\nservices = ["A"]\n[[counters]]\nnumber = 2\nservices = ["A", "E"]\n'
    )
    check = antrian_cli("config", "check", "antrian.toml", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert "loket 3 dihapus" in check.stdout
    assert "layanan D dihapus" in check.stdout
    assert "1 tiketnya masih menunggu" in check.stdout


# ---------------------------------------------------------------------------------------------
# transactions, storage, numbers, priority share
# ---------------------------------------------------------------------------------------------


def test_a_transaction_is_remembered_per_device_and_per_working_day(tmp_path):
    clock = Clock(MORNING)
    core = new_core(tmp_path / "a.db", clock=clock)
    body = b'{"service": "A", "transaction": "0001-1"}'
    first = answers(core.handle(Origin("kiosk-1"), "take_ticket", body))[0]
    again = answers(core.handle(Origin("kiosk-1"), "take_ticket", body))[0]
    assert again == first
    clock.now = MORNING + timedelta(days=1)
    next_day = answers(core.handle(Origin("kiosk-1"), "take_ticket", body))[0]
    assert next_day["status"] == "ok"
    assert next_day["data"]["day"] == "2026-12-01"
    assert next_day["data"]["token"] != first["data"]["token"]
    assert len(core.state.tickets) == 1


def test_a_database_from_before_day_scoped_transactions_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE transactions (sender TEXT NOT NULL, transaction_id TEXT NOT NULL,"
        " day TEXT NOT NULL, command TEXT NOT NULL, response TEXT NOT NULL,"
        " PRIMARY KEY (sender, transaction_id)) WITHOUT ROWID;"
        "INSERT INTO transactions VALUES ('kiosk-1', 't-1', '2026-11-30', 'take_ticket',"
        ' \'{"status": "ok", "data": {"ticket": "A-001"}}\');'
    )
    db.close()
    store = EventStore(path)
    assert store.transaction_response("kiosk-1", "2026-11-30", "t-1") == {
        "status": "ok",
        "data": {"ticket": "A-001"},
    }
    assert store.transaction_response("kiosk-1", "2026-12-01", "t-1") is None


def test_a_full_disk_is_answered_storage_full_and_changes_nothing(tmp_path):
    core = new_core(tmp_path / "a.db")
    core.handle(Origin("kiosk-1"), "take_ticket", b'{"service": "A"}')
    before = core.state.snapshot()
    # SQLite's own limit on the file: the same SQLITE_FULL as a full disk
    pages = core.store.db.execute("PRAGMA page_count").fetchone()[0]
    core.store.db.execute(f"PRAGMA max_page_count = {pages}")
    batch = [
        req("kiosk-1", "take_ticket", {"service": "A", "transaction": f"{i:03d}" + "t" * 60})
        for i in range(64)
    ]  # more than the pages left can hold
    got = answers(core.handle_batch(batch)[0])
    assert {a["data"]["code"] for a in got} == {"storage_full"}
    assert "Penyimpanan penuh" in got[0]["error"]
    assert "rollback" not in got[0]["error"]
    assert core.state.snapshot() == before
    # and the resend after space is freed is served, once
    core.store.db.execute(f"PRAGMA max_page_count = {pages * 100}")
    again = answers(core.handle_batch(batch[:2])[0])
    assert [a["data"]["ticket"] for a in again] == ["A-002", "A-003"]


def _issue(core: HubCore, service: str, count: int) -> None:
    batch = [req("kiosk-1", "take_ticket", {"service": service})] * 64
    while count > 0:
        core.handle_batch(batch[:count])[1]()
        count -= 64


def test_ticket_one_thousand_and_one_is_called_announced_and_shown(tmp_path):
    cfg = parse_config({**OFFICE, "devices": [*OFFICE["devices"], {"id": "spk", "role": "speaker"}]})
    core = new_core(tmp_path / "a.db", cfg=cfg)
    asyncio.run(HubService(core).start_extensions())  # the speakers' part, as `antrian run` has
    _issue(core, "B", 1001)
    out = core.handle(Origin("pad-1"), "call_ticket", b'{"ticket": "B-1001"}')  # counter 1 serves B
    assert answers(out)[0]["status"] == "ok"
    assert any(m.topic == T.hub_event and b'"ticket_called"' in m.payload for m in out)
    counter = [json.loads(m.payload) for m in out if m.topic == T.counter_state(1)]
    assert counter[-1]["serving"] == "B-1001"
    recall = core.handle(Origin("pad-1"), "recall", b"{}")
    play = [json.loads(m.payload) for m in recall if m.topic == T.device_play("spk")]
    assert play[0]["text"].startswith("Nomor antrean B seribu satu, silakan menuju")
    assert {"number.seribu", "number.satu"} <= set(play[0]["clips"])
    cache = Path(__file__).parents[1] / "tts_cache" / "clips"
    missing = [
        c for c in play[0]["clips"] if not c.startswith("pause.") and not (cache / f"{c}.wav").exists()
    ]
    assert missing == []


def test_numbers_stop_at_the_last_one_that_can_be_printed_and_spoken(tmp_path):
    write_log(tmp_path / "a.db", issued(f"A-{MAX_TICKET_NUMBER}", "t"))
    core = new_core(tmp_path / "a.db", strict=True)
    got = answers(core.handle(Origin("kiosk-1"), "take_ticket", b'{"service": "A"}'))[0]
    assert got["data"]["code"] == "quota_reached"


def test_self_service_priority_is_capped_but_staff_can_still_mark_priority(tmp_path):
    core = new_core(tmp_path / "a.db")
    free, share = CFG.queue.priority_free, CFG.queue.priority_share
    codes = []
    for _ in range(20):
        got = answers(core.handle(Origin("kiosk-1"), "take_ticket", b'{"service": "A", "priority": true}'))[0]
        codes.append(got["data"].get("code"))
    taken = codes.count(None)
    assert taken == free  # past the free ones, at most `share` of all tickets may be priority
    assert codes[free:] == ["priority_share_reached"] * (20 - free)
    for _ in range(10):
        core.handle(Origin("kiosk-1"), "take_ticket", b'{"service": "A"}')
    svc = core.state.services["A"]
    assert svc.priority_issued <= max(free, share * svc.issued)
    # a regular ticket marked priority by staff, and a wrongly-priority one corrected
    marked = answers(
        core.handle(
            Origin(),
            "set_priority",
            b'{"ticket": "A-010", "priority": true, "actor": "budi", "reason": "lansia"}',
        )
    )[0]
    assert marked["status"] == "ok"
    unmarked = answers(
        core.handle(
            Origin(),
            "set_priority",
            b'{"ticket": "A-001", "priority": false, "actor": "budi", "reason": "bukan prioritas"}',
        )
    )[0]
    assert unmarked["status"] == "ok"
    assert core.state.tickets["A-001"].priority is False
    assert core.state.snapshot() == replayed(core)


def test_copies_of_a_request_in_one_batch_get_the_first_answer_as_it_finally_is(tmp_path):
    core = new_core(tmp_path / "a.db")
    copies = [req("kiosk-1", "take_ticket", {"service": "A", "transaction": "k-1"})] * 3
    got = answers(core.handle_batch(copies)[0])
    assert got[0] == got[1] == got[2]
    assert got[0]["data"]["ticket"] == "A-001"
    assert "estimated_call_at" in got[0]["data"]  # the estimate filled in after the batch
    # and a resend after the batch (from the log) is the same answer again
    assert answers(core.handle_batch(copies[:1])[0]) == got[:1]
