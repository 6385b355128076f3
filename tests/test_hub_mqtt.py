"""The hub over a real Mosquitto: requests, devices, validation, durability, reconnects, HA."""

from __future__ import annotations

import json
import socket

import pytest

from antrian.contract import Topics
from antrian.net import free_port
from tests.kit import HubProcess, Probe
from tests.kit.ha_templates import press
from tests.kit.office import HUB_OFFICE, kiosk, office

T = Topics("kantor")

DEVICES = HUB_OFFICE


def ask(probe, command, payload, device=None):
    if device is None:
        return probe.request(T.hub_request(command), T.hub_response(command), payload)
    return probe.request(T.device_request(device, command), T.device_response(device, command), payload)


@pytest.fixture
def hub_and_probe(make_hub, probe):
    probe.subscribe(f"{T.base}/#")
    return make_hub(DEVICES), probe


def test_kiosk_take_ticket_returns_everything_a_printed_ticket_needs(hub_and_probe):
    _hub, probe = hub_and_probe
    r = ask(probe, "take_ticket", {"service": "A", "priority": True}, "kiosk-1")
    assert r["status"] == "ok"
    d = r["data"]
    assert d["ticket"] == "A-001"
    assert d["priority"] is True
    assert d["service_name"] == "Administrasi kependudukan"
    assert d["ahead"] == 0
    assert isinstance(d["estimated_wait_min"], int)
    assert len(d["token"]) >= 20
    assert d["status_url"].endswith("/t/" + d["token"])
    assert d["issued_at"].endswith("+07:00")
    state = json.loads(probe.wait_for(T.service_state("A"), lambda p: json.loads(p)["waiting"] == 1))
    assert state["last_issued"] == "A-001"
    assert state["waiting_priority"] == 1


def test_kiosk_may_only_issue_its_own_services(hub_and_probe):
    _, probe = hub_and_probe
    r = ask(probe, "take_ticket", {"service": "C"}, "kiosk-1")
    assert r["status"] == "error"
    assert r["data"]["code"] == "service_not_offered"
    r = ask(probe, "take_ticket", {"service": "Z"}, "kiosk-1")
    assert r["data"]["code"] == "unknown_service"


def test_call_pad_acts_only_on_its_own_counter_whatever_the_payload_says(hub_and_probe):
    hub, probe = hub_and_probe
    ask(probe, "take_ticket", {"service": "A"}, "kiosk-1")
    r = ask(probe, "call_next", {"counter": 2}, "pad-1")
    assert r["status"] == "ok"
    assert r["data"]["counter"] == 1
    assert r["data"]["serving"] == "A-001"
    assert hub.call(lambda: hub.core.state.counters[2].serving) is None
    event = json.loads(probe.wait_for(T.counter_event(1)))
    assert event == {"event_type": "called", "ticket": "A-001", "at": event["at"]}


def test_unknown_device_and_forbidden_command_get_errors(hub_and_probe):
    _, probe = hub_and_probe
    r = ask(probe, "take_ticket", {"service": "A"}, "intruder")
    assert r["data"]["code"] == "unknown_device"
    r = ask(probe, "call_next", {}, "kiosk-1")
    assert r["data"]["code"] == "not_allowed"
    r = ask(probe, "take_ticket", {"service": "A"}, "pad-1")
    assert r["data"]["code"] == "not_allowed"


@pytest.mark.parametrize(
    ("raw", "fragment", "code"),
    [
        (b"{not json", "malformed JSON", "invalid_payload"),
        (b"[1, 2]", "JSON object", "invalid_payload"),
        (b'{"priority": true}', "missing field: 'service'", "invalid_request"),
        (b'{"service": 7}', "must be str", "invalid_request"),
        (b'{"service": "A", "servis": "B"}', "unknown field", "invalid_request"),
        (b'{"service": "A", "pad": "' + b"x" * 1100 + b'"}', "too large", "invalid_payload"),
        (b"\xff\xfe", "malformed JSON", "invalid_payload"),
        (b"[" * 1000, "nested too deep", "invalid_payload"),
        (b'{"service": "A", "x": ' + b"{" * 40 + b"}" * 40 + b"}", "nested too deep", "invalid_payload"),
    ],
)
def test_bad_payloads_get_an_error_and_a_rejected_event_and_change_nothing(
    hub_and_probe, raw, fragment, code
):
    hub, probe = hub_and_probe
    before = hub.call(lambda: (hub.core.state.snapshot(), hub.core.store.count()))
    start = len(probe.messages)
    probe.publish(T.hub_request("take_ticket"), raw)
    resp = json.loads(probe.wait_for(T.hub_response("take_ticket"), start=start))
    assert resp["status"] == "error"
    assert fragment in resp["error"]
    rejected = json.loads(probe.wait_for(T.hub_event, lambda p: b'"rejected"' in p, start=start))
    assert rejected["data"]["code"] == code
    assert resp["data"]["code"] == code
    assert hub.call(lambda: (hub.core.state.snapshot(), hub.core.store.count())) == before


