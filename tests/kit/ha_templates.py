"""What Home Assistant publishes for a discovered button, select or switch, without Home
Assistant: the few template forms the hub's discovery uses, rendered as HA's Jinja would.

Enough for tests that act on the queue the way HA's entities do; the real-HA tests check the
templates against Home Assistant itself."""

from __future__ import annotations

import re
from typing import Any

#: HA renders `now().timestamp()` at each press: a fresh transaction per press.
_NOW = re.compile(r"\{\{ now\(\)\.timestamp\(\) \}\}")
_CHOICE = re.compile(r"\{% if false %\}(.*?)\{% else %\}\{\{ value \}\}\{% endif %\}")
_BRANCH = re.compile(r"\{% elif value == '([^']*)' %\}([^{]*)")


def render(template: str, value: str = "", stamp: float = 1.5) -> str:
    """The payload of `template` for `value`, pressed at `stamp` (seconds)."""

    def choose(m: re.Match[str]) -> str:
        return next((out for label, out in _BRANCH.findall(m.group(1)) if label == value), value)

    return _NOW.sub(str(stamp), _CHOICE.sub(choose, template))


def press(config: dict[str, Any], stamp: float = 1.5) -> bytes:
    """What a button publishes when pressed."""
    return render(
        config.get("command_template", "{{ value }}"), config.get("payload_press", "PRESS"), stamp
    ).encode()


def select(config: dict[str, Any], option: str, stamp: float = 1.5) -> bytes:
    """What a select publishes when `option` is chosen."""
    assert option in config["options"]
    return render(config["command_template"], option, stamp).encode()
