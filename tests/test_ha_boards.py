"""Home Assistant sees each board (kiosk, call pad, LED board, speaker) as a device of its own,
`via_device` the hub, with diagnostic entities on what the board publishes about itself; a
board taken out of the configuration leaves nothing behind in Home Assistant."""

from __future__ import annotations

import json

from antrian.contract import Topics
from tests.kit.office import HUB_OFFICE, call_pad, kiosk, office

T = Topics("kantor")
HA = "homeassistant"
NODE = "antrian_kantor"


def config(probe, component: str, object_id: str, start: int = 0) -> dict:
    return json.loads(probe.wait_for(f"{HA}/{component}/{NODE}/{object_id}/config", start=start))


def test_each_board_is_its_own_device_with_diagnostics_read_from_its_info(make_hub, probe):
    probe.subscribe(f"{HA}/#")
    make_hub({**HUB_OFFICE, "devices": [*HUB_OFFICE["devices"], {"id": "tv-1", "role": "screen"}]})
    online = config(probe, "binary_sensor", "device_kiosk-1_connectivity")
    assert online["state_topic"] == T.device_availability("kiosk-1")
    assert (online["payload_on"], online["payload_off"]) == ("online", "offline")
    assert (online["device_class"], online["entity_category"]) == ("connectivity", "diagnostic")
    assert "availability" not in online  # off, not unavailable, once the board is gone
    assert online["device"]["identifiers"] == [f"{NODE}_device_kiosk-1"]
    assert online["device"]["via_device"] == NODE
    assert online["unique_id"] == f"{NODE}_device_kiosk-1_connectivity"

    expected = {
        "rssi": ("signal_strength", "dBm"),
        "uptime_s": ("duration", "s"),
        "free_heap": ("data_size", "B"),
        "mqtt_connects": (None, None),
        "reset_cause": (None, None),
        "firmware": (None, None),
    }
    for board in ("kiosk-1", "pad-1", "pad-3", "board-1", "speaker-1"):
        for field, (device_class, unit) in expected.items():
            sensor = config(probe, "sensor", f"device_{board}_{field}")
            assert sensor["state_topic"] == T.device_info(board)
            assert sensor["value_template"] == "{{ value_json.get('" + field + "') }}"
            assert (sensor.get("device_class"), sensor.get("unit_of_measurement")) == (device_class, unit)
            assert sensor["entity_category"] == "diagnostic"
            assert sensor["availability"] == [
                {
                    "topic": T.device_availability(board),
                    "payload_available": "online",
                    "payload_not_available": "offline",
                }
            ]
            assert sensor["device"]["identifiers"] == [f"{NODE}_device_{board}"]
    printer = config(probe, "sensor", "device_kiosk-1_printer")
    assert (printer["device_class"], printer["options"]) == ("enum", ["ok", "silent", "paper_end"])
    assert "entity_category" not in printer  # a kiosk without paper is no detail

    topics = {t for t, p, _ in probe.messages if t.startswith(f"{HA}/") and p}
    assert not [t for t in topics if "tv-1" in t]  # a screen is no board of ours
    assert not [t for t in topics if "printer" in t and "kiosk-1" not in t]
    # the hub's own entities are still the hub's, available with the hub
    waiting = config(probe, "sensor", "service_a_waiting")
    assert waiting["availability"][0]["topic"] == T.hub_state


def test_the_entities_of_a_board_taken_out_of_the_configuration_are_cleared(make_hub, probe):
    probe.subscribe(f"{HA}/#")
    hub = make_hub(office(kiosk(), call_pad("pad-1", 1)))
    gone = f"{HA}/sensor/{NODE}/device_pad-1_rssi/config"
    probe.wait_for(gone)
    hub.stop()
    start = probe.mark()
    make_hub(office(kiosk()))  # same database: it remembers what it announced before
    assert probe.wait_for(gone, lambda p: p == b"", start=start) == b""
    for object_id in ("connectivity", "firmware", "reset_cause"):
        component = "binary_sensor" if object_id == "connectivity" else "sensor"
        topic = f"{HA}/{component}/{NODE}/device_pad-1_{object_id}/config"
        probe.wait_for(topic, lambda p: p == b"", start=start)
    kept = config(probe, "sensor", "device_kiosk-1_rssi", start=start)
    assert kept["unique_id"] == f"{NODE}_device_kiosk-1_rssi"
