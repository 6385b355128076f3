"""One contract: the code (`antrian.contract`), the document (`mqtt_topics.md`) and the export
the devices are checked against (`devices/contract.json`) say the same thing."""

from __future__ import annotations

import functools
import json
import re
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints, is_typeddict

from antrian.booking.extension import resolve
from antrian.booking.store import BookingStore
from antrian.config import parse_config
from antrian.contract import (
    COMMAND_SCHEMAS,
    EVENT_FIELDS,
    NOTICE_EVENTS,
    RESPONSE_DATA,
    TOPIC_PAYLOADS,
    CentralEvents,
    CentralHead,
    DeviceInfo,
    DeviceSet,
    ErrorCode,
    ErrorData,
    ResendAsk,
    SpeakerEvent,
    Topics,
    describe,
    topic_templates,
)
from antrian.core import HubCore, Origin
from antrian.i18n import t
from antrian.store import EventStore
from tests.kit.office import ALL_DAY, call_pad, kiosk, led_board, office, speaker

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "mqtt_topics.md").read_text(encoding="utf-8")
NAME = re.compile(r"`([a-z_]+)`")
T = Topics("kantor")


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
    cfg = parse_config({"office": {"opening": "00:00", "closing": "23:59"}, "booking": {"enabled": True}})
    core = HubCore(cfg, EventStore(tmp_path / "a.db"), clock=lambda: datetime(2026, 11, 30, 2, tzinfo=UTC))
    bookings = BookingStore(core.store.db)
    slot = datetime(2026, 11, 30, 1, 30, tzinfo=UTC)
    booked = bookings.book("2026-11-30", "B", slot, slot + timedelta(minutes=30), 2, slot)
    core.resolve_booking = functools.partial(resolve, bookings, cfg)
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
        ("check_in", {"booking": booked.code}),
    ]

    def run(command: str, body: dict[str, Any]) -> dict[str, Any]:
        out = core.handle(Origin(), command, json.dumps(body).encode())
        answer = json.loads(out[0].payload)
        assert answer["status"] == "ok", (command, out[0].payload)
        return answer["data"]

    for command, body in steps:
        run(command, body)
    # phone tickets: one checked in by an officer, one passed over at its turn
    first = run("take_ticket", {"service": "E", "actor": "phone:p1"})
    run("check_in", {"ticket": first["ticket"], "actor": "ani"})
    run("take_ticket", {"service": "E", "actor": "phone:p2"})
    # counter 3 first calls those before them (the C the transfer sent it, E's first)
    calls = [run("call_next", {"counter": 3})["events"] for _ in range(3)]
    assert ["ticket_not_checked_in" in events for events in calls] == [False, False, True], calls
    run("close_day", {})
    day = core.store.last_day()
    assert day is not None
    seen = set()
    for _, event in core.store.events_between(day, day):
        seen.add(event.type)
        assert set(event.data) == set(EVENT_FIELDS[event.type]), event.type
    assert seen == set(EVENT_FIELDS) - NOTICE_EVENTS


# ---------------------------------------------------------------------------------------------
# Payloads: what the hub publishes and answers, against its types (`antrian.payloads`)
# ---------------------------------------------------------------------------------------------

#: What devices and admins send, never the hub: no running hub shows these.
#: The regency link's topics are published only with `[regency] enabled` (the centre asks
#: `central/resend`): tests/regency checks them on the wire of such a hub.
NOT_FROM_THE_HUB = {DeviceInfo, DeviceSet, SpeakerEvent, CentralEvents, CentralHead, ResendAsk}


def _problems(value: Any, shape: Any, where: str, seen: dict[str, set[str]]) -> list[str]:
    """Where `value` breaks its payload type `shape`: a key missing or unknown, a wrong JSON
    type. Records the keys it saw of each type in `seen`."""
    if not isinstance(value, dict):
        return [f"{where}: not an object"]
    required, optional = shape.__required_keys__, shape.__optional_keys__
    keys = set(value)
    seen.setdefault(shape.__name__, set()).update(keys)
    problems = [f"{where}: no {key!r}" for key in sorted(required - keys)]
    problems += [f"{where}: {key!r} is not in {shape.__name__}" for key in sorted(keys - required - optional)]
    hints = get_type_hints(shape)
    for key in sorted(keys & set(hints)):
        problems += _type_problems(value[key], hints[key], f"{where}.{key}", seen)
    return problems


