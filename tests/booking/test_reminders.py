"""A booking's reminders on the real hub, a real broker and a clock the test moves: a citizen
who gave a number when booking is reminded on the day before at the set time and an hour
before the slot, by WhatsApp (apprise to a local endpoint) or SMS (a real gammu-smsd on the
dummy phone), each once, also across a restart; a cancelled booking's reminders never leave; a
reminder retried while its channel is down is dropped when the slot begins; the number is gone
after the booking day's closing; and old bookings are deleted while recent ones stay."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import tests.notify.conftest as backends
from antrian.booking.extension import Bookings
from antrian.config import ConfigError, parse_config
from antrian.contract import Topics
from antrian.notify.extension import Notifications, Refusal
from tests.kit import Clock, InProcessHub, Mosquitto
from tests.kit.clock import wib
from tests.kit.office import kiosk, office
from tests.kit.waiting import wait_until
from tests.notify.conftest import HttpSink

T = Topics("kantor")
BOOKING = {"enabled": True, "slot_minutes": 30, "quota": 2, "days_ahead": 14}
NUMBER = "0812-3456-7890"
E164 = "+6281234567890"
#: Saturday morning: the citizen books Monday 09.00 from home.
SATURDAY = wib(2026, 11, 28, 10, 0)
MONDAY = "2026-11-30"

Factory = Callable[..., tuple[InProcessHub, Clock]]


@pytest.fixture
def hub_at(broker: Mosquitto, tmp_path: Path) -> Iterator[Factory]:
    """`hub, clock = hub_at(when, notify={...}, **booking)`: the real hub with bookings and
    notifications on; the same folder each time, so a second hub is the first one restarted."""
    hubs: list[InProcessHub] = []

    def factory(when: datetime | Clock, notify: dict[str, Any], **booking: Any) -> tuple[InProcessHub, Clock]:
        clock = when if isinstance(when, Clock) else Clock(when)
        cfg = office(
            kiosk(),
            booking={**BOOKING, **booking},
            notify=notify,
            office={"public_url": "https://antrean.example.go.id"},
        )
        hub = InProcessHub(broker, tmp_path, cfg, clock=clock).start()
        hubs.append(hub)
        return hub, clock

    yield factory
    for hub in hubs:
        hub.stop()


#: The real notification backends, as tests/notify runs them: WhatsApp's way out (apprise
#: posting to a local endpoint) and SMS's (a real gammu-smsd on Gammu's dummy phone).
sink = backends.http_sink
modem = backends.gammu_smsd


def part_of(hub: InProcessHub) -> Bookings:
    part = hub.service.extension("booking")
    assert isinstance(part, Bookings)
    return part


def notify_of(hub: InProcessHub) -> Notifications:
    part = hub.service.extension("notify")
    assert isinstance(part, Notifications)
    return part


def book(
    hub: InProcessHub, slot: str = "09:00", number: str = NUMBER, lang: str = "id", day: str = MONDAY
) -> dict[str, Any] | Refusal:
    return hub.call(lambda: part_of(hub).book("A", day, slot, lang, (number, None, True)))


def booked(hub: InProcessHub, slot: str = "09:00", lang: str = "id", day: str = MONDAY) -> str:
    answer = book(hub, slot, lang=lang, day=day)
    assert isinstance(answer, dict), answer
    assert answer["reminder"]["phone"] == "+62812****7890"
    return str(answer["code"])


def tick(hub: InProcessHub) -> None:
    """The hub's periodic tick now (twice: the first one after midnight only turns the day)."""
    for _ in range(2):
        hub.call(lambda: hub.service.publish(hub.core.tick()))


def rows(hub: InProcessHub, code: str) -> dict[str, tuple[str, str | None]]:
    """kind -> (state, last error) of the booking's messages."""
    db = sqlite3.connect(hub.cfg.database)
    try:
        found = db.execute(
            "SELECT kind, state, last_error FROM notify_outbox WHERE ticket=?", (f"booking:{code}",)
        )
        return {str(k): (str(s), e) for k, s, e in found}
    finally:
        db.close()


