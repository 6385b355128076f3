"""The admin's quota of one service on one day, through the API of the real hub (a child
process on a real broker, the real `antrian users` accounts): the window day by day with its
closed days and holidays, booked places counted but no code listed; 0 closes a service's
bookings that day and the booking page says so; a quota lowered below what is booked keeps the
bookings and says which slots; only an admin with a CSRF token changes it, and every field is
bounded."""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from antrian.config import parse_config
from antrian.schedule import schedule_of

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from web_helpers import ADMIN, OFFICER, Browser, WebHub, running_web_hub

TODAY = datetime.now(ZoneInfo("Asia/Jakarta")).date()
NATIONAL = schedule_of(parse_config({}))
#: A weekday of the window the office declares a holiday of its own.
HOLIDAY = next(
    d
    for d in (TODAY + timedelta(days=n) for n in range(3, 14))
    if d.weekday() < 5 and NATIONAL.holiday(d) is None
)
#: Open Monday to Saturday all day (the hub runs on the machine's clock), closed on Sunday.
CONFIG = (
    "[booking]\nenabled = true\nquota = 2\ndays_ahead = 14\nslot_minutes = 60\n"
    f'[[holidays]]\ndate = "{HOLIDAY.isoformat()}"\nname = "Hari Jadi Kabupaten"\n'
    "[office.hours]\n"
    + "".join(f'{day} = "00:00-23:59"\n' for day in ("mon", "tue", "wed", "thu", "fri", "sat"))
)
#: Each booking from an address of its own: the booking page allows three a minute per client.
ADDRESSES = (f"127.0.3.{n}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebHub]:
    with running_web_hub(tmp_path_factory.mktemp("quotas"), CONFIG) as h:
        yield h


@pytest.fixture(scope="module")
def admin(hub: WebHub) -> Browser:
    client = Browser(hub, "127.0.2.1")
    assert client.login(*ADMIN)[0] == 302
    return client


def overview(client: Browser, day: str = "") -> dict[str, Any]:
    status, _, raw = client.request("GET", f"/api/admin/booking?day={day}")
    assert status == 200, raw
    data: dict[str, Any] = json.loads(raw)["data"]
    return data


def set_quota(
    client: Browser, body: dict[str, Any], lang: str = "id", page: str = "/admin"
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json", "X-CSRF-Token": client.csrf(page)}
    status, _, raw = client.request(
        "POST", f"/api/admin/booking?lang={lang}", json.dumps(body).encode(), headers
    )
    return status, json.loads(raw)


def book(hub: WebHub, service: str, day: str, slot: str) -> tuple[int, dict[str, Any]]:
    citizen = Browser(hub, next(ADDRESSES))
    headers = {"Content-Type": "application/json", "X-CSRF-Token": citizen.csrf("/reservasi")}
    body = json.dumps({"service": service, "day": day, "slot": slot}).encode()
    status, _, raw = citizen.request("POST", "/api/reservasi", body, headers)
    return status, json.loads(raw)


def left(hub: WebHub, day: str, service: str) -> list[int]:
    _, _, raw = Browser(hub, "127.0.2.9").request("GET", "/api/reservasi/slots")
    found = next(d for d in json.loads(raw)["data"]["days"] if d["day"] == day)
    return [s["left"][service] for s in found["slots"]]


def open_days(client: Browser) -> list[dict[str, Any]]:
    return [d for d in overview(client)["days"] if "closed" not in d]


def slots_of(client: Browser, day: str) -> list[dict[str, Any]]:
    slots: list[dict[str, Any]] = next(d for d in overview(client, day)["days"] if d["day"] == day)["slots"]
    return slots


def test_the_admin_sees_the_window_day_by_day_with_bookings_counted_and_no_code(hub, admin):
    first = open_days(admin)[0]
    slot = slots_of(admin, first["day"])[1]["slot"]
    codes = [book(hub, "A", first["day"], slot)[1]["data"]["code"] for _ in range(2)]
    seen = overview(admin, first["day"])
    assert seen["default_quota"] == 2
    assert [s["letter"] for s in seen["services"]] == ["A", "B", "C", "D", "E"]
    days = {d["day"]: d for d in seen["days"]}
    assert sorted(days) == [(TODAY + timedelta(days=n)).isoformat() for n in range(1, 15)]
    assert days[HOLIDAY.isoformat()]["closed"] == "Hari Jadi Kabupaten"
    assert days[HOLIDAY.isoformat()]["holiday"] is True
    sunday = next(d for d in days.values() if datetime.fromisoformat(d["day"]).weekday() == 6)
    assert (sunday["closed"], sunday["holiday"]) == ("Kantor tutup", False)
    assert "slots" not in sunday
    day = days[first["day"]]
    assert day["quota"] == {"A": 2, "B": 2, "C": 2, "D": 2, "E": 2}
    assert day["booked"]["A"] == 2
    assert next(s for s in day["slots"] if s["slot"] == slot)["booked"]["A"] == 2
    assert day["slot_count"] == len(day["slots"]) == len(left(hub, first["day"], "A"))
    # the slots of the one day asked for; the others' counted per day
    other = next(d for d in seen["days"] if "closed" not in d and d["day"] != first["day"])
    assert "slots" not in other
    assert other["slot_count"] == len(
        left(hub, other["day"], "A")
    )  # an overview of codes counted: no code itself
    _, _, raw = admin.request("GET", "/api/admin/booking")
    assert all(code.encode() not in raw for code in codes)


def test_a_quota_of_zero_closes_a_service_that_day_and_back_to_the_default_opens_it(hub, admin):
    day, other = (d["day"] for d in open_days(admin)[1:3])
    status, answer = set_quota(admin, {"day": day, "service": "B", "quota": 0})
    assert status == 200, answer
    assert answer["data"]["message"].startswith("Reservasi layanan B pada ")
    assert answer["data"]["message"].endswith(" ditutup.")
    assert set(left(hub, day, "B")) == {0}
    slot = slots_of(admin, day)[0]["slot"]
    status, refused = book(hub, "B", day, slot)
    assert (status, refused["data"]["code"]) == (409, "slots_service_closed")
    assert refused["error"].startswith("Layanan B tidak menerima reservasi pada ")
    # the other services that day, and B on another day, are booked as before
    assert book(hub, "A", day, slot)[0] == 200
    assert book(hub, "B", other, slot)[0] == 200
    seen = next(d for d in overview(admin)["days"] if d["day"] == day)
    assert (seen["quota"]["B"], seen["set_by_admin"]) == (0, ["B"])
    # back to the configuration's quota
    assert set_quota(admin, {"day": day, "service": "B", "quota": None})[0] == 200
    assert set(left(hub, day, "B")) == {2}
    assert book(hub, "B", day, slot)[0] == 200


def test_a_quota_lowered_below_the_booked_keeps_the_bookings_and_says_which_slots(hub, admin):
    day = open_days(admin)[3]["day"]
    full, free = slots_of(admin, day)[0], slots_of(admin, day)[2]
    codes = [book(hub, "C", day, full["slot"])[1]["data"]["code"] for _ in range(2)]
    status, answer = set_quota(admin, {"day": day, "service": "C", "quota": 1})
    assert status == 200, answer
    assert answer["data"]["over"] == [{"slot": full["label"], "booked": 2}]
    assert f"tetap berlaku: {full['label']} (2)" in answer["data"]["message"]
    for code in codes:  # kept, still valid
        _, _, raw = Browser(hub, "127.0.2.8").request("GET", f"/api/reservasi/{code}")
        assert json.loads(raw)["data"]["state"] == "booked"
    assert book(hub, "C", day, full["slot"])[1]["data"]["code"] == "booking_slot_full"
    assert book(hub, "C", day, free["slot"])[0] == 200
    assert book(hub, "C", day, free["slot"])[0] == 409  # one a slot now
    # raised again: room again, and the words in English on request
    status, answer = set_quota(admin, {"day": day, "service": "C", "quota": 3}, lang="en")
    assert answer["data"]["message"].startswith("Quota of service C on ")
    assert answer["data"]["over"] == []
    assert book(hub, "C", day, full["slot"])[0] == 200


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"service": "C", "quota": -1}, 400, "slots_bad_quota"),
        ({"service": "C", "quota": 51}, 400, "slots_bad_quota"),
        ({"service": "C", "quota": "2"}, 400, "slots_bad_quota"),
        ({"service": "C", "quota": True}, 400, "slots_bad_quota"),
        ({"service": "C", "quota": 2.5}, 400, "slots_bad_quota"),
        ({"service": "Z", "quota": 1}, 400, "booking_bad_service"),
        ({"service": "CC", "quota": 1}, 400, "booking_bad_service"),
        ({"service": "C", "quota": 1, "day": "besok"}, 400, "booking_bad_day"),
        ({"service": "C", "quota": 1, "day": "x" * 10_000}, 400, "booking_bad_day"),
        ({"service": "C", "quota": 1, "day": TODAY.isoformat()}, 400, "booking_out_of_window"),
        ({"service": "C", "quota": 1, "day": HOLIDAY.isoformat()}, 409, "booking_holiday"),
    ],
)
def test_every_field_is_bounded_and_refused_with_its_reason(hub, admin, body, status, code):
    day = open_days(admin)[0]["day"]
    got, answer = set_quota(admin, {"day": day, **body})
    assert (got, answer["data"]["code"]) == (status, code), answer
    assert answer["error"]


def test_only_an_admin_with_a_csrf_token_sees_or_changes_the_quotas(hub, admin):
    day = open_days(admin)[0]["day"]
    nobody = Browser(hub, "127.0.2.2")
    status, resp, _ = nobody.request("GET", "/api/admin/booking")
    assert status == 302
    assert resp.headers["Location"].startswith("/login")
    officer = Browser(hub, "127.0.2.3")
    officer.login(*OFFICER)
    assert officer.request("GET", "/api/admin/booking")[0] == 403
    status, answer = set_quota(officer, {"day": day, "service": "D", "quota": 0}, page="/officer")
    assert (status, answer["data"]["code"]) == (403, "role")
    headers = {"Content-Type": "application/json", "X-CSRF-Token": "0" * 64}
    body = json.dumps({"day": day, "service": "D", "quota": 0}).encode()
    status, _, raw = admin.request("POST", "/api/admin/booking", body, headers)
    assert (status, json.loads(raw)["data"]["code"]) == (403, "csrf")
    assert next(d for d in overview(admin)["days"] if d["day"] == day)["quota"]["D"] == 2
