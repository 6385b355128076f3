"""The LED board firmware keeps every promise shared by the MQTT parts (`tests/kit/scenarios.py`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from harness import board_config

from tests.kit import Mosquitto, scenarios
from tests.kit.parts import DevicePart, Firmware


@pytest.fixture
def device(broker: Mosquitto, firmware: Callable[[dict[str, Any]], Firmware]) -> DevicePart:
    return DevicePart(broker, board_config(broker, {"type": "max7219", "modules": 8, "cs": 5}), firmware)


@pytest.mark.parametrize("scenario", scenarios.every_scenario())
def test_the_led_board_keeps_the_promises_of_every_mqtt_part(
    device: DevicePart, scenario: scenarios.Scenario
) -> None:
    scenario(device)
