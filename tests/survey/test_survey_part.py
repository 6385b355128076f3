"""The survey part on the real hub core and its SQLite file, driven by hand through a day: who
may answer, once, and that after the day nothing joins an answer to its ticket any more."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from antrian.config import parse_config
from antrian.contract import dumps
from antrian.core import HubCore, Origin
from antrian.service import HubService
from antrian.store import EventStore
from antrian.survey.extension import Survey, normalise_code
from antrian.survey.ikm import KEYS
from tests.kit import MORNING, Clock
from tests.kit.office import office

FOURS = dict.fromkeys(KEYS, 4)


def act(core: HubCore, command: str, **fields: Any) -> dict[str, Any]:
    out = core.handle(Origin(), command, dumps({**fields, "actor": "admin:test"}))
    body: dict[str, Any] = json.loads(out[0].payload)
    assert body["status"] == "ok", body
    return body


def test_a_day_of_answers_then_the_fingerprints_and_their_key_are_gone(tmp_path: Path) -> None:
    raw = office(
        services=[{"letter": "A", "name": "Administrasi kependudukan", "minutes": 10}],
        counters=[{"number": 1, "services": ["A"]}],
    )
    cfg = replace(parse_config(raw), database=str(tmp_path / "antrian.db"))
    clock = Clock(MORNING)
    store = EventStore(cfg.database)
    core = HubCore(cfg, store, clock=clock)
    service = HubService(core, extensions=[Survey])

    async def day() -> None:
        await service.start_extensions()
        part = service.extension("survey")
        assert isinstance(part, Survey)
        first = act(core, "take_ticket", service="A")["data"]
        second = act(core, "take_ticket", service="A")["data"]
        # waiting: not yet
        waiting = part.answer(part.find(token=first["token"]), FOURS, None, "id")
        assert getattr(waiting, "code", None) == "survey_not_done"
        act(core, "call_next", counter=1)
        clock.advance(minutes=5)
        act(core, "done", counter=1)
        assert [r["ticket"] for r in part.recent()] == [first["ticket"]]
        typed = normalise_code(first["ticket"].lower().replace("-", " "))
        assert part.answer(part.find(ticket=typed), FOURS, {"age": "60plus"}, "id") == {
            "ticket": first["ticket"]
        }
        # the same ticket again, by its token this time: refused
        again = part.answer(part.find(token=first["token"]), FOURS, None, "id")
        assert getattr(again, "code", None) == "survey_already"
        assert part.recent() == []
        keys = tmp_path / "antrian.db.survey-keys"
        assert [p.name for p in keys.iterdir()] == ["2026-11-30.key"]

        # the monthly PDF gets the recap of all services, then of each service with answers
        sections = part.report_sections(date(2026, 11, 1), date(2026, 11, 30), "id")
        assert [s.title.split(", ")[1].split(":")[0] for s in sections] == ["semua layanan", "layanan A"]
        assert sections[0].rows[-3] == ("", "IKM unit pelayanan", "", "100,00")

        # the next morning: yesterday's tickets cannot answer, and the day's fingerprints go
        clock.advance(days=1)
        assert part.find(ticket=second["ticket"]) is None
        assert part.forget_old(clock()) == ["2026-11-30"]
        assert list(keys.iterdir()) == []
        await service.stop_extensions()

    # on a thread of its own: a test run that drove Chromium first keeps its loop on this one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, day()).result()
    store.close()
    db = sqlite3.connect(cfg.database)
    try:
        assert db.execute("SELECT count(*) FROM survey_answered").fetchone() == (0,)
        assert db.execute("SELECT day, service, u1, age FROM survey_responses").fetchall() == [
            ("2026-11-30", "A", 4, "60plus")
        ]
    finally:
        db.close()


def test_a_typed_ticket_number_is_read_the_way_people_type_it() -> None:
    assert normalise_code("a12") == "A-012"
    assert normalise_code(" A - 012 ") == "A-012"
    assert normalise_code("b1234") == "B-1234"
    assert normalise_code("12") == ""
    assert normalise_code("AB12") == ""