def contacts(hub: InProcessHub) -> list[tuple[str, str]]:
    db = sqlite3.connect(hub.cfg.database)
    try:
        return [(str(d), str(t)) for d, t in db.execute("SELECT day, ticket FROM notify_contacts")]
    finally:
        db.close()


def settled(hub: InProcessHub, code: str, kind: str, state: str) -> tuple[str, str | None]:
    """The row once it reached `state` (the worker runs on the hub's loop)."""
    wait_until(lambda: rows(hub, code).get(kind, ("", None))[0] == state, timeout=15)
    return rows(hub, code)[kind]


def whatsapp(sink: HttpSink, **more: Any) -> dict[str, Any]:
    return {"apprise_url": sink.apprise_url, **more}


def test_the_day_before_and_the_hour_before_reminders_leave_at_their_time_once_each_across_restarts(
    hub_at, sink, caplog
):
    caplog.set_level(logging.INFO, logger="antrian")
    hub, clock = hub_at(SATURDAY, whatsapp(sink))
    code = booked(hub)
    assert rows(hub, code) == {"day_before": ("pending", None), "hour_before": ("pending", None)}

    clock.now = wib(2026, 11, 29, 14, 59)  # Sunday, a minute before the set time
    tick(hub)
    assert sink.wait(1, timeout=1.5) == []
    clock.now = wib(2026, 11, 29, 15, 0)
    tick(hub)
    first = sink.wait(1)
    assert len(first) == 1, rows(hub, code)
    assert first[0]["to"] == E164
    text = first[0]["text"]
    assert text.startswith(f"Pengingat reservasi {code}: Administrasi kependudukan, besok Senin, 30 November")
    assert "pukul 09.00-09.30" in text
    assert f"ketik kode {code} di kios" in text
    assert text.endswith("Batal: https://antrean.example.go.id/reservasi")
    settled(hub, code, "day_before", "sent")

    hub.stop()  # restarted after it left: it does not leave again
    clock.now = wib(2026, 11, 29, 15, 5)
    hub, _ = hub_at(clock, whatsapp(sink))
    tick(hub)
    clock.now = wib(2026, 11, 30, 7, 59)
    tick(hub)
    assert sink.wait(2, timeout=1.5) == first

    hub.stop()  # restarted before the hour-before one is due: it still leaves, once
    hub, _ = hub_at(clock, whatsapp(sink))
    clock.now = wib(2026, 11, 30, 8, 0)
    tick(hub)
    both = sink.wait(2)
    assert len(both) == 2
    assert both[1]["text"].startswith(
        f"Reservasi {code} hari ini pukul 09.00-09.30: Administrasi kependudukan."
    )
    settled(hub, code, "hour_before", "sent")
    clock.now = wib(2026, 11, 30, 8, 30)
    tick(hub)
    hub.stop()
    hub, _ = hub_at(clock, whatsapp(sink))
    tick(hub)
    assert sink.wait(3, timeout=1.5) == both
    assert rows(hub, code) == {"day_before": ("sent", None), "hour_before": ("sent", None)}
    # the hub's log names the booking only in part, and the number only masked
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("antrian")]
    assert any(f"booking:{code[:2]}**** day_before) sent to +62812****7890" in m for m in ours), ours
    assert not [m for m in ours if code in m or "81234567890" in m]


def test_a_day_before_reminder_due_while_the_hub_was_off_leaves_late_that_day_but_never_on_the_day(
    hub_at, sink
):
    hub, clock = hub_at(SATURDAY, whatsapp(sink))  # give_up_minutes 60: a ticket's limit, not this
    late = booked(hub, "09:00")
    never = booked(hub, "10:00", day="2026-12-01")
    hub.stop()
    clock.now = wib(2026, 11, 29, 17, 10)  # back two hours after the Sunday 15.00 reminder was due
    hub, _ = hub_at(clock, whatsapp(sink))
    tick(hub)
    assert [m["text"].split(":")[0] for m in sink.wait(1)] == [f"Pengingat reservasi {late}"]
    hub.stop()
    clock.now = wib(2026, 12, 1, 7, 0)  # off over Monday 15.00: back on Tuesday, the day itself
    hub, _ = hub_at(clock, whatsapp(sink))
    tick(hub)
    assert settled(hub, never, "day_before", "dropped") == ("dropped", "the booking's day has begun")
    clock.now = wib(2026, 12, 1, 9, 0)
    tick(hub)
    settled(hub, never, "hour_before", "sent")
    assert [m["text"].split(":")[0] for m in sink.wait(2)][
        1
    ] == f"Reservasi {never} hari ini pukul 10.00-10.30"


