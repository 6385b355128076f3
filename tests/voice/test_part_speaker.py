"""The speaker node keeps every promise shared by the MQTT parts (`tests/kit/scenarios.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit import Mosquitto, scenarios
from tests.kit.parts import SpeakerPart

from .conftest import BuiltCache


@pytest.fixture
def speaker(broker: Mosquitto, tmp_path: Path, built_cache: BuiltCache) -> Iterator[SpeakerPart]:
    part = SpeakerPart(broker, tmp_path, built_cache.root)
    yield part
    part.stop()


@pytest.mark.parametrize("scenario", scenarios.every_scenario())
def test_the_speaker_keeps_the_promises_of_every_mqtt_part(
    speaker: SpeakerPart, scenario: scenarios.Scenario
) -> None:
    scenario(speaker)
