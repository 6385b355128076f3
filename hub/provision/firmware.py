"""The firmware of each board role, as the hub serves it for over-the-air updates.

A *bundle* is the set of files one role runs (`ROLE_FILES`), with a manifest naming each
file's size and SHA-256 and a version made from those hashes: the same files always make
the same version, so a board that reports it (`info.build`) runs exactly these bytes.

The loader (`main.py`, `otaboot.py`) is not in a bundle: it is what finishes or rolls back
an update when the new firmware does not run, so it is flashed by USB only
(`LOADER_FILES`). The board checks the manifest against the SHA-256 the hub sends it over
MQTT (only the hub may write a device's `set`), and each file against the manifest, so the
plain-HTTP download cannot slip it a different file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from antrian.shared import FOLDER as SHARED

#: The firmware sources, next to the hub's in a checkout (where `./run setup` installs from).
DEVICES: Final = Path(__file__).resolve().parents[2] / "devices"

#: The MicroPython release the firmware is written and tested for (`devices/README.md`,
#: "Flashing"). A board reports its own in `info.micropython`; the admin page flags others.
MICROPYTHON_VERSION: Final = "1.29"

_COMMON: Final = ("lib/mqtt.py", "lib/runtime.py", "lib/hw.py", "lib/ota.py", "lib/fieldsetup.py")
_BUTTON: Final = (
    *_COMMON,
    "esp32-button/button_app.py",
    "esp32-button/buttons.py",
    "esp32-button/pad_app.py",
    "esp32-button/ssd1306.py",
    "shared:escpos.py",
)
_DISPLAY: Final = (
    *_COMMON,
    "esp32-display/display_app.py",
    "esp32-display/max7219.py",
    "esp32-display/p10.py",
    "esp32-display/font5x7.py",
)
#: What each MicroPython role runs, updated over the air. `shared:` files come from the
#: modules shared with the hub (`antrian.shared`).
ROLE_FILES: Final[dict[str, tuple[str, ...]]] = {
    "kiosk": _BUTTON,
    "call_pad": _BUTTON,
    "led_board": _DISPLAY,
}
#: Flashed by USB only, never over the air (see the module docstring).
#: The same two files on every board: `main.py` picks the firmware by the config's `role`.
LOADER_FILES: Final = ("lib/otaboot.py", "lib/main.py")


def source(entry: str, devices: Path = DEVICES) -> Path:
    """Where a `ROLE_FILES` entry is in this checkout."""
    if entry.startswith("shared:"):
        return SHARED / entry.removeprefix("shared:")
    return devices / entry


@dataclass(frozen=True)
class Bundle:
    """One role's firmware: its files by name, the manifest's bytes and their SHA-256."""

    role: str
    version: str
    files: dict[str, bytes]
    manifest: bytes
    sha256: str


def bundle(role: str, devices: Path = DEVICES) -> Bundle:
    """The bundle of `role` from the sources (KeyError for a role without MicroPython)."""
    files = {source(e, devices).name: source(e, devices).read_bytes() for e in ROLE_FILES[role]}
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    version = hashlib.sha256("".join(f"{n}:{h}\n" for n, h in sorted(hashes.items())).encode()).hexdigest()[
        :12
    ]
    manifest = json.dumps(
        {
            "role": role,
            "version": version,
            "files": [{"name": n, "size": len(files[n]), "sha256": hashes[n]} for n in sorted(files)],
        },
        separators=(",", ":"),
    ).encode()
    return Bundle(role, version, files, manifest, hashlib.sha256(manifest).hexdigest())


def available(devices: Path = DEVICES) -> dict[str, Bundle]:
    """Every role's bundle, or none when this installation has no firmware sources."""
    if not devices.is_dir():
        return {}
    return {role: bundle(role, devices) for role in ROLE_FILES}


def write_flash_folder(role: str, out: Path, devices: Path = DEVICES) -> Bundle:
    """Every file a board of `role` needs over USB (loader and bundle), and an `ota.json`
    that names the bundle's version, so a board flashed by hand reports its build too."""
    b = bundle(role, devices)
    out.mkdir(parents=True, exist_ok=True)
    for entry in LOADER_FILES:
        (out / source(entry, devices).name).write_bytes(source(entry, devices).read_bytes())
    for name, data in b.files.items():
        (out / name).write_bytes(data)
    (out / "ota.json").write_text(json.dumps({"state": "ok", "version": b.version}))
    return b