def test_unknown_command_is_rejected(hub_and_probe):
    _, probe = hub_and_probe
    r = ask(probe, "launch_rockets", {})
    assert r["status"] == "error"
    assert "unknown command" in r["error"]


def test_same_transaction_gets_the_first_response_and_one_ticket(hub_and_probe):
    hub, probe = hub_and_probe
    first = ask(probe, "take_ticket", {"service": "B", "transaction": "press-1"}, "kiosk-1")
    again = ask(probe, "take_ticket", {"service": "B", "transaction": "press-1"}, "kiosk-1")
    assert again == first
    assert hub.call(lambda: hub.core.state.services["B"].issued) == 1
    # the same id from another sender is another request
    other = ask(probe, "take_ticket", {"service": "B", "transaction": "press-1"})
    assert other["data"]["ticket"] == "B-002"


def test_state_and_idempotency_survive_a_hub_restart(make_hub, probe):
    hub = make_hub(DEVICES)
    probe.subscribe(f"{T.base}/#")
    first = ask(probe, "take_ticket", {"service": "A", "transaction": "t-1"}, "kiosk-1")
    ask(probe, "take_ticket", {"service": "A", "priority": True}, "kiosk-1")
    ask(probe, "take_ticket", {"service": "D"}, "kiosk-1")
    ask(probe, "call_next", {}, "pad-1")
    before = hub.call(lambda: hub.core.state.snapshot())
    hub.stop()

    hub2 = make_hub(DEVICES)
    assert hub2.call(lambda: hub2.core.state.snapshot()) == before
    again = ask(probe, "take_ticket", {"service": "A", "transaction": "t-1"}, "kiosk-1")
    assert again == first
    nxt = ask(probe, "take_ticket", {"service": "A"}, "kiosk-1")
    assert nxt["data"]["ticket"] == "A-003"


def test_led_board_gets_its_retained_display_and_speaker_gets_the_call(hub_and_probe):
    _, probe = hub_and_probe
    ask(probe, "take_ticket", {"service": "B"}, "kiosk-1")
    ask(probe, "call_next", {}, "pad-1")
    display = json.loads(
        probe.wait_for(T.device_display("board-1"), lambda p: json.loads(p)["serving"] == "B-001")
    )
    assert display["lines"] == ["B-001", "LOKET 1"]
    assert display["expires_at"].endswith("+07:00")
    play = json.loads(probe.wait_for(T.device_play("speaker-1")))
    assert play["text"] == "Nomor antrean B satu, silakan menuju loket satu"
    assert play["clips"][:2] == ["chime", "pause.300"]
    assert play["clips"].count("letter.b") == 2
    assert len(json.dumps(play).encode()) <= 1024


def test_hub_birth_info_and_retained_state_reach_a_late_subscriber(hub_and_probe, broker):
    _, probe = hub_and_probe
    ask(probe, "take_ticket", {"service": "A"}, "kiosk-1")
    late = Probe(broker)
    try:
        late.subscribe(f"{T.base}/#")
        assert json.loads(late.wait_for(T.hub_state))["state"] == "online"
        info = json.loads(late.wait_for(T.hub_info))
        assert info["timezone"] == "Asia/Jakarta"
        assert len(info["services"]) == 5
        assert json.loads(late.wait_for(T.service_state("A"), lambda p: json.loads(p)["waiting"] == 1))
        # the first copy is the retained one (a live update may follow: the first ticket of the
        # day changes the day in hub/info while the late subscriber subscribes)
        assert next(retained for t, _, retained in late.messages if t == T.hub_info)
    finally:
        late.close()


def test_hub_reconnects_after_a_broker_restart_and_republishes_retained_state(make_hub, broker):
    hub = make_hub(DEVICES)
    p = Probe(broker)
    p.subscribe(f"{T.base}/#")
    ask(p, "take_ticket", {"service": "A"}, "kiosk-1")
    p.close()
    broker.restart()  # persistence off: the new broker has no retained messages
    fresh = Probe(broker)
    try:
        fresh.subscribe(f"{T.base}/#")
        state = json.loads(fresh.wait_for(T.service_state("A"), timeout=15))
        assert state["waiting"] == 1
        assert json.loads(fresh.wait_for(T.hub_state, timeout=15))["state"] == "online"
        r = ask(fresh, "take_ticket", {"service": "A"}, "kiosk-1")
        assert r["data"]["ticket"] == "A-002"
        assert hub.service.connections >= 2
    finally:
        fresh.close()


def test_hub_last_will_says_offline_when_it_dies(broker, tmp_path, probe):
    proc = HubProcess(broker, office(), tmp_path)
    probe.subscribe(T.hub_state)
    proc.start()
    try:
        probe.wait_for(T.hub_state, lambda p: json.loads(p)["state"] == "online", timeout=15)
        start = len(probe.messages)
        proc.kill()
        # keepalive 15 s: the broker notices the dead socket at once (connection reset)
        probe.wait_for(T.hub_state, lambda p: json.loads(p)["state"] == "offline", timeout=30, start=start)
    finally:
        proc.kill()


