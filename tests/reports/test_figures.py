"""The report's figures against two office days built event by event and computed by hand.

The office: service A (10 minutes, so its standard is 3 x 10 = 30 minutes of waiting), service
B (5 minutes, standard set to 10); counter 1 serves A and B (officer budi on the officer page),
counter 2 serves B (its call pad, device pad-2). Times are office time (WIB, UTC+7).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from antrian.config import parse_config
from antrian.queue import Event
from antrian.reports.figures import PeriodError, compute, nearest_rank, parse_period
from antrian.web.stats import daily_stats

CFG = parse_config(
    {
        "services": [
            {"letter": "A", "name": "Administrasi kependudukan", "minutes": 10},
            {"letter": "B", "name": "Surat keterangan", "minutes": 5, "sop_minutes": 10},
        ],
        "counters": [{"number": 1, "services": ["A", "B"]}, {"number": 2, "services": ["B"]}],
    }
)
WIB = timezone(timedelta(hours=7))
BUDI, PAD = "officer:budi", "device:pad-2"


def ev(day: str, hhmm: str, type_: str, actor: str = "system", **data) -> Event:
    h, m = map(int, hhmm.split(":"))
    at = datetime.combine(date.fromisoformat(day), datetime.min.time(), WIB).replace(hour=h, minute=m)
    return Event(type_, at, day, actor, data)


D1, D2 = "2026-11-02", "2026-11-03"


def issued(day, hhmm, code):
    number = int(code[2:])
    return ev(
        day,
        hhmm,
        "ticket_issued",
        "device:kiosk-1",
        ticket=code,
        service=code[0],
        number=number,
        priority=False,
        token=f"token-{day}-{code}",
        order=100 + number + 10 * (code[0] == "B"),
    )


EVENTS = [
    ev(D1, "07:59", "day_started", previous_day=None, expired=[]),
    issued(D1, "08:00", "A-001"),
    issued(D1, "08:05", "B-001"),
    issued(D1, "08:10", "A-002"),
    ev(
        D1, "08:20", "ticket_called", BUDI, ticket="A-001", counter=1, mode="next", as_priority=False
    ),  # wait 20 (A)
    ev(
        D1, "08:25", "ticket_called", PAD, ticket="B-001", counter=2, mode="next", as_priority=False
    ),  # wait 20 (B) > 10
    ev(D1, "08:30", "ticket_done", PAD, ticket="B-001", counter=2),  # service 5 (B, counter 2)
    ev(D1, "08:35", "ticket_done", BUDI, ticket="A-001", counter=1),  # service 15 (A, counter 1)
    ev(
        D1, "08:40", "ticket_called", BUDI, ticket="A-002", counter=1, mode="next", as_priority=False
    ),  # wait 30 (A), not > 30
    ev(D1, "08:45", "ticket_skipped", BUDI, ticket="A-002", counter=1),  # no-show ... for now
    issued(D1, "09:05", "B-002"),
    ev(
        D1, "09:10", "ticket_called", PAD, ticket="B-002", counter=2, mode="next", as_priority=False
    ),  # wait 5 (B)
    ev(D1, "09:12", "ticket_transferred", PAD, ticket="B-002", counter=2, to="A", order=200),  # service 2 (B)
    ev(
        D1, "09:30", "ticket_called", BUDI, ticket="B-002", counter=1, mode="next", as_priority=False
    ),  # wait 18 (A)
    ev(D1, "09:40", "ticket_reinserted", "admin:ani", ticket="A-002"),  # came back: no new wait
    ev(D1, "09:50", "ticket_done", BUDI, ticket="B-002", counter=1),  # service 20 (A)
    ev(D1, "09:55", "ticket_called", BUDI, ticket="A-002", counter=1, mode="out_of_order", as_priority=False),
    ev(D1, "10:00", "ticket_done", BUDI, ticket="A-002", counter=1),  # service 5 (A): served after all
    issued(D1, "10:10", "A-003"),
    ev(D1, "16:00", "tickets_expired", tickets=["A-003"]),
    # day 2: the hub was off at closing, so nothing says A-001 expired: the day's end does
    ev(D2, "07:55", "day_started", previous_day=D1, expired=[]),
    issued(D2, "08:00", "B-001"),
    ev(
        D2, "08:30", "ticket_called", PAD, ticket="B-001", counter=2, mode="next", as_priority=False
    ),  # wait 30 (B) > 10
    ev(D2, "08:31", "ticket_skipped", PAD, ticket="B-001", counter=2),
    issued(D2, "08:40", "A-001"),
]


@pytest.fixture(scope="module")
def report():
    return compute(EVENTS, CFG, parse_period("range", D1, D2))


def test_the_office_totals_match_the_hand_count(report):
    o = report.office
    # issued: day 1 A-001 B-001 A-002 B-002 A-003, day 2 B-001 A-001
    assert o.issued == 7
    # served: A-001, B-001, B-002 (at A), A-002 (after its reinsert); skipped: day 2's B-001;
    # expired: A-003 (at closing) and day 2's A-001 (the day ended with it waiting)
    assert (o.served, o.skipped, o.expired, o.transferred) == (4, 1, 2, 1)
    # waits 20, 20, 30, 5, 18, 30: mean 123/6 = 20.5; sorted 5 18 20 20 30 30: median 20,
    # 90th percentile the ceil(0.9 x 6) = 6th = 30
    assert sorted(o.waits) == [5, 18, 20, 20, 30, 30]
    assert (o.wait_mean, o.wait_median, o.wait_p90) == (20.5, 20, 30)
    # over the standard: B's 20 and 30 (> 10); A's 20, 30, 18 are within 30 -> 2 of 6
    assert o.over_sop_share == pytest.approx(2 / 6)
    # service times 5, 15, 2, 20, 5: mean 47/5 = 9.4, median 5
    assert (o.service_mean, o.service_median) == (pytest.approx(9.4), 5)
    # no-show: 1 skipped / (4 served + 1 skipped)
    assert o.no_show_share == pytest.approx(0.2)
    assert report.open_days == 2
    assert report.unplaced == 0


def test_each_service_counts_its_issues_by_first_service_and_outcomes_by_last(report):
    a, b = report.services["A"], report.services["B"]
    # A issued A-001 A-002 A-003 and day 2's A-001; B issued B-001 B-002 and day 2's B-001
    assert (a.issued, b.issued) == (4, 3)
    # A served A-001, A-002 and the transferred B-002; expired A-003 and day 2's A-001
    assert (a.served, a.skipped, a.expired, a.transferred) == (3, 0, 2, 0)
    assert (b.served, b.skipped, b.expired, b.transferred) == (1, 1, 0, 1)
    # A waits 20, 30, 18: median 20, p90 = 3rd of 3 = 30, none over 30
    assert sorted(a.waits) == [18, 20, 30]
    assert (a.wait_median, a.wait_p90, a.over_sop_share) == (20, 30, 0)
    # B waits 20, 5, 30: two over 10
    assert sorted(b.waits) == [5, 20, 30]
    assert b.over_sop_share == pytest.approx(2 / 3)
    # A's service times 15, 20, 5; B's 5 and 2 (the transfer's intake)
    assert sorted(a.service_times) == [5, 15, 20]
    assert sorted(b.service_times) == [2, 5]


def test_counters_and_officers_own_the_calls_they_made(report):
    c1, c2 = report.counters[1], report.counters[2]
    # counter 1 called, B-002, A-002 again; served 3; its skip came back (0)
    assert (c1.calls, c1.served, c1.skipped, c1.transferred) == (4, 3, 0, 0)
    assert sorted(c1.waits) == [18, 20, 30]
    assert sorted(c1.service_times) == [5, 15, 20]
    # counter 2 called B-001, B-002 and day 2's B-001: served 1, skipped 1, transferred 1
    assert (c2.calls, c2.served, c2.skipped, c2.transferred) == (3, 1, 1, 1)
    assert c2.no_show_share == pytest.approx(0.5)
    assert report.officers[BUDI].calls == 4
    assert report.officers[PAD].service_times == report.counters[2].service_times
    assert set(report.officers) == {BUDI, PAD}


def test_days_and_hours(report):
    d1, d2 = report.days[D1], report.days[D2]
    assert (d1.issued, d1.served, d1.skipped, d1.expired) == (5, 4, 0, 1)
    assert (d2.issued, d2.served, d2.skipped, d2.expired) == (2, 0, 1, 1)
    # hour 8: A-001 B-001 A-002 and day 2's B-001 A-001; 9: B-002; 10: A-003
    assert dict(report.hours) == {8: 5, 9: 1, 10: 1}
    assert report.busiest_hours(2) == [(8, 5), (9, 1)]


def test_todays_live_admin_figures_are_the_reports_figures_of_the_day():
    day1 = [e for e in EVENTS if e.day == D1]
    live = daily_stats(day1, CFG)
    r = compute(day1, CFG, parse_period("day", D1), ongoing=D1)
    assert live["done"] == r.office.served == 4
    assert live["skipped"] == r.office.skipped == 0
    assert live["issued"] == {"A": 3, "B": 2}
    # A waits 20, 30, 18 -> 22.7; B waits 20, 5 -> 12.5
    assert live["wait_minutes"] == {"A": 22.7, "B": 12.5}
    assert live["per_hour"] == {8: 3, 9: 1, 10: 1}


def test_a_day_still_open_keeps_its_waiting_tickets_out_of_expired():
    day2 = [e for e in EVENTS if e.day == D2]
    assert compute(day2, CFG, parse_period("day", D2), ongoing=D2).office.expired == 0
    assert compute(day2, CFG, parse_period("day", D2)).office.expired == 1


def test_nearest_rank_percentile_is_checkable_by_hand():
    assert nearest_rank(list(range(1, 11)), 0.9) == 9
    assert nearest_rank([7.0], 0.9) == 7.0
    assert nearest_rank([], 0.9) is None


@pytest.mark.parametrize(
    ("kind", "value", "until", "first", "last"),
    [
        ("day", "2026-11-27", None, "2026-11-27", "2026-11-27"),
        ("week", "2026-W48", None, "2026-11-23", "2026-11-29"),
        ("month", "2026-02", None, "2026-02-01", "2026-02-28"),
        ("month", "2026-12", None, "2026-12-01", "2026-12-31"),
        ("range", "2026-01-01", "2026-12-31", "2026-01-01", "2026-12-31"),
    ],
)
def test_periods_are_read_as_a_person_writes_them(kind, value, until, first, last):
    p = parse_period(kind, value, until)
    assert (p.first.isoformat(), p.last.isoformat()) == (first, last)


@pytest.mark.parametrize(
    ("kind", "value", "until", "key"),
    [
        ("month", "2026-13", None, "report.period_invalid"),
        ("day", "27-11-2026", None, "report.period_invalid"),
        ("week", "2026-W54", None, "report.period_invalid"),
        ("range", "2026-11-10", "2026-11-01", "report.period_backwards"),
        ("range", "2025-01-01", "2026-12-31", "report.period_too_long"),
        ("year", "2026", None, "report.period_kind"),
    ],
)
def test_a_period_that_cannot_be_reported_is_refused_with_why(kind, value, until, key):
    with pytest.raises(PeriodError) as exc:
        parse_period(kind, value, until)
    assert exc.value.key == key


def test_the_hand_built_days_are_days_the_queue_rules_replay():
    from antrian.queue import replay

    for day in (D1, D2):
        state, problems = replay(CFG, enumerate(e for e in EVENTS if e.day == day), strict=True)
        assert problems == []
        assert state.day == day