def _type_problems(value: Any, tp: Any, where: str, seen: dict[str, set[str]]) -> list[str]:
    if is_typeddict(tp):
        return _problems(value, tp, where, seen)
    origin = get_origin(tp)
    if isinstance(tp, TypeVar) or tp is Any:
        return []  # the envelope's `data`: checked against the command's own type
    if origin in (Union, types.UnionType):
        for arg in get_args(tp):  # the member it matches (its keys are the ones seen)
            if not _type_problems(value, arg, where, {}):
                return _type_problems(value, arg, where, seen)
        return [f"{where}: {value!r} is not {tp}"]
    if origin is Literal:
        return [] if value in get_args(tp) else [f"{where}: {value!r} is not one of {get_args(tp)}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: not an array"]
        return [
            p
            for i, item in enumerate(value)
            for p in _type_problems(item, get_args(tp)[0], f"{where}[{i}]", seen)
        ]
    expected = origin or tp
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
        str: isinstance(value, str),
        type(None): value is None,
        dict: isinstance(value, dict),
    }[expected]
    return [] if ok else [f"{where}: {value!r} is not {getattr(expected, '__name__', expected)}"]


def _topic_names(office_slug: str) -> list[tuple[re.Pattern[str], str]]:
    """(pattern, name) of every topic template that carries a payload type."""
    out = []
    for name, template in topic_templates().items():
        if name in TOPIC_PAYLOADS:
            pattern = re.escape(template.replace("{office}", office_slug))
            pattern = re.sub(r"\\\{[a-z]+\\\}", "[^/]+", pattern)
            out.append((re.compile(pattern + "$"), name))
    return out


def ask(probe, command, payload, device=None):
    if device is None:
        return probe.request(T.hub_request(command), T.hub_response(command), payload)
    return probe.request(T.device_request(device, command), T.device_response(device, command), payload)


def test_every_payload_a_running_hub_publishes_carries_exactly_the_keys_of_its_type(make_hub, probe):
    probe.subscribe(f"{T.base}/#")
    make_hub(office(kiosk(), call_pad(), led_board(), speaker(), office=ALL_DAY))
    ok = [
        ask(probe, "call_next", {}, "pad-1"),  # nobody waiting: a `message`
        first := ask(probe, "take_ticket", {"service": "A"}, "kiosk-1"),
        ask(probe, "take_ticket", {"service": "B", "priority": True, "actor": "ani", "reason": "lansia"}),
        ask(probe, "take_ticket", {"service": "A"}),
        ask(probe, "call_next", {}, "pad-1"),
        ask(probe, "recall", {}, "pad-1"),
        ask(probe, "skip", {}, "pad-1"),
        ask(probe, "reinsert", {"ticket": "B-001"}),
        ask(probe, "call_next", {}, "pad-1"),
        ask(probe, "transfer", {"service": "C"}, "pad-1"),
        ask(probe, "set_priority", {"ticket": "A-002", "priority": True}),
        ask(probe, "take_ticket", {"service": "E"}),
        ask(probe, "call_ticket", {"counter": 3, "ticket": "E-001"}),
        ask(probe, "done", {"counter": 3}),
        ask(probe, "counter_status", {"counter": 3, "status": "break", "until": "10:15"}),
        ask(probe, "service_status", {"service": "D", "status": "paused"}),
        phone := ask(probe, "take_ticket", {"service": "A", "actor": "phone:test-holder"}),
        ask(probe, "check_in", {"booking": phone["data"]["check_in_code"]}, "kiosk-1"),
        ask(probe, "ticket_status", {"token": first["data"]["token"]}, "kiosk-1"),
        ask(probe, "sync", {}),
        ask(probe, "close_day", {}),
        ask(probe, "sync", {}, "pad-1"),  # after every effect of close_day: a counter of its own
    ]
    assert [r["status"] for r in ok] == ["ok"] * len(ok), [r for r in ok if r["status"] != "ok"]
    assert ask(probe, "take_ticket", {"service": "Z"})["status"] == "error"
    # an office without bookings knows no code (a check-in that works: tests/booking)
    assert ask(probe, "check_in", {"booking": "ACDEFH"})["data"]["code"] == "booking_unknown"
    probe.wait_for(T.device_display("board-1"))
    probe.wait_for(T.device_play("speaker-1"))
    probe.wait_for(T.hub_event, lambda p: json.loads(p)["type"] == "rejected")

    topics = _topic_names("kantor")
    seen: dict[str, set[str]] = {}
    problems, answered = [], set()
    for topic, raw, _retained in list(probe.messages):
        name = next((n for pattern, n in topics if pattern.match(topic)), None)
        if name is None:
            continue  # requests (checked by their schemas), availability (plain text)
        body = json.loads(raw)
        problems += _problems(body, TOPIC_PAYLOADS[name], topic, seen)
        if name.endswith("_response"):
            command = topic.rsplit("/", 1)[1]
            shape = RESPONSE_DATA[command] if body["status"] == "ok" else ErrorData
            problems += _problems(body["data"], shape, f"{topic} data", seen)
            answered.add(command)
        if name == "hub_event" and set(body["data"]) != set(EVENT_FIELDS[body["type"]]):
            problems.append(f"{topic} {body['type']}: data {sorted(body['data'])}")
    assert problems == [], "\n".join(problems)
    assert answered == set(COMMAND_SCHEMAS)
    # every key of every type the hub publishes was on the wire at least once: no key is
    # declared that the hub never sends
    shapes = {*TOPIC_PAYLOADS.values(), *RESPONSE_DATA.values(), ErrorData} - NOT_FROM_THE_HUB
    # an `office_closed` refusal's fields: this office is open all day; tests/schedule/ checks
    # them on the wire of a hub whose clock is outside office hours
    seen.setdefault("ErrorData", set()).update({"reason", "holiday", "opens_at"})
    never = {
        s.__name__: sorted(set(get_type_hints(s)) - seen.get(s.__name__, set()))
        for s in shapes
        if set(get_type_hints(s)) - seen.get(s.__name__, set())
    }
    assert never == {}


