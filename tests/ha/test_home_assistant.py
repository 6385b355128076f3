"""A real Home Assistant (2024.3.3) on the tests' Mosquitto with the real hub (`antrian run`):
what a Home Assistant user sees and does, read and done through Home Assistant's REST API.

One Home Assistant, one hub and one broker for the module (Home Assistant starts in seconds,
but its first install takes minutes: `./run setup-ha`, cached). The tests share the office's
queue, so each one reads where the queue is before it acts. How long Home Assistant takes to
start and how long its states take to follow the hub are printed (`-s`), never asserted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.ha.hass import HomeAssistant, poll
from tests.kit import HubProcess, Mosquitto, Probe
from tests.kit.hubs import is_offline
from tests.kit.office import call_pad, hours_now_at, kiosk, led_board, office

pytestmark = pytest.mark.slow

SLUG = "kantor"
NODE = f"antrian_{SLUG}"
OFFICE = office(
    kiosk("kiosk-1"),
    call_pad("pad-1", 1),
    led_board("board-1", 1),
    office={"slug": SLUG, "name": "Kantor Kecamatan Contoh", **hours_now_at(10, "23:59")},
    services=[
        {"letter": "A", "name": "Administrasi kependudukan", "minutes": 10, "quota": 500},
        {"letter": "B", "name": "Surat keterangan", "minutes": 10},
    ],
    counters=[{"number": 1, "services": ["A", "B"]}, {"number": 2, "services": ["A", "B"]}],
)
#: What a kiosk publishes about itself (retained, on every connect).
KIOSK_INFO = {"firmware": "antrian-mpy 0.1.0", "model": "esp32", "role": "kiosk", "reset_cause": "power_on"}
KIOSK_INFO |= {"uptime_s": 12, "rssi": -61, "free_heap": 61344, "mqtt_connects": 1, "printer": "ok"}


def entity(component: str, object_id: str) -> str:
    return f"{component}.{NODE}_{object_id}".replace("-", "_")


WAITING_A = entity("sensor", "service_a_waiting")
TAKE_A = entity("button", "service_a_take")
SERVING_1 = entity("sensor", "counter_1_serving")
CALL_NEXT_1 = entity("button", "counter_1_call_next")
STATUS_1 = entity("select", "counter_1_status")
STATUS_2 = entity("select", "counter_2_status")
RESULT = entity("event", "hub_command_result")
OPEN_A = entity("switch", "service_a_open")
DONE_1 = entity("button", "counter_1_done")
SERVED_1 = entity("sensor", "counter_1_served")
QUOTA_LEFT_A = entity("sensor", "service_a_quota_left")
OFFICE_OPEN = entity("binary_sensor", "office_open")
OPENS_AT = entity("sensor", "office_opens_at")
SERVICE_ENTITIES = (
    ("sensor", "waiting"),
    ("sensor", "waiting_priority"),
    ("sensor", "estimated_wait"),
    ("sensor", "issued"),
    ("sensor", "served"),
    ("sensor", "skipped"),
    ("binary_sensor", "closed_today"),
    ("switch", "open"),
    ("button", "take"),
    ("button", "take_priority"),
)
COUNTER_ENTITIES = (
    ("sensor", "serving"),
    ("sensor", "serving_waited"),
    ("sensor", "served"),
    ("button", "call_next"),
    ("button", "recall"),
    ("button", "skip"),
    ("button", "done"),
    ("event", "event"),
    ("select", "status"),
)
HUB_ENTITIES = [
    entity("binary_sensor", "hub_connectivity"),
    entity("sensor", "hub_version"),
    entity("sensor", "hub_day"),
    RESULT,
    QUOTA_LEFT_A,
    OFFICE_OPEN,
    OPENS_AT,
    *(entity(component, f"service_{x}_{what}") for x in "ab" for component, what in SERVICE_ENTITIES),
    *(entity(component, f"counter_{n}_{what}") for n in (1, 2) for component, what in COUNTER_ENTITIES),
]


@pytest.fixture(scope="module")
def ha_broker() -> Iterator[Mosquitto]:
    b = Mosquitto()
    b.start()
    yield b
    b.close()


@pytest.fixture(scope="module")
def hub(ha_broker: Mosquitto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    h = HubProcess(ha_broker, OFFICE, tmp_path_factory.mktemp("hub")).start_online()
    yield h
    h.stop()


@pytest.fixture(scope="module")
def hass(
    ha_broker: Mosquitto, hub: HubProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HomeAssistant]:
    ha = HomeAssistant(ha_broker, tmp_path_factory.mktemp("homeassistant"))
    try:
        ha.start()
        print(f"\nHome Assistant up (API with a token, MQTT loaded) in {ha.start_seconds:.1f} s")
        yield ha
    finally:
        ha.stop()


@pytest.fixture(scope="module")
def probe(ha_broker: Mosquitto) -> Iterator[Probe]:
    p = Probe(ha_broker, follow=[f"antrian/{SLUG}/#"])
    yield p
    p.close()


@pytest.fixture(scope="module")
def discovered(hass: HomeAssistant) -> HomeAssistant:
    """Home Assistant once every entity of the hub and its counters has a state."""
    began = time.monotonic()
    for entity_id in HUB_ENTITIES:
        hass.wait_state(entity_id, lambda s: s != "unavailable", timeout=30)
    print(f"\nthe hub's {len(HUB_ENTITIES)} entities available {time.monotonic() - began:.2f} s after start")
    return hass


def number(hass: HomeAssistant, entity_id: str) -> int:
    return int(hass.wait_state(entity_id, str.isdigit)["state"])


def followed(hass: HomeAssistant, entity_id: str, want: str, since: float, what: str) -> None:
    """Wait until `entity_id` is `want` and print how long after `since` (the act) it was."""
    hass.wait_state(entity_id, want)
    print(f"\n{what}: {entity_id} = {want} after {(time.monotonic() - since) * 1000:.0f} ms")


def serve_one(hass: HomeAssistant, probe: Probe) -> str:
    """Take a ticket and call it at counter 1 with Home Assistant's buttons: the ticket, once
    Home Assistant shows it served there."""
    start = probe.mark()
    hass.call("button", "press", entity_id=TAKE_A)
    assert response(probe, "take_ticket", start)["status"] == "ok"
    start = probe.mark()
    hass.call("button", "press", entity_id=CALL_NEXT_1)
    ticket: str = response(probe, "call_next", start)["data"]["ticket"]
    hass.wait_state(SERVING_1, ticket)
    return ticket


def status_options(hass: HomeAssistant) -> list[str]:
    """The counter status select's options as Home Assistant shows them: open, break, closed."""
    options: list[str] = hass.wait_state(STATUS_1, lambda s: s != "unavailable")["attributes"]["options"]
    return options