def test_an_english_booking_is_reminded_in_english_and_a_late_booking_gets_no_day_before_one(hub_at, sink):
    hub, clock = hub_at(wib(2026, 11, 29, 16, 0), whatsapp(sink))  # Sunday, after 15.00
    code = booked(hub, "10:00", lang="en")
    assert set(rows(hub, code)) == {"hour_before"}  # the page that showed the code is the reminder
    clock.now = wib(2026, 11, 30, 9, 0)
    tick(hub)
    sent = sink.wait(1)
    assert len(sent) == 1
    assert sent[0]["text"] == (
        f"Booking {code} today at 10.00-10.30: Administrasi kependudukan. At the office, scan the QR "
        f"or type the code {code} at the kiosk. Cancel: https://antrean.example.go.id/reservasi"
    )


def test_a_cancelled_bookings_reminders_are_dropped_at_once_and_never_leave(hub_at, sink):
    hub, clock = hub_at(SATURDAY, whatsapp(sink))
    cancelled = booked(hub, "09:00")
    kept = booked(hub, "10:00")
    assert hub.call(lambda: part_of(hub).cancel(cancelled, "id"))["state"] == "cancelled"
    reason = "the booking was cancelled"
    assert rows(hub, cancelled) == {"day_before": ("dropped", reason), "hour_before": ("dropped", reason)}
    assert contacts(hub) == [(MONDAY, f"booking:{kept}")]  # the cancelled one's number is gone

    clock.now = wib(2026, 11, 29, 15, 0)
    tick(hub)
    sent = sink.wait(1)
    settled(hub, kept, "day_before", "sent")
    clock.now = wib(2026, 11, 30, 9, 0)  # an hour before the kept one's 10.00
    tick(hub)
    settled(hub, kept, "hour_before", "sent")
    assert [m["text"].split(":")[0] for m in sink.wait(2)] == [
        f"Pengingat reservasi {kept}",
        f"Reservasi {kept} hari ini pukul 10.00-10.30",
    ]
    assert all(cancelled not in m["text"] for m in sent + sink.received)
    # the admin page's list of messages names bookings only in part (the code cancels them)
    listed = sorted(row["ticket"] for row in hub.call(lambda: notify_of(hub).outbox.recent()))
    assert listed == sorted([f"booking:{cancelled[:2]}****"] * 2 + [f"booking:{kept[:2]}****"] * 2)


def test_a_reminder_is_retried_while_the_channel_is_down_and_dropped_when_the_slot_begins(hub_at, sink):
    # a ticket's give-up after a minute is not a reminder's: the slot's start ends its retries
    hub, clock = hub_at(SATURDAY, whatsapp(sink, give_up_minutes=1), remind_day_before_at="")
    code = booked(hub)
    assert set(rows(hub, code)) == {"hour_before"}
    sink.fail(503)
    clock.now = wib(2026, 11, 30, 8, 0)
    tick(hub)
    wait_until(lambda: sink.attempts >= 1, timeout=15)
    _, error = settled(hub, code, "hour_before", "pending")
    assert error  # retried, with why
    for tries, minute in enumerate((5, 30, 59), start=2):  # each retry when its backoff is over
        clock.now = wib(2026, 11, 30, 8, minute)
        tick(hub)
        wait_until(lambda tries=tries: sink.attempts >= tries, timeout=15)
    assert rows(hub, code)["hour_before"][0] == "pending"
    clock.now = wib(2026, 11, 30, 9, 0)
    tick(hub)
    assert settled(hub, code, "hour_before", "dropped") == ("dropped", "the slot has begun")
    sink.fail(None)  # the provider is back: nothing late leaves
    tick(hub)
    assert sink.wait(1, timeout=1.5) == []


