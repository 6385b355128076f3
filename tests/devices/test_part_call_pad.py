"""The call pad firmware keeps every promise shared by the MQTT parts (`tests/kit/scenarios.py`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from harness import pad_config

from tests.kit import Mosquitto, scenarios
from tests.kit.parts import DevicePart, Firmware


@pytest.fixture
def device(broker: Mosquitto, firmware: Callable[[dict[str, Any]], Firmware]) -> DevicePart:
    return DevicePart(broker, pad_config(broker), firmware)


@pytest.mark.parametrize("scenario", scenarios.every_scenario())
def test_the_call_pad_keeps_the_promises_of_every_mqtt_part(
    device: DevicePart, scenario: scenarios.Scenario
) -> None:
    scenario(device)