def outcome(hass: HomeAssistant, before: dict[str, Any] | None, code: str) -> dict[str, Any]:
    """The command result event after `before` (the entity's state then), once it is a refusal
    with `code`: what Home Assistant shows of a command the hub refused."""

    def fired() -> dict[str, Any] | None:
        now = hass.state(RESULT)
        if now is None or (before is not None and now["state"] == before["state"]):
            return None
        attrs = now["attributes"]
        return now if attrs.get("event_type") == "refused" and attrs.get("code") == code else None

    try:
        return poll(f"a refused event with {code}", fired, 15, every=0.01)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; it is {hass.state(RESULT)}") from None


def response(probe: Probe, command: str, start: int) -> dict[str, Any]:
    topic = f"antrian/{SLUG}/hub/response/{command}"
    got: dict[str, Any] = json.loads(probe.wait_for(topic, timeout=15, start=start))
    return got


def test_the_hub_and_each_counter_are_devices_with_their_entities(discovered: HomeAssistant):
    hass = discovered
    hub_device = hass.device_id(WAITING_A)
    assert "Kantor Kecamatan Contoh" in hass.device_attr(hub_device, "name")
    assert hass.device_attr(hub_device, "via_device_id") == "None"
    for n in (1, 2):
        counter = hass.device_id(entity("sensor", f"counter_{n}_serving"))
        assert counter != hub_device
        assert hass.device_attr(counter, "via_device_id") == hub_device
        assert hass.device_id(entity("select", f"counter_{n}_status")) == counter
    assert len(status_options(hass)) == 3  # open, break, closed (in the office's words)
    # the entity table as Home Assistant shows it (for the docs; not asserted)
    rows = []
    for st in sorted(hass.states(), key=lambda s: s["entity_id"]):
        if "antrian" not in st["entity_id"]:
            continue
        device = hass.device_attr(hass.device_id(st["entity_id"]), "name")
        cls = st["attributes"].get("device_class") or ""
        rows.append(f"| `{st['entity_id']}` | {device} | {cls} | {st['state']} |")
    print("\n| entity | device | class | state |\n|---|---|---|---|\n" + "\n".join(rows))