def test_an_sms_reminder_held_by_the_modem_away_is_taken_back_once_the_booking_is_checked_in(
    hub_at, modem, probe
):
    hub, clock = hub_at(SATURDAY, {"sms_smsdrc": str(modem.smsdrc)})
    code = booked(hub)
    clock.now = wib(2026, 11, 29, 15, 0)
    tick(hub)
    sent = modem.wait_transmitted(1)
    assert sent[0].to == E164
    assert sent[0].text.startswith(f"Pengingat reservasi {code}: ")
    assert sent[0].parts <= 2

    modem.stop()  # the modem is unplugged on Monday morning
    clock.now = wib(2026, 11, 30, 8, 0)
    tick(hub)
    settled(hub, code, "hour_before", "sent")  # handed to gammu-smsd, waiting in its outbox
    assert len(modem.outbox()) == 1
    clock.now = wib(2026, 11, 30, 8, 10)  # the citizen came early and checked in
    probe.subscribe(f"{T.base}/#")
    answer = probe.request(
        T.device_request("kiosk-1", "check_in"), T.device_response("kiosk-1", "check_in"), {"booking": code}
    )
    assert answer["status"] == "ok", answer
    _, reason = settled(hub, code, "hour_before", "dropped")
    assert reason == "the booking was checked in; taken back before it left"
    assert modem.outbox() == []
    modem.start()
    assert len(modem.transmitted()) == 1


def test_a_number_is_given_removed_and_given_again_by_the_code_until_the_slot_begins(hub_at, sink):
    hub, clock = hub_at(SATURDAY, whatsapp(sink))
    plain = hub.call(lambda: part_of(hub).book("A", MONDAY, "09:00", "id"))
    assert isinstance(plain, dict)
    code = plain["code"]
    part = part_of(hub)

    def set_reminder(number: str | None) -> dict[str, Any] | Refusal:
        reminder = (number, None, True) if number else None
        return hub.call(lambda: part.set_reminder(code.lower(), reminder, "id"))

    assert set_reminder(NUMBER) == {
        "code": code,
        "reminder": {"phone": "+62812****7890", "channel": "whatsapp"},
    }
    assert rows(hub, code) == {"day_before": ("pending", None), "hour_before": ("pending", None)}
    assert set_reminder(None) == {"code": code, "reminder": None}
    removed = "the number was removed"
    assert rows(hub, code) == {"day_before": ("dropped", removed), "hour_before": ("dropped", removed)}
    assert contacts(hub) == []
    assert set_reminder("0813 1111 2222")["reminder"]["phone"] == "+62813****2222"
    assert rows(hub, code) == {"day_before": ("pending", None), "hour_before": ("pending", None)}

    clock.now = wib(2026, 11, 29, 15, 0)
    tick(hub)
    sent = sink.wait(1)
    assert [m["to"] for m in sent] == ["+6281311112222"]
    settled(hub, code, "day_before", "sent")
    assert set_reminder(NUMBER)["reminder"]["phone"] == "+62812****7890"
    assert rows(hub, code)["day_before"] == ("sent", None)  # what left does not leave again
    clock.now = wib(2026, 11, 30, 8, 0)
    tick(hub)
    assert [m["to"] for m in sink.wait(2)] == ["+6281311112222", E164]  # the hour-before one: new number

    clock.now = wib(2026, 11, 30, 9, 0)
    closed = set_reminder(NUMBER)
    assert isinstance(closed, Refusal)
    assert closed.code == "reminder_closed"
    unknown = hub.call(lambda: part.set_reminder("ACDEFH", (NUMBER, None, True), "id"))
    assert isinstance(unknown, Refusal)
    assert unknown.code == "booking_not_found"


