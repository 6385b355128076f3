"""One contract: the code (`antrian.contract`), the document (`mqtt_topics.md`) and the export
the devices are checked against (`devices/contract.json`) say the same thing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from antrian.config import parse_config
from antrian.contract import (
    COMMAND_SCHEMAS,
    EVENT_FIELDS,
    NOTICE_EVENTS,
    ErrorCode,
    describe,
    topic_templates,
)
from antrian.core import HubCore, Origin
from antrian.i18n import t
from antrian.store import EventStore

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "mqtt_topics.md").read_text(encoding="utf-8")
NAME = re.compile(r"`([a-z_]+)`")


def _row(first_cell: str) -> str:
    """The table row of mqtt_topics.md whose first cell is `first_cell` (in backticks)."""
    rows = [line for line in DOC.splitlines() if line.startswith(f"| `{first_cell}` |")]
    assert rows, f"no row for {first_cell} in mqtt_topics.md"
    return rows[0]


def _cells(row: str) -> list[str]:
    """The cells of a markdown table row (an escaped `\\|` stays inside its cell)."""
    return re.split(r"(?<!\\)\|", row)


def _names(cell: str) -> set[str]:
    """Field names in a table cell, leaving out what is said in parentheses."""
    return set(NAME.findall(re.sub(r"\([^)]*\)", "", cell)))


def test_the_exported_contract_is_the_one_in_the_code():
    exported = json.loads((ROOT / "devices" / "contract.json").read_text(encoding="utf-8"))
    assert exported == describe(), "run: antrian contract > devices/contract.json"


def test_every_topic_is_documented():
    for name, template in topic_templates().items():
        doc_form = template.replace("antrian/{office}", "{base}").replace("{counter}", "{n}")
        assert f"`{doc_form}`" in DOC, f"{name}: {doc_form} is not in mqtt_topics.md"


def test_every_command_is_documented_with_its_fields():
    for command, schema in COMMAND_SCHEMAS.items():
        fields = _cells(_row(command))[2]
        assert _names(fields) == set(schema), command


def test_every_event_type_is_documented_with_its_fields():
    for event, fields in EVENT_FIELDS.items():
        cell = _cells(_row(event))[2]
        assert _names(cell) == set(fields), event


def test_every_error_code_is_documented_and_has_words_in_both_languages():
    for code in ErrorCode:
        assert f"`{code}`" in DOC, f"{code} is not in mqtt_topics.md"
        indonesian, english = t(code, "id"), t(code, "en")
        assert indonesian != english


def test_the_hub_answers_only_with_error_codes_of_the_contract():
    raised = set()
    for path in (ROOT / "hub").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        raised |= set(re.findall(r'DomainError\(\s*"([a-z_]+)"', text))
        raised |= set(re.findall(r'_error\(\s*"([a-z_]+)"', text))
        raised |= set(re.findall(r'ContractError\([^()]*(?:\([^()]*\)[^()]*)*,\s*"([a-z_]+)"\)', text))
    assert raised
    assert raised <= {c.value for c in ErrorCode}


def test_stored_events_carry_exactly_their_documented_fields(tmp_path):
    cfg = parse_config({"office": {"opening": "00:00", "closing": "23:59"}})
    core = HubCore(cfg, EventStore(tmp_path / "a.db"), clock=lambda: datetime(2026, 11, 30, 2, tzinfo=UTC))
    steps = [
        ("take_ticket", {"service": "A"}),
        ("take_ticket", {"service": "A", "priority": True}),
        ("take_ticket", {"service": "B"}),
        ("call_next", {"counter": 1}),
        ("recall", {"counter": 1}),
        ("skip", {"counter": 1}),
        ("reinsert", {"ticket": "A-002"}),
        ("call_next", {"counter": 1}),
        ("transfer", {"counter": 1, "service": "C"}),
        ("set_priority", {"ticket": "B-001", "priority": True}),
        ("call_ticket", {"counter": 2, "ticket": "B-001"}),
        ("done", {"counter": 2}),
        ("counter_status", {"counter": 2, "status": "break", "until": "10:15"}),
        ("service_status", {"service": "D", "status": "paused"}),
        ("close_day", {}),
    ]
    for command, body in steps:
        out = core.handle(Origin(), command, json.dumps(body).encode())
        assert json.loads(out[0].payload)["status"] == "ok", (command, out[0].payload)
    day = core.store.last_day()
    assert day is not None
    seen = set()
    for _, event in core.store.events_between(day, day):
        seen.add(event.type)
        assert set(event.data) == set(EVENT_FIELDS[event.type]), event.type
    assert seen == set(EVENT_FIELDS) - NOTICE_EVENTS
