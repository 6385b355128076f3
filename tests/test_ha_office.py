"""Home Assistant's view of the daily quota and the office's hours: a "quota left" sensor for
each service that has a quota (and none for a service without one), and on the hub's device
whether the office is open and when it opens next, read from `office/state`, available while
the hub is; in both discovery forms."""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from antrian.contract import Topics
from tests.kit.ha_templates import press
from tests.kit.office import WEEKDAYS, kiosk, office

T = Topics("kantor")
HA = "homeassistant"
NODE = "antrian_kantor"
TZ = "Asia/Jakarta"
SERVICES = [
    {"letter": "A", "name": "Administrasi kependudukan", "minutes": 10, "quota": 3},
    {"letter": "B", "name": "Surat keterangan", "minutes": 10},
]


def closed_today() -> dict:
    """Open 07.30-16.00 every day but today (in the office's zone), no national holidays."""
    today = WEEKDAYS[datetime.now(ZoneInfo(TZ)).weekday()]
    hours = {day: "" if day == today else "07:30-16:00" for day in WEEKDAYS}
    return {"timezone": TZ, "hours": hours, "national_holidays": False}


def config(probe, component: str, object_id: str, start: int = 0) -> dict:
    return json.loads(probe.wait_for(f"{HA}/{component}/{NODE}/{object_id}/config", start=start))


def fields_read(entity: dict) -> set[str]:
    """The payload fields an entity's value template reads."""
    return set(re.findall(r"value_json\.(\w+)", entity["value_template"]))


def test_a_service_with_a_quota_has_a_quota_left_sensor_that_follows_the_tickets(make_hub, probe):
    probe.subscribe(f"{HA}/#")
    probe.subscribe(f"{T.base}/#")
    make_hub(office(kiosk(), services=SERVICES))
    left = config(probe, "sensor", "service_a_quota_left")
    assert left["state_topic"] == T.service_state("A")
    assert fields_read(left) == {"quota_left"}
    assert (left["unit_of_measurement"], left["state_class"]) == ("tiket", "measurement")
    assert left["name"] == "Sisa kuota A"
    assert left["availability"] == [{"topic": T.hub_state, "value_template": "{{ value_json.state }}"}]
    assert left["device"]["identifiers"] == [NODE]
    # B has no quota: it has every other sensor, but nothing to count down
    config(probe, "button", "service_b_take_priority")
    assert not [t for t, _, _ in probe.messages if t.endswith("/service_b_quota_left/config")]

    start = probe.mark()
    probe.publish(T.hub_request("take_ticket"), press(config(probe, "button", "service_a_take")))
    state = json.loads(
        probe.wait_for(T.service_state("A"), lambda p: json.loads(p)["issued"] == 1, start=start)
    )
    assert state["quota_left"] == 2


def test_the_office_open_and_opens_at_entities_read_the_hubs_office_state(make_hub, probe):
    probe.subscribe(f"{HA}/#")
    probe.subscribe(f"{T.base}/#")
    make_hub(office(kiosk(), office=closed_today(), services=SERVICES))
    is_open = config(probe, "binary_sensor", "office_open")
    opens = config(probe, "sensor", "office_opens_at")
    for entity in (is_open, opens):
        assert entity["state_topic"] == T.office_state
        assert entity["device"]["identifiers"] == [NODE]
        assert entity["availability"] == [{"topic": T.hub_state, "value_template": "{{ value_json.state }}"}]
    assert is_open["device_class"] == "opening"
    assert is_open["value_template"] == "{{ 'ON' if value_json.open else 'OFF' }}"
    assert is_open["json_attributes_topic"] == T.office_state
    assert opens["device_class"] == "timestamp"
    assert opens["name"] == "Kantor buka lagi"
    state = json.loads(probe.wait_for(T.office_state))
    assert fields_read(is_open) | fields_read(opens) <= set(state)
    # closed today, open again tomorrow at 07.30: a time Home Assistant reads as a timestamp
    assert state["open"] is False
    opens_at = datetime.fromisoformat(state["opens_at"])
    assert (opens_at.hour, opens_at.minute) == (7, 30)
    assert opens_at.tzinfo is not None


def test_device_discovery_puts_the_office_on_the_hub_and_the_quota_with_its_service(make_hub, probe):
    probe.subscribe(f"{HA}/#")
    make_hub(office(kiosk(), services=SERVICES, homeassistant={"discovery": "device"}))
    hub_device = json.loads(probe.wait_for(f"{HA}/device/{NODE}/config"))
    assert hub_device["cmps"]["office_open"]["platform"] == "binary_sensor"
    assert hub_device["cmps"]["office_opens_at"]["platform"] == "sensor"
    assert hub_device["cmps"]["office_opens_at"]["unique_id"] == f"{NODE}_office_opens_at"
    service_a = json.loads(probe.wait_for(f"{HA}/device/{NODE}_service_a/config"))
    assert service_a["cmps"]["service_a_quota_left"]["state_topic"] == T.service_state("A")
    service_b = json.loads(probe.wait_for(f"{HA}/device/{NODE}_service_b/config"))
    assert "service_b_quota_left" not in service_b["cmps"]
    assert not [t for t, _, _ in probe.messages if t.startswith(f"{HA}/sensor/")]
