"""The admin page's topic monitor shows at most a bounded number of topics and says so.

The hub (its own process, with its pages) gets thousands of junk topics on its broker; the
first event of `/admin` then carries the bounded snapshot, and the page counts what it does
not show, in the snapshot and while new topics keep coming.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from antrian.web.monitor import MAX_TOPICS
from tests.kit import Probe


def junk(probe: Probe, start: int, count: int) -> None:
    # in small batches: the broker drops QoS 0 messages for a subscriber whose queue is full
    for first in range(start, start + count, 200):
        for i in range(first, min(first + 200, start + count)):
            probe.client.publish(f"antrian/kantor/junk/{i}", b'{"junk": true}', qos=0, retain=True)
        time.sleep(0.05)


def dropped(text: str) -> int:
    match = re.search(r"(\d+) topik terlama", text)
    assert match, text
    return int(match.group(1))


def test_the_admin_page_says_how_many_topics_it_does_not_show(web_hub, new_page, login):
    probe = Probe(web_hub.proc.broker)
    try:
        junk(probe, 0, MAX_TOPICS + 500)
        time.sleep(0.5)
        admin = new_page(1400, 1000)
        login(admin, web_hub.base, "admin", "/admin")
        note = admin.locator("#mqtt-dropped")
        expect(note).to_be_visible()
        expect(note).to_contain_text(f"maks. {MAX_TOPICS}")
        first = dropped(note.inner_text())
        assert first > 0
        # new topics while the page is open: the page's own list stays bounded too
        junk(probe, MAX_TOPICS + 500, 300)
        expect(note).not_to_have_text(note.inner_text(), timeout=10_000)
        assert dropped(note.inner_text()) > first
    finally:
        probe.close()