def test_home_assistant_discovery_is_published_and_republished_on_ha_birth(hub_and_probe):
    _, probe = hub_and_probe
    probe.subscribe("homeassistant/#")
    topic = "homeassistant/sensor/antrian_kantor/service_a_waiting/config"
    cfg = json.loads(probe.wait_for(topic))
    assert cfg["unique_id"] == "antrian_kantor_service_a_waiting"
    assert cfg["state_topic"] == T.service_state("A")
    assert cfg["availability"][0]["topic"] == T.hub_state
    assert cfg["origin"]["name"] == "antrian"
    start = len(probe.messages)
    probe.publish("homeassistant/status", b"online")
    probe.wait_for("homeassistant/select/antrian_kantor/counter_1_status/config", start=start)


def test_ha_button_payload_is_a_valid_request(hub_and_probe):
    _, probe = hub_and_probe
    probe.subscribe("homeassistant/#")
    cfg = json.loads(probe.wait_for("homeassistant/button/antrian_kantor/service_b_take/config"))
    start = len(probe.messages)
    probe.publish(cfg["command_topic"], press(cfg))
    resp = json.loads(probe.wait_for(T.hub_response("take_ticket"), start=start))
    assert resp["status"] == "ok"
    assert resp["data"]["ticket"] == "B-001"


def test_admin_actions_are_in_the_audit_log_with_actor_and_reason(hub_and_probe):
    hub, probe = hub_and_probe
    ask(probe, "take_ticket", {"service": "A"}, "kiosk-1")
    ask(probe, "take_ticket", {"service": "A"}, "kiosk-1")
    r = ask(probe, "call_ticket", {"counter": 2, "ticket": "A-002", "actor": "ani", "reason": "ibu hamil"})
    assert r["status"] == "ok"
    events = hub.call(lambda: list(hub.core.store.events_of_day(hub.core.state.day)))
    call = [e for e in events if e.type == "ticket_called"][-1]
    assert (call.actor, call.reason, call.data["mode"]) == ("admin:ani", "ibu hamil", "out_of_order")
    issue = next(e for e in events if e.type == "ticket_issued")
    assert issue.actor == "device:kiosk-1"


def test_a_retained_request_is_not_replayed_when_the_hub_reconnects(make_hub, probe):
    hub = make_hub(DEVICES)
    probe.subscribe(f"{T.base}/#")
    # A buggy client retains a request. Live subscribers get it as a normal message (MQTT gives
    # no way to tell), so it is answered once ...
    start = len(probe.messages)
    probe.publish(T.hub_request("take_ticket"), {"service": "A"}, retain=True)
    first = json.loads(probe.wait_for(T.hub_response("take_ticket"), start=start))
    assert first["data"]["ticket"] == "A-001"
    hub.stop()
    try:
        # ... but every later subscription would get it again, flagged retained: ignored.
        hub2 = make_hub(DEVICES)
        r = ask(probe, "take_ticket", {"service": "B"})
        assert r["data"]["ticket"] == "B-001"
        assert hub2.call(lambda: hub2.core.state.services["A"].issued) == 1
    finally:
        probe.publish(T.hub_request("take_ticket"), b"", retain=True)  # clear it


def test_discovery_of_a_removed_service_is_cleared(make_hub, probe):
    probe.subscribe("homeassistant/#")
    topic = "homeassistant/sensor/antrian_kantor/service_e_waiting/config"
    hub = make_hub(DEVICES)
    assert json.loads(probe.wait_for(topic))["unique_id"] == "antrian_kantor_service_e_waiting"
    hub.stop()
    start = len(probe.messages)
    four = {
        **DEVICES,
        "services": [{"letter": x, "name": f"Layanan {x}"} for x in "ABCD"],
        "counters": [{"number": 1, "services": ["A", "B"]}, {"number": 3, "services": ["C", "D"]}],
    }
    make_hub(four)  # same database: it remembers what it announced before
    assert probe.wait_for(topic, lambda p: p == b"", start=start) == b""
    retained_e = [t for t, p, _ in probe.messages[start:] if t == topic and p]
    assert retained_e == []


def test_the_queue_runs_even_when_the_web_port_is_taken(broker, tmp_path, probe):
    port = free_port()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        proc = HubProcess(broker, office(kiosk(), web=port), tmp_path)
        probe.subscribe(f"{T.base}/#")
        proc.start()
        try:
            probe.wait_for(T.hub_state, lambda p: b"online" in p, timeout=15)
            r = ask(probe, "take_ticket", {"service": "A"}, "kiosk-1")
            assert r["data"]["ticket"] == "A-001"
            assert "web pages not started" in proc.log()
        finally:
            proc.stop()