def _section(topic_name: str) -> str | None:
    """The text of the part of mqtt_topics.md under the heading that names the topic."""
    doc_form = topic_templates()[topic_name].replace("antrian/{office}", "{base}").replace("{counter}", "{n}")
    lines = DOC.splitlines()
    start = next(
        (i for i, line in enumerate(lines) if line.startswith("#") and f"`{doc_form}`" in line), None
    )
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    return "\n".join(lines[start:end])


def _examples(section: str) -> list[Any]:
    """Every JSON value in the section's ```json blocks (a block may hold several)."""
    decoder, out = json.JSONDecoder(), []
    for block in re.findall(r"```json\n(.*?)```", section, re.DOTALL):
        at = 0
        while block[at:].strip():
            at += len(block[at:]) - len(block[at:].lstrip())
            value, at = decoder.raw_decode(block, at)
            out.append(value)
    return out


def _all_keys(shape: Any) -> set[str]:
    """The keys of a payload type and of the payload types nested in it."""
    keys = set()
    for key, tp in get_type_hints(shape).items():
        keys.add(key)
        nested = [tp, *get_args(tp), *(a for arg in get_args(tp) for a in get_args(arg))]
        for inner in nested:
            if is_typeddict(inner):
                keys |= _all_keys(inner)
    return keys


def test_every_key_of_every_payload_is_documented_under_its_topic():
    checked = set()
    for name, shape in TOPIC_PAYLOADS.items():
        section = _section(name)
        if section is None or shape in checked:
            continue  # `device/{id}/response`: the envelope of `hub/response`, documented there
        checked.add(shape)
        missing = {key for key in _all_keys(shape) if f'"{key}"' not in section and f"`{key}`" not in section}
        assert missing == set(), f"{name}: {sorted(missing)} not in mqtt_topics.md"
        examples = _examples(section)
        assert examples, f"{name}: no example in mqtt_topics.md"
        for example in examples:
            assert _problems(example, shape, f"{name} example", {}) == []
    assert checked == set(TOPIC_PAYLOADS.values())


def test_the_data_of_every_response_is_documented_per_command():
    lines = DOC.splitlines()
    start = lines.index("| `data` | answers | fields |")
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(_cells(line))
    documented = {}
    for row in rows:
        commands, fields = _names(row[2]), _names(row[3])
        if not commands:  # an error, whichever the command
            assert fields == set(ErrorData.__required_keys__ | ErrorData.__optional_keys__)
        for command in commands:
            documented[command] = fields
    assert set(documented) == set(COMMAND_SCHEMAS)
    for command, shape in RESPONSE_DATA.items():
        assert documented[command] == set(get_type_hints(shape)), command


def test_every_command_has_the_type_of_its_answer_and_every_payload_topic_exists():
    assert set(RESPONSE_DATA) == set(COMMAND_SCHEMAS)
    assert set(TOPIC_PAYLOADS) <= set(topic_templates())
