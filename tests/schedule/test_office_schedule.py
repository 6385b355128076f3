"""The office's schedule on its own: its days across years, the config that describes them
(with errors that name the key), each counter's own break in the wait estimate, the reports'
working days and `antrian holidays`."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antrian import views
from antrian.cli import main
from antrian.config import ConfigError, parse_config
from antrian.core import HubCore, Origin
from antrian.reports.figures import Period, compute
from antrian.schedule import LOOKAHEAD_DAYS, OfficeSchedule, schedule_of
from antrian.store import EventStore

WIB = timedelta(hours=7)

#: An office with every kind of day: a Saturday morning, a short Friday, Ramadan, a local day
#: off, a cuti bersama it serves on, national holidays.
VARIED = parse_config(
    {
        "office": {
            "hours": {"fri": "07:30-11:30", "sat": "08:00-12:00"},
            "special_hours": [
                {
                    "from": "2027-02-08",
                    "to": "2027-03-09",
                    "name": "Ramadan",
                    "mon": "08:00-15:00",
                    "lunch": "",
                }
            ],
        },
        "holidays": [
            {"date": "2026-12-03", "name": "Hari Jadi Kabupaten"},
            {"date": "2026-12-24", "open": True},
        ],
    }
)


def wib(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - WIB


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=0, max_value=2 * 366 * 24 * 60 - 1))
def test_across_two_years_the_next_opening_is_in_the_future_and_inside_that_days_hours(minute):
    schedule = schedule_of(VARIED)
    now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)
    status = schedule.status(now)
    today = schedule.hours_on(status.day)
    if status.open:
        assert today is not None
        assert today.opening <= now < today.closing
        assert status.closes_at == today.closing
        assert status.opens_at is None
        return
    assert status.opens_at is not None  # no closure in this office lasts two months
    assert status.opens_at > now
    opening_day = schedule.hours_on(status.opens_at.date())
    assert opening_day is not None
    assert opening_day.opening == status.opens_at
    assert status.closes_at == opening_day.closing
    # and no open day starts in between
    d = status.day
    while d < status.opens_at.date():
        between = schedule.hours_on(d)
        assert between is None or not now < between.opening
        d += timedelta(days=1)
    assert (status.reason == "holiday") == (schedule.holiday(status.day) is not None)


def test_a_year_of_days_matches_the_week_the_ranges_and_the_holidays():
    schedule = OfficeSchedule(VARIED)
    assert schedule.hours_on(date(2026, 12, 5)) is not None  # a Saturday morning
    assert schedule.hours_on(date(2026, 12, 6)) is None  # Sunday
    friday = schedule.hours_on(date(2026, 12, 4))
    assert friday is not None
    assert (friday.opening.hour, friday.closing.hour, friday.closing.minute) == (7, 11, 30)
    assert schedule.holiday(date(2026, 12, 3)) == "Hari Jadi Kabupaten"
    assert schedule.holiday(date(2026, 12, 24)) is None  # cuti bersama, opened by the office
    assert schedule.holiday(date(2026, 12, 25)) == "Hari Raya Natal"
    assert schedule.holiday(date(2026, 8, 17)) == "Hari Kemerdekaan Republik Indonesia"
    ramadan = schedule.hours_on(date(2027, 2, 8))
    assert ramadan is not None
    assert ramadan.special == "Ramadan"
    assert ramadan.lunch is None
    assert (ramadan.opening.hour, ramadan.closing.hour) == (8, 15)
    tuesday_in_ramadan = schedule.hours_on(date(2027, 2, 9))  # not named: the regular hours
    assert tuesday_in_ramadan is not None
    assert (tuesday_in_ramadan.opening.hour, tuesday_in_ramadan.closing.hour) == (7, 16)
    closed = sum(schedule.hours_on(date(2026, 1, 1) + timedelta(days=i)) is None for i in range(365))
    assert 52 + 10 < closed < 52 + 40  # the Sundays, and the holidays on working days


def test_national_holidays_can_be_switched_off_and_english_offices_get_english_names():
    off = OfficeSchedule(parse_config({"office": {"national_holidays": False}}))
    assert off.holiday(date(2026, 12, 25)) is None
    assert off.hours_on(date(2026, 12, 25)) is not None
    english = OfficeSchedule(parse_config({"office": {"language": "en"}}))
    assert english.holiday(date(2026, 12, 25)) == "Christmas Day"
    status = english.status(wib(2026, 12, 25, 9))
    assert (
        status.text("en")
        == "The office is closed (Christmas Day). Opens again Monday 28 December 2026 at 07:30."
    )


def test_a_schedule_with_no_open_day_says_so():
    never = OfficeSchedule(
        parse_config({"office": {"hours": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "")}})
    )
    status = never.status(wib(2026, 11, 30, 9))
    assert status.opens_at is None
    assert (
        status.text("id")
        == f"Kantor tutup pada hari Senin. Belum ada jadwal buka dalam {LOOKAHEAD_DAYS} hari ke depan."
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"office": {"hours": {"mon": "25:00-16:00"}}},
            'office.hours.mon: must be opening-closing like "07:30-16:00"',
        ),
        (
            {"office": {"hours": {"tue": "16:00-07:30"}}},
            "office.hours.tue: closing must be later than opening",
        ),
        ({"office": {"hours": {"mnd": "07:30-16:00"}}}, "office.hours.mnd: unknown key"),
        (
            {
                "office": {
                    "special_hours": [
                        {"from": "2027-02-08", "to": "2027-03-09", "name": "Ramadan"},
                        {"from": "2027-03-01", "to": "2027-03-20", "name": "Lebaran"},
                    ]
                }
            },
            "office.special_hours: 'Lebaran' (2027-03-01..2027-03-20) overlaps 'Ramadan'"
            " (2027-02-08..2027-03-09)",
        ),
        (
            {"office": {"special_hours": [{"from": "2027-03-09", "to": "2027-02-08", "name": "Ramadan"}]}},
            "office.special_hours[0].to: must not be before from",
        ),
        (
            {"office": {"special_hours": [{"from": "2027-02-30", "to": "2027-03-09", "name": "Ramadan"}]}},
            'office.special_hours[0].from: must be a date like "2026-12-03"',
        ),
        (
            {"office": {"special_hours": [{"from": "2027-02-08", "to": "2027-03-09"}]}},
            "office.special_hours[0].name: required",
        ),
        (
            {
                "office": {
                    "special_hours": [{"from": "2027-02-08", "to": "2027-03-09", "name": "R", "fri": "8-15"}]
                }
            },
            "office.special_hours[0].fri: must be opening-closing",
        ),
        (
            {"office": {"tickets_before_opening_minutes": 500}},
            "office.tickets_before_opening_minutes: must be 0..240",
        ),
        ({"holidays": [{"date": "2026-12-03"}]}, "holidays[0].name: required for a day off"),
        (
            {"holidays": [{"date": "2026-12-03", "name": "a"}, {"date": "2026-12-03", "name": "b"}]},
            "holidays[1].date: 2026-12-03 is listed twice",
        ),
        (
            {"holidays": [{"date": "3 Desember", "name": "a"}]},
            'holidays[0].date: must be a date like "2026-12-03"',
        ),
        (
            {"counters": [{"number": 1, "services": ["A"], "lunch": "13:00-12:00"}]},
            "counters[0].lunch: must end after",
        ),
        (
            {"holidays": [{"date": f"2026-01-{1 + i % 28:02d}", "name": "x"} for i in range(401)]},
            "holidays: at most 400",
        ),
    ],
)
def test_a_bad_schedule_is_reported_with_its_key(raw, message):
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    assert message in str(err.value)


def test_existing_opening_and_closing_keep_working_monday_to_friday():
    cfg = parse_config({"office": {"opening": "08:00", "closing": "14:00"}})
    schedule = OfficeSchedule(cfg)
    hours = schedule.hours_on(date(2026, 12, 1))
    assert hours is not None
    assert (hours.opening.hour, hours.closing.hour) == (8, 14)
    assert schedule.hours_on(date(2026, 12, 5)) is None
    # [office.hours] for one day leaves the others at opening-closing
    cfg = parse_config({"office": {"opening": "08:00", "closing": "14:00", "hours": {"fri": "08:00-11:00"}}})
    assert OfficeSchedule(cfg).hours_on(date(2026, 12, 1)).closing.hour == 14  # type: ignore[union-attr]


def _core(raw: dict[str, Any], now: datetime) -> tuple[HubCore, list[datetime]]:
    clock = [now]
    return HubCore(parse_config(raw), EventStore(":memory:"), clock=lambda: clock[0]), clock


def _ask(core: HubCore, command: str, **fields: Any) -> dict[str, Any]:
    return json.loads(core.handle(Origin(), command, json.dumps(fields).encode())[0].payload)


@pytest.mark.parametrize(("own_lunch", "second_call"), [(None, "10.05"), ("10:00-11:00", "11.00")])
def test_a_counter_on_its_own_break_delays_the_estimate(own_lunch, second_call):
    counter: dict[str, Any] = {"number": 1, "services": ["A"]}
    if own_lunch:
        counter["lunch"] = own_lunch
    core, _ = _core({"counters": [counter]}, wib(2026, 11, 30, 9, 55))
    first = _ask(core, "take_ticket", service="A")["data"]["ticket"]
    second = _ask(core, "take_ticket", service="A")["data"]["ticket"]
    assert _ask(core, "call_next", counter=1)["data"]["ticket"] == first
    view = views.ticket_view(core.state, core.state.tickets[second], wib(2026, 11, 30, 9, 55))
    assert view["estimated_call_at"] == second_call


def test_the_other_counters_still_take_the_lunch_in_turns():
    cfg = parse_config(
        {
            "counters": [
                {"number": 1, "services": ["A"], "lunch": "11:00-12:00"},
                {"number": 2, "services": ["A"]},
                {"number": 3, "services": ["A"]},
            ]
        }
    )
    hours = OfficeSchedule(cfg).hours_on(date(2026, 11, 30))
    assert hours is not None
    assert hours.break_of(1) == (wib(2026, 11, 30, 11), wib(2026, 11, 30, 12))
    assert hours.break_of(2) == hours.lunch
    friday = OfficeSchedule(cfg).hours_on(date(2026, 12, 4))
    assert friday is not None
    assert friday.break_of(1) == friday.lunch  # Friday prayer for everyone


def test_reports_leave_closed_days_out_of_the_working_days_but_count_their_tickets():
    core, clock = _core({}, wib(2026, 12, 4, 9))  # Friday
    for _ in range(3):
        _ask(core, "take_ticket", service="A")
    clock[0] = wib(2026, 12, 5, 9)  # Saturday: staff issue for a special service day
    for _ in range(2):
        _ask(core, "take_ticket", service="A", actor="officer:budi")
    events = [e for _, e in core.store.events_between("2026-12-01", "2026-12-07")]
    report = compute(events, core.cfg, Period("week", date(2026, 11, 30), date(2026, 12, 6)))
    assert report.office.issued == 5
    assert report.open_days == 1


def test_the_holidays_command_lists_the_years_closed_days_and_the_weekly_hours(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ANTRIAN_LANG", "id")
    config = tmp_path / "antrian.toml"
    config.write_text(
        '[office]\nslug = "winongan"\n[office.hours]\nsat = "08:00-12:00"\n'
        '[[holidays]]\ndate = "2026-12-03"\nname = "Hari Jadi Kabupaten"\n'
        '[[holidays]]\ndate = "2026-12-24"\nopen = true\n'
    )
    assert main(["holidays", "--year", "2026", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Hari kantor tutup tahun 2026 (winongan)" in out
    assert "Sabtu    08.00-12.00" in out
    assert "Minggu   tutup" in out
    lines = {line[:10]: line for line in out.splitlines() if line[:4] == "2026"}
    assert "Hari Raya Natal" in lines["2026-12-25"]
    assert lines["2026-12-25"].endswith("nasional")
    assert lines["2026-12-03"].endswith("lokal")
    assert lines["2026-12-24"].endswith("buka (pengecualian)")


def test_without_the_holidays_package_the_office_serves_on_and_says_what_is_missing(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "holidays", None)  # `import holidays` raises ImportError
    schedule = OfficeSchedule(parse_config({}))
    assert schedule.holiday(date(2026, 12, 25)) is None
    assert schedule.hours_on(date(2026, 12, 25)) is not None
    assert "pip install holidays" in caplog.text


def test_hub_info_gives_the_working_days_own_hours():
    ramadan = {"from": "2027-02-08", "to": "2027-03-09", "name": "Ramadan", "mon": "08:00-15:00"}
    core, _ = _core({"office": {"special_hours": [ramadan]}}, wib(2027, 2, 8, 9))
    _ask(core, "take_ticket", service="A")
    info = views.hub_info(core.state)
    assert (info["day"], info["opening"], info["closing"]) == ("2027-02-08", "08:00", "15:00")
