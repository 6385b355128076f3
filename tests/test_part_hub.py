"""The hub keeps every promise shared by the MQTT parts (`tests/kit/scenarios.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit import Mosquitto, scenarios
from tests.kit.parts import HubPart

KNOWN_BUGS = {
    scenarios.bad_payloads_are_survived: "a device `info` nested too deep raises RecursionError in "
    "hub.service._json_or_none (caught only by the last-resort handler)",
}


@pytest.fixture
def hub(broker: Mosquitto, tmp_path: Path) -> Iterator[HubPart]:
    part = HubPart(broker, tmp_path)
    yield part
    part.stop()


@pytest.mark.parametrize("scenario", scenarios.every_scenario(KNOWN_BUGS))
def test_the_hub_keeps_the_promises_of_every_mqtt_part(hub: HubPart, scenario: scenarios.Scenario) -> None:
    scenario(hub)