def test_a_future_days_number_is_kept_until_that_days_closing_and_then_destroyed(hub_at, sink):
    hub, clock = hub_at(SATURDAY, whatsapp(sink), remind_day_before_at="", remind_minutes_before=0)
    code = booked(hub)
    assert rows(hub, code) == {}  # both reminders off: the number is still taken, sealed, kept
    keys = Path(hub.cfg.database + ".keys")
    for when in (wib(2026, 11, 28, 18, 0), wib(2026, 11, 29, 17, 0), wib(2026, 11, 30, 16, 29)):
        clock.now = when  # Saturday's and Sunday's closings leave Monday's key alone
        tick(hub)
        assert (keys / f"{MONDAY}.key").exists()
        assert contacts(hub) == [(MONDAY, f"booking:{code}")]
    clock.now = wib(2026, 11, 30, 16, 31)  # closing 16.00 + keep_after_closing_minutes 30
    tick(hub)
    assert not (keys / f"{MONDAY}.key").exists()
    assert contacts(hub) == []


def test_a_number_may_be_reminded_of_a_bounded_number_of_bookings_a_day(hub_at, sink):
    hub, _ = hub_at(SATURDAY, whatsapp(sink, tickets_per_number=2))
    booked(hub, "08:00")
    booked(hub, "08:30")
    third = book(hub, "09:00")
    assert isinstance(third, Refusal)
    assert third.code == "reminder_too_many"
    assert third.status == 429
    assert third.text == "Nomor HP ini sudah dipakai untuk pengingat 2 reservasi pada hari itu."
    assert isinstance(book(hub, "09:00", day="2026-12-01"), dict)  # another day: its own count
    for bad, key in (("021-555-1234", "phone_not_mobile"), ("12", "phone_invalid")):
        refused = book(hub, "09:00", number=bad)
        assert isinstance(refused, Refusal)
        assert refused.code == key
    no_consent = hub.call(lambda: part_of(hub).book("A", MONDAY, "09:00", "id", (NUMBER, None, False)))
    assert isinstance(no_consent, Refusal)
    assert no_consent.code == "notify_consent_needed"
    # nothing refused took a place
    monday = next(d for d in hub.call(lambda: part_of(hub).offer("id"))["days"] if d["day"] == MONDAY)
    assert next(s for s in monday["slots"] if s["slot"] == "09:00")["left"]["A"] == 2


def test_a_number_is_refused_clearly_when_the_office_sends_no_messages(hub_at):
    hub, _ = hub_at(SATURDAY, {})
    refused = book(hub)
    assert isinstance(refused, Refusal)
    assert refused.code == "notify_off"
    assert hub.call(lambda: part_of(hub).offer("id"))["reminders"] == []
    plain = hub.call(lambda: part_of(hub).book("A", MONDAY, "09:00", "id"))
    assert isinstance(plain, dict)
    assert "reminder" not in plain


def test_old_bookings_are_deleted_once_a_day_and_recent_ones_kept(hub_at, sink, caplog):
    caplog.set_level(logging.INFO, logger="antrian.booking")
    hub, clock = hub_at(wib(2026, 8, 1, 10, 0), whatsapp(sink))
    old = booked(hub, "09:00", day="2026-08-03")  # with a number
    clock.now = wib(2026, 9, 10, 10, 0)
    recent = hub.call(lambda: part_of(hub).book("A", "2026-09-14", "09:00", "id"))
    assert isinstance(recent, dict)

    clock.now = wib(2026, 11, 30, 7, 0)  # keep_days 90: the days before 1 September go
    tick(hub)
    assert isinstance(hub.call(lambda: part_of(hub).lookup(old, "id")), Refusal)
    assert hub.call(lambda: part_of(hub).lookup(recent["code"], "id"))["state"] == "booked"
    today = "booking: 1 booking(s) of days before 2026-09-01 deleted (keep_days 90)"
    assert today in caplog.messages
    assert contacts(hub) == []  # its number had gone with its day long before
    tick(hub)  # once a day
    assert caplog.messages.count(today) == 1


@pytest.mark.parametrize(
    ("booking", "error"),
    [
        ({"keep_days": 3}, "booking.keep_days"),
        ({"remind_minutes_before": 500}, "booking.remind_minutes_before"),
        ({"remind_day_before_at": "25:00"}, "booking.remind_day_before_at"),
    ],
)
def test_bad_reminder_and_clean_up_settings_are_refused_by_name(booking, error):
    with pytest.raises(ConfigError, match=error):
        parse_config(office(booking={"enabled": True, **booking}))
