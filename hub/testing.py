"""Moved. The test kit is `tests/kit` (broker, probe, hub runners, clock, offices, scenarios);
`free_port` and `port_open` are `antrian.net`.

This module only forwards the old names for tests that have not moved yet, and goes once
nothing imports it. The kit's names are imported on first use only, from a checkout of the
repository: no product module asks for them (the web side's `free_port`/`port_open` are
`antrian.net`'s).
"""

from __future__ import annotations

import importlib
from typing import Any

from antrian.net import free_port, port_open

__all__ = ["free_port", "port_open"]

_KIT = {
    "Mosquitto": "tests.kit.broker",
    "find_mosquitto": "tests.kit.broker",
    "Probe": "tests.kit.probe",
    "HubProcess": "tests.kit.hubs",
}


def __getattr__(name: str) -> Any:  # noqa: ANN401 - whatever the kit's name is
    module = _KIT.get(name)
    if module is None:
        raise AttributeError(f"module 'antrian.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
