"""The live pages' fan-out in the hub's own objects: a change is drawn once for every page
that shows it, a page only gets a picture that differs from the last one it got, and no
picture drawn before a change is handed out after it."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from antrian.config import parse_config
from antrian.core import HubCore
from antrian.service import HubService
from antrian.store import EventStore
from antrian.web.server import WebApp
from antrian.web.streams import SLICE, Stream

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 10.00 WIB, a Monday


def office(tmp_path) -> HubCore:
    cfg = parse_config({"office": {"opening": "07:30", "closing": "16:00"}})
    return HubCore(cfg, EventStore(tmp_path / "antrian.db"), clock=lambda: NOW)


def in_a_thread(main) -> None:
    """Run a coroutine in a thread of its own: the browser tests of this session keep a loop
    in this one."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, main()).result()


def test_a_change_is_drawn_once_for_all_pages_that_show_it(tmp_path):
    core = office(tmp_path)

    async def main() -> None:
        app = WebApp(core, HubService(core))
        token = app.act("take_ticket", {"service": "A"})["data"]["token"]
        drawn: Counter[tuple[str, str]] = Counter()
        render = app.streams.render

        def counted(kind: str, key: str) -> bytes:
            drawn[(kind, key)] += 1
            return render(kind, key)

        app.streams.render = counted
        tvs = [Stream("public", "", f"10.0.{n // 250}.{n % 250}") for n in range(1000)]
        phones = [Stream("ticket", token, f"10.1.0.{n}") for n in range(5)]
        app.streams.open.update(tvs + phones)

        await app.streams.round(force=False)
        assert drawn == {("public", ""): 1, ("ticket", token): 1}
        assert all(len(page.take()) == 1 for page in tvs + phones)

        # a ticket of another service: the waiting room changes, A-001's own picture does not
        app.act("take_ticket", {"service": "B"})
        await app.streams.round(force=False)
        assert drawn == {("public", ""): 2, ("ticket", token): 2}
        assert all(len(page.take()) == 1 for page in tvs)
        assert all(page.take() == [] for page in phones)
        # ... until the periodic refresh, which sends every page its picture again
        await app.streams.round(force=True)
        assert all(len(page.take()) == 1 for page in tvs + phones)

    in_a_thread(main)


def test_the_picture_asked_for_right_after_a_change_shows_it(tmp_path):
    core = office(tmp_path)

    async def main() -> None:
        app = WebApp(core, HubService(core))
        app.loop = asyncio.get_running_loop()

        def waiting() -> int:
            state = json.loads(app.streams.frame("api", ""))
            return next(s["waiting"] for s in state["services"] if s["service"] == "A")

        assert waiting() == 0
        app.act("take_ticket", {"service": "A"})
        await asyncio.sleep(0)  # the change notice reaches the pages' loop; no round has run
        assert waiting() == 1

    in_a_thread(main)


def test_a_round_stops_when_the_queue_changes_and_the_next_serves_the_rest(tmp_path):
    core = office(tmp_path)

    async def main() -> None:
        app = WebApp(core, HubService(core))
        app.loop = asyncio.get_running_loop()
        tokens = [app.act("take_ticket", {"service": "A"})["data"]["token"] for _ in range(60)]
        phones = [Stream("ticket", token, "10.1.0.1") for token in tokens]  # three slices
        app.streams.open.update(phones)

        drawing = asyncio.ensure_future(app.streams.round(force=False))
        await asyncio.sleep(0)  # the round has served its first slice
        app.act("take_ticket", {"service": "B"})  # the queue changes under it
        await drawing
        served = {page for page in phones if page.take()}
        assert len(served) == SLICE  # not a picture of an old state for the other 35
        await app.streams.round(force=False)
        assert {page for page in phones if page.take()} == set(phones) - served

    in_a_thread(main)