def test_a_boards_diagnostics_follow_what_it_publishes_about_itself(discovered: HomeAssistant, probe: Probe):
    hass = discovered
    connected = entity("binary_sensor", "device_kiosk-1_connectivity")
    rssi = entity("sensor", "device_kiosk-1_rssi")
    # configured but silent: a board that never came is not connected
    hass.wait_state(connected, lambda s: s in ("off", "unknown"))
    began = time.monotonic()
    probe.publish(f"antrian/{SLUG}/device/kiosk-1/info", KIOSK_INFO, retain=True)
    probe.publish(f"antrian/{SLUG}/device/kiosk-1/availability", b"online", retain=True)
    followed(hass, connected, "on", began, "a board comes online")
    assert hass.wait_state(rssi, "-61")["attributes"]["unit_of_measurement"] == "dBm"
    assert hass.wait_state(entity("sensor", "device_kiosk-1_firmware"), "antrian-mpy 0.1.0")
    assert hass.wait_state(entity("sensor", "device_kiosk-1_printer"), "ok")
    board = hass.device_id(connected)
    hub_device = hass.device_id(WAITING_A)
    assert hass.device_attr(board, "via_device_id") == hub_device
    assert "kiosk-1" in hass.device_attr(board, "name")

    probe.publish(f"antrian/{SLUG}/device/kiosk-1/info", {**KIOSK_INFO, "printer": "paper_end"}, retain=True)
    hass.wait_state(entity("sensor", "device_kiosk-1_printer"), "paper_end")
    probe.publish(f"antrian/{SLUG}/device/kiosk-1/availability", b"offline", retain=True)
    hass.wait_state(connected, "off")
    hass.wait_state(rssi, "unavailable")


def test_waiting_and_serving_follow_a_kiosks_ticket_and_a_call_pads_call(
    discovered: HomeAssistant, probe: Probe
):
    hass = discovered
    before = number(hass, WAITING_A)
    ask = probe.request
    began = time.monotonic()
    r = ask(
        f"antrian/{SLUG}/device/kiosk-1/request/take_ticket",
        f"antrian/{SLUG}/device/kiosk-1/response/take_ticket",
        {"service": "A"},
        15,
    )
    assert r["status"] == "ok", r
    followed(hass, WAITING_A, str(before + 1), began, "take_ticket")
    began = time.monotonic()
    r = ask(
        f"antrian/{SLUG}/device/pad-1/request/call_next",
        f"antrian/{SLUG}/device/pad-1/response/call_next",
        {},
        15,
    )
    assert r["status"] == "ok", r
    ticket = r["data"]["ticket"]  # type: ignore[index]
    followed(hass, SERVING_1, ticket, began, "call_next")
    hass.wait_state(WAITING_A, str(before))


def test_home_assistants_buttons_take_a_ticket_and_call_the_next(discovered: HomeAssistant, probe: Probe):
    hass = discovered
    before = number(hass, WAITING_A)
    start = probe.mark()
    began = time.monotonic()
    hass.call("button", "press", entity_id=TAKE_A)
    taken = response(probe, "take_ticket", start)
    assert taken["status"] == "ok", taken
    followed(hass, WAITING_A, str(before + 1), began, "button.press take")

    start = probe.mark()
    hass.call("button", "press", entity_id=CALL_NEXT_1)
    called = response(probe, "call_next", start)
    assert called["status"] == "ok", called
    assert called["data"]["ticket"] == taken["data"]["ticket"]
    hass.wait_state(SERVING_1, taken["data"]["ticket"])
    hass.wait_state(WAITING_A, str(before))


def test_the_status_select_sets_an_idle_counter_on_break_and_open_again(
    discovered: HomeAssistant, probe: Probe
):
    hass = discovered
    opened, on_break, _closed = status_options(hass)
    hass.wait_state(STATUS_2, opened)
    start = probe.mark()
    began = time.monotonic()
    hass.call("select", "select_option", entity_id=STATUS_2, option=on_break)
    assert response(probe, "counter_status", start)["status"] == "ok"
    followed(hass, STATUS_2, on_break, began, "select.select_option")
    status = json.loads(probe.latest(f"antrian/{SLUG}/counter/2/state"))["status"]
    assert status == "break"
    hass.call("select", "select_option", entity_id=STATUS_2, option=opened)
    hass.wait_state(STATUS_2, opened)


def test_a_refused_status_change_leaves_the_select_as_the_counter_is(discovered: HomeAssistant, probe: Probe):
    hass = discovered
    opened, on_break, _closed = status_options(hass)
    # counter 1 serves a ticket: it may not go on break in the middle of it
    serving = serve_one(hass, probe)

    start = probe.mark()
    before = hass.state(RESULT)
    hass.call("select", "select_option", entity_id=STATUS_1, option=on_break)
    refused = response(probe, "counter_status", start)
    assert refused["status"] == "error", refused
    assert "counter_busy" in json.dumps(refused)
    # Home Assistant says so on its event entity, and shows the counter as the hub has it
    seen = outcome(hass, before, "counter_busy")
    assert seen["attributes"]["message"], seen
    assert hass.state(STATUS_1)["state"] == opened  # type: ignore[index]
    assert hass.state(SERVING_1)["state"] == serving  # type: ignore[index]


