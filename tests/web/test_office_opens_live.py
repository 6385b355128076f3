"""The pages follow the office's state live: shortly before opening the TV shows "Kantor belum
buka — buka pukul 09.31" and the kiosk page the same above working buttons (tickets may be
taken before opening); at opening both turn to the queue, with nobody touching them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from test_office_closed_pages import TZ, hours
from web_helpers import WebHub, running_web_hub


def opening_soon() -> datetime:
    """A whole minute at least 40 seconds from now, in the office's zone."""
    at = (datetime.now(TZ) + timedelta(seconds=100)).replace(second=0, microsecond=0)
    return at if at - datetime.now(TZ) >= timedelta(seconds=40) else at + timedelta(minutes=1)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebHub, datetime]]:
    """A hub whose office opens today in a minute or two (measured when it starts), and when."""
    opening = opening_soon()
    with running_web_hub(tmp_path_factory.mktemp("officeopens"), hours(f"{opening:%H:%M}-23:59")) as h:
        yield h, opening


#: The opening comes within two minutes; the pages redraw at least every 10 s.
OPENS_WITHIN_MS = 180_000


def test_the_tv_and_the_kiosk_page_turn_from_the_notice_to_the_queue_at_opening(hub, new_page):
    hub, opening = hub
    tv = new_page(1920, 1080)
    tv.goto(f"{hub.base}/tv")
    kiosk = new_page(1280, 800)
    kiosk.goto(hub.kiosk())
    expect(tv.locator("#closed-headline")).to_have_text("Kantor belum buka")
    expect(tv.locator("#closed-opens")).to_have_text(f"buka pukul {opening:%H.%M}")
    expect(kiosk.locator("#office-line")).to_have_text(f"Kantor belum buka — buka pukul {opening:%H.%M}")
    # kiosks issue from half an hour before opening: the buttons work already
    expect(kiosk.locator('.svc-btn[data-service="A"]')).to_be_enabled()

    expect(tv.locator("#closed-notice")).to_be_hidden(timeout=OPENS_WITHIN_MS)
    expect(tv.locator("#hero")).to_be_visible()
    expect(tv.locator("#counters")).to_be_visible()
    expect(kiosk.locator("#office-notice")).to_be_hidden(timeout=OPENS_WITHIN_MS)
    expect(kiosk.locator('.svc-btn[data-service="A"]')).to_be_enabled()
