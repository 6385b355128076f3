"""The regency's monthly figures in SQL are the office report's figures (`antrian.reports.figures`)."""

from __future__ import annotations

import json
from datetime import date

import psycopg
import pytest

from antrian.central.db import connect
from antrian.central.reports import REGENCY, month_bounds, month_figures
from antrian.config import parse_config
from antrian.reports.figures import compute, parse_period
from tests.kit.office_month import office_days
from tests.reports.test_figures import CFG as HAND_CFG
from tests.reports.test_figures import EVENTS as HAND_EVENTS

MONTH_CFG = parse_config(
    {
        "services": [
            {"letter": "A", "name": "Administrasi kependudukan", "minutes": 10},
            {"letter": "B", "name": "Surat keterangan", "minutes": 5},
        ],
        "counters": [{"number": 1, "services": ["A", "B"]}, {"number": 2, "services": ["B"]}],
    }
)


def _store(conn: psycopg.Connection, office: str, events) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO events (office, seq, day, at, type, actor, reason, data) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (office, seq, e.day, e.at, e.type, e.actor, e.reason, json.dumps(dict(e.data)))
                for seq, e in enumerate(events, 1)
            ],
        )


def _same(sql, office) -> None:
    """Every figure the centre shows equals the office report's, to the second."""
    assert (sql.issued, sql.served, sql.skipped, sql.expired) == (
        office.issued,
        office.served,
        office.skipped,
        office.expired,
    )
    assert sql.waits == len(office.waits)
    assert sql.wait_mean == pytest.approx(office.wait_mean)
    assert sql.wait_p90 == pytest.approx(office.wait_p90)
    assert sql.no_show_share == pytest.approx(office.no_show_share)


def test_a_hand_counted_month_gives_the_office_reports_figures(database):
    with connect(database.dsn) as conn:
        _store(conn, "winongan", HAND_EVENTS)
        got = month_figures(conn, "2026-11", today=date(2026, 12, 1))
    want = compute(HAND_EVENTS, HAND_CFG, parse_period("month", "2026-11")).office
    _same(got["winongan"], want)
    # by hand: 7 issued; A-001, B-001 (day 1), B-002, A-002 (skipped, put back, served) served;
    # B-001 of day 2 a no-show; A-003 expired at closing, A-001 of day 2 with its day
    assert (got["winongan"].issued, got["winongan"].served, got["winongan"].skipped) == (7, 4, 1)
    assert got["winongan"].expired == 2


def test_the_regency_adds_its_offices_and_pools_their_waits(database):
    months = {
        slug: [e for day in office_days(MONTH_CFG, "2026-11", 40, seed, phones=phones) for e in day]
        for slug, seed, phones in (("winongan", 1, 0.0), ("grati", 2, 0.25))
    }
    # grati's citizens also take tickets from their phones; some never come and are passed over
    kinds = [e.type for e in months["grati"]]
    assert kinds.count("ticket_not_checked_in") > 5
    assert kinds.count("ticket_checked_in") > 50
    with connect(database.dsn) as conn:
        for slug, events in months.items():
            _store(conn, slug, events)
        got = month_figures(conn, "2026-11", today=date(2026, 12, 1))
        only = month_figures(conn, "2026-11", "grati", today=date(2026, 12, 1))
    period = parse_period("month", "2026-11")
    for slug, events in months.items():
        _same(got[slug], compute(events, MONTH_CFG, period).office)
    regency = compute([*months["winongan"], *months["grati"]], MONTH_CFG, period).office
    assert got["winongan"].issued > 500
    # a phone ticket passed over is a no-show in both, not a ticket expired at closing
    assert got["grati"].skipped >= kinds.count("ticket_not_checked_in")
    _same(got[REGENCY], regency)
    assert set(only) == {"grati", REGENCY}
    assert only[REGENCY].issued == got["grati"].issued


@pytest.mark.parametrize("month", ["2026-13", "2026", "26-11", "2026/11", ""])
def test_a_month_that_is_not_one_is_refused(month):
    with pytest.raises(ValueError, match=r"month|YYYY|must be in"):
        month_bounds(month)
