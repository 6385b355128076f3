"""What a device says about itself (`{base}/device/{id}/info`), read within bounds.

A board's retained `info` is what a technician asks first about a board that misbehaved: why
it last started, how long it has run, its WiFi signal, its free heap, how often it had to
reconnect, and for a kiosk whether its printer answers. The hub shows it on the admin page and
logs a kiosk's printer going silent or out of paper. None of it is trusted: a field of the
wrong type, out of range or with a value the contract does not name is left out (None), never
shown as it came and never a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypedDict

#: Why a board last started (`machine.reset_cause()` as the firmware names it).
RESET_CAUSES: Final = ("power_on", "hard", "watchdog", "deep_sleep", "soft", "unknown")
#: A kiosk's printer: `ok` (answers, paper in), `silent` (does not answer its status query),
#: `paper_end` (reports paper end).
PRINTER_STATES: Final = ("ok", "silent", "paper_end")
#: The printer states a kiosk cannot print in: every press is refused until it is `ok` again.
PRINTER_TROUBLE: Final = ("silent", "paper_end")
#: Below this signal (dBm) a board's WLAN link is weak: move the access point or the board.
WEAK_RSSI_DBM: Final = -75
#: Reconnections since boot from which the link counts as unsteady, if they come more often
#: than one an hour (a router rebooted each night is not a hint).
MANY_RECONNECTS: Final = 3

#: Bounds of what is taken: longer texts are cut, numbers outside are left out.
_TEXT_MAX: Final = 40
_UPTIME_MAX: Final = 10 * 365 * 86400
_RSSI_RANGE: Final = (-127, 0)
_HEAP_MAX: Final = 64 * 1024 * 1024
_CONNECTS_MAX: Final = 10_000_000


class DeviceHealth(TypedDict):
    """A device's `info`, each field checked: None where it is missing or not believable."""

    firmware: str | None
    model: str | None
    reset_cause: str | None
    uptime_s: int | None
    rssi: int | None
    free_heap: int | None
    mqtt_connects: int | None
    printer: str | None


def _text(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return "".join(c for c in value if c.isprintable())[:_TEXT_MAX] or None


def _int(value: object, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if low <= value <= high else None


def _choice(value: object, choices: tuple[str, ...]) -> str | None:
    return value if isinstance(value, str) and value in choices else None


def read_info(info: Mapping[str, Any] | None) -> DeviceHealth:
    """The fields of `info` (a parsed JSON object, or None) that are within the contract."""
    i: Mapping[str, Any] = info or {}
    return {
        "firmware": _text(i.get("firmware")) or _text(i.get("version")),
        "model": _text(i.get("model")),
        "reset_cause": _choice(i.get("reset_cause"), RESET_CAUSES),
        "uptime_s": _int(i.get("uptime_s"), 0, _UPTIME_MAX),
        "rssi": _int(i.get("rssi"), *_RSSI_RANGE),
        "free_heap": _int(i.get("free_heap"), 0, _HEAP_MAX),
        "mqtt_connects": _int(i.get("mqtt_connects"), 0, _CONNECTS_MAX),
        "printer": _choice(i.get("printer"), PRINTER_STATES),
    }


def hints(health: DeviceHealth) -> list[str]:
    """What deserves a look, by name: `watchdog` (the last start was the watchdog's: the
    firmware hung), `weak_signal`, `reconnects` (the MQTT link keeps dropping), and the
    printer's `silent` or `paper_end`."""
    out = []
    if health["reset_cause"] == "watchdog":
        out.append("watchdog")
    rssi = health["rssi"]
    if rssi is not None and rssi < WEAK_RSSI_DBM:
        out.append("weak_signal")
    reconnects, uptime = (health["mqtt_connects"] or 1) - 1, health["uptime_s"]
    if reconnects >= MANY_RECONNECTS and (uptime is None or reconnects * 3600 > uptime):
        out.append("reconnects")
    if health["printer"] in PRINTER_TROUBLE:
        out.append(f"printer_{health['printer']}")
    return out
