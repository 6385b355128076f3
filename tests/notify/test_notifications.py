"""The citizen who gave a number is told before the call and at it, once, and never too late.

These drive the real hub core and its real SQLite log in this process, with the notifications
part sending through the real apprise library to a local HTTP endpoint (the WhatsApp path);
the SMS path through a real gammu-smsd is in `test_notify_sms.py`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from antrian.config import parse_config
from antrian.contract import dumps
from antrian.core import HubCore, Origin
from antrian.notify.extension import Notifications, Refusal
from antrian.service import HubService
from antrian.store import EventStore
from tests.kit import MORNING, Clock
from tests.kit.office import office

NUMBER = "0812-3456-7890"
DIGITS = "81234567890"


class NotifyOffice:
    """One counter serving A (10 min), the notifications part on, driven by hand."""

    def __init__(self, tmp_path: Path, notify: dict[str, Any], clock: Clock) -> None:
        raw = office(
            notify=notify,
            services=[{"letter": "A", "name": "Administrasi kependudukan", "minutes": 10}],
            counters=[{"number": 1, "services": ["A"]}, {"number": 2, "services": ["A"], "status": "closed"}],
        )
        cfg = replace(parse_config(raw), database=str(tmp_path / "antrian.db"))
        self.clock = clock
        self.store = EventStore(cfg.database)
        self.core = HubCore(cfg, self.store, clock=clock)
        self.service = HubService(self.core, extensions=[Notifications])
        self.part: Notifications

    async def start(self) -> NotifyOffice:
        await self.service.start_extensions()
        part = self.service.extension("notify")
        assert isinstance(part, Notifications)
        self.part = part
        return self

    async def stop(self) -> None:
        await self.service.stop_extensions()
        self.store.close()

    def act(self, command: str, **fields: Any) -> dict[str, Any]:
        out = self.core.handle(Origin(), command, dumps({**fields, "actor": "admin:test"}))
        body: dict[str, Any] = json.loads(out[0].payload)
        return body

    def take(self, n: int) -> list[dict[str, Any]]:
        return [self.act("take_ticket", service="A")["data"] for _ in range(n)]

    def call(self) -> dict[str, Any]:
        self.clock.advance(minutes=1)
        return self.act("call_next", counter=1)

    def rows(self) -> list[tuple[str, str, str]]:
        db = sqlite3.connect(self.core.cfg.database)
        return [tuple(r) for r in db.execute("SELECT ticket, kind, state FROM notify_outbox ORDER BY id")]


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def run(tmp_path: Path, notify: dict[str, Any], body: Callable[[NotifyOffice], Awaitable[None]]) -> None:
    async def main() -> None:
        o = await NotifyOffice(tmp_path, notify, Clock(MORNING)).start()
        try:
            await body(o)
        finally:
            await o.stop()

    asyncio.run(main())


def whatsapp(sink: Any) -> dict[str, Any]:
    return {"apprise_url": sink.apprise_url}


def test_a_citizen_is_told_once_when_almost_due_and_once_when_called(tmp_path, http_sink):
    async def body(o: NotifyOffice) -> None:
        tickets = o.take(6)
        mine = tickets[-1]
        answer = o.part.subscribe(mine["token"], NUMBER, None, "id", True)
        assert not isinstance(answer, Refusal), answer
        assert answer["phone"] == "+62812****7890"
        assert o.rows() == []  # 5 ahead, about 50 minutes: not yet

        o.call()
        o.call()  # 3 ahead now: "Bersiaplah"
        await until(lambda: len(http_sink.received) == 1)
        almost = http_sink.received[0]
        assert almost["to"] == "+6281234567890"
        assert almost["text"].startswith("Nomor antrean A-006: 3 orang lagi, sekitar pukul ")
        assert "Silakan kembali ke ruang tunggu." in almost["text"]

        for _ in range(3):
            o.act("done", counter=1)
            o.call()
        o.act("recall", counter=1)
        assert o.act("done", counter=1)["status"] == "ok"
        o.call()  # A-006 itself
        await until(lambda: len(http_sink.received) == 2)
        o.act("recall", counter=1)
        await asyncio.sleep(0.3)
        assert [m["text"] for m in http_sink.received[1:]] == [
            "Nomor antrean A-006 dipanggil ke Loket 1. Silakan menuju loket sekarang."
        ]
        assert o.rows() == [("A-006", "almost", "sent"), ("A-006", "called", "sent")]

    run(tmp_path, whatsapp(http_sink), body)


def test_the_message_of_a_call_is_committed_with_the_call_itself(tmp_path, http_sink):
    """Nothing is applied before it is committed: when the call is in the log, so is its
    message, before any worker has run (the worker is stopped here)."""

    async def body(o: NotifyOffice) -> None:
        (mine,) = o.take(1)
        assert not isinstance(o.part.subscribe(mine["token"], NUMBER, None, "id", True), Refusal)
        assert o.part._task is not None
        o.part._task.cancel()
        o.call()
        db = sqlite3.connect(o.core.cfg.database)
        called = db.execute("SELECT count(*) FROM events WHERE type='ticket_called'").fetchone()[0]
        queued = db.execute("SELECT kind, state FROM notify_outbox ORDER BY id").fetchall()
        assert called == 1
        assert queued == [("almost", "pending"), ("called", "pending")]

    run(tmp_path, whatsapp(http_sink), body)


def test_while_the_channel_is_down_late_messages_are_dropped_and_timely_ones_go_when_it_is_back(
    tmp_path, http_sink
):
    async def body(o: NotifyOffice) -> None:
        mine = o.take(5)[-1]
        http_sink.fail(503)
        assert not isinstance(o.part.subscribe(mine["token"], NUMBER, None, "id", True), Refusal)
        o.call()  # 3 ahead: "almost" queued, but the internet is down
        await until(lambda: ("A-005", "almost", "pending") in o.rows() and http_sink.attempts >= 1)
        for _ in range(4):
            o.act("done", counter=1)
            o.call()  # ... and A-005 is called before the internet is back
        assert o.core.state.tickets["A-005"].state == "called"

        http_sink.fail(None)
        o.clock.advance(minutes=10)  # past the backoff
        o.part._wake.set()
        await until(lambda: len(http_sink.received) == 1)
        await until(lambda: ("A-005", "almost", "dropped") in o.rows())
        assert "dipanggil ke Loket 1" in http_sink.received[0]["text"]
        reason = (
            sqlite3.connect(o.core.cfg.database)
            .execute("SELECT last_error FROM notify_outbox WHERE kind='almost'")
            .fetchone()[0]
        )
        assert reason == "the ticket is already called"

    run(tmp_path, whatsapp(http_sink), body)


def test_a_call_that_cannot_leave_in_time_is_not_sent_after_the_citizen_was_served(tmp_path, http_sink):
    async def body(o: NotifyOffice) -> None:
        (mine,) = o.take(1)
        http_sink.fail(503)
        assert not isinstance(o.part.subscribe(mine["token"], NUMBER, None, "id", True), Refusal)
        o.call()
        await until(lambda: http_sink.attempts >= 1)
        o.act("done", counter=1)
        http_sink.fail(None)
        o.clock.advance(minutes=10)
        o.part._wake.set()
        await until(lambda: all(state == "dropped" for _, _, state in o.rows()))
        assert http_sink.received == []

    run(tmp_path, whatsapp(http_sink), body)


def test_a_paused_service_and_an_unserved_ticket_are_told(tmp_path, http_sink):
    async def body(o: NotifyOffice) -> None:
        tickets = o.take(8)
        mine = tickets[-1]
        assert not isinstance(o.part.subscribe(mine["token"], NUMBER, None, "en", True), Refusal)
        assert o.act("service_status", service="A", status="paused")["status"] == "ok"
        await until(lambda: len(http_sink.received) == 1)
        assert http_sink.received[0]["text"] == (
            "Service Administrasi kependudukan is paused for now. Number A-008 stays valid; "
            "watch the screen or the status page."
        )
        o.clock.now = MORNING.replace(hour=9, minute=1)  # 16.01 WIB: closing time, A-008 unserved
        o.service.publish(o.core.tick())
        await until(lambda: len(http_sink.received) == 2)
        unserved = http_sink.received[1]["text"]
        assert unserved.startswith("Sorry, queue number A-008 could not be served today.")

    run(tmp_path, whatsapp(http_sink), body)


def test_the_numbers_of_a_day_are_gone_from_the_database_after_closing(tmp_path, http_sink):
    async def body(o: NotifyOffice) -> None:
        (mine,) = o.take(1)
        assert not isinstance(o.part.subscribe(mine["token"], NUMBER, None, "id", True), Refusal)
        db = sqlite3.connect(o.core.cfg.database)
        (sealed,) = db.execute("SELECT sealed FROM notify_contacts").fetchone()
        keys = Path(o.core.cfg.database + ".keys")
        assert [p.name for p in keys.iterdir()] == ["2026-11-30.key"]

        o.clock.now = MORNING.replace(hour=9, minute=1)  # 16.01 WIB: closing, the ticket expires
        o.service.publish(o.core.tick())
        await until(lambda: len(http_sink.received) == 1)  # "tidak terlayani hari ini" still goes
        assert db.execute("SELECT count(*) FROM notify_contacts").fetchone()[0] == 1
        o.clock.now = MORNING.replace(hour=9, minute=31)  # 16.31 WIB: closing + 30 minutes
        o.service.publish(o.core.tick())

        assert db.execute("SELECT count(*) FROM notify_contacts").fetchone()[0] == 0
        assert list(keys.iterdir()) == []
        for f in tmp_path.glob("antrian.db*"):
            if f.is_file():
                data = f.read_bytes()
                assert sealed not in data, f.name
                assert DIGITS.encode() not in data, f.name
        assert o.part.subscription(mine["token"]) is None

    run(tmp_path, whatsapp(http_sink), body)


def test_a_number_is_limited_per_ticket_and_per_day_and_needs_consent(tmp_path, http_sink):
    async def body(o: NotifyOffice) -> None:
        tickets = o.take(5)
        refused = o.part.subscribe(tickets[0]["token"], NUMBER, None, "id", False)
        assert isinstance(refused, Refusal)
        assert refused.code == "notify_consent_needed"
        bad = o.part.subscribe(tickets[0]["token"], "021 555 1234", None, "id", True)
        assert isinstance(bad, Refusal)
        assert bad.code == "phone_not_mobile"
        assert "telepon rumah" in bad.text
        for tk in tickets[:3]:
            assert not isinstance(o.part.subscribe(tk["token"], NUMBER, None, "id", True), Refusal)
        fourth = o.part.subscribe(tickets[3]["token"], NUMBER, None, "id", True)
        assert isinstance(fourth, Refusal)
        assert fourth.code == "notify_too_many"
        for n in ("0812 0000 0001", "0812 0000 0002", "0812 0000 0003"):  # a mistyped number, fixed
            assert not isinstance(o.part.subscribe(tickets[4]["token"], n, None, "id", True), Refusal)
        changed = o.part.subscribe(tickets[4]["token"], "0812 0000 0004", None, "id", True)
        assert isinstance(changed, Refusal)
        assert changed.code == "notify_changes"
        unknown = o.part.subscribe("not-a-token", NUMBER, None, "id", True)
        assert isinstance(unknown, Refusal)
        assert unknown.status == 404

    run(tmp_path, whatsapp(http_sink), body)


def test_the_number_never_appears_in_the_logs(tmp_path, http_sink, caplog):
    caplog.set_level(logging.DEBUG)

    async def body(o: NotifyOffice) -> None:
        mine = o.take(2)[-1]
        assert not isinstance(o.part.subscribe(mine["token"], NUMBER, None, "id", True), Refusal)
        http_sink.fail(503)
        o.call()
        await until(lambda: http_sink.attempts >= 1)
        http_sink.fail(None)
        o.clock.advance(minutes=1)
        o.part._wake.set()
        o.act("done", counter=1)
        o.call()
        await until(lambda: len(http_sink.received) >= 1)

    run(tmp_path, whatsapp(http_sink), body)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "+62812****7890" in logged  # the log does say who was told, masked
    assert DIGITS not in logged
    assert "3456" not in logged


def test_every_message_fits_one_sms():
    from antrian.i18n import t
    from antrian.notify.text import sms_parts

    params = {"ticket": "A-999", "ahead": 999, "time": "15.55", "counter": "Loket Pelayanan 12"}
    for lang in ("id", "en"):
        for key in (
            "notify.almost",
            "notify.called",
            "notify.almost_now",
            "notify.not_served",
            "notify.paused",
        ):
            text = t(key, lang, **params, service="Surat keterangan & legalisasi")
            encoding, parts = sms_parts(text)
            assert (encoding, parts) == ("gsm7", 1), (key, lang, len(text))
