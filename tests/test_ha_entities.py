"""Home Assistant's view of the queue: what the hub announces by discovery (classes, QoS,
names in the office language, per entity or per device) and what HA's buttons, switches and
selects do when they publish what Home Assistant publishes for them, refusals included."""

from __future__ import annotations

import json

from antrian.contract import Topics
from tests.kit.ha_templates import press, select
from tests.kit.office import HUB_OFFICE, kiosk, office

T = Topics("kantor")
HA = "homeassistant"
NODE = "antrian_kantor"
RESULT = f"{T.base}/hub/ha_result"


def config(probe, component: str, object_id: str, start: int = 0) -> dict:
    return json.loads(probe.wait_for(f"{HA}/{component}/{NODE}/{object_id}/config", start=start))


def state(probe, topic: str, predicate, start: int = 0) -> dict:
    return json.loads(probe.wait_for(topic, lambda p: predicate(json.loads(p)), start=start))


def watching(make_hub, probe, config=HUB_OFFICE):
    """A hub and a probe that sees what Home Assistant sees (discovery and the office)."""
    probe.subscribe(f"{HA}/#")
    probe.subscribe(f"{T.base}/#")
    return make_hub(config)


def test_discovery_declares_classes_units_qos_and_the_hubs_links(make_hub, probe):
    probe.subscribe(f"{HA}/#")
    make_hub(HUB_OFFICE)
    wait = config(probe, "sensor", "service_a_estimated_wait")
    assert (wait["device_class"], wait["unit_of_measurement"], wait["state_class"]) == (
        "duration",
        "min",
        "measurement",
    )
    for field in ("issued", "served", "skipped"):
        assert config(probe, "sensor", f"service_a_{field}")["state_class"] == "total_increasing"
    assert config(probe, "sensor", "counter_1_serving_waited")["device_class"] == "duration"
    serving = config(probe, "sensor", "counter_1_serving")
    assert serving["value_template"] == "{{ value_json.serving }}"  # null reads as unknown, not "-"
    assert serving["device"]["sw_version"]
    assert serving["device"]["suggested_area"] == "Ruang pelayanan"
    assert serving["device"]["configuration_url"].endswith("/admin")
    online = config(probe, "binary_sensor", "hub_connectivity")
    assert (online["device_class"], online["entity_category"]) == ("connectivity", "diagnostic")
    assert "availability" not in online  # off, not unavailable, when the hub is gone
    assert config(probe, "sensor", "hub_day")["device_class"] == "date"
    for x in (
        "service_a_take",
        "service_a_take_priority",
        "counter_2_recall",
        "counter_2_skip",
        "counter_2_done",
    ):
        assert config(probe, "button", x)["qos"] == 1
    configs = {t: json.loads(p) for t, p, _ in probe.messages if t.startswith(f"{HA}/") and p}
    assert all(c["qos"] == 1 for c in configs.values() if "command_topic" in c)
    for topic, c in configs.items():
        component = topic.split("/")[1]
        assert c["default_entity_id"] == f"{component}.{c['object_id']}"


def test_home_assistants_buttons_switch_and_select_act_on_the_queue(make_hub, probe):
    watching(make_hub, probe)
    start = probe.mark()
    probe.publish(T.hub_request("take_ticket"), press(config(probe, "button", "service_a_take_priority")))
    state(probe, T.service_state("A"), lambda s: s["waiting_priority"] == 1, start)
    probe.publish(T.hub_request("call_next"), press(config(probe, "button", "counter_1_call_next")))
    served = state(probe, T.counter_state(1), lambda s: s["serving"] == "A-001", start)
    assert isinstance(served["serving_waited_min"], int)
    probe.publish(T.hub_request("done"), press(config(probe, "button", "counter_1_done"), stamp=2.5))
    state(probe, T.service_state("A"), lambda s: s["served"] == 1, start)
    done = state(probe, T.counter_state(1), lambda s: s["serving"] is None and s["served"] == 1, start)
    assert done["serving_waited_min"] is None

    switch = config(probe, "switch", "service_b_open")
    probe.publish(switch["command_topic"], switch["payload_off"])
    paused = state(probe, T.service_state("B"), lambda s: s["status"] == "paused", start)
    assert paused["status"] == switch["state_off"]
    event = json.loads(probe.wait_for(RESULT, start=start))
    assert event["event_type"] == "ok"

    status = config(probe, "select", "counter_1_status")
    assert status["options"] == ["Buka", "Istirahat", "Tutup"]
    probe.publish(status["command_topic"], select(status, "Istirahat"))
    state(probe, T.counter_state(1), lambda s: s["status"] == "break", start)


