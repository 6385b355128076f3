"""End to end: a real hub at the office, its broker bridged to the central broker (all from the
files the provisioning commands write), and the real centre: the centre's copy is the office's
log, event for event, through the outward projection, including what was said before it came up."""

from __future__ import annotations

from centre import central_rows, centre_on, wait_until

from antrian.regency.outward import outward_data
from tests.regency.link import OFFICE, OTHER, running_link

OFFICE_CONFIG = {"office": {"slug": OFFICE}, "web": {"enabled": False}, "regency": {"enabled": True}}


def test_a_real_offices_log_converges_at_the_centre(tmp_path, database):
    with running_link(OFFICE_CONFIG) as link:
        link.ingest.close()  # the link kit's own reader holds the centre's account: ours now
        office = link.office_client()
        try:
            link.take(office, 3)  # before the centre ever connected: only the retained head tells
            centre = centre_on(
                link.root / "central",
                link.central.port,
                database,
                tmp_path,
                {OFFICE: "Kantor Kecamatan Grati", OTHER: "Kantor Kecamatan Winongan"},
            )
            centre.start_ready()
            try:
                link.take(office, 2)

                def office_log():
                    return link.hub.call(lambda: link.hub.core.store.events_by_seq(1, 4999))

                def converged() -> bool:
                    return [r["seq"] for r in central_rows(database, OFFICE)] == [s for s, _ in office_log()]

                wait_until(converged, 20, "the centre holds the office's whole log")
                rows = central_rows(database, OFFICE)
                assert [(r["type"], r["actor"], r["data"]) for r in rows] == [
                    (e.type, e.actor, outward_data(e.type, e.data)) for _, e in office_log()
                ]
                assert [r["data"]["ticket"] for r in rows if r["type"] == "ticket_issued"] == [
                    "A-001",
                    "A-002",
                    "A-003",
                    "A-004",
                    "A-005",
                ]
                assert not any("token" in r["data"] for r in rows)
                assert database.query("SELECT head_seq FROM offices WHERE slug = %s", OFFICE) == [
                    (len(rows),)
                ]
            finally:
                centre.stop()
        finally:
            office.close()
