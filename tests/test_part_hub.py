"""The hub keeps every promise shared by the MQTT parts (`tests/kit/scenarios.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit import Mosquitto, scenarios
from tests.kit.parts import HubPart


@pytest.fixture
def hub(broker: Mosquitto, tmp_path: Path) -> Iterator[HubPart]:
    part = HubPart(broker, tmp_path)
    yield part
    part.stop()


@pytest.mark.parametrize("scenario", scenarios.every_scenario())
def test_the_hub_keeps_the_promises_of_every_mqtt_part(hub: HubPart, scenario: scenarios.Scenario) -> None:
    scenario(hub)