def test_a_refused_command_is_an_event_with_the_hubs_code_and_words(make_hub, probe):
    watching(make_hub, probe)
    start = probe.mark()
    probe.publish(T.hub_request("take_ticket"), press(config(probe, "button", "service_a_take")))
    probe.publish(
        T.hub_request("call_next"), press(config(probe, "button", "counter_1_call_next"), stamp=2.5)
    )
    state(probe, T.counter_state(1), lambda s: s["serving"] == "A-001", start)
    status = config(probe, "select", "counter_1_status")
    mark = probe.mark()
    probe.publish(status["command_topic"], select(status, "Istirahat", stamp=3.5))
    event = json.loads(probe.wait_for(RESULT, lambda p: json.loads(p)["event_type"] == "refused", start=mark))
    assert (event["command"], event["code"], event["counter"]) == ("counter_status", "counter_busy", 1)
    assert event["message"]
    assert event["event_type"] in config(probe, "event", "hub_command_result")["event_types"]
    # the answers to other senders are not Home Assistant's business
    probe.publish(T.hub_request("skip"), {"counter": 2})
    probe.wait_for(T.hub_response("skip"), start=mark)
    assert [json.loads(p)["command"] for t, p, _ in probe.messages[mark:] if t == RESULT] == [
        "counter_status"
    ]


def test_a_press_delivered_twice_makes_one_ticket(make_hub, probe):
    hub = watching(make_hub, probe)
    button = config(probe, "button", "service_b_take")
    start = probe.mark()
    for payload in (press(button), press(button), press(button, stamp=9.5)):
        probe.publish(button["command_topic"], payload)
    last = lambda p: json.loads(p)["transaction"].endswith("-9.5")  # noqa: E731 - one-off predicate
    probe.wait_for(T.hub_response("take_ticket"), last, start=start)  # answers come in order
    answers = [json.loads(p) for t, p, _ in probe.messages[start:] if t == T.hub_response("take_ticket")]
    assert [a["data"]["ticket"] for a in answers] == ["B-001", "B-001", "B-002"]
    assert hub.call(lambda: hub.core.state.services["B"].issued) == 2


def test_names_and_select_options_follow_the_office_language(make_hub, probe):
    watching(make_hub, probe, office(kiosk(), office={"language": "en", "name": "Kecamatan Grati"}))
    waiting = config(probe, "sensor", "service_a_waiting")
    assert waiting["name"] == "Waiting A"  # HA puts the device's name in front
    assert waiting["device"]["name"] == "Queue Kecamatan Grati"
    status = config(probe, "select", "counter_2_status")
    assert status["options"] == ["Open", "Break", "Closed"]
    assert status["name"] == "Counter status"
    start = probe.mark()
    probe.publish(status["command_topic"], select(status, "Closed"))
    state(probe, T.counter_state(2), lambda s: s["status"] == "closed", start)


def test_device_discovery_replaces_the_per_entity_configs(make_hub, probe):
    probe.subscribe(f"{HA}/#")
    hub = make_hub(office(kiosk()))
    per_entity = f"{HA}/sensor/{NODE}/service_a_waiting/config"
    probe.wait_for(per_entity)
    hub.stop()
    start = probe.mark()
    make_hub(office(kiosk(), homeassistant={"discovery": "device"}))  # same database
    probe.wait_for(per_entity, lambda p: p == b"", start=start)
    hub_device = json.loads(probe.wait_for(f"{HA}/device/{NODE}/config", start=start))
    assert hub_device["device"]["identifiers"] == [NODE]
    result = hub_device["cmps"]["hub_command_result"]
    assert (result["platform"], result["unique_id"], result["qos"]) == (
        "event",
        f"{NODE}_hub_command_result",
        1,
    )
    service_a = json.loads(probe.wait_for(f"{HA}/device/{NODE}_service_a/config", start=start))
    assert service_a["device"]["identifiers"] == [NODE]  # the hub's entities, one message per service
    assert service_a["cmps"]["service_a_waiting"]["state_topic"] == T.service_state("A")
    kiosk_device = json.loads(probe.wait_for(f"{HA}/device/{NODE}_device_kiosk-1/config", start=start))
    assert kiosk_device["cmps"]["device_kiosk-1_printer"]["platform"] == "sensor"
    cleared = {t for t, p, _ in probe.messages[start:] if not p}
    assert f"{HA}/button/{NODE}/counter_1_call_next/config" in cleared