def test_the_done_button_finishes_the_ticket_and_counts_it_served(discovered: HomeAssistant, probe: Probe):
    hass = discovered
    ticket = serve_one(hass, probe)
    served = number(hass, SERVED_1)
    start = probe.mark()
    hass.call("button", "press", entity_id=DONE_1)
    assert response(probe, "done", start)["status"] == "ok"
    hass.wait_state(SERVED_1, str(served + 1))
    idle = hass.wait_state(SERVING_1, lambda s: s != ticket)
    assert idle["attributes"]["serving"] is None


def test_the_service_switch_pauses_a_service_and_opens_it_again(discovered: HomeAssistant, probe: Probe):
    hass = discovered
    hass.wait_state(OPEN_A, "on")
    start = probe.mark()
    began = time.monotonic()
    hass.call("switch", "turn_off", entity_id=OPEN_A)
    assert response(probe, "service_status", start)["status"] == "ok"
    followed(hass, OPEN_A, "off", began, "switch.turn_off")
    # a paused service issues no ticket, and Home Assistant is told why
    start = probe.mark()
    before = hass.state(RESULT)
    hass.call("button", "press", entity_id=TAKE_A)
    refused = response(probe, "take_ticket", start)
    assert refused["status"] == "error", refused
    outcome(hass, before, "service_paused")
    hass.call("switch", "turn_on", entity_id=OPEN_A)
    hass.wait_state(OPEN_A, "on")


def test_the_quota_left_and_the_office_hours_show_in_home_assistant(discovered: HomeAssistant, probe: Probe):
    hass = discovered
    # it is ten o'clock at the office: open, nothing to open; the quota counts down with each ticket
    office = hass.wait_state(OFFICE_OPEN, "on")
    assert office["attributes"]["reason"] == "open"
    hass.wait_state(OPENS_AT, "unknown")
    issued = number(hass, entity("sensor", "service_a_issued"))
    hass.wait_state(QUOTA_LEFT_A, str(500 - issued))
    start = probe.mark()
    hass.call("button", "press", entity_id=TAKE_A)
    assert response(probe, "take_ticket", start)["status"] == "ok"
    assert hass.wait_state(QUOTA_LEFT_A, str(499 - issued))["attributes"]["unit_of_measurement"] == "tiket"

    # the office/state the hub publishes at closing (its clock cannot be moved here): closed,
    # open again tomorrow at 07.30 WIB, a timestamp in Home Assistant
    topic = f"antrian/{SLUG}/office/state"
    now = probe.latest(topic)
    closed = {**json.loads(now), "open": False, "reason": "after_closing", "tickets": False}
    closed["opens_at"] = "2026-12-01T07:30:00+07:00"
    try:
        probe.publish(topic, closed, retain=True)
        assert hass.wait_state(OFFICE_OPEN, "off")["attributes"]["reason"] == "after_closing"
        hass.wait_state(OPENS_AT, "2026-12-01T00:30:00+00:00")
    finally:
        probe.publish(topic, now, retain=True)  # what the hub published, as it still stands
    hass.wait_state(OFFICE_OPEN, "on")


def test_entities_go_unavailable_when_the_hub_dies_and_come_back_with_it(
    discovered: HomeAssistant, hub: HubProcess, ha_broker: Mosquitto, probe: Probe
):
    hass = discovered
    waiting = hass.state(WAITING_A)["state"]  # type: ignore[index]
    start = probe.mark()
    began = time.monotonic()
    hub.kill()  # kill -9: the broker says the hub's last will
    probe.wait_for(f"antrian/{SLUG}/hub/state", is_offline, 10, start)
    for entity_id in (WAITING_A, SERVING_1, TAKE_A, STATUS_1, QUOTA_LEFT_A, OFFICE_OPEN, OPENS_AT):
        hass.wait_state(entity_id, "unavailable")
    print(f"\nhub killed: its entities unavailable after {(time.monotonic() - began) * 1000:.0f} ms")

    began = time.monotonic()
    hub.start_online()
    followed(hass, WAITING_A, waiting, began, "hub restarted")
    for entity_id in HUB_ENTITIES:
        hass.wait_state(entity_id, lambda s: s != "unavailable")
